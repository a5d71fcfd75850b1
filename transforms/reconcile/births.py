"""Birth reconciliation: one record per real birth across village, hospital and police.

Outputs (see `BirthsResult`):

- `recon_births` — grain: one row per reconciled (real) birth.
- `accuracy` — grain: one row per village_births row that took part (recon_accuracy).
- `changes` — grain: one row per reconciled birth whose timeliness is decided
  (recon_changes, change_type `birth`).
- `findings` — birth_missing_in_village (completeness), birth_mother_id_mismatch
  (accuracy), birth_sex_conflict / birth_date_conflict (consistency),
  police_birth_without_mother (completeness).

How records become births (all vectorised: sorts, merges and groupbys, no pairwise
loops; cost grows like n log n for the sorts and linearly otherwise):

1. Records: hospital certificates (mother = `mother_id_key`), police 出生登记 events
   (mother = `guardian_id_key`) and village rows (mother = `mother_id_key`).
2. Name fallback: a village row whose (valid) mother key matches no
   hospital/police record of that key within ±3 days takes the mother key of the
   hospital/police birth whose mother has the same name in the same village
   (hospital `mother_name` + `village_code`, or her roster name + roster village) and
   a birth date within ±3 days — when exactly one mother fits. Such a row is
   `matched_by = 'name'` and gets the accuracy finding `birth_mother_id_mismatch`.
   A row without a key (invalid mother ID) is an error row: it takes no part at all
   (indicators.md "Error rows never reconcile"), so the birth the hospital or the
   police saw stays `missing_in_village` (漏报) until the corrected upload arrives.
3. Deliveries: a mother's records whose birth dates chain with gaps of at most
   `DELIVERY_WINDOW_DAYS` are one delivery (two real deliveries of one mother are
   far more than 180 days apart). This is what lets a matched birth *conflict* on the
   date (> 3 days apart) or on the sex instead of splitting into two births.
4. Children of a delivery (twins, multiples: never merged): each source's records are
   ranked within sex (village by birth order, hospital by certificate number, police
   by row); the number of children is the largest count any one source holds. Slots
   come from the source with most records (ties: hospital, police, village); the
   others pair by (sex, rank), and records left over (a sex disagreement) take the
   free slots in rank order — they are the sex conflicts.
   Village rows of several uploads that repeat one birth collapse onto one record
   (the earliest upload's row represents it; `recorded_month` is its month).
5. Winners: hospital, then police, then village for date and sex; village for birth
   order and policy status. A record disagreeing with the winner on sex, or on the
   date by more than `MATCH_DAYS`, is a conflict.
6. 漏报: `village_report_month` is the upload month of the earliest valid village row
   of the birth; `reported_on_time` is True when that month is the birth month or the
   next, False when it is later or when no village row holds the birth and the upload
   of the month after the birth is due, null (pending) otherwise. Reporting late
   never makes it True again (indicators.md "漏报").
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from transforms.reconcile.birth_records import (
    MATCH_DAYS,
    H,
    P,
    V,
    _rank,
    _within,
    assign_deliveries,
    assign_slots,
    collapse_village,
    hospital_records,
    police_records,
    resolve_by_name,
    village_records,
)
from transforms.reconcile.common import (
    concat_findings,
    date_month_index,
    deadline_passed,
    empty_findings,
    findings_frame,
    iso_date,
    month_label,
    sha256_hex,
    text,
    timeliness,
)
from transforms.reconcile.women import empty_changes

RECON_BIRTHS_COLUMNS = (
    "birth_key",
    "area_code",
    "birth_date",
    "birth_month",
    "child_sex",
    "birth_order",
    "policy_status",
    "in_village",
    "in_hospital",
    "in_police",
    "status",
    "mother_key",
    "matched_by",
    "village_report_month",
    "reported_on_time",
)
_SEX_ZH = {"M": "男", "F": "女"}
_SEX_EN = {"M": "male", "F": "female"}


@dataclass(frozen=True, eq=False)
class BirthsResult:
    """Reconciled births and what reconciling them found (grains: module docstring)."""

    recon_births: pd.DataFrame
    accuracy: pd.DataFrame
    changes: pd.DataFrame
    findings: pd.DataFrame


# ----------------------------------------------------------------- births


def _side(
    assigned: pd.DataFrame, records: pd.DataFrame, src: int, columns: list[str], suffix: str
) -> pd.DataFrame:
    """One source's record per slot, its columns suffixed (`birth_date_h`, ...)."""
    rows = assigned.loc[assigned["src"] == src, ["rid", "delivery", "slot"]].merge(
        records[["rid", *columns]], on="rid"
    )
    return rows.rename(columns={c: f"{c}_{suffix}" for c in ["rid", *columns]})


def _pick_area(candidates: list[pd.Series], known: Collection[str] | None) -> pd.Series:
    """First candidate code that is a known village, else the first non-null one."""
    out = pd.Series(pd.NA, index=candidates[0].index, dtype="string")
    if known:
        known_list = list(known)
        for c in candidates:
            out = out.fillna(c.where(c.isin(known_list)).astype("string"))
    for c in candidates:
        out = out.fillna(c.astype("string"))
    return out


def _roster_area(births: pd.DataFrame, women: pd.DataFrame) -> pd.Series:
    """The mother's roster village in the snapshot nearest the birth month.

    Only for births the village did not report (the reporting village comes first).
    """
    want = births.loc[births["unit_v"].isna(), ["mother_key", "birth_m"]].reset_index()
    women = women[women["woman_key"].isin(want["mother_key"].unique())]
    near = want.merge(women, left_on="mother_key", right_on="woman_key")
    if near.empty:
        return pd.Series(pd.NA, index=births.index, dtype="string")
    near["dist"] = (near["m"] - near["birth_m"]).abs()
    near = near.sort_values(["index", "dist", "m"]).drop_duplicates("index")
    return near.set_index("index")["area_code"].reindex(births.index).astype("string")


def reconcile_births(
    village_births: pd.DataFrame,
    police_hukou: pd.DataFrame,
    hospital_births: pd.DataFrame,
    roster: pd.DataFrame,
    women: pd.DataFrame,
    known_villages: Collection[str] | None,
    as_of: date,
    deadline_day: int = 5,
) -> BirthsResult:
    """Reconcile births of the three sources (see the module docstring).

    `roster`: every roster row (woman_key, name, area_code) for the name fallback;
    `women`: the reconciled roster's (woman_key, m, area_code) for the area fallback.
    """
    hosp = hospital_records(hospital_births)
    pol, orphan_findings = police_records(police_hukou)
    seen = pd.concat([hosp, pol], ignore_index=True)
    vil = resolve_by_name(village_records(village_births), seen, roster)
    records = pd.concat([hosp, pol, vil], ignore_index=True)
    if records.empty:
        return BirthsResult(_empty_births(), _empty_accuracy(), empty_changes(), orphan_findings)
    records["rid"] = np.arange(len(records))
    records["delivery"] = assign_deliveries(records)

    is_v = records["src"] == V
    village = collapse_village(records[is_v])
    reps = village[village["rep"]]
    seen_rows = records[~is_v]
    seen_rank = _rank(
        seen_rows, ["delivery", "src", "sex"], ["order_text", "upload_id", "row_number"]
    )
    units = pd.concat([seen_rows.assign(rank=seen_rank), reps], ignore_index=True)
    assigned = assign_slots(units[["rid", "delivery", "src", "sex", "rank"]])

    shared = [
        "birth_date",
        "sex",
        "village",
        "upload_id",
        "row_number",
        "unit",
        "report_month",
        "record_key",
    ]
    births = assigned[["delivery", "slot"]].drop_duplicates().reset_index(drop=True)
    births = births.merge(
        _side(assigned, records, H, shared, "h"), on=["delivery", "slot"], how="left"
    )
    births = births.merge(
        _side(assigned, records, P, [*shared, "child_key"], "p"),
        on=["delivery", "slot"],
        how="left",
    )
    births = births.merge(
        _side(
            assigned,
            records,
            V,
            [*shared, "birth_order", "policy_status", "matched_by", "m_rep"],
            "v",
        ),
        on=["delivery", "slot"],
        how="left",
    )
    mothers = records.groupby("delivery")["mother_key"].first()
    births["mother_key"] = births["delivery"].map(mothers).astype("string")
    births = _decide(births, as_of, deadline_day)

    # Village rows (all, duplicates included) against their birth's winners.
    rep_slot = assigned.loc[assigned["src"] == V, ["rid", "slot"]].merge(
        reps[["rid", "dist"]], on="rid"
    )[["dist", "slot"]]
    vrows = village.merge(rep_slot, on="dist").merge(
        births[["delivery", "slot", "date_w", "sex_w", "has_hp", "winner"]], on=["delivery", "slot"]
    )
    prow = _police_rows(records, assigned, births)
    conflicts = pd.concat([_disagreements(vrows), _disagreements(prow)], ignore_index=True)
    any_conflict = conflicts.groupby(["delivery", "slot"]).size()
    births = _set_conflict(births, any_conflict)

    births["area_code"] = _pick_area(
        [births["unit_v"], _roster_area(births, women), births["village_h"], births["village_p"]],
        known_villages,
    )
    births["birth_key"] = sha256_hex(
        births["mother_key"], iso_date(births["date_w"]), (births["slot"] + 1).astype("string")
    )

    recon = _recon_births(births, as_of, deadline_day)
    accuracy = _accuracy(vrows)
    changes = _birth_changes(births, as_of, deadline_day)
    findings = concat_findings(
        [
            _missing_findings(births),
            _mismatch_findings(vrows[vrows["matched_by"] == "name"]),
            _conflict_findings(conflicts),
            orphan_findings,
        ]
    )
    return BirthsResult(recon, accuracy, changes, findings)


def _police_rows(
    records: pd.DataFrame, assigned: pd.DataFrame, births: pd.DataFrame
) -> pd.DataFrame:
    """Police records with their birth's winners (compared only when the hospital won)."""
    rows = records[records["src"] == P].merge(assigned[["rid", "slot"]], on="rid")
    rows = rows.merge(
        births[["delivery", "slot", "date_w", "sex_w", "has_hp", "winner", "in_h"]],
        on=["delivery", "slot"],
    )
    return rows[rows["in_h"]].drop(columns="in_h")


def _decide(births: pd.DataFrame, as_of: date, deadline_day: int) -> pd.DataFrame:
    """Winners, presence flags and the status before conflicts are known."""
    b = births
    b["in_h"] = b["rid_h"].notna()
    b["in_p"] = b["rid_p"].notna()
    b["in_v"] = b["rid_v"].notna()
    b["has_hp"] = b["in_h"] | b["in_p"]
    b["date_w"] = b["birth_date_h"].fillna(b["birth_date_p"]).fillna(b["birth_date_v"])
    b["sex_w"] = b["sex_h"].fillna(b["sex_p"]).fillna(b["sex_v"])
    b["winner"] = np.where(b["in_h"], "hospital", np.where(b["in_p"], "police", "village"))
    b["birth_m"] = date_month_index(b["date_w"])
    due = deadline_passed(b["birth_m"] + 1, as_of, deadline_day)
    b["status"] = np.select(
        [b["in_v"] & b["has_hp"], b["in_v"], due.to_numpy()],
        ["matched", "village_only", "missing_in_village"],
        "pending",
    )
    return b


def _set_conflict(births: pd.DataFrame, conflicted: pd.Series) -> pd.DataFrame:
    key = pd.MultiIndex.from_frame(births[["delivery", "slot"]])
    hit = key.isin(conflicted.index) & (births["status"] == "matched").to_numpy()
    births.loc[hit, "status"] = "conflict"
    return births


def _disagreements(rows: pd.DataFrame) -> pd.DataFrame:
    """Records whose sex, or date by more than MATCH_DAYS, differs from the winner's.

    One output row per (record, rule): rule `birth_sex_conflict` / `birth_date_conflict`.
    """
    if rows.empty:
        return rows.assign(rule=pd.Series(dtype="string"))
    rows = rows[rows["has_hp"]]
    sex_bad = (rows["sex"] != rows["sex_w"]).fillna(False).astype(bool)
    date_bad = ~_within(rows["birth_date"], rows["date_w"], MATCH_DAYS)
    return pd.concat(
        [
            rows[sex_bad].assign(rule="birth_sex_conflict"),
            rows[date_bad].assign(rule="birth_date_conflict"),
        ],
        ignore_index=True,
    )


def _recon_births(b: pd.DataFrame, as_of: date, deadline_day: int) -> pd.DataFrame:
    reported = b["m_rep_v"].astype("Int64")
    out = pd.DataFrame(
        {
            "birth_key": b["birth_key"],
            "area_code": b["area_code"].astype("string"),
            "birth_date": b["date_w"].astype("datetime64[s]"),
            "birth_month": month_label(b["birth_m"]),
            "child_sex": b["sex_w"].astype("string").replace("?", pd.NA),
            "birth_order": b["birth_order_v"].astype("Int64"),
            "policy_status": b["policy_status_v"].astype("string"),
            "in_village": b["in_v"].astype(bool),
            "in_hospital": b["in_h"].astype(bool),
            "in_police": b["in_p"].astype(bool),
            "status": b["status"].astype("string"),
            "mother_key": b["mother_key"],
            "matched_by": b["matched_by_v"].where(b["in_v"] & b["has_hp"]).astype("string"),
            "village_report_month": month_label(reported),
            # The same rule as the change timeliness of a birth: reported by the upload of
            # the month after the birth; decided once that upload is due.
            "reported_on_time": timeliness(b["birth_m"], reported, as_of, deadline_day),
        }
    )
    return out.sort_values(["birth_date", "birth_key"]).reset_index(drop=True)


def _accuracy(vrows: pd.DataFrame) -> pd.DataFrame:
    """recon_accuracy rows for village_births: one per village row placed in a birth."""
    if vrows.empty:
        return _empty_accuracy()
    sex_bad = vrows["has_hp"] & (vrows["sex"] != vrows["sex_w"])
    date_bad = vrows["has_hp"] & ~_within(vrows["birth_date"], vrows["date_w"], MATCH_DAYS)
    rule = np.select(
        [vrows["matched_by"] == "name", sex_bad.fillna(False), date_bad],
        ["birth_mother_id_mismatch", "birth_sex_conflict", "birth_date_conflict"],
        "",
    )
    rule_s = pd.Series(rule, index=vrows.index, dtype="string").replace("", pd.NA)
    out = pd.DataFrame(
        {
            "area_code": vrows["unit"],
            "report_month": vrows["report_month"],
            "template": pd.Series("village_births", index=vrows.index, dtype="string"),
            "upload_id": vrows["upload_id"],
            "row_number": vrows["row_number"],
            "accurate": rule_s.isna().to_numpy(),
            "rule": rule_s,
        }
    )
    return out.sort_values(["upload_id", "row_number"]).reset_index(drop=True)


def _empty_accuracy() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "area_code": pd.Series([], dtype="string"),
            "report_month": pd.Series([], dtype="string"),
            "template": pd.Series([], dtype="string"),
            "upload_id": pd.Series([], dtype="Int64"),
            "row_number": pd.Series([], dtype="Int64"),
            "accurate": pd.Series([], dtype=bool),
            "rule": pd.Series([], dtype="string"),
        }
    )


def _empty_births() -> pd.DataFrame:
    dtypes = {c: "string" for c in RECON_BIRTHS_COLUMNS} | {
        "birth_date": "datetime64[s]",
        "birth_order": "Int64",
        "in_village": bool,
        "in_hospital": bool,
        "in_police": bool,
        "reported_on_time": "boolean",
    }
    return pd.DataFrame({c: pd.Series([], dtype=t) for c, t in dtypes.items()})


def _birth_changes(b: pd.DataFrame, as_of: date, deadline_day: int) -> pd.DataFrame:
    """recon_changes rows for births (decided ones only; see reconcile_women)."""
    recorded = b["m_rep_v"].astype("Int64")
    timely = timeliness(b["birth_m"], recorded, as_of, deadline_day)
    out = pd.DataFrame(
        {
            "area_code": b["area_code"].astype("string"),
            "change_type": pd.Series("birth", index=b.index, dtype="string"),
            "event_date": b["date_w"].astype("datetime64[s]"),
            "event_month": month_label(b["birth_m"]),
            "recorded_month": month_label(recorded),
            "timely": timely,
        }
    )
    return out[timely.notna()].astype({"timely": bool}).reset_index(drop=True)


# --------------------------------------------------------------- findings


def _missing_findings(b: pd.DataFrame) -> pd.DataFrame:
    rows = b[b["status"] == "missing_in_village"]
    if rows.empty:
        return empty_findings()
    when = iso_date(rows["date_w"])
    due_month = month_label(rows["birth_m"] + 1)
    sex_zh = text(rows["sex_w"]).map(_SEX_ZH).fillna("")
    sex_en = text(rows["sex_w"]).map(_SEX_EN).fillna("")
    seen_zh = pd.Series(
        np.select([rows["in_h"] & rows["in_p"], rows["in_h"]], ["医院和公安", "医院"], "公安"),
        index=rows.index,
    )
    seen_en = pd.Series(
        np.select(
            [rows["in_h"] & rows["in_p"], rows["in_h"]],
            ["The hospital and the police", "The hospital"],
            "The police",
        ),
        index=rows.index,
    )
    mother = rows["record_key_h"].fillna(rows["record_key_p"])
    mother_zh = ("（母亲身份证号 " + mother + "）").fillna("")
    mother_en = (" (mother's ID " + mother + ")").fillna("")
    return findings_frame(
        rows.index,
        {
            "rule": "birth_missing_in_village",
            "severity": "warning",
            "dimension": "completeness",
            "source": "village",
            "kind": "births",
            "unit": rows["area_code"],
            "report_month": due_month,
            "record_key": mother,
            "value": when + " " + text(rows["sex_w"]),  # tells apart births of one mother
            "message_zh": seen_zh
            + "登记了"
            + when
            + "出生的一名"
            + sex_zh
            + "婴"
            + mother_zh
            + "，但本村截至"
            + due_month
            + "的出生登记中没有这名婴儿（漏报）。请核实后在下次出生登记中补报。",
            "message_en": seen_en
            + " recorded a "
            + sex_en
            + " baby born on "
            + when
            + mother_en
            + ", but the village's births reports up to "
            + due_month
            + " do not include it "
            "(unreported birth, 漏报). Check and report the birth in the next births upload.",
        },
    )


def _mismatch_findings(rows: pd.DataFrame) -> pd.DataFrame:
    if rows.empty:
        return empty_findings()
    invalid = rows["own_key"].isna()
    what_zh = pd.Series(np.where(invalid, "无效", "与医院、公安的记录不符"), index=rows.index)
    what_en = pd.Series(
        np.where(
            invalid, "is not a valid ID number", "does not match the hospital or police records"
        ),
        index=rows.index,
    )
    when = iso_date(rows["birth_date"])
    return findings_frame(
        rows.index,
        {
            "rule": "birth_mother_id_mismatch",
            "severity": "warning",
            "dimension": "accuracy",
            "source": "village",
            "kind": "births",
            "unit": rows["unit"],
            "report_month": rows["report_month"],
            "upload_id": rows["upload_id"],
            "row_number": rows["row_number"],
            "record_key": rows["record_key"],
            "value": rows["record_key"],
            "message_zh": "该出生登记（"
            + when
            + "出生）的母亲身份证号"
            + what_zh
            + "；已按母亲姓名、村和出生日期与"
            + rows["winner"]
            .map({"hospital": "医院出生医学证明", "police": "公安出生登记"})
            .fillna("其他来源")
            + "对上。请核对并更正母亲身份证号。",
            "message_en": "The mother's ID number on this birth (born "
            + when
            + ") "
            + what_en
            + "; the birth was matched to the "
            + rows["winner"]
            .map({"hospital": "hospital's birth certificate", "police": "police registration"})
            .fillna("other records")
            + " by the mother's name, village and birth date. "
            "Check and correct the mother's ID number.",
        },
    )


def _conflict_findings(rows: pd.DataFrame) -> pd.DataFrame:
    if rows.empty:
        return empty_findings()
    is_sex = rows["rule"] == "birth_sex_conflict"
    src = pd.Series(np.where(rows["src"] == V, "village", "police"), index=rows.index)
    kind = pd.Series(np.where(rows["src"] == V, "births", "hukou"), index=rows.index)
    ours_zh = pd.Series(
        np.where(rows["src"] == V, "本村出生登记", "公安出生登记"), index=rows.index
    )
    ours_en = pd.Series(
        np.where(rows["src"] == V, "The village's births report", "The police registration"),
        index=rows.index,
    )
    win_zh = rows["winner"].map({"hospital": "医院出生医学证明", "police": "公安出生登记"})
    win_en = rows["winner"].map(
        {"hospital": "the hospital's birth certificate", "police": "the police registration"}
    )
    sex, sex_w = text(rows["sex"]), text(rows["sex_w"])
    mine = pd.Series(
        np.where(is_sex, sex, iso_date(rows["birth_date"]).fillna("")),
        index=rows.index,
        dtype="string",
    )
    theirs = pd.Series(
        np.where(is_sex, sex_w, iso_date(rows["date_w"]).fillna("")),
        index=rows.index,
        dtype="string",
    )
    mine_zh = pd.Series(np.where(is_sex, sex.map(_SEX_ZH).fillna(sex), mine), index=rows.index)
    theirs_zh = pd.Series(
        np.where(is_sex, sex_w.map(_SEX_ZH).fillna(sex_w), theirs), index=rows.index
    )
    field_zh = pd.Series(np.where(is_sex, "婴儿性别", "出生日期"), index=rows.index)
    field_en = pd.Series(np.where(is_sex, "the baby's sex", "the birth date"), index=rows.index)
    return findings_frame(
        rows.index,
        {
            "rule": rows["rule"],
            "severity": "warning",
            "dimension": "consistency",
            "source": src,
            "kind": kind,
            "unit": rows["unit"],
            "report_month": rows["report_month"],
            "upload_id": rows["upload_id"],
            "row_number": rows["row_number"],
            "record_key": rows["record_key"],
            "value": mine,
            "message_zh": ours_zh
            + "的"
            + field_zh
            + "为“"
            + mine_zh
            + "”，而"
            + win_zh
            + "为“"
            + theirs_zh
            + "”（以"
            + win_zh
            + "为准）。请核实并更正。",
            "message_en": ours_en
            + " gives "
            + field_en
            + " as "
            + mine
            + ", but "
            + win_en
            + " gives "
            + theirs
            + " (which is used). Check and correct it.",
        },
    )
