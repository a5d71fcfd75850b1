"""The validate stage's GX batches, in the run's process or in worker processes.

No Prefect here. The workers are forked from the run's fork server
(`flows.worker_processes`), which imported GX once: each starts with GX loaded. A
batch's work needs no database: it reads the staged rows of its uploads from the raw
layer and answers its findings and the summary-size GX results for the run's Data Docs;
the run's process records both, batch by batch in the order of the batches, as it does
when it validates them itself.

Validation is one core's work in the run's process (GX over a frame) while the other
cores wait, and the largest process of a night (a 250,000-row batch in GX). On the
scale county and 2 cores: 14.0 s in the run's process (peak 846 MB), 12.1 s on two
workers (peak 729 MB); spawned workers, each importing GX itself, saved nothing. The
pool repays its start only with enough rows (`validate_pool_min_rows`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from flows import worker_processes
from flows.settings import Settings
from transforms.quality.batches import batch_row_count
from transforms.templates import load_contract
from warehouse import staged

if TYPE_CHECKING:
    from expectations.runtime import KeptResult


@dataclass(frozen=True)
class ValidationJob:
    """One GX batch: a template's name and the manifest rows of the uploads in it."""

    template: str
    uploads: pd.DataFrame


def pool_size(settings: Settings, batch_rows: Sequence[int]) -> int:
    """How many worker processes the batches are worth: none (this process) for one batch
    or fewer rows than `validate_pool_min_rows`, else up to `validate_workers` (0: one per
    core) and never more than there are batches."""
    return worker_processes.pool_size(
        settings.validate_workers, len(batch_rows), sum(batch_rows), settings.validate_pool_min_rows
    )


def _validate_here(raw_dir: Path, job: ValidationJob) -> pd.DataFrame:
    """A batch's findings, validated in this process (its results kept on its runtime)."""
    from expectations.validate import validate_batch  # GX: only where a batch is validated

    template = load_contract().templates[job.template]
    return validate_batch(staged.staged_rows(raw_dir, job.uploads, template), template)


def _validate_in_worker(raw_dir: Path, job: ValidationJob) -> tuple[pd.DataFrame, list[KeptResult]]:
    """A batch's findings and the results it kept for the Data Docs (taken off this
    worker's runtime: they are the run's, and the run's process builds the docs)."""
    from expectations.runtime import gx_runtime

    findings = _validate_here(raw_dir, job)
    return findings, gx_runtime().take_kept()


def validated(
    settings: Settings, jobs: Sequence[ValidationJob], workers: int
) -> Iterator[tuple[ValidationJob, pd.DataFrame]]:
    """Each job with its findings, in the order of `jobs`: validated here one after
    another (`workers` 0), or in `workers` fresh processes, whose Data Docs results are
    kept on this process's runtime as each batch's findings are handed on."""
    if not workers:
        for job in jobs:
            yield job, _validate_here(settings.raw_dir, job)
        return
    pool = worker_processes.executor(workers, gx=True)
    try:
        # The fork server imports GX in its process while this one imports it too (the
        # first `submit` waits for the server's imports: both would then run in turn).
        worker_processes.start_server(gx=True)
        from expectations.runtime import gx_runtime

        runtime = gx_runtime()
        contract = load_contract()
        for name in dict.fromkeys(job.template for job in jobs):
            # The Data Docs show each result with its suite: this process's context's.
            runtime.suite(contract.templates[name], contract)
        # The largest batches first: the workers then end evenly.
        largest_first = sorted(range(len(jobs)), key=lambda i: -batch_row_count(jobs[i].uploads))
        futures: dict[int, Future[tuple[pd.DataFrame, list[KeptResult]]]] = {
            i: pool.submit(_validate_in_worker, settings.raw_dir, jobs[i]) for i in largest_first
        }
        for i, job in enumerate(jobs):
            findings, kept = futures[i].result()
            for result in kept:
                runtime.keep(result)
            yield job, findings
    finally:
        # A batch that failed, or a caller that stopped, ends the rest. Nothing waits for
        # the workers to exit (~1 s, GX's teardown): the next stage goes on meanwhile.
        pool.shutdown(wait=False, cancel_futures=True)
