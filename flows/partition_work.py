"""One township's reconciliation, checks and measures, wherever it runs; and the local pool.

No Prefect here: on the local executor the townships a run must recompute are spread over
worker processes (`reconcile_in_pool`), forked from the run's fork server
(`flows.worker_processes`), which imported this module and what it needs, not the flow.
A township's work needs no database: it reads its own folder of the run's partitions
(warehouse.partitions) and writes its results there and to the partition cache
(warehouse.partition_cache).
"""

from __future__ import annotations

import contextlib
import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

from flows import worker_processes
from flows.settings import Settings
from transforms.indicators.by_partition import work_partition
from transforms.indicators.catalog import Catalog, load_catalog
from transforms.templates import Contract, load_contract
from warehouse import partition_cache, partitions, workspace
from warehouse.reference import Reference, read_reference


def _cached(settings: Settings, part: str, digest: str) -> dict[str, Any] | None:
    """The results of an earlier run whose inputs for `part` had this digest, or None."""
    cached = partition_cache.lookup(settings.home, part, digest)
    if cached is None:
        return None
    return {**cached, "part": part, "digest": digest, "process": os.getpid(), "cached": True}


def _digest(settings: Settings, run_id: str, part: str, context: dict[str, str]) -> str:
    folder = workspace.partitions_folder(settings.home, run_id)
    return partition_cache.input_digest(folder / (part or "_"), context)


def input_bytes(settings: Settings, run_id: str, part: str) -> int:
    """The size of a township's routed rows on disk: what its work costs, roughly."""
    folder = workspace.partitions_folder(settings.home, run_id) / (part or "_")
    return sum(f.stat().st_size for f in folder.rglob(f"*{partitions.SHARE_SUFFIX}"))


_START_TIMEOUT_SECONDS = 60.0


@lru_cache(maxsize=4)
def _shared(reference: Path) -> tuple[Reference, Contract, Catalog]:
    """Reference files, contract and catalog, read once per process (not per township)."""
    return read_reference(reference), load_contract(), load_catalog()


def reconcile_partition(
    settings: Settings, run_id: str, part: str, context: dict[str, str], digest: str
) -> dict[str, Any]:
    """Reconcile, check and measure one township, and keep its results under `digest` (of
    its inputs and `context`: what the work depends on besides the partition's rows, the
    as-of date, deadline day, first month, reference files and code)."""
    reference, contract, catalog = _shared(settings.reference)
    folder = workspace.partitions_folder(settings.home, run_id)
    work = work_partition(
        partitions.load_partition(folder, part, contract, reference.areas),
        reference.institutions,
        contract,
        catalog,
        settings.effective_as_of,
        settings.deadline_day,
        context["first_month"] or None,
    )
    out = folder / (part or "_") / "out"
    out.mkdir(exist_ok=True)
    result = {
        "frames": workspace.save_frames(out, work.frames),
        "findings": workspace.save_frames(
            out, {f"findings_{k}": v for k, v in work.findings.items()}
        ),
        "leaves": workspace.save_frames(out, {"leaves": work.leaves})["leaves"],
        "months": work.months,
    }
    stored = partition_cache.store(settings.home, part, digest, result)
    return {**stored, "part": part, "digest": digest, "process": os.getpid(), "cached": False}


def pool_size(settings: Settings, work_bytes: list[int]) -> int:
    """How many worker processes the townships to recompute are worth: none (this process)
    for one township or for too little work to repay starting a worker, else up to
    `partition_workers` (0: one per core) and never more than there are townships."""
    return worker_processes.pool_size(
        settings.partition_workers,
        len(work_bytes),
        sum(work_bytes),
        settings.partition_pool_min_mb * 1024 * 1024,
    )


def _wait_for_each_other(all_up: Any) -> None:
    """A worker starts its first township once every worker is up: the first one ready
    would otherwise take the largest townships one after another while the rest import."""
    with contextlib.suppress(threading.BrokenBarrierError):
        all_up.wait(timeout=_START_TIMEOUT_SECONDS)


def reconcile_in_pool(
    settings: Settings,
    run_id: str,
    parts: list[str],
    context: dict[str, str],
    digests: list[str],
    workers: int,
    work_bytes: list[int],
) -> list[dict[str, Any]]:
    """`reconcile_partition` for each of `parts` in `workers` fresh processes, the largest
    townships first (the pool then ends evenly); results in the order of `parts`. Each
    process holds one township at a time, as the run's own process does without a pool."""
    largest_first = sorted(range(len(parts)), key=lambda i: -work_bytes[i])
    all_up = worker_processes.forked().Barrier(workers)
    with worker_processes.executor(workers, _wait_for_each_other, (all_up,)) as pool:
        futures = {
            i: pool.submit(reconcile_partition, settings, run_id, parts[i], context, digests[i])
            for i in largest_first
        }
        return [futures[i].result() for i in range(len(parts))]


def reconcile_parts(
    settings: Settings, run_id: str, parts: list[str], context: dict[str, str], pool: bool
) -> list[dict[str, Any]]:
    """Every township's results, in order: those of an earlier run with the same inputs as
    they are; the rest here, one after another, or (`pool`, and `pool_size` finds them
    worth it) in worker processes."""
    # Each township's inputs are digested once, here, whether it is then found or computed.
    digests = {part: _digest(settings, run_id, part, context) for part in parts}
    done = {part: _cached(settings, part, digests[part]) for part in parts}
    todo = [part for part, result in done.items() if result is None]
    todo_digests = [digests[part] for part in todo]
    work_bytes = [input_bytes(settings, run_id, part) for part in todo]
    workers = pool_size(settings, work_bytes) if pool else 0
    if workers:
        results = reconcile_in_pool(
            settings, run_id, todo, context, todo_digests, workers, work_bytes
        )
    else:
        results = [
            reconcile_partition(settings, run_id, part, context, digest)
            for part, digest in zip(todo, todo_digests, strict=True)
        ]
    done.update(zip(todo, results, strict=True))
    return [result for result in done.values() if result is not None]
