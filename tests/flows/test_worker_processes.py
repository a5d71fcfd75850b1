"""flows.worker_processes: the run's worker processes end with the run.

A pool's workers (forked from the fork server) hold both ends of their task queue, so a
run killed with kill -9 never tells them to stop; they must notice on their own, and
the fork server must then end too, instead of waiting forever with what they hold.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from warehouse.processes import process_alive

# A run's stand-in: starts a pool of two, reports its workers and the fork server, waits.
_RUN = """
import json, os, sys, time
from flows.worker_processes import executor

if __name__ == "__main__":
    pool = executor(2)
    workers = sorted({pool.submit(os.getpid).result() for _ in range(20)})
    with open(f"/proc/{workers[0]}/stat") as stat:
        server = int(stat.read().rsplit(")", 1)[1].split()[1])
    print(json.dumps({"workers": workers, "server": server}), flush=True)
    time.sleep(120)
"""


def _gone_within(pids: list[int], seconds: float) -> list[int]:
    """The pids still alive after waiting up to `seconds` for all of them to end."""
    deadline = time.monotonic() + seconds
    alive = pids
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = [p for p in alive if process_alive(p)]
    return alive


def test_workers_and_their_server_end_when_the_run_is_killed(tmp_path: Path) -> None:
    script = tmp_path / "run.py"
    script.write_text(_RUN, encoding="utf-8")
    root = Path(__file__).resolve().parents[2]
    run = subprocess.Popen(
        [sys.executable, str(script)],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert run.stdout is not None
        started = json.loads(run.stdout.readline())
        children = [*started["workers"], started["server"]]
        assert all(process_alive(p) for p in children)
        assert started["server"] != run.pid  # forked from the server, not from the run
        os.kill(run.pid, signal.SIGKILL)
        run.wait(timeout=10)
        assert _gone_within(children, 10.0) == [], "a worker or the fork server outlived the run"
    finally:
        run.kill()
        run.wait(timeout=10)


# A run's stand-in that sends its workers' printing to a file.
_PRINTING_RUN = """
import json, os, sys
from pathlib import Path
from flows.worker_processes import executor, start_server

def shout() -> int:
    print("from a worker", file=sys.stderr, flush=True)
    return os.getpid()

if __name__ == "__main__":
    start_server(Path(sys.argv[1]))
    print("from the run", file=sys.stderr, flush=True)
    with executor(1) as pool:
        worker = pool.submit(shout).result()
        with open(f"/proc/{worker}/stat") as stat:
            server = int(stat.read().rsplit(")", 1)[1].split()[1])
        fds = [os.readlink(f"/proc/{server}/fd/{fd}") for fd in (1, 2)]
    start_server(Path(sys.argv[1]))  # running already: its log is left as it is
    print(json.dumps({"server_fds": fds}), flush=True)
"""


def test_the_servers_printing_goes_to_its_file_not_the_runs_output(tmp_path: Path) -> None:
    # Whoever reads a run's output waits for every process holding it: the fork server,
    # still importing or exiting after the run, must not hold it.
    script, log = tmp_path / "run.py", tmp_path / "logs" / "workers.log"
    script.write_text(_PRINTING_RUN, encoding="utf-8")
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, str(script), str(log)],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert json.loads(done.stdout)["server_fds"] == [str(log), str(log)]
    assert "from the run" in done.stderr and "from a worker" not in done.stderr
    assert "from a worker" in log.read_text(encoding="utf-8")
