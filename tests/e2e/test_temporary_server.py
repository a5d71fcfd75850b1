"""A run finds Prefect's temporary server, and only when there is one (flows.prefect_runs)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

_PROBE = (
    "from prefect import flow\n"
    "from flows import prefect_runs\n"
    "@flow\n"
    "def probe() -> list[int]:\n"
    "    prefect_runs.watch_temporary_server()\n"
    "    return sorted(prefect_runs._watched_servers)\n"
    "import sys\n"
    "print(len(probe()), 'prefect.server.api.server' in sys.modules)\n"
)


def _probe(env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1]


def test_a_run_on_a_temporary_server_starts_its_watchdog(tmp_path: Path) -> None:
    """Without PREFECT_API_URL Prefect starts a temporary server for the run, and the run
    finds it (only then is Prefect's server module imported) and watches it."""
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(
        PREFECT_HOME=str(tmp_path),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="120",
    )
    assert _probe(env) == "1 True"


def test_a_run_against_a_running_server_watches_nothing(prefect_api: str) -> None:
    """Against a running server (production) there is no temporary server, and looking for
    one does not import Prefect's server (~2.6 s a run)."""
    env = {**os.environ, "PREFECT_API_URL": prefect_api}
    assert _probe(env) == "0 False"
