"""Roster reconciliation: the reconciled roster ("roster women", indicators.md).

Outputs (see `WomenResult`):

- `recon_women` — grain: one row per (snapshot_month, woman_key). The village's
  monthly snapshot, less women the police registered as dead (死亡注销, any village)
  or moved out (迁出, of that village and not moved back in) on or before the
  snapshot month's end; method = the hospital's latest procedure when it is dated
  after the village's `method_date` and disagrees (`method_source = 'hospital'`);
  `last_check_date` = latest of the village's and the hospital's checks up to the
  snapshot end; a woman on several villages' rosters in one month counts once.
- `accuracy` — grain: one row per village_women row (recon_accuracy rows).
- `changes` — grain: one row per roster-changing procedure (放环/取环/结扎/皮埋) of
  a roster woman whose timeliness is decided (recon_changes rows).
- `findings` — roster_dead_or_moved_out, roster_stale_method (accuracy) and
  roster_duplicate_person (uniqueness).

Every step is a vectorised merge / `merge_asof` / groupby: cost is linear in the
number of roster rows and events (plus their sorting).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from transforms.reconcile.common import (
    concat_findings,
    conform,
    date_month_index,
    month_end,
    month_index,
    month_label,
    timeliness,
)
from transforms.reconcile.women_findings import (
    duplicate_findings,
    removal_findings,
    stale_findings,
)
from transforms.templates import enum_value

# Hospital procedure -> the roster method it establishes (人流 changes no method).
# Meanings of enumeration values (templates.toml), checked against it when it loads.
PROCEDURE_METHOD = dict(
    zip(
        enum_value("procedure", "放环", "取环", "结扎", "皮埋"),
        enum_value("method", "上环", "无", "结扎", "皮埋"),
        strict=True,
    )
)
DEATH, MOVE_OUT, MOVE_IN = enum_value("event_type", "死亡注销", "迁出", "迁入")
# Which village keeps a woman listed by several in one month: where she lives.
RESIDENCE_PRIORITY = {
    value: rank for rank, value in enumerate(enum_value("residence", "常住", "流入", "流出"))
}

RECON_WOMEN_COLUMNS = (
    "snapshot_month",
    "area_code",
    "woman_key",
    "residence",
    "children",
    "method",
    "method_source",
    "last_check_date",
    "marriage_certificate",
    "file_created",
    "verified",
    "notified",
)
ACCURACY_COLUMNS = (
    "area_code",
    "report_month",
    "template",
    "upload_id",
    "row_number",
    "accurate",
    "rule",
)
CHANGE_COLUMNS = (
    "area_code",
    "change_type",
    "event_date",
    "event_month",
    "recorded_month",
    "timely",
)


@dataclass(frozen=True, eq=False)
class WomenResult:
    """The reconciled roster and what reconciling it found (grains: module docstring)."""

    recon_women: pd.DataFrame
    accuracy: pd.DataFrame
    changes: pd.DataFrame
    findings: pd.DataFrame
    roster: pd.DataFrame
    """Internal: every roster row (woman_key, m, area_code, name, method, ...), for births."""


# ------------------------------------------------------------------ inputs


def roster_rows(village_women: pd.DataFrame) -> tuple[pd.DataFrame, pd.Index]:
    """One row per keyed village_women row, with the month index `m` and snapshot end.

    Grain: one row per staged roster row (rows without a person key are dropped:
    staging excludes them as errors anyway). Also returns the distinct woman keys;
    `wid` is each row's position in them (an integer id for fast as-of joins).
    """
    v = conform(village_women, "village_women")
    v = v[v["id_number_key"].notna()]
    m = month_index(v["report_month"])
    out = pd.DataFrame(
        {
            "woman_key": v["id_number_key"].astype("string"),
            "area_code": v["unit"].astype("string"),
            "report_month": v["report_month"].astype("string"),
            "m": m,
            "snap_end": month_end(m),
            "name": v["name"].astype("string"),
            "residence": v["residence"].astype("string"),
            "children": v["children"].astype("Int64"),
            "method": v["method"].astype("string"),
            "method_date": v["method_date"],
            "last_check_date": v["last_check_date"],
            "marriage_certificate": v["marriage_certificate"].astype("boolean"),
            "file_created": v["file_created"].astype("boolean"),
            "verified": v["verified"].astype("boolean"),
            "notified": v["notified"].astype("boolean"),
            "upload_id": v["upload_id"].astype("Int64"),
            "row_number": v["row_number"].astype("Int64"),
        }
    )
    for extra in ("id_number_masked", "id_number"):
        if extra in v.columns:
            out[extra] = v[extra].astype("string")
    codes, people = pd.factorize(out["woman_key"])
    out["wid"] = codes
    return out.reset_index(drop=True), pd.Index(people)


def procedure_rows(hospital_procedures: pd.DataFrame) -> pd.DataFrame:
    """Roster-changing procedures: grain one row per (woman, date, procedure)."""
    p = conform(hospital_procedures, "hospital_procedures")
    p = p[
        p["id_number_key"].notna()
        & p["procedure_date"].notna()
        & p["procedure"].isin(list(PROCEDURE_METHOD)).fillna(False)
    ]
    out = pd.DataFrame(
        {
            "woman_key": p["id_number_key"].astype("string"),
            "proc_date": p["procedure_date"],
            "procedure": p["procedure"].astype("string"),
            "proc_method": p["procedure"].astype("string").map(PROCEDURE_METHOD).astype("string"),
            "upload_id": p["upload_id"].astype("Int64"),
            "row_number": p["row_number"].astype("Int64"),
        }
    )
    out = out.sort_values(["proc_date", "upload_id", "row_number"], kind="stable")
    return out.drop_duplicates(["woman_key", "proc_date", "procedure"]).reset_index(drop=True)


def _asof(
    left: pd.DataFrame,
    people: pd.Index,
    right: pd.DataFrame,
    on: str,
    columns: list[str],
    also_by: tuple[str, ...] = (),
) -> pd.DataFrame:
    """For each roster row, the latest right row of the same woman (and `also_by`) with
    `on` <= the snapshot end; nulls where there is none. Aligned with `left`.

    Joins on the integer `wid` and only for roster rows of women who occur on the
    right, so a million-row roster pays only for the women with events.
    """
    wid = people.get_indexer(right["woman_key"])
    right = right.assign(wid=wid)[wid >= 0]
    by = ["wid", *also_by]
    rows = left[left["wid"].isin(right["wid"].unique())]
    rows = rows[["snap_end", *by]].assign(_rid=rows.index).sort_values("snap_end")
    joined = pd.merge_asof(
        rows,
        right[[on, *by, *columns]].sort_values(on, kind="stable"),
        left_on="snap_end",
        right_on=on,
        by=by,
        direction="backward",
    )
    return joined.set_index("_rid")[[on, *columns]].reindex(left.index)


# ------------------------------------------------------------------ steps


def _removals(roster: pd.DataFrame, people: pd.Index, police_hukou: pd.DataFrame) -> pd.DataFrame:
    """Per roster row: removal date and type (死亡注销/迁出) effective by the snapshot end.

    A death removes her from every roster; a move-out removes her from the roster of
    the village it was registered for (police `village_code`), unless a later 迁入 into
    that village (on or before the snapshot end) brought her back.
    """
    p = conform(police_hukou, "police_hukou")
    p = p[p["id_number_key"].notna() & p["event_date"].notna()]
    deaths = p[p["event_type"] == DEATH].groupby("id_number_key")["event_date"].min()
    death_date = pd.Series(
        deaths.reindex(roster["woman_key"]).to_numpy("datetime64[s]"), index=roster.index
    )
    dead = (death_date <= roster["snap_end"]).fillna(False).to_numpy(bool)

    moves = p[p["event_type"].isin([MOVE_OUT, MOVE_IN]).fillna(False)]
    moves = pd.DataFrame(
        {
            "woman_key": moves["id_number_key"].astype("string"),
            "area_code": moves["village_code"].astype("string"),
            "move_date": moves["event_date"],
            "moved_out": (moves["event_type"] == MOVE_OUT).astype(bool),
        }
    )
    last = _asof(roster, people, moves, "move_date", ["moved_out"], also_by=("area_code",))
    out_ = last["moved_out"].astype("boolean").fillna(False).to_numpy(bool)

    removal_date = np.where(
        dead,
        death_date.to_numpy("datetime64[s]"),
        np.where(out_, last["move_date"].to_numpy("datetime64[s]"), np.datetime64("NaT")),
    )
    kind = pd.Series(pd.NA, index=roster.index, dtype="string")
    kind[out_] = MOVE_OUT
    kind[dead] = DEATH
    return pd.DataFrame(
        {"removal_date": removal_date.astype("datetime64[s]"), "removal_type": kind},
        index=roster.index,
    )


def _methods(roster: pd.DataFrame, people: pd.Index, procedures: pd.DataFrame) -> pd.DataFrame:
    """Per roster row: effective method, its source and the procedure that set it.

    The latest procedure up to the snapshot end wins when it is dated after the
    village's method_date (or the village has none) and establishes another method.
    """
    latest = _asof(roster, people, procedures, "proc_date", ["procedure", "proc_method"])
    newer = latest["proc_date"].notna() & (
        roster["method_date"].isna() | (latest["proc_date"] > roster["method_date"])
    )
    differs = latest["proc_method"].astype("string") != roster["method"]
    hospital = (newer & differs).fillna(False).astype(bool)
    return pd.DataFrame(
        {
            "eff_method": roster["method"].where(~hospital, latest["proc_method"]),
            "method_source": pd.Series(
                np.where(hospital, "hospital", "village"), index=roster.index, dtype="string"
            ),
            "hospital_method": hospital,
            "proc_date": latest["proc_date"],
            "procedure": latest["procedure"].astype("string"),
        },
        index=roster.index,
    )


def _checks(roster: pd.DataFrame, people: pd.Index, hospital_checkups: pd.DataFrame) -> pd.Series:
    """Per roster row: latest of the village's and the hospital's checks up to the snapshot."""
    c = conform(hospital_checkups, "hospital_checkups")
    c = c[c["id_number_key"].notna() & c["check_date"].notna()]
    checks = pd.DataFrame(
        {"woman_key": c["id_number_key"].astype("string"), "check_date": c["check_date"]}
    )
    hospital = _asof(roster, people, checks, "check_date", [])["check_date"]
    village = roster["last_check_date"].to_numpy("datetime64[s]")
    village = np.where(
        village <= roster["snap_end"].to_numpy("datetime64[s]"), village, np.datetime64("NaT")
    )
    latest = np.fmax(village, hospital.to_numpy("datetime64[s]"))  # fmax ignores NaT
    return pd.Series(latest, index=roster.index)


def _rows(mask: np.ndarray, *frames: pd.DataFrame) -> pd.DataFrame:
    """The masked rows of index-aligned frames, side by side (copies only those rows)."""
    return pd.concat([f[mask] for f in frames], axis=1)


def _id_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in ("id_number_masked", "id_number") if c in frame.columns]


def _duplicates(kept: pd.DataFrame) -> tuple[pd.Series, pd.DataFrame]:
    """Women listed by several rosters in one month: (keep-mask over `kept`, dup rows).

    The keeper is the row where she lives (常住, then 流入, then 流出), then the lowest
    village code. The dup rows frame carries `keeper` and `areas` for the findings.
    """
    dup = kept.duplicated(["woman_key", "m"], keep=False)
    keep = pd.Series(True, index=kept.index)
    if not dup.any():
        return keep, kept.iloc[0:0].assign(
            keeper=pd.Series(dtype="string"), areas=pd.Series(dtype="string")
        )
    rows = kept[dup].assign(
        _prio=kept.loc[dup, "residence"].map(RESIDENCE_PRIORITY).fillna(9).astype(int)
    )
    rows = rows.sort_values(["woman_key", "m", "_prio", "area_code", "upload_id", "row_number"])
    first = ~rows.duplicated(["woman_key", "m"])
    keep[rows.index[~first.to_numpy()]] = False
    keeper = rows.loc[first, ["woman_key", "m", "area_code"]].rename(
        columns={"area_code": "keeper"}
    )
    areas = (
        rows.groupby(["woman_key", "m"])["area_code"]
        .agg(lambda s: "、".join(sorted(set(s.astype(str)))))
        .rename("areas")
    )
    rows = rows.merge(keeper, on=["woman_key", "m"], how="left").merge(
        areas, left_on=["woman_key", "m"], right_index=True, how="left"
    )
    return keep, rows.reset_index(drop=True)


# ------------------------------------------------------------------ main


def reconcile_women(
    village_women: pd.DataFrame,
    police_hukou: pd.DataFrame,
    hospital_procedures: pd.DataFrame,
    hospital_checkups: pd.DataFrame,
    as_of: date,
    deadline_day: int = 5,
) -> WomenResult:
    """Reconcile the monthly rosters with police events and hospital records.

    See the module docstring for the grain of each output.
    """
    roster, people = roster_rows(village_women)
    procedures = procedure_rows(hospital_procedures)
    removal = _removals(roster, people, police_hukou)
    method = _methods(roster, people, procedures)
    last_check = _checks(roster, people, hospital_checkups)

    removed = removal["removal_date"].notna()
    late_removal = removed & (roster["m"] >= date_month_index(removal["removal_date"]) + 1)
    stale = method["hospital_method"] & (roster["m"] >= date_month_index(method["proc_date"]) + 1)
    late_removal = late_removal.fillna(False).astype(bool)
    stale = stale.fillna(False).astype(bool)

    on_roster = ~removed.to_numpy()
    keep, dup_rows = _duplicates(
        roster.loc[
            on_roster,
            [
                "woman_key",
                "m",
                "area_code",
                "residence",
                "report_month",
                "upload_id",
                "row_number",
                *_id_columns(roster),
            ],
        ]
    )
    counted = on_roster.copy()
    counted[on_roster] = keep.to_numpy()
    kept = roster[counted]

    recon_women = pd.DataFrame(
        {
            "snapshot_month": kept["report_month"],
            "area_code": kept["area_code"],
            "woman_key": kept["woman_key"],
            "residence": kept["residence"],
            "children": kept["children"],
            "method": method.loc[counted, "eff_method"].astype("string"),
            "method_source": method.loc[counted, "method_source"],
            "last_check_date": last_check[counted],
            "marriage_certificate": kept["marriage_certificate"],
            "file_created": kept["file_created"],
            "verified": kept["verified"],
            "notified": kept["notified"],
        }
    ).reset_index(drop=True)

    rule = pd.Series(pd.NA, index=roster.index, dtype="string")
    rule[stale.to_numpy()] = "roster_stale_method"
    rule[late_removal.to_numpy()] = "roster_dead_or_moved_out"
    accuracy = pd.DataFrame(
        {
            "area_code": roster["area_code"],
            "report_month": roster["report_month"],
            "template": pd.Series("village_women", index=roster.index, dtype="string"),
            "upload_id": roster["upload_id"],
            "row_number": roster["row_number"],
            "accurate": rule.isna().to_numpy(),
            "rule": rule,
        }
    ).reset_index(drop=True)

    findings = concat_findings(
        [
            removal_findings(_rows(late_removal.to_numpy(), roster, removal), DEATH),
            stale_findings(_rows(stale.to_numpy() & ~late_removal.to_numpy(), roster, method)),
            duplicate_findings(dup_rows),
        ]
    )
    kept_index = kept[["woman_key", "m", "area_code"]].reset_index(drop=True)
    changes = procedure_changes(procedures, roster, kept_index, as_of, deadline_day)
    return WomenResult(
        recon_women=recon_women,
        accuracy=accuracy,
        changes=changes,
        findings=findings,
        roster=roster,
    )


def procedure_changes(
    procedures: pd.DataFrame,
    roster: pd.DataFrame,
    kept: pd.DataFrame,
    as_of: date,
    deadline_day: int,
) -> pd.DataFrame:
    """recon_changes rows for procedures: grain one row per roster-changing procedure.

    A procedure is a change of a *roster woman* when she is on the reconciled roster
    (`kept`: woman_key, m, area_code) of the procedure month or the month before; the
    area is that roster's village (the later month's). It is recorded in the first
    roster snapshot, from the procedure month on, whose village method equals the
    method the procedure establishes. Changes not yet decided (not recorded and the
    next month's upload not yet due) are left out: they enter once decided.
    """
    if procedures.empty or kept.empty:
        return empty_changes()
    p = procedures.assign(e=date_month_index(procedures["proc_date"]))
    p = p.reset_index(drop=True).rename_axis("cid").reset_index()
    kept = kept[kept["woman_key"].isin(p["woman_key"].unique())]
    on_roster = p[["cid", "woman_key", "e"]].merge(kept, on="woman_key")
    on_roster = on_roster[
        (on_roster["m"] == on_roster["e"]) | (on_roster["m"] == on_roster["e"] - 1)
    ]
    area = (
        on_roster.sort_values(["cid", "m"])
        .drop_duplicates("cid", keep="last")
        .set_index("cid")["area_code"]
    )
    p = p[p["cid"].isin(area.index)]
    snaps = roster.loc[
        roster["woman_key"].isin(p["woman_key"].unique()), ["woman_key", "m", "method"]
    ]
    hits = p[["cid", "woman_key", "e", "proc_method"]].merge(snaps, on="woman_key")
    hits = hits[(hits["m"] >= hits["e"]) & (hits["method"] == hits["proc_method"])]
    recorded = hits.groupby("cid")["m"].min()
    e = p["e"].astype("Int64")
    rec = p["cid"].map(recorded).astype("Int64")
    timely = timeliness(e, rec, as_of, deadline_day)
    out = pd.DataFrame(
        {
            "area_code": p["cid"].map(area).astype("string"),
            "change_type": p["procedure"].astype("string"),
            "event_date": p["proc_date"],
            "event_month": month_label(e),
            "recorded_month": month_label(rec),
            "timely": timely,
        }
    )
    return out[timely.notna()].astype({"timely": bool}).reset_index(drop=True)


def empty_changes() -> pd.DataFrame:
    """recon_changes with no rows."""
    return pd.DataFrame(
        {
            "area_code": pd.Series([], dtype="string"),
            "change_type": pd.Series([], dtype="string"),
            "event_date": pd.Series([], dtype="datetime64[s]"),
            "event_month": pd.Series([], dtype="string"),
            "recorded_month": pd.Series([], dtype="string"),
            "timely": pd.Series([], dtype=bool),
        }
    )
