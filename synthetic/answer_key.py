"""The answer key: what popstat must find, counted by the generator itself (uploads, births, women, faults, birth figures)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

import numpy as np
import pandas as pd

from synthetic.files import _Files
from synthetic.reference import target_faults_key
from synthetic.simulation import _Sim
from synthetic.spec import FAULT_RULES, AnswerKey, CountySpec, _mi_of, _next_month, _ym

BIRTH_FIGURE_COLUMNS: Final = (
    "births",
    "policy_known",
    "policy_in",
    "order_known",
    "order_3plus",
    "not_on_time",
    "male",
    "female",
)


def birth_figures(births_key: pd.DataFrame, spec: CountySpec) -> pd.DataFrame:
    """The generator's own birth counts per (area_code, month), for every village, township
    and county (codes follow the 统计用区划代码 layout: the township is the village code's
    first 9 digits, the county its first 6), from what it planted — not from popstat.

    births: every birth some generated file holds; policy_known / order_known: births a
    valid village row reported; policy_in: of those, 政策内; order_3plus: of those, birth
    order ≥ 3; not_on_time: reported_on_time false (漏报 for good); male / female: the
    true sex. Rows only where the area has a birth in the month.
    """
    b = births_key[births_key["status"].notna()]
    known = b["in_village"].to_numpy(bool)
    base = pd.DataFrame(
        {
            "village": b["village_code"].astype(str).to_numpy(),
            "month": b["birth_date"].dt.strftime("%Y-%m").to_numpy(),
            "births": 1,
            "policy_known": known.astype(int),
            "policy_in": (known & (b["policy_status"] == "政策内").to_numpy(bool)).astype(int),
            "order_known": known.astype(int),
            "order_3plus": (known & (b["birth_order"] >= 3).fillna(False).to_numpy(bool)).astype(
                int
            ),
            "not_on_time": b["reported_on_time"].eq(False).fillna(False).to_numpy(bool).astype(int),
            "male": (b["child_sex"] == "M").to_numpy(bool).astype(int),
            "female": (b["child_sex"] == "F").to_numpy(bool).astype(int),
        }
    )
    parts = []
    for level, width in (("village", 12), ("township", 9), ("county", 6)):
        part = base.assign(area_code=base["village"].str.slice(0, width), area_level=level)
        parts.append(
            part.groupby(["area_code", "area_level", "month"], as_index=False)[
                list(BIRTH_FIGURE_COLUMNS)
            ].sum()
        )
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["area_code", "month"]).reset_index(drop=True)


# ------------------------------------------------------------------------- answer key


_NOTES: Final = {
    "bad_check_digit": "roster ID with a wrong check digit",
    "id_scientific": "ID as 6.54226E+17 in a CSV saved by Excel",
    "duplicate_in_file": "the same woman twice in one roster; this row is the repeat",
    "correction": "the _更正 file; this row differs from the superseded original",
    "dead_on_roster": "police 死亡注销 in an earlier month; still on this roster",
    "moved_out": "police 迁出 this month; gone from next month's roster (no issue)",
    "stale_method": "hospital 结扎 in an earlier month; the roster still says 上环",
    "hospital_only_check": "hospital check this month; the roster's last_check_date is old",
    "two_villages": "the same woman on two villages' rosters this month",
    "fee_jump": "paid_to_date is 1000 元 above last month's plus this month's",
    "fee_overpaid": "paid_to_date above assessed",
    "twins": "twins: one delivery, two children, in all three sources",
    "mistyped_mother_id": "mother ID with two digits swapped (bad checksum): an error row, so "
    "the birth the hospital saw stays 漏报 (missing_in_village)",
    "late_report": "a birth the village reports three months late: matched, but 漏报 for its "
    "month for good (reported_on_time false)",
    "sex_conflict": "the village says 男, the hospital and the police say 女",
    "village_only_birth": "home birth, not registered: only the village reports it",
    "missing_upload": "no file for this village month",
    "lock_file": "Excel lock file beside the workbook",
    "unrecognised_name": "a roster saved under a name that is not an upload name",
    "missing_required_column": "a _v2 without 检查日期; the original stays current",
}
_FAULT_COLUMNS: Final = (
    "fault",
    "path",
    "row_number",
    "source",
    "kind",
    "unit",
    "report_month",
    "expect_in",
    "rule",
    "dimension",
    "severity",
    "planted",
    "note",
)


def _deadline(spec: CountySpec, m: int) -> datetime:
    """The last moment an upload of month index `m` is on time."""
    return datetime(*_next_month(m), spec.deadline_day, 23, 59, 59)


def _uploads_key(
    spec: CountySpec, files: _Files, numbered: dict[str, pd.DataFrame]
) -> pd.DataFrame:
    counts = {name: R["_file"].value_counts() for name, R in numbered.items()}
    rows = []
    for i, f in enumerate(files.rows):
        if f["status"] == "missing":
            continue
        src = i
        good_name = f["fault"] not in ("unrecognised_name", "lock_file")
        n = counts.get(f["template"], pd.Series(dtype=int)).get(src, 0)
        rows.append(
            {
                "path": f["path"],
                "file_name": f["name"],
                "source": f["source"] if good_name else None,
                "kind": f["kind"] if good_name else None,
                "unit": f["unit"] if good_name else None,
                "report_month": _ym(f["month"]) if good_name else None,
                "arrived_at": f["arrived_at"],
                "rows": None if f["status"] in ("quarantined", "duplicate") else int(n),
                "late": (f["arrived_at"] > _deadline(spec, f["month"])) if good_name else None,
                "status": f["status"],
                "reason_code": f["reason_code"],
            }
        )
    out = pd.DataFrame(rows).sort_values(["arrived_at", "path"]).reset_index(drop=True)
    out["rows"] = out["rows"].astype("Int64")
    out["late"] = out["late"].astype("boolean")
    for c in (
        "path",
        "file_name",
        "source",
        "kind",
        "unit",
        "report_month",
        "status",
        "reason_code",
    ):
        out[c] = out[c].astype("string")
    return out


def _births_key(
    sim: _Sim, files: _Files, births: pd.DataFrame, numbered: dict[str, pd.DataFrame]
) -> pd.DataFrame:
    spec, F, P = sim.spec, files.rows, sim.P
    B = births.copy()
    for name, short in (
        ("village_births", "village"),
        ("hospital_births", "hospital"),
        ("police_hukou", "police"),
    ):
        R = numbered[name]
        R = R[
            (R["_birth"].to_numpy() >= 0)
            & np.array([F[int(fi)]["status"] == "loaded" for fi in R["_file"]], bool)
        ]
        if short == "village":
            # The earliest upload that holds the birth is the one that reported it.
            R = R.assign(_month=[F[int(fi)]["month"] for fi in R["_file"]])
            R = R.sort_values(["_month", "_file", "_row"], kind="stable")
        first = R.drop_duplicates("_birth").set_index("_birth")
        B[f"{short}_path"] = (
            B["birth_id"].map(first["_file"].map(lambda fi: F[int(fi)]["path"])).astype("string")
        )
        B[f"{short}_row"] = B["birth_id"].map(first["_row"]).astype("Int64")
        B[f"in_{short}"] = B[f"{short}_path"].notna().to_numpy()
        if short == "village":
            B["_report_m"] = B["birth_id"].map(first["_month"])
    # An error row (the mistyped mother ID) never reports a birth (indicators.md).
    B["in_village"] = B["in_village"] & ~B["mistyped"].to_numpy(bool)
    seen = (B["in_hospital"] | B["in_police"]).to_numpy()
    inv = B["in_village"].to_numpy()
    as_of = spec.effective_as_of
    months = B["month"].to_numpy()
    due = np.array([as_of > _deadline(spec, int(m) + 1).date() for m in months], bool)
    conflict = inv & seen & (B["village_sex"] != B["sex"]).to_numpy()
    status = np.select(
        [conflict, inv & seen, inv, seen & due, seen],
        ["conflict", "matched", "village_only", "missing_in_village", "pending"],
        "",
    )
    # 漏报: reported on time when the village's upload of the birth month or the next holds
    # it, whenever that upload arrived; decided once that upload is due.
    on_time: list[bool | None] = []
    report_month: list[str | None] = []
    for v, rm, m, st, d in zip(inv, B["_report_m"], months, status, due, strict=True):
        if v:
            on_time.append(bool(int(rm) <= int(m) + 1))
            report_month.append(_ym(int(rm)))
        else:
            on_time.append(False if st and d else None)
            report_month.append(None)
    w = B["woman"].to_numpy()
    key = pd.DataFrame(
        {
            "birth_id": B["birth_id"].astype(np.int64),
            "mother_id": pd.array(P["id"][w], dtype="string"),
            "mother_name": pd.array(P["name"][w], dtype="string"),
            "village_code": pd.array(
                np.asarray(sim.geo.village_codes, object)[B["village"]], dtype="string"
            ),
            "birth_date": B["birth_date"].astype("datetime64[s]"),
            "child_sex": B["sex"].astype("string"),
            "village_sex": B["village_sex"].where(B["in_village"]).astype("string"),
            "birth_order": B["birth_order"].astype("Int64"),
            "policy_status": B["policy_status"].astype("string"),
            "twin": B["twin"].astype(bool),
            "in_village": B["in_village"].astype(bool),
            "in_hospital": B["in_hospital"].astype(bool),
            "in_police": B["in_police"].astype(bool),
            "status": pd.array([x or None for x in status], dtype="string"),
            "matched_by": pd.array(
                [
                    ("name" if mt else "id") if v and s_ else None
                    for v, s_, mt in zip(inv, seen, B["mistyped"], strict=True)
                ],
                dtype="string",
            ),
            "village_report_month": pd.array(report_month, dtype="string"),
            "reported_on_time": pd.array(on_time, dtype="boolean"),
            "village_path": B["village_path"],
            "village_row": B["village_row"],
            "hospital_path": B["hospital_path"],
            "hospital_row": B["hospital_row"],
            "police_path": B["police_path"],
            "police_row": B["police_row"],
            "case": pd.array([c or None for c in B["case"]], dtype="string"),
        }
    )
    return key.reset_index(drop=True)


def _faults_key(
    sim: _Sim, files: _Files, births_key: pd.DataFrame, numbered: dict[str, pd.DataFrame]
) -> pd.DataFrame:
    spec, F = sim.spec, files.rows
    rows: list[dict[str, Any]] = []

    def add(
        fault: str, f: dict[str, Any], row: int | None, note: str, *, planted: bool = True
    ) -> None:
        expect, rule, dim, sev = FAULT_RULES[fault]
        rows.append(
            {
                "fault": fault,
                "path": None if f["status"] == "missing" else f["path"],
                "row_number": row,
                "source": f["source"],
                "kind": f["kind"],
                "unit": f["unit"],
                "report_month": _ym(f["month"]),
                "expect_in": expect,
                "rule": rule,
                "dimension": dim,
                "severity": sev,
                "planted": planted,
                "note": note,
            }
        )

    # Rows in village files (the hospital's and police's copies of planted births are in
    # the births key).
    for name in ("village_women", "village_births", "village_fees"):
        R = numbered.get(name)
        if R is None:
            continue
        tagged = R[R["_tag"].astype(str) != ""]
        for tag, fi, row in zip(tagged["_tag"], tagged["_file"], tagged["_row"], strict=True):
            f = F[int(fi)]
            if tag not in FAULT_RULES or f["status"] != "loaded":
                continue
            add(tag, f, int(row), _NOTES.get(tag, ""))
    # Births the village never reported although its upload is due.
    missing = births_key[births_key["status"] == "missing_in_village"]
    for b in missing.itertuples():
        m = int(_mi_of(np.asarray(b.birth_date, "datetime64[D]"))) + 1
        rows.append(
            {
                "fault": "birth_missing_in_village",
                "path": None,
                "row_number": None,
                "source": "village",
                "kind": "births",
                "unit": b.village_code,
                "report_month": _ym(m),
                "expect_in": "dq_issues",
                "rule": "birth_missing_in_village",
                "dimension": "completeness",
                "severity": "warning",
                "planted": True,
                "note": (
                    "lost with the missing upload"
                    if b.case == "missing_upload"
                    else "in hospital/police, never in the village's reports"
                )
                + f"; hospital {b.hospital_path} row {b.hospital_row}",
            }
        )
    # File-level faults and late uploads.
    for f in F:
        if f["fault"] in (
            "missing_upload",
            "duplicate_upload",
            "lock_file",
            "unrecognised_name",
            "missing_required_column",
        ):
            add(f["fault"], f, None, f["note"] or _NOTES.get(f["fault"], ""))
        counted = f["status"] in ("loaded", "superseded") and f["fault"] in (None, "correction")
        if counted and f["arrived_at"] > _deadline(spec, f["month"]):
            add(
                "late_upload",
                f,
                None,
                "arrived after the deadline",
                planted=bool(f.get("planted_late")),
            )
    out = pd.DataFrame(rows, columns=list(_FAULT_COLUMNS))
    out["row_number"] = out["row_number"].astype("Int64")
    out["planted"] = out["planted"].astype(bool)
    for c in _FAULT_COLUMNS:
        if c not in ("row_number", "planted"):
            out[c] = out[c].astype("string")
    return out.sort_values(
        ["fault", "path", "row_number"], na_position="last", kind="stable"
    ).reset_index(drop=True)


WOMEN_KEY_COLUMNS: Final = (
    "case",
    "id_number",
    "name",
    "village_code",
    "other_village_code",
    "report_month",
    "event_date",
    "note",
)


def women_key_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The answer key's women events (one row per planted event) with text columns as strings."""
    frame = pd.DataFrame(rows, columns=list(WOMEN_KEY_COLUMNS))
    for c in WOMEN_KEY_COLUMNS:
        if c != "event_date":
            frame[c] = frame[c].astype("string")
    return frame


def _answer_key(
    sim: _Sim, files: _Files, births: pd.DataFrame, numbered: dict[str, pd.DataFrame]
) -> AnswerKey:
    births_key = _births_key(sim, files, births, numbered)
    women = women_key_frame(sim.women_key)
    return AnswerKey(
        uploads=_uploads_key(sim.spec, files, numbered),
        births=births_key,
        women=women,
        faults=_faults_key(sim, files, births_key, numbered),
        birth_figures=birth_figures(births_key, sim.spec),
        target_faults=target_faults_key(sim.spec),
    )
