"""A night's GX work — its validation batches, their Data Docs, the mart's audit — in worker
processes, or (`validate_workers = 1`) the batches and their Data Docs in the run's process.

No Prefect here. The workers are forked from the run's fork server
(`flows.worker_processes`), which the night starts as it begins: it imports GX while the
run lands, so a worker starts with GX loaded and the run's process never imports it
(~2.6 s, on the path of every night that validates or audits: a correction's night was
~20 s). A batch's work needs no database: it reads the staged rows of its uploads from
the raw layer and answers its findings and the summary-size GX results for the run's
Data Docs; the run's process records the findings, batch by batch in the order of the
batches, as it does when it validates them itself. The GX results come back pickled and
go on, still pickled, to the worker that builds the Data Docs: unpickled here, they would
import GX.

Validation is one core's work in one process (GX over a frame) and the largest process
of a night (a 250,000-row batch in GX). On the scale county and 2 cores: 14.0 s in the
run's process (peak 846 MB), 12.1 s on two workers (peak 729 MB). More workers than one
repay only with enough rows (`validate_pool_min_rows`).
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import ParamSpec, TypeVar

import pandas as pd

from flows import worker_processes
from flows.settings import Settings
from transforms.quality.batches import batch_row_count
from transforms.templates import load_contract
from warehouse import staged, workspace

_P = ParamSpec("_P")
_R = TypeVar("_R")


@dataclass(frozen=True)
class ValidationJob:
    """One GX batch: a template's name and the manifest rows of the uploads in it."""

    template: str
    uploads: pd.DataFrame


def pool_size(settings: Settings, batch_rows: Sequence[int]) -> int:
    """How many worker processes validate the batches: none with `validate_workers` 1 (the
    run's process, which then imports GX), one for fewer rows than
    `validate_pool_min_rows` or a single batch (a correction's few files), else up to
    `validate_workers` (0: one per core) and never more than there are batches."""
    if settings.validate_workers == 1 or not batch_rows:
        return 0
    spread = worker_processes.pool_size(
        settings.validate_workers, len(batch_rows), sum(batch_rows), settings.validate_pool_min_rows
    )
    return spread or 1


def _validate_here(raw_dir: Path, job: ValidationJob) -> pd.DataFrame:
    """A batch's findings, validated in this process (its results kept on its runtime)."""
    from expectations.validate import validate_batch  # GX: only where a batch is validated

    template = load_contract().templates[job.template]
    return validate_batch(staged.staged_rows(raw_dir, job.uploads, template), template)


def _validate_in_worker(raw_dir: Path, job: ValidationJob) -> tuple[pd.DataFrame, bytes]:
    """A batch's findings and, pickled, the results it kept for the Data Docs (taken off this
    worker's runtime: they are the run's)."""
    from expectations.runtime import gx_runtime

    findings = _validate_here(raw_dir, job)
    return findings, pickle.dumps(gx_runtime().take_kept())


def validated(
    settings: Settings, jobs: Sequence[ValidationJob], workers: int, kept: list[bytes]
) -> Iterator[tuple[ValidationJob, pd.DataFrame]]:
    """Each job with its findings, in the order of `jobs`: validated here one after
    another (`workers` 0: this process's GX runtime keeps the results for the Data Docs),
    or in `workers` worker processes, whose results, pickled, are added to `kept` as each
    batch's findings are handed on."""
    if not workers:
        for job in jobs:
            yield job, _validate_here(settings.raw_dir, job)
        return
    pool = worker_processes.executor(workers)
    try:
        # The largest batches first: the workers then end evenly.
        largest_first = sorted(range(len(jobs)), key=lambda i: -batch_row_count(jobs[i].uploads))
        futures: dict[int, Future[tuple[pd.DataFrame, bytes]]] = {
            i: pool.submit(_validate_in_worker, settings.raw_dir, jobs[i]) for i in largest_first
        }
        for i, job in enumerate(jobs):
            findings, results = futures[i].result()
            kept.append(results)
            yield job, findings
    finally:
        # A batch that failed, or a caller that stopped, ends the rest. Nothing waits for
        # the workers to exit (~1 s, GX's teardown): the next stage goes on meanwhile.
        pool.shutdown(wait=False, cancel_futures=True)


def build_docs(
    settings: Settings, run_id: str, jobs: Sequence[ValidationJob], kept: list[bytes]
) -> Path:
    """The night's Data Docs (its `index.html`) of `jobs`: built here from this process's GX
    runtime when it validated them (nothing `kept`), else in a worker from the workers'
    results."""
    if not kept:
        from expectations.data_docs import build_data_docs

        return build_data_docs(settings.reports_dir, run_id)
    templates = list(dict.fromkeys(job.template for job in jobs))
    return _in_a_worker(_build_docs_in_worker, settings.reports_dir, run_id, templates, kept)


def _build_docs_in_worker(
    reports_dir: Path, run_id: str, templates: list[str], kept: list[bytes]
) -> Path:
    from expectations.data_docs import build_data_docs
    from expectations.runtime import gx_runtime

    runtime = gx_runtime()
    contract = load_contract()
    for name in templates:
        # The Data Docs show each result with its suite: this process's context's.
        runtime.suite(contract.templates[name], contract)
    for pickled in kept:
        for result in pickle.loads(pickled):
            runtime.keep(result)
    return build_data_docs(reports_dir, run_id)


def audited(mart_path: str) -> tuple[list[str], pd.DataFrame]:
    """The computed mart's audit (write–audit–publish), in a worker: what failed (bilingual
    lines) and the findings that record it."""
    return _in_a_worker(_audit_in_worker, mart_path)


def _audit_in_worker(mart_path: str) -> tuple[list[str], pd.DataFrame]:
    from expectations.audit import audit_findings, audit_mart

    mart = workspace.load_frames({"mart": mart_path})["mart"]
    failures = list(audit_mart(mart).failures)
    return failures, audit_findings(failures)


def _in_a_worker(work: Callable[_P, _R], *args: _P.args, **kwargs: _P.kwargs) -> _R:
    """`work(*args)` in one worker process, which is left to exit on its own (~1 s)."""
    pool = worker_processes.executor(1)
    try:
        return pool.submit(work, *args, **kwargs).result()
    finally:
        pool.shutdown(wait=False)
