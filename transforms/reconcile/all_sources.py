"""Reconciliation: villages, police and hospitals as one picture.

`reconcile(inputs, as_of)` takes the staged frames of the current uploads and
returns the reconciled frames of design.md plus quality findings:

- `recon_births` — one row per reconciled (real) birth (transforms/reconcile/births.py).
- `recon_women` — one row per woman per monthly roster snapshot
  (transforms/reconcile/women.py).
- `recon_fees` — one row per fee case per monthly ledger.
- `recon_exams` — one row per couple examined per year (their first exam of the year).
- `recon_changes` — one row per change (birth, or 放环/取环/结扎/皮埋 of a roster
  woman) whose timeliness is decided as of `as_of`: a change the village has not
  recorded yet while the upload of the month after the event is not yet due is left
  out until it is decided (else every recent month would show as late).
- `recon_accuracy` — one row per village births / roster row checked.
- `findings` — design.md "Findings" frame (warnings: cross-source disagreements).

Pure: no I/O, no environment. Only person keys (`<id>_key`) identify people; the
outputs hold keys and, in findings, masked IDs — never raw ID numbers or names.

Error rows never reconcile (indicators.md): every input holds only the rows staging
kept. Village birth rows whose mother ID is invalid (null `mother_id_key`) are
dropped here as well, should a caller pass them: they do not report the birth.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from transforms.reconcile.births import reconcile_births
from transforms.reconcile.common import (
    concat_findings,
    conform,
    date_month_index,
    month_index,
    month_label,
    sha256_hex,
)
from transforms.reconcile.women import reconcile_women


@dataclass(frozen=True, eq=False)
class ReconInputs:
    """Staged frames (design.md `stg_<template>` shapes) of the current uploads.

    `uploads` is the design.md uploads frame: rows of uploads whose status is not
    `loaded` are dropped defensively. `areas` (`code,name,level,parent_code`) says
    which codes are villages when a birth's area must be chosen among candidates.
    `excluded`: error rows by template — never reconciled, only for checks that must
    know a row was there (a fee case whose row is an error has not vanished).
    """

    village_births: pd.DataFrame
    village_women: pd.DataFrame
    village_fees: pd.DataFrame
    police_hukou: pd.DataFrame
    hospital_births: pd.DataFrame
    hospital_procedures: pd.DataFrame
    hospital_checkups: pd.DataFrame
    hospital_prepregnancy: pd.DataFrame
    uploads: pd.DataFrame
    areas: pd.DataFrame
    excluded: Mapping[str, pd.DataFrame] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class ReconResult:
    """The reconciled frames (design.md "Reconciled frames") and the findings."""

    recon_births: pd.DataFrame
    recon_women: pd.DataFrame
    recon_fees: pd.DataFrame
    recon_exams: pd.DataFrame
    recon_changes: pd.DataFrame
    recon_accuracy: pd.DataFrame
    findings: pd.DataFrame


def _not_current(uploads: pd.DataFrame | None) -> set[int]:
    """Upload ids listed with a status other than `loaded`."""
    if uploads is None or uploads.empty or "status" not in uploads.columns:
        return set()
    stale = uploads.loc[uploads["status"].astype("string") != "loaded", "upload_id"]
    return {int(u) for u in stale.dropna().tolist()}


def _current(frame: pd.DataFrame | None, template: str, skip: set[int]) -> pd.DataFrame:
    conformed = conform(frame, template)
    if not skip:
        return conformed
    return conformed[~conformed["upload_id"].isin(list(skip)).fillna(False).to_numpy(bool)]


def _villages(areas: pd.DataFrame | None) -> Collection[str] | None:
    if areas is None or areas.empty or "code" not in areas.columns:
        return None
    codes = areas["code"].astype("string")
    if "level" in areas.columns:
        codes = codes[(areas["level"].astype("string") == "village").fillna(False)]
    return set(codes.dropna().tolist()) or None


def recon_fees(village_fees: pd.DataFrame) -> pd.DataFrame:
    """recon_fees — grain: one row per fee case per monthly ledger (unit, month, case).

    `case_key` = SHA-256 (hex) of `unit|case_no`: case numbers are per village.
    """
    f = conform(village_fees, "village_fees")
    f = f[f["case_no"].notna() & f["unit"].notna()]
    out = pd.DataFrame(
        {
            "report_month": f["report_month"].astype("string"),
            "area_code": f["unit"].astype("string"),
            "case_key": sha256_hex(f["unit"], f["case_no"]),
            "decision_date": f["decision_date"].astype("datetime64[s]"),
            "assessed": f["assessed"].astype("Float64"),
            "paid_to_date": f["paid_to_date"].astype("Float64"),
        }
    )
    # Staging keeps case_no unique within a file; guard the (report_month, case_key) key.
    return out.drop_duplicates(["report_month", "case_key"]).reset_index(drop=True)


def recon_exams(hospital_prepregnancy: pd.DataFrame) -> pd.DataFrame:
    """recon_exams — grain: one row per couple and calendar year, at the couple's first
    exam of the year (`prepregnancy_exams` counts distinct couples examined: a couple
    examined twice, or by two institutions, counts once, in the month and village of
    that first exam).

    `couple_key` = SHA-256 (hex) of `wife_id_key|husband_id_key`; area = `village_code`.
    """
    e = conform(hospital_prepregnancy, "hospital_prepregnancy")
    e = e[e["wife_id_key"].notna() & e["husband_id_key"].notna() & e["exam_date"].notna()]
    out = pd.DataFrame(
        {
            "area_code": e["village_code"].astype("string"),
            "exam_date": e["exam_date"].astype("datetime64[s]"),
            "exam_month": month_label(date_month_index(e["exam_date"])),
            "couple_key": sha256_hex(e["wife_id_key"], e["husband_id_key"]),
        }
    )
    year = out["exam_month"].str.slice(0, 4)
    first = out.assign(_year=year).sort_values(["exam_date", "area_code"], kind="stable")
    first = first.drop_duplicates(["couple_key", "_year"]).drop(columns="_year")
    return first.sort_index().reset_index(drop=True)


def reconcile(inputs: ReconInputs, as_of: date, deadline_day: int = 5) -> ReconResult:
    """Reconcile the three sources as of `as_of` (uploads of month M due on day
    `deadline_day` of M+1; due once that day has passed). See the module docstring."""
    skip = _not_current(inputs.uploads)
    women = reconcile_women(
        _current(inputs.village_women, "village_women", skip),
        _current(inputs.police_hukou, "police_hukou", skip),
        _current(inputs.hospital_procedures, "hospital_procedures", skip),
        _current(inputs.hospital_checkups, "hospital_checkups", skip),
        as_of,
        deadline_day,
    )
    women_months = women.recon_women[["woman_key", "area_code"]].assign(
        m=month_index(women.recon_women["snapshot_month"])
    )
    births = reconcile_births(
        _current(inputs.village_births, "village_births", skip),
        _current(inputs.police_hukou, "police_hukou", skip),
        _current(inputs.hospital_births, "hospital_births", skip),
        women.roster,
        women_months,
        _villages(inputs.areas),
        as_of,
        deadline_day,
    )
    changes = pd.concat([births.changes, women.changes], ignore_index=True)
    accuracy = pd.concat([births.accuracy, women.accuracy], ignore_index=True)
    return ReconResult(
        recon_births=births.recon_births,
        recon_women=women.recon_women,
        recon_fees=recon_fees(_current(inputs.village_fees, "village_fees", skip)),
        recon_exams=recon_exams(
            _current(inputs.hospital_prepregnancy, "hospital_prepregnancy", skip)
        ),
        recon_changes=changes,
        recon_accuracy=accuracy,
        findings=concat_findings([births.findings, women.findings]),
    )
