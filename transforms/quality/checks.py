"""Quality checks across uploads, rows and months (pandas only; no GX, no I/O).

The per-row rules of a template are Great Expectations suites (`expectations/`);
what needs more than one row or one upload is checked here:

- completeness and timeliness of uploads: `expected_uploads` builds the
  `dq_reporting` frame (docs/design.md) and its `upload_missing` / `upload_late`
  findings; `months_due` says which months are expected;
- the fee ledger across months: `fee_ledger_checks` (`fee_paid_to_date_continuity`,
  `fee_case_vanished`);
- the roster across months: `roster_checks` (`roster_children_decreased`,
  `roster_size_jump`);
- outliers in a unit's monthly counts: `monthly_counts` and `outlier_findings`
  (`outlier_monthly_count`).

Every finding here is a warning (uploads.md, "What bad input gets"): the rows stay
in the figures. Rule codes, dimensions and messages are in `transforms/quality/rules.py`.
Inputs are staged frames of *current* uploads (docs/design.md); rows with an
error-severity finding should already be left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from transforms.landing.identity import mask_id
from transforms.landing.manifest_rules import is_late
from transforms.periods import deadline_for, month_due, month_index, month_name, month_number
from transforms.quality.rules import empty_findings, findings_frame, make_finding
from transforms.templates import Contract

UPLOAD_KEY = ["unit", "source", "kind", "report_month"]
RECEIVED_STATUSES = ("loaded", "superseded")
MONEY_TOLERANCE = 0.005  # money is staged at two decimals
# Consistency constant of the mean absolute deviation for normal data (IBM SPSS's
# modified z-score when the MAD is 0): E|X - median| = sigma * sqrt(2 / pi) = sigma / 1.253314.
MEAN_AD_FACTOR = 1.253314
MAD_FACTOR = 0.6745  # Iglewicz & Hoaglin: E(MAD) = 0.6745 sigma for normal data


# ----------------------------------------------------------------- months


def months_due(first_month: str, as_of: date, deadline_day: int = 5) -> list[str]:
    """Report months from `first_month` whose upload deadline has passed as of `as_of`.

    Month M is due by day `deadline_day` of M+1 and *due* from the day after
    (`transforms.periods.month_due`).
    """
    start = month_number(first_month)
    last = as_of.year * 12 + as_of.month - 1  # no month at or after as_of's month is due
    labels = [month_name(m) for m in range(start, last)]
    return [m for m in labels if month_due(m, as_of, deadline_day)]


# --------------------------------------------------- completeness, timeliness


def expected_units(
    areas: pd.DataFrame, institutions: pd.DataFrame, contract: Contract
) -> pd.DataFrame:
    """Every (unit, source, kind) that must upload each month, with `area_code`, `unit_name`.

    Villages (12-digit codes in `areas`) upload the village kinds; police stations,
    one per township (9-digit codes), the police kinds; every institution the
    hospital kinds. `area_code` is the village, the township, or the institution's
    township.
    """
    codes = areas["code"].astype("string")
    names = areas["name"].astype("string")
    villages = pd.DataFrame(
        {"unit": codes, "area_code": codes, "unit_name": names, "source": "village"}
    )[codes.str.len() == 12]
    townships = pd.DataFrame(
        {"unit": codes, "area_code": codes, "unit_name": names + "派出所", "source": "police"}
    )[codes.str.len() == 9]
    hospitals = pd.DataFrame(
        {
            "unit": institutions["code"].astype("string"),
            "area_code": institutions["township_code"].astype("string"),
            "unit_name": institutions["name"].astype("string"),
            "source": "hospital",
        }
    )
    units = pd.concat([villages, townships, hospitals], ignore_index=True)
    kinds = pd.DataFrame(
        [(t.source, t.kind) for t in contract.templates.values()], columns=["source", "kind"]
    )
    return units.merge(kinds, on="source")


def expected_uploads(
    areas: pd.DataFrame,
    institutions: pd.DataFrame,
    contract: Contract,
    months_due: Iterable[str],
    uploads: pd.DataFrame,
    deadline_day: int = 5,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The `dq_reporting` frame and its completeness / timeliness findings.

    One row per expected upload (`expected_units` × `months_due`): `unit`, `source`,
    `kind`, `report_month`, `area_code`, `received` (a `loaded` or `superseded` file
    for it exists: a quarantined file is reported as such, not as received) and
    `on_time` (the first such file arrived by the deadline, `manifest_rules.is_late`).

    Findings: `upload_missing` for each expected upload not received,
    `upload_late` for each received late (on the first file's `upload_id`).
    `uploads`: the uploads frame of docs/design.md (`upload_id`, `source`, `kind`,
    `unit`, `report_month`, `arrived_at`, `status`).
    """
    months = pd.DataFrame({"report_month": pd.Series(list(months_due), dtype="string")})
    expected = expected_units(areas, institutions, contract).merge(months, how="cross")

    got = uploads[uploads["status"].isin(RECEIVED_STATUSES)]
    first = (
        got.sort_values(["arrived_at", "upload_id"])
        .drop_duplicates(UPLOAD_KEY)
        .loc[:, [*UPLOAD_KEY, "upload_id", "arrived_at"]]
        .astype({k: "string" for k in UPLOAD_KEY})
    )
    merged = expected.astype({k: "string" for k in UPLOAD_KEY}).merge(
        first, on=UPLOAD_KEY, how="left"
    )
    received = merged["upload_id"].notna()
    late = is_late(merged["report_month"], merged["arrived_at"], deadline_day)
    on_time = received & ~late.fillna(True).astype(bool)
    reporting = merged.assign(received=received.astype(bool), on_time=on_time.astype(bool))[
        [*UPLOAD_KEY, "area_code", "received", "on_time"]
    ].reset_index(drop=True)

    records = []
    for row in merged.loc[~received | (received & ~on_time)].itertuples(index=False):
        template = contract.template(str(row.source), str(row.kind))
        is_missing = pd.isna(row.upload_id)
        records.append(
            make_finding(
                "upload_missing" if is_missing else "upload_late",
                source=str(row.source),
                kind=str(row.kind),
                unit=str(row.unit),
                report_month=str(row.report_month),
                upload_id=None if is_missing else int(row.upload_id),
                unit_name=row.unit_name,
                title_zh=template.title_zh,
                title_en=template.title_en,
                deadline=deadline_for(str(row.report_month), deadline_day).isoformat(),
                arrived_at=None
                if is_missing
                else pd.Timestamp(row.arrived_at).strftime("%Y-%m-%d %H:%M"),
            )
        )
    return reporting, findings_frame(records) if records else empty_findings()


# ------------------------------------------------------------- fee ledger


def _money(value: Any) -> str:
    return f"{float(value):.2f}"


def _masked(frame: pd.DataFrame, column: str) -> pd.Series:
    return mask_id(_text_or_na(frame, column))


def _text_or_na(frame: pd.DataFrame, column: str) -> pd.Series:
    if column in frame.columns:
        return frame[column].astype("string")
    return pd.Series(pd.NA, index=frame.index, dtype="string")


def fee_ledger_checks(fees: pd.DataFrame, excluded: pd.DataFrame | None = None) -> pd.DataFrame:
    """Fee ledger continuity between consecutive monthly ledgers of the same unit.

    `fees`: staged `village_fees` rows (`upload_id`, `row_number`, `unit`,
    `report_month`, `case_no`, `party_id`, `assessed`, `paid_this_month`,
    `paid_to_date`). A unit's ledger for month M is compared with its ledger for
    M-1 when both exist:

    - `fee_paid_to_date_continuity`: a case in both whose `paid_to_date` is not
      last month's `paid_to_date` + this month's `paid_this_month` (±0.005 元);
    - `fee_case_vanished`: a case in last month's ledger missing from this month's.
      A case paid in full stays until the end of the year, so in January only a case
      that still had an amount outstanding (`paid_to_date` < `assessed`) must stay.
      A case whose row this month was excluded as an error (`excluded`: the ledger's
      error rows) has not vanished: the error is already its issue.
    """
    if fees.empty:
        return empty_findings()
    f = fees.assign(
        qc_month=month_index(fees["report_month"]),
        qc_case=fees["case_no"].astype("string"),
        # Masked only on the rows with a finding (a ledger's rows are many, findings few).
        qc_party=_text_or_na(fees, "party_id"),
    )
    f = f[f["qc_month"].notna() & f["qc_case"].notna()].drop_duplicates(
        ["unit", "qc_month", "qc_case"]
    )
    prev = f[
        ["unit", "qc_month", "qc_case", "report_month", "paid_to_date", "assessed", "qc_party"]
    ].rename(
        columns={
            "report_month": "prev_month",
            "paid_to_date": "prev_paid",
            "assessed": "prev_assessed",
            "qc_party": "prev_party",
        }
    )
    prev = prev.assign(qc_month=prev["qc_month"] + 1)
    records: list[dict[str, object]] = []

    both = f.merge(prev, on=["unit", "qc_month", "qc_case"], how="inner")
    expected = both["prev_paid"] + both["paid_this_month"]
    broken = ((both["paid_to_date"] - expected).abs() > MONEY_TOLERANCE).fillna(False)
    found = both[broken]
    found = found.assign(qc_key=_masked(found, "qc_party"))
    for row, exp in zip(found.itertuples(index=False), expected[broken].tolist(), strict=True):
        records.append(
            make_finding(
                "fee_paid_to_date_continuity",
                source="village",
                kind="fees",
                unit=str(row.unit),
                report_month=str(row.report_month),
                upload_id=int(row.upload_id),
                row_number=int(row.row_number),
                record_key=None if pd.isna(row.qc_key) else str(row.qc_key),
                value=_money(row.paid_to_date),
                case_no=row.qc_case,
                prev_month=row.prev_month,
                prev_paid=_money(row.prev_paid),
                paid_this_month=_money(row.paid_this_month),
                expected=_money(exp),
            )
        )

    ledgers = f.drop_duplicates(["unit", "qc_month"])[
        ["unit", "qc_month", "upload_id", "report_month"]
    ]
    followed = prev.merge(
        ledgers, on=["unit", "qc_month"], how="inner"
    )  # M-1 case, M ledger exists
    present = f[["unit", "qc_month", "qc_case"]]
    if excluded is not None and not excluded.empty:
        errors = pd.DataFrame(
            {
                "unit": excluded["unit"],
                "qc_month": month_index(excluded["report_month"]),
                "qc_case": excluded["case_no"].astype("string"),
            }
        ).dropna()
        present = pd.concat([present, errors], ignore_index=True)
    present = present.drop_duplicates().assign(qc_here=True)
    gone = followed.merge(present, on=["unit", "qc_month", "qc_case"], how="left")
    gone = gone[gone["qc_here"].isna()]
    january = (gone["qc_month"] % 12) == 0
    outstanding = (gone["prev_paid"] < gone["prev_assessed"]).fillna(True).astype(bool)
    gone = gone[~january | outstanding]
    gone = gone.assign(qc_key=_masked(gone, "prev_party"))
    for row in gone.itertuples(index=False):
        records.append(
            make_finding(
                "fee_case_vanished",
                source="village",
                kind="fees",
                unit=str(row.unit),
                report_month=str(row.report_month),
                upload_id=int(row.upload_id),
                record_key=None if pd.isna(row.qc_key) else str(row.qc_key),
                value=row.qc_case,
                case_no=row.qc_case,
                prev_month=row.prev_month,
            )
        )
    return findings_frame(records) if records else empty_findings()


# ----------------------------------------------------------------- roster


def roster_checks(
    women: pd.DataFrame,
    size_jump_share: float = 0.2,
    min_size_change: int = 0,
    people: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Roster churn between consecutive monthly snapshots.

    `women`: staged `village_women` rows (`upload_id`, `row_number`, `unit`,
    `report_month`, `id_number` and/or `id_number_key`, `children`).

    - `roster_children_decreased`: a woman (by `id_number_key`, else `id_number`)
      whose `children` is lower than in the previous month's snapshot, whichever
      village listed her (`people`: the rows to follow women through, when they are
      not `women` — a partition's rows routed by person);
    - `roster_size_jump`: a unit's roster size changed by more than
      `size_jump_share` of last month's size (and by more than `min_size_change`
      women), a finding on the whole upload.
    """
    found = [
        f
        for f in (
            children_decreased(women if people is None else people),
            roster_size_jumps(women, size_jump_share, min_size_change),
        )
        if not f.empty
    ]
    return pd.concat(found, ignore_index=True) if found else empty_findings()


def _roster_months(women: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """`columns` of the roster rows with a report month, and their month index and person
    (only the columns a check reads: filtering a township's wide roster cost more)."""
    person_col = "id_number_key" if "id_number_key" in women.columns else "id_number"
    w = women[[c for c in columns if c in women.columns]].assign(
        qc_month=month_index(women["report_month"]),
        qc_person=women[person_col].astype("string"),
    )
    return w[w["qc_month"].notna()]


def children_decreased(women: pd.DataFrame) -> pd.DataFrame:
    """`roster_children_decreased` findings (roster_checks)."""
    if women.empty:
        return empty_findings()
    w = _roster_months(
        women, ["unit", "report_month", "upload_id", "row_number", "children", "id_number"]
    )
    records: list[dict[str, object]] = []
    people = w[w["qc_person"].notna()].drop_duplicates(["qc_person", "qc_month"])
    prev = people[["qc_person", "qc_month", "children", "report_month"]].rename(
        columns={"children": "prev_children", "report_month": "prev_month"}
    )
    both = people.merge(
        prev.assign(qc_month=prev["qc_month"] + 1), on=["qc_person", "qc_month"], how="inner"
    )
    fewer = (both["children"] < both["prev_children"]).fillna(False).astype(bool)
    # Masked only where there is a finding: masking a county's roster cost ~1 s a run.
    found = both[fewer]
    found = found.assign(qc_key=_masked(found, "id_number"))
    for row in found.itertuples(index=False):
        key = None if pd.isna(row.qc_key) else str(row.qc_key)
        records.append(
            make_finding(
                "roster_children_decreased",
                source="village",
                kind="women",
                unit=str(row.unit),
                report_month=str(row.report_month),
                upload_id=int(row.upload_id),
                row_number=int(row.row_number),
                record_key=key,
                value=int(row.children),
                prev_month=row.prev_month,
                prev_children=int(row.prev_children),
            )
        )
    return findings_frame(records) if records else empty_findings()


def roster_size_jumps(
    women: pd.DataFrame, size_jump_share: float = 0.2, min_size_change: int = 0
) -> pd.DataFrame:
    """`roster_size_jump` findings (roster_checks)."""
    if women.empty:
        return empty_findings()
    w = _roster_months(women, ["unit", "report_month", "upload_id", "row_number"])
    records: list[dict[str, object]] = []
    sizes = w.groupby(["unit", "qc_month"], as_index=False).agg(
        size=("row_number", "size"),
        upload_id=("upload_id", "min"),
        report_month=("report_month", "first"),
    )
    prev_sizes = sizes[["unit", "qc_month", "size", "report_month"]].rename(
        columns={"size": "prev_size", "report_month": "prev_month"}
    )
    jumps = sizes.merge(
        prev_sizes.assign(qc_month=prev_sizes["qc_month"] + 1), on=["unit", "qc_month"], how="inner"
    )
    change = (jumps["size"] - jumps["prev_size"]).abs()
    share = change / jumps["prev_size"].where(jumps["prev_size"] > 0)
    jumped = ((share > size_jump_share) & (change > min_size_change)).fillna(False)
    for row, pct in zip(jumps[jumped].itertuples(index=False), share[jumped], strict=True):
        records.append(
            make_finding(
                "roster_size_jump",
                source="village",
                kind="women",
                unit=str(row.unit),
                report_month=str(row.report_month),
                upload_id=int(row.upload_id),
                value=int(row.size),
                prev_month=row.prev_month,
                prev_count=int(row.prev_size),
                change_pct=f"{pct:.0%}",
                threshold_pct=f"{size_jump_share:.0%}",
            )
        )
    return findings_frame(records) if records else empty_findings()


# --------------------------------------------------------------- outliers


def monthly_counts(
    rows: pd.DataFrame,
    *,
    source: str,
    kind: str,
    unit_col: str,
    month_col: str,
    months: Sequence[str],
    units: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Rows per (unit, month) as `source`, `kind`, `unit`, `report_month`, `count`.

    `month_col` holds `YYYY-MM` labels or dates. Every unit (those in `rows`, plus
    `units`) gets a row for every month of `months`, zero when it had no rows, so
    that a month without births counts as a month in the history.
    """
    month = rows[month_col]
    if pd.api.types.is_datetime64_any_dtype(month):
        month = month.dt.strftime("%Y-%m")
    observed = (
        pd.DataFrame({"unit": rows[unit_col].astype("string"), "m": month.astype("string")})
        .dropna()
        .value_counts()
        .rename("count")
    )
    all_units = pd.Index(rows[unit_col].dropna().astype("string").unique()).union(
        pd.Index(list(units or []), dtype="string")
    )
    grid = pd.MultiIndex.from_product([all_units, list(months)], names=["unit", "m"])
    counts = observed.reindex(grid, fill_value=0).reset_index()
    return pd.DataFrame(
        {
            "source": source,
            "kind": kind,
            "unit": counts["unit"].astype("string"),
            "report_month": counts["m"].astype("string"),
            "count": counts["count"].astype("int64"),
        }
    )


def modified_z(history: np.ndarray, x: float, min_deviation: float = 3.0) -> float:
    """Modified z-score of `x` against `history` (0.0 when not unusual enough to score).

    - MAD > 0: 0.6745 · (x − median) / MAD (Iglewicz & Hoaglin);
    - MAD = 0 (more than half the months equal): (x − median) / (1.253314 · MeanAD),
      IBM SPSS's fallback with the mean absolute deviation from the median;
    - MeanAD = 0 too (every month equal): ±inf for any x ≠ median.

    Whatever the case, `x` scores 0 unless |x − median| ≥ `min_deviation`: monthly
    counts of a village are small, and without this floor one birth in a village
    with one birth in six months scores 4.8.
    """
    median = float(np.median(history))
    deviation = x - median
    if abs(deviation) < min_deviation:
        return 0.0
    spread = np.abs(history - median)
    mad = float(np.median(spread))
    if mad > 0:
        return MAD_FACTOR * deviation / mad
    mean_ad = float(spread.mean())
    if mean_ad > 0:
        return deviation / (MEAN_AD_FACTOR * mean_ad)
    return float(np.sign(deviation)) * np.inf


def outlier_findings(
    counts: pd.DataFrame,
    contract: Contract,
    *,
    min_history: int = 6,
    window: int = 24,
    threshold: float = 3.5,
    min_deviation: float = 3.0,
) -> pd.DataFrame:
    """`outlier_monthly_count` warnings: a month's count far from the unit's own history.

    `counts`: `monthly_counts` output. For each (source, kind, unit) and month with
    at least `min_history` earlier months, the count is scored (`modified_z`) against
    the up to `window` months before it; |score| > `threshold` is a finding whose
    message lists the history. A loop over units and months (small: villages × kinds
    × months), with numpy per window.
    """
    records: list[dict[str, object]] = []
    ordered = counts.sort_values(["source", "kind", "unit", "report_month"])
    for (source, kind, unit), group in ordered.groupby(["source", "kind", "unit"], sort=False):
        values = group["count"].to_numpy(dtype=float)
        months = group["report_month"].tolist()
        template = contract.template(str(source), str(kind))
        for i in range(min_history, len(values)):
            history = values[max(0, i - window) : i]
            score = modified_z(history, values[i], min_deviation)
            if abs(score) <= threshold:
                continue
            shown = [str(int(v)) for v in history]
            records.append(
                make_finding(
                    "outlier_monthly_count",
                    source=str(source),
                    kind=str(kind),
                    unit=str(unit),
                    report_month=str(months[i]),
                    value=int(values[i]),
                    measure_zh=f"《{template.title_zh}》条数",
                    measure_en=f"The number of rows of the {template.title_en}",
                    history="、".join(shown),
                    history_en=", ".join(shown),
                    months=len(history),
                    median=f"{float(np.median(history)):g}",
                    score="∞" if np.isinf(score) else f"{score:.1f}",
                )
            )
    return findings_frame(records) if records else empty_findings()
