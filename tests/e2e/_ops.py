"""Helpers of the nightly-operations end-to-end tests: a county on disk, `popstat` subprocesses.

Fixtures are in conftest.py; this module holds what the tests import.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
from sqlalchemy import select

from synthetic.spec import CountySpec, GeneratedCounty
from warehouse import schema
from warehouse.db import make_engine
from warehouse.inbox import write_files
from warehouse.load import read_frame

TIME_ZONE = "Asia/Shanghai"
SECRET = "e2e-test-secret"
SMALL_COUNTY = CountySpec(
    seed=11, townships=2, villages_per_township=3, women_per_village=30, last_month=6
)


@dataclass(frozen=True)
class CountyFolders:
    """A county written to disk, and where a run keeps its warehouse."""

    inbox: Path
    reference: Path
    home: Path
    as_of: date

    @property
    def warehouse_url(self) -> str:
        return f"sqlite:///{(self.home / 'warehouse.db').as_posix()}"

    def options(self, **extra: object) -> dict[str, object]:
        """Flow options (what `popstat run` passes as flags)."""
        return {
            "home": str(self.home),
            "inbox": str(self.inbox),
            "reference": str(self.reference),
            "as_of": self.as_of.isoformat(),
            "secret_key": SECRET,
            **extra,
        }

    def cli_args(self) -> list[str]:
        return [
            "--home",
            str(self.home),
            "--inbox",
            str(self.inbox),
            "--reference",
            str(self.reference),
            "--as-of",
            self.as_of.isoformat(),
        ]


def write_county(
    folder: Path, county: GeneratedCounty, months: set[str] | None = None
) -> CountyFolders:
    """Write the county's uploads (only `months`, `YYYY-MM`, if given) and reference files."""
    files = [f for f in county.files if months is None or f.path[:7] in months]
    write_files(folder / "inbox", ((f.path, f.data, f.arrived_at) for f in files), TIME_ZONE)
    write_files(
        folder / "reference", ((n, d, None) for n, d in county.reference.items()), TIME_ZONE
    )
    return CountyFolders(
        folder / "inbox", folder / "reference", folder / "home", county.spec.effective_as_of
    )


def add_months(folders: CountyFolders, county: GeneratedCounty, months: set[str]) -> int:
    """Drop more of the county's uploads into the inbox (a later night's arrivals)."""
    files = [f for f in county.files if f.path[:7] in months]
    return write_files(folders.inbox, ((f.path, f.data, f.arrived_at) for f in files), TIME_ZONE)


def published_mart(warehouse_url: str) -> pd.DataFrame:
    """The published mart without its run ids, sorted: what a dashboard would read."""
    engine = make_engine(warehouse_url)
    try:
        with engine.connect() as conn:
            mart = read_frame(conn, select(schema.mart_target_achievement))
    finally:
        engine.dispose()
    return _comparable_mart(mart)


def uploads_issues_mart(warehouse_url: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The uploads and issues as stored, and the mart as `published_mart` gives it."""
    engine = make_engine(warehouse_url)
    try:
        with engine.connect() as conn:
            uploads = read_frame(conn, select(schema.uploads))
            issues = read_frame(conn, select(schema.dq_issues))
            mart = read_frame(conn, select(schema.mart_target_achievement))
    finally:
        engine.dispose()
    return uploads, issues, _comparable_mart(mart)


def _comparable_mart(mart: pd.DataFrame) -> pd.DataFrame:
    # run ids differ between runs that publish the same figures
    mart = mart.drop(columns=["run_id"])
    return mart.sort_values(["area_code", "period", "indicator"]).reset_index(drop=True)


def popstat_env(prefect_api: str, **extra: str) -> dict[str, str]:
    """Environment for a `popstat` subprocess: the session's Prefect server, the test secret."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("POPSTAT_")}
    env.update(
        {
            "PREFECT_API_URL": prefect_api,
            "POPSTAT_SECRET_KEY": SECRET,
            "POPSTAT_TIME_ZONE": TIME_ZONE,
            "PREFECT_LOGGING_LEVEL": "WARNING",
        }
    )
    env.update(extra)
    return env


def popstat_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "flows.cli", *args]


def run_popstat(
    args: list[str], env: Mapping[str, str], cwd: Path, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        popstat_command(*args),
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
