"""The birth records of the three sources, and which of them are one birth.

Each source's rows become birth records (`hospital_records`, `police_records`,
`village_records`); a record without a mother's ID is resolved by name
(`resolve_by_name`); records of one mother within `DELIVERY_WINDOW_DAYS` are one
delivery (`assign_deliveries`), and the children of a delivery are matched into slots
(`assign_slots`). transforms.reconcile.births turns the slots into recon_births.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from transforms.reconcile.common import (
    conform,
    empty_findings,
    findings_frame,
    masked,
    month_index,
)
from transforms.templates import enum_value

H, P, V = 0, 1, 2
MATCH_DAYS = 3
DELIVERY_WINDOW_DAYS = 180
(BIRTH_EVENT,) = enum_value("event_type", "出生登记")  # checked against templates.toml
_NAME_NOISE = r"[\s·•・.．]"


# ------------------------------------------------------------------ records


def _norm_name(names: pd.Series) -> pd.Series:
    return names.astype("string").str.replace(_NAME_NOISE, "", regex=True)


def _records(
    frame: pd.DataFrame, src: int, mother: str, sex: str, village: pd.Series, id_col: str
) -> pd.DataFrame:
    """The columns every source's birth records share."""
    return pd.DataFrame(
        {
            "src": np.full(len(frame), src, dtype=np.int8),
            "mother_key": frame[mother].astype("string"),
            "birth_date": frame["birth_date"],
            "sex": frame[sex].astype("string").fillna("?"),
            "village": village.astype("string"),
            "unit": frame["unit"].astype("string"),
            "report_month": frame["report_month"].astype("string"),
            "upload_id": frame["upload_id"].astype("Int64"),
            "row_number": frame["row_number"].astype("Int64"),
            "record_key": masked(frame, id_col),
        },
        index=frame.index,
    )


def hospital_records(hospital_births: pd.DataFrame) -> pd.DataFrame:
    """Hospital birth certificates as birth records (grain: one per certificate)."""
    h = conform(hospital_births, "hospital_births")
    h = h[h["mother_id_key"].notna() & h["birth_date"].notna()]
    out = _records(h, H, "mother_id_key", "child_sex", h["village_code"], "mother_id")
    out["name"] = _norm_name(h["mother_name"])
    out["order_text"] = h["cert_no"].astype("string").fillna("")
    return out.reset_index(drop=True)


def police_records(police_hukou: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Police 出生登记 events as birth records, and findings for those without a mother.

    Grain: one record per 出生登记 event that names the mother (guardian_id_key).
    """
    p = conform(police_hukou, "police_hukou")
    p = p[(p["event_type"] == BIRTH_EVENT).fillna(False) & p["birth_date"].notna()]
    orphan = p[p["guardian_id_key"].isna()]
    p = p[p["guardian_id_key"].notna()]
    out = _records(p, P, "guardian_id_key", "sex", p["village_code"], "guardian_id")
    out["child_key"] = p["id_number_key"].astype("string")
    return out.reset_index(drop=True), _orphan_findings(orphan)


def village_records(village_births: pd.DataFrame) -> pd.DataFrame:
    """Valid village birth rows as birth records (grain: one per staged row).

    A row without a mother key (invalid ID: an error row that staging excludes) is left
    out here too: it never reports a birth.
    """
    v = conform(village_births, "village_births")
    v = v[v["birth_date"].notna() & v["mother_id_key"].notna()]
    out = _records(v, V, "mother_id_key", "child_sex", v["unit"], "mother_id")
    out["name"] = _norm_name(v["mother_name"])
    out["own_key"] = out["mother_key"]
    out["birth_order"] = v["birth_order"].astype("Int64")
    out["policy_status"] = v["policy_status"].astype("string")
    out["m_rep"] = month_index(v["report_month"])
    out["matched_by"] = pd.Series("id", index=v.index, dtype="string")
    return out.reset_index(drop=True)


# ------------------------------------------------------------- name fallback


def _within(a: pd.Series, b: pd.Series, days: int) -> pd.Series:
    return ((a - b).abs() <= pd.Timedelta(days=days)).fillna(False).astype(bool)


def resolve_by_name(
    village: pd.DataFrame, seen: pd.DataFrame, roster: pd.DataFrame
) -> pd.DataFrame:
    """Give village rows that their mother key cannot match the key found by name.

    `seen`: hospital and police records. See step 2 of the module docstring. Returns
    `village` with `mother_key` / `matched_by` updated; rows still without a key are
    dropped.
    """
    keyed = village.loc[village["mother_key"].notna(), ["mother_key", "birth_date"]]
    pairs = keyed.reset_index().merge(
        seen[["mother_key", "birth_date"]], on="mother_key", suffixes=("", "_seen")
    )
    id_matched = pairs.loc[
        _within(pairs["birth_date"], pairs["birth_date_seen"], MATCH_DAYS), "index"
    ].unique()
    need = village[~village.index.isin(id_matched)]
    if len(need) and len(seen):
        seen_dates = seen[["mother_key", "birth_date"]].drop_duplicates()
        by_hospital = seen.loc[seen["src"] == H, ["mother_key", "birth_date", "name", "village"]]
        on_roster = roster.loc[
            roster["woman_key"].isin(seen_dates["mother_key"].unique()),
            ["woman_key", "name", "area_code"],
        ].drop_duplicates()
        by_roster = on_roster.rename(columns={"woman_key": "mother_key", "area_code": "village"})
        by_roster = by_roster.assign(name=_norm_name(by_roster["name"])).merge(
            seen_dates, on="mother_key"
        )
        candidates = pd.concat([by_hospital, by_roster], ignore_index=True).drop_duplicates()
        query = need[["name", "village", "birth_date", "own_key"]].reset_index()
        hits = query.merge(candidates, on=["name", "village"], suffixes=("", "_c"))
        hits = hits[
            _within(hits["birth_date"], hits["birth_date_c"], MATCH_DAYS)
            & (hits["mother_key"] != hits["own_key"]).fillna(True).astype(bool)
        ]
        keys = hits.groupby("index")["mother_key"].agg(["nunique", "first"])
        keys = keys[keys["nunique"] == 1]["first"]
        if len(keys):
            village = village.copy()
            village.loc[keys.index, "mother_key"] = keys.astype("string")
            village.loc[keys.index, "matched_by"] = "name"
    return village[village["mother_key"].notna()]


# ------------------------------------------------------------ deliveries


def assign_deliveries(records: pd.DataFrame) -> pd.Series:
    """Delivery id per record: one mother's records chained by gaps <= the window."""
    order = records.sort_values(["mother_key", "birth_date", "src"], kind="stable")
    key = order["mother_key"]
    gap = order["birth_date"].diff()
    new = (key != key.shift()).fillna(True).astype(bool) | (
        gap > pd.Timedelta(days=DELIVERY_WINDOW_DAYS)
    ).fillna(True).astype(bool)
    return pd.Series(new.cumsum().to_numpy(), index=order.index).reindex(records.index)


def _rank(frame: pd.DataFrame, by: list[str], order: list[str]) -> pd.Series:
    """0-based rank of each row within `by`, ordered by `order`."""
    ordered = frame.sort_values([*by, *order], kind="stable")
    return ordered.groupby(by, sort=False, dropna=False).cumcount().reindex(frame.index)


def collapse_village(village: pd.DataFrame) -> pd.DataFrame:
    """Village rows → `dist` (the birth they report) and `rep` (the representative row).

    Rows of different uploads that report the same child (same delivery, sex and rank
    within sex in their upload) are one village record; the earliest upload's row
    represents it.
    """
    rank = _rank(village, ["delivery", "upload_id", "sex"], ["birth_order", "row_number"])
    village = village.assign(rank=rank)
    village["dist"] = village.groupby(
        ["delivery", "sex", "rank"], sort=False, dropna=False
    ).ngroup()
    first = village.sort_values(["m_rep", "upload_id", "row_number"], kind="stable")
    village["rep"] = village.index.isin(first.drop_duplicates("dist").index)
    return village


def assign_slots(units: pd.DataFrame) -> pd.DataFrame:
    """Pair records of one delivery into children (slots); see step 4 of the docstring.

    `units`: rid, delivery, src, sex, rank (within delivery, src, sex). Returns rid,
    delivery, src, slot — one slot per child; at most one record per (slot, source).
    """
    counts = units.groupby(["delivery", "src"], as_index=False).size()
    ref = (
        counts.sort_values(["delivery", "size", "src"], ascending=[True, False, True])
        .drop_duplicates("delivery")[["delivery", "src"]]
        .rename(columns={"src": "ref"})
    )
    units = units.merge(ref, on="delivery")
    is_ref = units["src"] == units["ref"]
    refs = units[is_ref].sort_values(["delivery", "sex", "rank"])
    refs = refs.assign(slot=refs.groupby("delivery").cumcount())
    others = units[~is_ref].merge(
        refs[["delivery", "sex", "rank", "slot"]], on=["delivery", "sex", "rank"], how="left"
    )
    loose = others[others["slot"].isna()]
    if len(loose):
        taken = others.loc[others["slot"].notna(), ["delivery", "src", "slot"]]
        free = (
            loose[["delivery", "src"]]
            .drop_duplicates()
            .merge(refs[["delivery", "slot"]], on="delivery")
        )
        free = free.merge(taken.assign(_t=True), on=["delivery", "src", "slot"], how="left")
        free = free[free["_t"].isna()].drop(columns="_t").sort_values(["delivery", "src", "slot"])
        free["pos"] = free.groupby(["delivery", "src"]).cumcount()
        loose = loose.drop(columns="slot").sort_values(["delivery", "src", "sex", "rank"])
        loose["pos"] = loose.groupby(["delivery", "src"]).cumcount()
        loose = loose.merge(free, on=["delivery", "src", "pos"]).drop(columns="pos")
        others = pd.concat([others[others["slot"].notna()], loose], ignore_index=True)
    out = pd.concat([refs, others], ignore_index=True)[["rid", "delivery", "src", "slot"]]
    return out.astype({"slot": np.int64})


def _orphan_findings(rows: pd.DataFrame) -> pd.DataFrame:
    if rows.empty:
        return empty_findings()
    return findings_frame(
        rows.index,
        {
            "rule": "police_birth_without_mother",
            "severity": "warning",
            "dimension": "completeness",
            "source": "police",
            "kind": "hukou",
            "unit": rows["unit"],
            "report_month": rows["report_month"],
            "upload_id": rows["upload_id"],
            "row_number": rows["row_number"],
            "record_key": masked(rows, "id_number"),
            "value": None,
            "message_zh": "出生登记缺少监护人（母亲）身份证号，无法与村出生登记和医院出生医学证明核对。"
            "请补录母亲身份证号。",
            "message_en": "This birth registration (出生登记) has no guardian (mother) ID number, so "
            "it cannot be checked against the village and hospital records. Add the mother's ID.",
        },
    )
