"""One partition's work, pure: reconcile, check, measure (transforms.reconcile.partitions).

A run splits its rows by township; each township's `work_partition` is independent
of every other's, so the partitions can run anywhere, in any order, in parallel.
The run then adds up what they return: the reconciled frames and findings are
concatenated, the leaf measures summed up the area tree (achievement.measure_values).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from transforms.indicators.achievement import leaf_measures
from transforms.indicators.catalog import Catalog
from transforms.reconcile.all_sources import reconcile
from transforms.reconcile.cross_checks import cross_checks
from transforms.reconcile.partitions import PartitionInputs, institutions_of
from transforms.templates import Contract

# The reconciled frames a partition hands on, in publishing's order (warehouse.publish).
RECON_FRAMES = (
    "recon_births",
    "recon_women",
    "recon_fees",
    "recon_exams",
    "recon_changes",
    "recon_accuracy",
)


@dataclass(frozen=True, eq=False)
class PartitionWork:
    """What one partition found: frames by name (RECON_FRAMES and dq_reporting), findings
    by origin, its leaf measures and the months its roster and births cover."""

    frames: dict[str, pd.DataFrame]
    findings: dict[str, pd.DataFrame]
    leaves: pd.DataFrame
    months: list[str]


def work_partition(
    inputs: PartitionInputs,
    institutions: pd.DataFrame,
    contract: Contract,
    catalog: Catalog,
    as_of: date,
    deadline_day: int,
    first_month: str | None,
) -> PartitionWork:
    """Reconcile and check one partition's rows as of `as_of`, and measure the result.

    `first_month`: the run's first expected month (the same for every partition: a
    township with a late first upload is still expected from the run's first month).
    """
    result = reconcile(inputs.recon, as_of, deadline_day)
    checks = cross_checks(
        inputs.checks,
        institutions_of(institutions, inputs.part),
        contract,
        as_of,
        deadline_day,
        first_month,
        roster_people=inputs.recon.village_women,
    )
    frames = {name: getattr(result, name) for name in RECON_FRAMES}
    frames["dq_reporting"] = checks.dq_reporting
    months = set(result.recon_women["snapshot_month"].dropna()) | set(
        result.recon_births["birth_month"].dropna()
    )
    return PartitionWork(
        frames=frames,
        findings={"reconciliation": result.findings, **checks.findings},
        leaves=leaf_measures(frames, catalog.measures),
        months=sorted(str(m) for m in months),
    )
