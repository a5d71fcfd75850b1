"""Where the run's worker processes come from: one fork server per run's process.

The GX work (validation batches, Data Docs, the mart's audit), the split's files and the
townships to recompute run in worker processes. Spawned, each one imported pandas, Arrow
and its stage's modules itself (~1.5 s; GX ~2.5 s more), on cores the other workers
needed. They are forked instead from multiprocessing's fork server: a fresh
single-threaded interpreter, started once, that imports what every worker needs once; a
worker then starts at once, with nothing of the run's process (its memory, its threads,
Prefect's locks) copied into it. A night starts the server as it begins
(`start_server`), so that its imports, GX's above all, run beside the landing on the
other core, and the run's process itself never imports GX.

A worker ends with the run. A pool's worker holds both ends of its task queue (and the
fork server's lifeline), so when the run's process is killed (kill -9, the OOM killer)
no worker ever reads the end of its queue and the server never sees its last client
go: all of them would wait forever, each holding what it held (a GX batch, a township).
Every worker therefore watches the run's process and exits when it is gone.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver
import os
import select
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from multiprocessing.context import ForkServerContext
from pathlib import Path
from typing import Any

from warehouse.processes import process_alive

# What the server imports before it forks a worker: the modules the workers run, GX's
# among them (~2.5 s) whatever pool starts it: a worker forked from a server without GX
# would import it itself, once a worker.
_PRELOAD = ["expectations.validate", "expectations.audit", "flows.partition_work"]
# The exit status of a worker whose run has gone (EX_SOFTWARE): nobody reads it.
_RUN_GONE = 70
# This process has started its fork server printing to a file (`start_server`).
_printing_server = False


def forked() -> ForkServerContext:
    """The fork server's context; the server starts at its first use in this process
    (importing GX and the township work) and serves every pool after it."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_PRELOAD)
    return context


def start_server(output: Path | None = None) -> None:
    """Start the fork server now unless it runs: it imports what its workers need in its
    own process while this one goes on (a pool's first worker otherwise waits for those
    imports in `submit`, and only then does this process get on with its own work).

    `output`: the file the server and its workers print to (written afresh when this
    starts the server), instead of this process's stdout and stderr. The server outlives
    this process by its imports and its exit, and as long as it holds them, whoever reads
    the command's output (cron, a pipe, the benchmark) waits: ~1.6 s after a night with
    nothing new.
    """
    global _printing_server
    forked()
    # Once the server runs, `ensure_running` starts nothing: its log is not opened again
    # (truncated under a server still writing to it).
    if output is None or _printing_server:
        multiprocessing.forkserver.ensure_running()
        return
    with _printing_to(output):
        multiprocessing.forkserver.ensure_running()
    _printing_server = True


@contextmanager
def _printing_to(path: Path) -> Iterator[None]:
    """File descriptors 1 and 2 of this process write to `path` meanwhile: a process
    started now inherits that, and this one gets its own back after."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.dup2(target, 1)
        os.dup2(target, 2)
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, target):
            os.close(fd)


def executor(
    workers: int,
    initializer: Callable[..., None] | None = None,
    initargs: tuple[Any, ...] = (),
) -> ProcessPoolExecutor:
    """A pool of `workers` processes forked from the fork server (0: one per core), each
    set up by `initializer(*initargs)` and exiting when this process has gone."""
    return ProcessPoolExecutor(
        workers or os.cpu_count() or 1,
        mp_context=forked(),
        initializer=_start_worker,
        initargs=(os.getpid(), initializer, initargs),
    )


def pool_size(wanted: int, pieces: int, work: float, min_work: float) -> int:
    """How many worker processes `pieces` of work are worth: none (the run's process) for
    a single piece or less `work` than `min_work` (a worker's start would not repay),
    else up to `wanted` (0: one per core), never more than there are pieces."""
    workers = min(wanted or os.cpu_count() or 1, pieces)
    if workers < 2 or work < min_work:
        return 0
    return workers


def _start_worker(
    run_pid: int, initializer: Callable[..., None] | None, initargs: tuple[Any, ...]
) -> None:
    """A worker's first act: watch the run's process, then the pool's own set-up."""
    threading.Thread(
        target=_exit_when_gone, args=(run_pid,), name="popstat-run-watch", daemon=True
    ).start()
    if initializer is not None:
        initializer(*initargs)


def _exit_when_gone(run_pid: int) -> None:
    """Wait until process `run_pid` has ended, then end this process at once.

    A pidfd (Linux 5.3+) becomes readable when the process ends, whoever its parent is;
    elsewhere the process is looked at once a second."""
    try:
        handle = os.pidfd_open(run_pid)
    except ProcessLookupError:
        os._exit(_RUN_GONE)
    except (AttributeError, OSError):
        while process_alive(run_pid):
            time.sleep(1.0)
    else:
        select.select([handle], [], [])
    os._exit(_RUN_GONE)
