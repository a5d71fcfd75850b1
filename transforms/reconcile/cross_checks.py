"""Checks that need every current upload at once, run beside reconciliation (pure).

Completeness and timeliness of the expected uploads, ledger and roster
consistency across months, and outliers against a village's own history.
Returns findings by origin (the check that found them) and `dq_reporting`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from transforms.quality import checks as quality_checks
from transforms.reconcile.all_sources import ReconInputs
from transforms.templates import Contract

# Each village's monthly counts watched for outliers: (input frame, source, kind,
# the column naming the village, the column giving the month).
_OUTLIER_COUNTS = (
    ("village_births", "village", "births", "unit", "report_month"),
    ("hospital_procedures", "hospital", "procedures", "village_code", "procedure_date"),
    ("hospital_checkups", "hospital", "checkups", "village_code", "check_date"),
)


@dataclass(frozen=True, eq=False)
class CrossChecks:
    """dq_reporting (one row per expected upload) and findings by origin."""

    dq_reporting: pd.DataFrame
    findings: dict[str, pd.DataFrame]
    months_due: list[str]


def first_loaded_month(uploads: pd.DataFrame) -> str | None:
    """The earliest month of a loaded upload (the expected uploads start there by default)."""
    months = uploads.loc[uploads["status"] == "loaded", "report_month"].dropna()
    return str(months.min()) if len(months) else None


def cross_checks(
    inputs: ReconInputs,
    institutions: pd.DataFrame,
    contract: Contract,
    as_of: date,
    deadline_day: int,
    first_month: str | None = None,
    roster_people: pd.DataFrame | None = None,
) -> CrossChecks:
    """Run every cross-row check over the current uploads as of `as_of`.

    Uploads are expected from `first_month` (the configured first month), else from the
    earliest month loaded. `roster_people`: the roster rows to follow each woman through
    from month to month, when not `inputs.village_women` (a partition's rows routed by
    person, transforms.reconcile.partitions).
    """
    first = first_month or first_loaded_month(inputs.uploads)
    due = quality_checks.months_due(first, as_of, deadline_day) if first else []
    reporting, completeness = quality_checks.expected_uploads(
        inputs.areas, institutions, contract, due, inputs.uploads, deadline_day
    )
    consistency = pd.concat(
        [
            quality_checks.fee_ledger_checks(
                inputs.village_fees, inputs.excluded.get("village_fees")
            ),
            quality_checks.roster_checks(inputs.village_women, people=roster_people),
        ],
        ignore_index=True,
    )
    village_codes = list(inputs.areas.loc[inputs.areas["code"].str.len() == 12, "code"])
    counts = pd.concat(
        [
            quality_checks.monthly_counts(
                getattr(inputs, frame),
                source=source,
                kind=kind,
                unit_col=unit_col,
                month_col=month_col,
                months=due,
                units=village_codes if kind == "births" else None,
            )
            for frame, source, kind, unit_col, month_col in _OUTLIER_COUNTS
        ],
        ignore_index=True,
    )
    outliers = quality_checks.outlier_findings(counts, contract)
    return CrossChecks(
        dq_reporting=reporting,
        findings={"completeness": completeness, "consistency": consistency, "outliers": outliers},
        months_due=due,
    )
