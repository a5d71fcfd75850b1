"""Helpers of the answer-key end-to-end tests: a warehouse, the nightly tasks, snapshots.

The nightly tasks are called undecorated (`task.fn(...)`), in the order of the
`nightly` flow, so no Prefect server is needed; `disable_run_logger` gives them the
null logger Prefect documents for calling a task's function outside a run.
"""

from __future__ import annotations

import os
import re
import time
import unicodedata
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from prefect.logging import disable_run_logger
from sqlalchemy import Engine, Table, create_engine, select, text

from flows import nightly
from flows.settings import Settings
from flows.stages import NIGHTLY_STAGES, Stage
from synthetic.spec import GeneratedCounty
from transforms.indicators.by_partition import RECON_FRAMES
from warehouse import runs, schema
from warehouse.db import make_engine, migrate
from warehouse.inbox import write_files
from warehouse.load import read_frame

SECRET_KEY = "test-secret"
POSTGRES_URL = os.environ.get(
    "POPSTAT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)

# An ID number as text: 18 characters (17 digits and a digit or X) or a legacy 15 digits,
# not part of a longer run of digits nor the decimals of a number.
RAW_ID_RE = re.compile(r"(?<![0-9.])(?:[0-9]{17}[0-9Xx]|[0-9]{15})(?![0-9])")
MASKED_ID_RE = re.compile(r"^[0-9]{6}\*{8}[0-9]{3}[0-9X]$")
HEX_KEY_RE = re.compile(r"^[0-9a-f]{64}$")


# ------------------------------------------------------------------------- warehouse


def warehouse_url(kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An empty, migrated warehouse: a SQLite file, or a fresh PostgreSQL schema (dropped after).

    PostgreSQL that cannot be reached is a failure, not a skip (as in tests/conftest.py).
    """
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('e2e_wh') / 'warehouse.db'}"
        engine = make_engine(url)
        migrate(engine)
        engine.dispose()
        yield url
        return
    admin = create_engine(POSTGRES_URL)
    try:
        with admin.connect() as conn:
            conn.execute(text("select 1"))
    except Exception as error:  # any failure means: not reachable
        admin.dispose()
        pytest.fail(f"PostgreSQL not reachable at {POSTGRES_URL}: {str(error).splitlines()[0]}")
    schema_name = f"t_e2e_{uuid.uuid4().hex[:12]}"
    with admin.begin() as conn:
        conn.execute(text(f'create schema "{schema_name}"'))
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema_name}"
    try:
        engine = make_engine(url)
        migrate(engine)
        engine.dispose()
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'drop schema "{schema_name}" cascade'))
        admin.dispose()


def write_county(county: GeneratedCounty, root: Path, time_zone: str) -> tuple[Path, Path]:
    """The county's uploads (modification time = arrival) and reference folder below `root`."""
    inbox, reference = root / "inbox", root / "reference"
    write_files(inbox, ((f.path, f.data, f.arrived_at) for f in county.files), time_zone)
    write_files(reference, ((n, d, None) for n, d in county.reference.items()), time_zone)
    return inbox, reference


# ----------------------------------------------------------------------- the pipeline


@dataclass
class RunResult:
    """What the tasks of one run returned, how long each took (seconds), and where it failed."""

    run_id: str
    returned: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    failure: tuple[str, str] | None = None
    """(stage, error) of the task that raised; the later stages did not run."""

    def require(self, *stages: str) -> None:
        """Fail the calling test (never skip it) unless these stages ran and returned."""
        missing = [s for s in stages if s not in self.returned]
        if missing:
            why = (
                f"{self.failure[0]} raised {self.failure[1]}"
                if self.failure
                else "they were not asked for"
            )
            pytest.fail(f"run {self.run_id}: {', '.join(missing)} did not complete: {why}")


# The flow's stages but the fingerprint check: the tests run every stage they name.
STAGES = tuple(s.value for s in NIGHTLY_STAGES if s is not Stage.FINGERPRINT)


def _stage(settings: Settings, run_id: str, stage: str, r: dict[str, Any]) -> Any:
    if stage == "land":
        return nightly.land.fn(settings, run_id)
    if stage == "validate":
        return nightly.validate.fn(settings, run_id)
    if stage == "reconcile":
        return nightly.reconcile_sources(settings, run_id)
    if stage == "compute":
        return nightly.compute.fn(settings, run_id, r["reconcile"])
    if stage == "audit":
        failures = nightly.audit.fn(settings, run_id, r["compute"])
        if failures:  # the flow stops here too (AuditFailedError)
            raise AssertionError(f"the mart failed its audit: {failures}")
        return failures
    return nightly.publish.fn(settings, run_id, r["reconcile"], r["compute"])


def county_settings(
    county: GeneratedCounty,
    root: Path,
    inbox: Path,
    reference: Path,
    url: str,
    secret_key: str = SECRET_KEY,
) -> Settings:
    """Settings of a nightly run over a written county: its home under `root`, as of its day."""
    return Settings(
        home=root / "home",
        inbox=inbox,
        reference=reference,
        warehouse_url=url,
        as_of=county.spec.effective_as_of,
        secret_key=secret_key,
    )


def run_tasks(settings: Settings, run_id: str, stages: Iterable[str]) -> RunResult:
    """Run the named nightly tasks, in the flow's order, as one recorded run.

    A task that raises ends the run (as in the flow): the error is kept in
    `failure`, and tests that need a stage call `require`, which fails them.
    """
    wanted = list(stages)
    unknown = [s for s in wanted if s not in STAGES]
    if unknown:
        raise ValueError(f"unknown stages {unknown}")
    result = RunResult(run_id)
    engine = make_engine(settings.effective_warehouse_url)
    runs.start_run(engine, run_id, settings.effective_as_of)
    with disable_run_logger():
        for stage in (s for s in STAGES if s in wanted):
            started = time.perf_counter()
            try:
                result.returned[stage] = _stage(settings, run_id, stage, result.returned)
            except Exception as error:
                result.failure = (stage, f"{type(error).__name__}: {str(error).splitlines()[0]}")
                break
            finally:
                result.seconds[stage] = time.perf_counter() - started
    status = "failed" if result.failure else "completed"
    runs.finish_run(engine, run_id, status, {"run_id": run_id, **result.returned})
    engine.dispose()
    nightly.dispose_engines()  # as the flow does when a run ends
    return result


NIGHTLY = STAGES


# ------------------------------------------------------------------------- snapshots


def read_table(engine: Engine, table: Table | str) -> pd.DataFrame:
    t = schema.metadata.tables[table] if isinstance(table, str) else table
    with engine.connect() as conn:
        return read_frame(conn, select(t))


SNAPSHOT_TABLES = (
    "uploads",
    "dq_issues",
    "dq_issue_events",
    "dq_reporting",
    *RECON_FRAMES,
    "mart_target_achievement",
    "mart_target_achievement_history",
)


def snapshot(engine: Engine, tables: Iterable[str] = SNAPSHOT_TABLES) -> dict[str, pd.DataFrame]:
    """The warehouse tables the tests read, as frames (the state after one step)."""
    return {name: read_table(engine, name) for name in tables}


def sorted_frame(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return frame.sort_values(keys, kind="stable").reset_index(drop=True)


# ------------------------------------------------------------------ personal data scan


def nfkc(value: str) -> str:
    return unicodedata.normalize("NFKC", value)


def text_columns(frame: pd.DataFrame) -> list[str]:
    return [
        c
        for c in frame.columns
        if pd.api.types.is_string_dtype(frame[c]) or frame[c].dtype == object
    ]


def raw_ids_in(frame: pd.DataFrame, table: str) -> list[str]:
    """`table.column: value` for every text cell that holds an ID number (keyed hashes aside)."""
    found = []
    for column in text_columns(frame):
        for value in frame[column].dropna().astype(str).unique():
            if HEX_KEY_RE.fullmatch(value):
                continue
            if RAW_ID_RE.search(nfkc(value)):
                found.append(f"{table}.{column}: {value!r}")
    return found


def names_in(frame: pd.DataFrame, table: str, names: set[str], harmless: set[str]) -> list[str]:
    """`table.column: value` for every text cell that is, or contains, a person's name.

    A cell equal to a name is always reported. A cell containing a name is reported
    when the name has at least three characters and is not part of a harmless text
    (area, institution and indicator names: `乌兰` is a woman's name and a village's).
    """
    long_names = {n for n in names if len(n) >= 3 and not any(n in h for h in harmless)}
    found = []
    for column in text_columns(frame):
        for value in frame[column].dropna().astype(str).unique():
            if value in names or any(n in value for n in long_names):
                found.append(f"{table}.{column}: {value!r}")
    return found
