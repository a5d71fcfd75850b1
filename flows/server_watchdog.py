"""Stop Prefect's temporary server when the run that started it dies.

Without `PREFECT_API_URL`, Prefect starts a temporary API server as a child process
and stops it at exit. A run killed with SIGKILL never gets there, and the server
(~200 MB) is left running, one more for every killed run. So, once the server is
up, the run starts this small watchdog in its own session: it waits for the run's
process to end and then stops the server; it ends by itself when the server does.

    python -m flows.server_watchdog <run pid> <server pid>
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

from warehouse.processes import process_alive

POLL_SECONDS = 1.0


def watch(run_pid: int, server_pid: int, poll: float = POLL_SECONDS) -> bool:
    """Wait; stop the server once the run is gone. True when it had to stop it."""
    while process_alive(server_pid):
        if not process_alive(run_pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(server_pid, signal.SIGTERM)
            for _ in range(50):
                if not process_alive(server_pid):
                    return True
                time.sleep(0.1)
            with contextlib.suppress(ProcessLookupError):
                os.kill(server_pid, signal.SIGKILL)
            return True
        time.sleep(poll)
    return False


def start_watchdog(server_pid: int) -> subprocess.Popen[bytes]:
    """Start the watchdog for this process and `server_pid` (in its own session)."""
    return subprocess.Popen(
        [sys.executable, "-m", "flows.server_watchdog", str(os.getpid()), str(server_pid)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


if __name__ == "__main__":
    watch(int(sys.argv[1]), int(sys.argv[2]))
