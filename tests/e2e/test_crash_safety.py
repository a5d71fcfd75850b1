"""Crash safety: a real `popstat run` killed with SIGKILL at several stages.

The published mart must be yesterday's or today's, never a mix; the killed run's
lock must be taken over; the next run must complete and publish what an
uninterrupted run publishes. The runs are subprocesses against the session's
Prefect test server; `POPSTAT_TEST_PAUSE_AT` (read by Settings) stops a run at a
stage, or inside the publishing transaction, until the test kills it.
"""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import threading
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from flows.nightly import PAUSE_MARKER
from synthetic.spec import GeneratedCounty
from tests.e2e._ops import (
    CountyFolders,
    add_months,
    popstat_command,
    popstat_env,
    published_mart,
    run_popstat,
    write_county,
)
from warehouse import schema
from warehouse.db import make_engine
from warehouse.load import read_frame

pytestmark = pytest.mark.prefect

FIRST_MONTHS = {"2026-01", "2026-02", "2026-03", "2026-04", "2026-05"}
LAST_MONTH = {"2026-06"}


def _run_ok(folders: CountyFolders, env: dict[str, str], cwd: Path) -> str:
    result = run_popstat(["run", *folders.cli_args()], env, cwd)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def _kill_when_paused(
    folders: CountyFolders, env: dict[str, str], cwd: Path, at: str, published: pd.DataFrame
) -> int:
    """Start a run that pauses at `at`, wait for it, SIGKILL it; returns its pid.

    While it is paused, the mart a reader sees must still be `published`.
    """
    process = subprocess.Popen(
        popstat_command("run", *folders.cli_args()),
        env={**env, "POPSTAT_TEST_PAUSE_AT": at},
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert process.stderr is not None
    stderr = process.stderr

    def read() -> None:
        for line in stderr:
            lines.put(line)
        lines.put("")

    threading.Thread(target=read, daemon=True).start()
    seen: list[str] = []
    try:
        while True:
            line = lines.get(timeout=300)
            seen.append(line)
            if line.startswith(f"{PAUSE_MARKER} {at}"):
                break
            assert line, f"the run ended before pausing at {at}:\n{''.join(seen)[-3000:]}"
        # At publish:commit everything is written but not committed: readers see yesterday's.
        assert_same(published_mart(folders.warehouse_url), published)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL
    return process.pid


def assert_same(actual: pd.DataFrame, expected: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(actual, expected, check_dtype=False)


def test_killed_runs_leave_the_old_mart_and_the_next_run_completes(
    prefect_api: str, small_county: GeneratedCounty, tmp_path: Path
) -> None:
    env = popstat_env(prefect_api)
    folders = write_county(tmp_path / "county", small_county, months=FIRST_MONTHS)
    _run_ok(folders, env, tmp_path)
    yesterday = published_mart(folders.warehouse_url)
    assert len(yesterday) > 0

    # Tonight's uploads arrive. The reference result: an uninterrupted run on a copy.
    add_months(folders, small_county, LAST_MONTH)
    reference = CountyFolders(folders.inbox, folders.reference, tmp_path / "ref", folders.as_of)
    shutil.copytree(folders.home, reference.home)
    _run_ok(reference, env, tmp_path)
    today = published_mart(reference.warehouse_url)
    assert not today.equals(yesterday)

    killed = []
    for stage in ("validate", "compute", "publish:commit"):
        killed.append(_kill_when_paused(folders, env, tmp_path, stage, yesterday))
        assert_same(published_mart(folders.warehouse_url), yesterday)
        engine = make_engine(folders.warehouse_url)
        with engine.connect() as conn:
            holder = conn.execute(select(schema.run_lock)).one()
        engine.dispose()
        assert holder.pid == killed[-1]  # the dead run's lock is still there

    stdout = _run_ok(folders, env, tmp_path)
    assert "完成 completed" in stdout
    assert_same(published_mart(folders.warehouse_url), today)

    engine = make_engine(folders.warehouse_url)
    with engine.connect() as conn:
        runs = read_frame(conn, select(schema.runs).order_by(schema.runs.c.started_at))
        lock = conn.execute(select(schema.run_lock)).first()
        history_runs = set(
            read_frame(conn, select(schema.mart_target_achievement_history.c.run_id))["run_id"]
        )
    engine.dispose()
    assert lock is None
    assert list(runs["status"]) == ["completed", "failed", "failed", "failed", "completed"]
    assert runs["summary"].iloc[1:4].str.contains("abandoned").all()
    killed_ids = set(runs["run_id"].iloc[1:4])
    assert not killed_ids & history_runs  # nothing of a killed run was ever published
