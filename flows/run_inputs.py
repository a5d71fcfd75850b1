"""What the nightly tasks derive from the settings and the code: the landing context
(limits, reference units, months), the first month taken, the code's digest.

Read by the tasks of flows/nightly.py; nothing here runs a stage.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pandas as pd

import expectations
import transforms
import warehouse
from flows.settings import Settings
from flows.summaries import files_digest, fingerprint
from transforms.landing.manifest_rules import default_first_month
from transforms.landing.readers import ReadLimits
from transforms.templates import load_contract
from warehouse.landing import LandingContext
from warehouse.reference import read_reference
from warehouse.sandbox import SandboxLimits


def landing_context(settings: Settings, run_id: str) -> LandingContext:
    reference = read_reference(settings.reference)
    known_units = set(reference.areas["code"].dropna()) | set(
        reference.institutions["code"].dropna()
    )
    return LandingContext(
        inbox=settings.inbox,
        raw_dir=settings.raw_dir,
        run_id=run_id,
        contract=load_contract(),
        secret=settings.secret,
        deadline_day=settings.deadline_day,
        time_zone=settings.time_zone,
        read_limits=ReadLimits(
            max_bytes=settings.upload_max_bytes,
            max_rows=settings.upload_max_rows,
            max_columns=settings.upload_max_columns,
            xlsx_max_uncompressed_bytes=settings.xlsx_max_uncompressed_bytes,
            xlsx_max_compression_ratio=settings.xlsx_max_compression_ratio,
        ),
        sandbox=SandboxLimits(
            memory_bytes=settings.reader_memory_mb * 1024 * 1024,
            seconds=settings.reader_timeout_seconds,
            workers=settings.reader_workers,
        ),
        known_units=frozenset(str(c) for c in known_units),
        as_of_month=settings.effective_as_of.strftime("%Y-%m"),
        first_month=first_month(settings, reference.targets),
    )


def first_month(settings: Settings, targets: pd.DataFrame) -> str | None:
    """`--first-month`, else January of the earliest year in targets.csv."""
    return settings.first_month or default_first_month(targets)


def short_digest(part: str) -> str:
    """A part of the fingerprint as kept in the run summary (what changed, at a glance)."""
    return part if len(part) <= 16 else fingerprint({"part": part})[:16]


def code_digest() -> str:
    """The code and contracts that decide the published figures (an upgrade recomputes)."""
    roots = [Path(p.__file__).parent for p in (transforms, expectations, warehouse) if p.__file__]
    files = [f for root in roots for f in root.rglob("*") if f.suffix in {".py", ".toml"}]
    try:
        version = metadata.version("popstat")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return version + ":" + files_digest(files, root=Path(transforms.__file__ or ".").parents[1])
