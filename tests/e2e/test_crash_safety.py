"""Crash safety: a real `popstat run` killed with SIGKILL at many points, on both warehouses.

A county's first night is killed again and again — inside landing (mid-transaction
and between templates), at every stage boundary, inside the publishing transaction
— each run picking up what the last one left. While no run has completed, nothing
is published; the killed runs' lock is taken over; and the run that finally
completes leaves exactly the uploads, issues and mart of an uninterrupted run.

The kill points are injected from outside (`tests/crash_hooks.py`, run as
`python -m tests.crash_hooks`): production code has no test hook.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path
from uuid import UUID

import pandas as pd
import pytest
from prefect import get_client
from sqlalchemy import select

from synthetic.spec import GeneratedCounty
from tests.crash_hooks import PAUSE_MARKER, POINT_VARIABLE
from tests.e2e._ops import CountyFolders, popstat_env, uploads_issues_mart, write_county
from warehouse import schema
from warehouse.db import make_engine
from warehouse.load import read_frame

pytestmark = pytest.mark.prefect

REPO = Path(__file__).resolve().parents[2]

# In the order one night would meet them; each killed run resumes from the one before.
KILL_POINTS = (
    "insert:2",  # first landing transaction, not committed
    "template:1",  # one template committed, the others not
    "insert:7",  # a later template, mid-transaction
    "stage:validate",
    "stage:fingerprint",
    "stage:reconcile",
    "stage:compute",
    "stage:audit",
    "stage:publish",
    "publish:insert",
    "publish:commit",
)


def _command(folders: CountyFolders, url: str, home: Path) -> list[str]:
    args = [*folders.cli_args(), "--warehouse", url]
    args[args.index("--home") + 1] = str(home)
    return [sys.executable, "-m", "tests.crash_hooks", "run", *args]


def _env(prefect_api: str) -> dict[str, str]:
    env = popstat_env(prefect_api)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    return env


def _run_ok(command: list[str], env: dict[str, str], cwd: Path) -> str:
    result = subprocess.run(
        command, env=env, cwd=cwd, capture_output=True, text=True, timeout=600, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def _kill_when_paused(command: list[str], env: dict[str, str], cwd: Path, at: str) -> int:
    """Start a run that pauses at `at`, wait for it, SIGKILL it; returns its pid."""
    process = subprocess.Popen(
        command,
        env={**env, POINT_VARIABLE: at},
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
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL
    return process.pid


def _state(url: str) -> dict[str, pd.DataFrame]:
    """Uploads, issues and mart as comparable frames: no ids a rerun may number otherwise."""
    uploads, issues, mart = uploads_issues_mart(url)
    path_of = dict(zip(uploads["upload_id"], uploads["path"], strict=True))
    uploads["duplicate_of"] = uploads["duplicate_of"].map(path_of)
    uploads = uploads[
        [
            "path",
            "sha256",
            "source",
            "kind",
            "unit",
            "report_month",
            "rows",
            "late",
            "status",
            "reason_code",
            "duplicate_of",
        ]
    ]
    issues["upload"] = issues["upload_id"].map(path_of)
    issues = issues[
        ["issue_id", "rule", "severity", "upload", "row_number", "record_key", "status", "active"]
    ]
    return {
        "uploads": uploads.sort_values("path").reset_index(drop=True),
        "issues": issues.sort_values("issue_id").reset_index(drop=True),
        "mart": mart,
    }


def test_a_first_night_killed_anywhere_ends_as_an_uninterrupted_run(
    prefect_api: str,
    small_county: GeneratedCounty,
    two_warehouses: tuple[str, str],
    tmp_path: Path,
) -> None:
    crashed_url, clean_url = two_warehouses
    env = _env(prefect_api)
    folders = write_county(tmp_path / "county", small_county)
    _run_ok(_command(folders, clean_url, tmp_path / "clean_home"), env, tmp_path)
    clean = _state(clean_url)
    assert len(clean["mart"]) > 0
    assert {"duplicate", "quarantined"} <= set(clean["uploads"]["status"])

    command = _command(folders, crashed_url, tmp_path / "home")
    killed = []
    for point in KILL_POINTS:
        killed.append(_kill_when_paused(command, env, tmp_path, point))
        assert _state(crashed_url)["mart"].empty, f"published before a run completed ({point})"
        engine = make_engine(crashed_url)
        with engine.connect() as conn:
            holder = conn.execute(select(schema.run_lock)).one()
        engine.dispose()
        assert holder.pid == killed[-1]  # the dead run's lock is still there

    stdout = _run_ok(command, env, tmp_path)
    assert "完成 completed" in stdout
    after = _state(crashed_url)
    for name, frame in clean.items():
        pd.testing.assert_frame_equal(after[name], frame, check_dtype=False, obj=name)

    engine = make_engine(crashed_url)
    with engine.connect() as conn:
        runs = read_frame(conn, select(schema.runs).order_by(schema.runs.c.started_at))
        lock = conn.execute(select(schema.run_lock)).first()
    engine.dispose()
    assert lock is None
    assert list(runs["status"]) == ["failed"] * len(KILL_POINTS) + ["completed"]
    # The killed runs' Prefect flow runs were marked crashed by the run after each.
    flow_runs = [json.loads(s).get("flow_run_id") for s in runs["summary"].iloc[:-1]]
    assert all(flow_runs), runs["summary"].tolist()
    with get_client(sync_client=True) as client:
        states = {str(client.read_flow_run(UUID(f)).state_type) for f in flow_runs}
    assert states == {"StateType.CRASHED"}
