"""Where the run's worker processes come from: one fork server per run's process.

The validate stage's GX batches and the townships to recompute run in worker processes.
Spawned, each one imported pandas, Arrow and its stage's modules itself (~1.5 s; GX
~2.5 s more), on cores the other workers needed. They are forked instead from
multiprocessing's fork server: a fresh single-threaded interpreter, started once, that
imports what every worker needs once; a worker then starts at once, with nothing of the
run's process (its memory, its threads, Prefect's locks) copied into it.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.context import ForkServerContext
from typing import Any

# What the server imports before it forks a worker: the modules the workers run.
_PRELOAD = ["expectations.validate", "flows.partition_work"]


def forked() -> ForkServerContext:
    """The fork server's context; the server starts (and imports `_PRELOAD`) at its first
    use in this process and serves every pool after it."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_PRELOAD)  # no effect once the server runs
    return context


def pool_starter(
    workers: int,
) -> Callable[[Callable[..., None], tuple[Any, ...]], ProcessPoolExecutor]:
    """Starts a pool of `workers` forked processes (0: one per core), each set up by an
    initializer: what `warehouse.partitions` routes the split's files in."""
    count = workers or os.cpu_count() or 1

    def start(initializer: Callable[..., None], initargs: tuple[Any, ...]) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            count, mp_context=forked(), initializer=initializer, initargs=initargs
        )

    return start
