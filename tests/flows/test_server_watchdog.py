"""flows.server_watchdog: a killed run's temporary Prefect server does not outlive it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from flows.server_watchdog import start_watchdog
from warehouse.processes import process_alive

SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]


def _gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not process_alive(pid):
            return True
        time.sleep(0.1)
    return False


def test_the_server_is_stopped_when_the_run_is_killed() -> None:
    # The "run" starts a "server" and the watchdog, then is killed with SIGKILL.
    run = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import subprocess, sys, time\n"
            "from flows.server_watchdog import start_watchdog\n"
            f"server = subprocess.Popen({SLEEPER!r}, start_new_session=True)\n"
            "start_watchdog(server.pid)\n"
            "print(server.pid, flush=True)\n"
            "time.sleep(120)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert run.stdout is not None
    server_pid = int(run.stdout.readline())
    assert process_alive(server_pid)
    os.kill(run.pid, signal.SIGKILL)
    run.wait(timeout=10)
    assert _gone_within(server_pid, 15), "the temporary server outlived the killed run"


def test_the_watchdog_ends_with_the_server_and_leaves_a_live_run_alone() -> None:
    server = subprocess.Popen(SLEEPER)
    watchdog = start_watchdog(server.pid)
    time.sleep(1.5)
    assert watchdog.poll() is None and server.poll() is None  # this process is alive
    server.kill()
    server.wait(timeout=10)
    assert watchdog.wait(timeout=15) == 0
