"""Parse untrusted uploads in worker processes with a memory and a time limit.

A parser can be made to allocate without bound by a file of a few kilobytes (one
XLSX cell at XFD1048576 makes calamine ask for 512 GB and abort the process with
SIGABRT, which Python cannot catch). So no upload is parsed in the run's own
process: each file goes to a worker whose address space is capped with
`resource.setrlimit(RLIMIT_AS)`, and whose answer is awaited for at most a set
time. A worker that dies, or runs out of time, takes only its file with it: the
file gets a `reader_crashed` / `reader_timeout` problem (reasons in Chinese and
English) and is quarantined; a new worker takes the dead one's place.

The workers are fresh interpreters (`python -m warehouse.sandbox`) that live for
the whole landing (one pool per run, reused by every template and month), so a
small run pays about one import of pandas per worker, in parallel; the files of a
batch are parsed in parallel, one worker per core.

Landing uses `stage_many`: each worker takes the batch's next file when it is free,
one job at a time (so a crash still takes only its file), keeps the good ones, and
when asked stages what it holds (normalisation, keyed hashes; the rows as read it
writes itself) and answers with an Arrow IPC stream. The run's own process only
persists, and the batch is the workers' parts with their rows put back in file order:
the rows staging it whole in one process would give.
"""

from __future__ import annotations

import contextlib
import os
import resource
import subprocess
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from transforms.landing.batches import FileRead, stage_files
from transforms.landing.readers import (
    ReadLimits,
    ReadProblem,
    ReadProblemCode,
    ReadResult,
    failed_read,
    read_upload,
)
from transforms.templates import Contract, Template

_MiB = 1024 * 1024
_STARTUP_SECONDS = 120.0


@dataclass(frozen=True)
class SandboxLimits:
    """How much one parsing worker may use; `workers` 0 means one per core."""

    memory_bytes: int = 2048 * _MiB
    seconds: float = 120.0
    workers: int = 0

    @property
    def worker_count(self) -> int:
        return self.workers if self.workers > 0 else max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class ParseJob:
    """One upload to parse: its bytes, `csv`/`xlsx`, its template and the read limits."""

    data: bytes
    file_format: str
    template: Template
    limits: ReadLimits


@dataclass(frozen=True)
class StageJob:
    """One upload of a batch to land: its bytes and format, template, read limits and the
    lineage its rows will carry (`upload_id`, `unit`, `report_month`)."""

    data: bytes
    file_format: str
    template: Template
    limits: ReadLimits
    upload_id: int
    unit: str
    report_month: str


@dataclass(frozen=True)
class AsReadLayout:
    """Where the rows exactly as read are archived (original headers, all text):
    `<folder>/month=<report month>/run=<run>-<part id>.parquet`, a file per report month
    of each part a worker stages. Columns are the union of the files' own headers, kept
    even where the template ignores them; `upload_id` and `row_number` lead back to the
    manifest and the file's row."""

    folder: str
    """`<raw>/as_read/kind=<template>`."""
    run_id: str

    def path(self, month: str, part: str) -> Path:
        return Path(self.folder) / f"month={month}" / f"run={self.run_id}-{part}.parquet"


@dataclass(frozen=True)
class StageSpec:
    """How a worker stages the files it holds. The secret keys persons' hashes: it travels
    to the worker on its private pipe, never through the environment or a log."""

    template: Template
    contract: Contract
    secret: bytes = field(repr=False)
    as_read_to: AsReadLayout | None = None
    """Where the worker writes the rows as read itself, instead of sending them back: they
    are only archived, and the run's own process is the landing's busiest. None: sent
    back."""


@dataclass(frozen=True)
class _StageHeld:
    """Ask a worker to stage the good files it holds, and forget them."""

    spec: StageSpec


@dataclass(frozen=True)
class StagedPart:
    """A worker's staged part of a batch, as Arrow IPC streams (empty bytes: no rows):
    the rows as read (columns the union of the files' own) and the `stg_*` rows."""

    as_read: bytes
    staged: bytes


@dataclass
class StagedBatch:
    """A batch landed by the workers: each job's `FileRead`, in order, and the good files'
    rows as read and staged, in file order (None when no file had rows to stage)."""

    reads: list[FileRead]
    as_read: pa.Table | None
    staged: pa.Table | None


def _ipc(table: pa.Table | None) -> bytes:
    if table is None:
        return b""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue())


def _from_ipc(data: bytes) -> pa.Table | None:
    return pa.ipc.open_stream(data).read_all() if data else None


def concat_as_read(tables: Sequence[pa.Table]) -> pa.Table:
    """Rows as read of many files as one table: columns the union of theirs, in order."""
    return pa.concat_tables(tables, promote_options="permissive")


def _stage_held(held: list[tuple[StageJob, ReadResult]], spec: StageSpec) -> StagedPart:
    """The worker's side of `stage_many`: stage the good files it holds, in order."""
    if not held:
        return StagedPart(b"", b"")
    lineage = pd.DataFrame(
        {
            "upload_id": [job.upload_id for job, _ in held],
            "unit": [job.unit for job, _ in held],
            "report_month": [job.report_month for job, _ in held],
        }
    )
    as_read, staged = stage_files(
        [result for _, result in held], lineage, spec.template, spec.contract, spec.secret
    )
    staged_ipc = _ipc(pa.Table.from_pandas(staged, preserve_index=False))
    if spec.as_read_to is None:
        return StagedPart(_ipc(as_read), staged_ipc)
    _archive_as_read(as_read, [job for job, _ in held], spec.as_read_to)
    return StagedPart(b"", staged_ipc)


def _archive_as_read(as_read: pa.Table, jobs: Sequence[StageJob], layout: AsReadLayout) -> None:
    """The part's rows as read, a Parquet file per report month (a part may hold several
    months of a template that sends few files a month)."""
    part = uuid.uuid4().hex[:12]
    months: dict[str, list[int]] = {}
    for job in jobs:
        months.setdefault(job.report_month, []).append(job.upload_id)
    for month, upload_ids in months.items():
        rows = as_read
        if len(months) > 1:
            ids = pa.array(upload_ids, type=as_read.schema.field("upload_id").type)
            rows = as_read.filter(pc.is_in(as_read.column("upload_id"), value_set=ids))
        path = layout.path(month, part)
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(rows, path)


def _read(job: ParseJob | StageJob) -> ReadResult:
    try:
        return read_upload(job.data, job.file_format, job.template, job.limits)
    except MemoryError:
        return _crashed(job.template, "MemoryError")


def _serve(memory_bytes: int) -> None:
    """The worker's loop (`python -m warehouse.sandbox <bytes>`): cap memory, answer jobs.

    Jobs arrive as pickles on stdin and `ReadResult`s (for a `StageJob`, its `FileRead`;
    for a request to stage, a `StagedPart`) leave on stdout (the pipes of the
    run that started it); anything else the parser writes goes to /dev/null: a parser
    that aborts prints a long Rust backtrace, and the quarantine reason says enough.
    """
    jobs = Connection(os.dup(0), writable=False)
    answers = Connection(os.dup(1), readable=False)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    answers.send("ready")  # imports done: a job's clock starts now, not at the import
    held: list[tuple[StageJob, ReadResult]] = []
    while True:
        try:
            job = jobs.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        if isinstance(job, StageJob):
            result = _read(job)
            if result.ok:
                held.append((job, result))
            answers.send(FileRead.of(result))
        elif isinstance(job, _StageHeld):
            part = _stage_held(held, job.spec)
            held = []
            answers.send(part)
        else:
            answers.send(_read(job))


_READER_PROBLEMS: dict[ReadProblemCode, tuple[str, str]] = {
    "reader_crashed": (
        "读取该文件时读取程序异常终止（{how}，通常是内存超出限制）。"
        "文件可能已损坏或含有异常巨大的内容：请用 Excel 打开后重新保存为 .xlsx 或 CSV，"
        "删除多余的内容后再上传。",
        "The reader stopped while reading this file ({how}; usually the memory limit). The "
        "file may be damaged or hold something abnormally large: open it in Excel, save it "
        "again as .xlsx or CSV without the extra content, and upload it.",
    ),
    "reader_timeout": (
        "读取该文件超过 {seconds:.0f} 秒仍未完成，已停止。"
        "一个单位一个月的报表几秒内即可读完：请检查文件是否含有多余的内容，重新保存后再上传。",
        "Reading this file took more than {seconds:.0f} s and was stopped. One unit's monthly "
        "report reads in seconds: check the file for extra content, save it again and upload it.",
    ),
}
"""What the sandbox itself says of a file it could not read (the reader's own problems are
in transforms.landing): code → (Chinese, English), formatted with the details."""


def _reader_problem(template: Template, code: ReadProblemCode, **details: Any) -> ReadResult:
    reason_zh, reason_en = _READER_PROBLEMS[code]
    problem = ReadProblem(
        code=code, reason_zh=reason_zh.format(**details), reason_en=reason_en.format(**details)
    )
    return failed_read(problem, template)


def _crashed(template: Template, how: str) -> ReadResult:
    return _reader_problem(template, "reader_crashed", how=how)


def _timed_out(template: Template, seconds: float) -> ReadResult:
    return _reader_problem(template, "reader_timeout", seconds=seconds)


_STAGING = -1
"""`_Worker.job` while the worker stages what it holds."""


@dataclass
class _Lane:
    """One worker's part in `stage_many`: the jobs still to parse (one queue shared by all
    lanes: an idle worker takes the next file, whoever's it would have been), those parsed
    and held by the worker, and the parts it has staged so far."""

    slot: int
    pending: deque[int]
    held: list[int] = field(default_factory=list)
    held_rows: int = 0
    parts: list[StagedPart] = field(default_factory=list)


def _in_file_order(table: pa.Table, upload_ids: Sequence[int]) -> pa.Table:
    """The rows of the workers' parts in the order of the batch's files (`upload_ids`), each
    file's rows in their order: what staging the batch whole in one process gives."""
    place = pd.Series(np.arange(len(upload_ids)), index=pd.Index(upload_ids))
    rows = place.reindex(table.column("upload_id").to_numpy()).to_numpy()
    order = np.argsort(rows, kind="stable")
    if (order == np.arange(len(order))).all():
        return table
    return table.take(pa.array(order))


@dataclass
class _Worker:
    process: subprocess.Popen[bytes]
    jobs: Connection
    conn: Connection
    job: int | None = None
    started: float = 0.0
    queued: deque[int] = field(default_factory=deque)
    """Files sent behind `job` (landing keeps one more in the pipe, so that a worker
    never waits for the run's process, busy with its own work, to send the next)."""


class ReaderPool:
    """Parsing workers for one landing; use as a context manager (`with ReaderPool(...)`).

    Workers are started on the first batch, not before: a run with no new file
    starts none.
    """

    def __init__(self, limits: SandboxLimits | None = None) -> None:
        self.limits = limits or SandboxLimits()
        self._workers: list[_Worker] = []
        self.reaper: threading.Thread | None = None
        """The thread that waits for the closed pool's workers to exit (`close`)."""

    def __enter__(self) -> ReaderPool:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def _start_worker(self) -> _Worker:
        # A fresh interpreter, not a fork: the run's process has threads (Prefect's),
        # and a fork copies their locks in whatever state they are.
        process = subprocess.Popen(
            [sys.executable, "-m", "warehouse.sandbox", str(self.limits.memory_bytes)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            close_fds=True,
        )
        assert process.stdin is not None and process.stdout is not None
        jobs = Connection(os.dup(process.stdin.fileno()), readable=False)
        answers = Connection(os.dup(process.stdout.fileno()), writable=False)
        process.stdin.close()
        process.stdout.close()
        return _Worker(process, jobs, answers)

    @staticmethod
    def _await_ready(workers: list[_Worker]) -> None:
        """Wait until started workers have imported the readers (they start in parallel)."""
        for worker in workers:
            if not worker.conn.poll(_STARTUP_SECONDS) or worker.conn.recv() != "ready":
                raise RuntimeError("a parsing worker did not start (python -m warehouse.sandbox)")

    @staticmethod
    def _stop(worker: _Worker) -> None:
        for conn in (worker.jobs, worker.conn):
            with contextlib.suppress(OSError):
                conn.close()
        if worker.process.poll() is None:
            worker.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            worker.process.wait(timeout=5)

    def _replace(self, worker: _Worker) -> _Worker:
        self._stop(worker)
        fresh = self._start_worker()
        self._await_ready([fresh])
        self._workers[self._workers.index(worker)] = fresh
        return fresh

    def read_many(self, jobs: Sequence[ParseJob]) -> list[ReadResult]:
        """Parse every job, in parallel; one `ReadResult` per job, in order. Never raises
        for a file: a worker that dies or takes too long gives its job a problem."""
        if not jobs:
            return []
        wanted = min(self.limits.worker_count, len(jobs))
        started = [self._start_worker() for _ in range(wanted - len(self._workers))]
        self._await_ready(started)
        self._workers.extend(started)
        results: list[ReadResult | None] = [None] * len(jobs)
        waiting = deque(range(len(jobs)))
        while waiting or any(w.job is not None for w in self._workers):
            for worker in self._workers:
                if worker.job is None and waiting:
                    self._give(worker, waiting.popleft(), jobs)
            self._collect(jobs, results, waiting)
        return [r for r in results if r is not None]

    def stage_many(
        self,
        jobs: Sequence[StageJob],
        spec: StageSpec,
        held_rows: int = 200_000,
        lane_bytes: int = 64 * 1024,
    ) -> StagedBatch:
        """Parse every job and stage the good files, in parallel; never raises for a file.

        One worker per `lane_bytes` of files, as many as there are (normalising a part has
        a fixed cost of ~40 ms that a tiny batch does not repay, but a month of 300 village
        ledgers of 3 KB does). An idle worker takes the next file of the batch, one job at a
        time with the next already in its pipe (a worker that dies or takes too long gives
        its job a problem; the files it held, and the one queued, are parsed again), then
        stages what it holds: whenever it holds `held_rows` rows, and at the end. The parts'
        rows, put back in the order of the files, are the batch staging it whole would
        give. Raises RuntimeError if a worker dies while staging (its files are all readable).
        """
        if not jobs:
            return StagedBatch([], None, None)
        sizes = [len(job.data) for job in jobs]
        wanted = min(self.limits.worker_count, len(jobs), max(1, sum(sizes) // lane_bytes))
        self._ensure_workers(wanted)
        pending = deque(range(len(jobs)))
        lanes = [_Lane(slot, pending) for slot in range(wanted)]
        reads: list[FileRead | None] = [None] * len(jobs)
        active = lanes
        while active:
            for lane in active:
                worker = self._workers[lane.slot]
                if worker.job == _STAGING or worker.queued:
                    continue
                if lane.pending and lane.held_rows < held_rows:
                    self._give_stage(lane, _StageHeld(spec), jobs)
                elif worker.job is None and lane.held:
                    self._give_stage(lane, _StageHeld(spec), jobs, staging=True)
            self._collect_stage([lane for lane in active], jobs, reads)
            active = [
                lane
                for lane in active
                if lane.pending or lane.held or self._workers[lane.slot].job is not None
            ]
        parts = [part for lane in lanes for part in lane.parts]
        as_read = [t for t in (_from_ipc(p.as_read) for p in parts) if t is not None]
        staged = [t for t in (_from_ipc(p.staged) for p in parts) if t is not None]
        # A part with no rows types its text lineage columns as null: leave it out.
        staged = [t for t in staged if t.num_rows] or staged[:1]
        order = [job.upload_id for job in jobs]
        return StagedBatch(
            [r for r in reads if r is not None],
            _in_file_order(concat_as_read(as_read), order) if as_read else None,
            _in_file_order(pa.concat_tables(staged), order) if staged else None,
        )

    def _ensure_workers(self, wanted: int) -> None:
        started = [self._start_worker() for _ in range(wanted - len(self._workers))]
        self._await_ready(started)
        self._workers.extend(started)

    def _give_stage(
        self, lane: _Lane, stage: _StageHeld, jobs: Sequence[StageJob], staging: bool = False
    ) -> None:
        """Give the lane's worker its next file (or, `staging`, ask it to stage what it
        holds); a worker on a file gets the next one queued behind it. A worker found dead
        has lost what it held: that goes back to be parsed."""
        worker = self._workers[lane.slot]
        if worker.job is not None:
            # Queued behind the file in progress; a dead worker is `_collect_stage`'s to
            # find (its file gets the crash), so nothing is sent to it.
            if worker.process.poll() is None:
                with contextlib.suppress(OSError, ValueError):
                    worker.jobs.send(jobs[lane.pending[0]])
                    worker.queued.append(lane.pending.popleft())
            return
        if worker.process.poll() is None:
            try:
                index = _STAGING if staging else lane.pending[0]
                worker.jobs.send(stage if staging else jobs[index])
            except (OSError, ValueError):
                pass
            else:
                if not staging:
                    lane.pending.popleft()
                worker.job, worker.started = index, time.monotonic()
                return
        self._lose_held(lane)
        self._replace(worker)

    @staticmethod
    def _lose_held(lane: _Lane) -> None:
        """The lane's worker died: the files it held go back to be parsed again."""
        lane.pending.extendleft(reversed(lane.held))
        lane.held, lane.held_rows = [], 0

    def _collect_stage(
        self, lanes: list[_Lane], jobs: Sequence[StageJob], reads: list[FileRead | None]
    ) -> None:
        busy = [lane for lane in lanes if self._workers[lane.slot].job is not None]
        if not busy:
            return

        def allowed(lane: _Lane) -> float:
            # Staging what a worker holds may take as long as parsing those files might.
            staging = self._workers[lane.slot].job == _STAGING
            return self.limits.seconds * (max(1, len(lane.held)) if staging else 1)

        now = time.monotonic()
        deadline = min(self._workers[lane.slot].started + allowed(lane) for lane in busy)
        ready = wait([self._workers[lane.slot].conn for lane in busy], max(0.0, deadline - now))
        for lane in busy:
            worker = self._workers[lane.slot]
            index = worker.job
            assert index is not None
            answer: object = None
            if worker.conn in ready:
                with contextlib.suppress(EOFError, OSError):
                    answer = worker.conn.recv()
            elif time.monotonic() - worker.started < allowed(lane):
                continue
            if index == _STAGING:
                if not isinstance(answer, StagedPart):
                    self._replace(worker)
                    raise RuntimeError("a parsing worker stopped while staging a batch")
                lane.parts.append(answer)
                lane.held, lane.held_rows = [], 0
                worker.job = None
                continue
            if isinstance(answer, FileRead):
                reads[index] = answer
                if answer.problem is None:
                    lane.held.append(index)
                    lane.held_rows += answer.rows
                worker.job = worker.queued.popleft() if worker.queued else None
                worker.started = time.monotonic()
                continue
            template = jobs[index].template
            if worker.conn in ready:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    worker.process.wait(timeout=5)
                code = worker.process.returncode
                how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
                reads[index] = FileRead.of(_crashed(template, how))
            else:
                reads[index] = FileRead.of(_timed_out(template, self.limits.seconds))
            # The files queued behind it were never read: back to be parsed, after the held.
            lane.pending.extendleft(reversed(worker.queued))
            worker.queued.clear()
            self._lose_held(lane)
            self._replace(worker)

    def _give(self, worker: _Worker, index: int, jobs: Sequence[ParseJob]) -> None:
        try:
            worker.jobs.send(jobs[index])
        except (OSError, ValueError):  # the worker died idle: start another, send again
            worker = self._replace(worker)
            worker.jobs.send(jobs[index])
        worker.job, worker.started = index, time.monotonic()

    def _collect(
        self, jobs: Sequence[ParseJob], results: list[ReadResult | None], waiting: deque[int]
    ) -> None:
        busy = [w for w in self._workers if w.job is not None]
        if not busy:
            return
        now = time.monotonic()
        timeout = max(0.0, min(w.started + self.limits.seconds for w in busy) - now)
        # A dead worker's pipe reads as end-of-file: `wait` wakes for answers and deaths.
        ready = wait([w.conn for w in busy], timeout)
        for worker in busy:
            index = worker.job
            assert index is not None
            template = jobs[index].template
            if worker.conn in ready:
                try:
                    results[index] = worker.conn.recv()
                    worker.job = None
                    continue
                except (EOFError, OSError):
                    pass
            else:
                if time.monotonic() - worker.started >= self.limits.seconds:
                    results[index] = _timed_out(template, self.limits.seconds)
                    self._replace(worker)
                continue
            with contextlib.suppress(subprocess.TimeoutExpired):
                worker.process.wait(timeout=5)
            code = worker.process.returncode
            how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
            results[index] = _crashed(template, how)
            self._replace(worker)

    def close(self) -> None:
        """Tell every worker to end; a thread of the pool's own waits for them to exit (an
        interpreter's teardown, ~0.1 s that landing need not wait for) and stops one that
        does not. A worker also ends when its pipe closes: the run died."""
        workers, self._workers = self._workers, []
        for worker in workers:
            with contextlib.suppress(OSError, ValueError):
                worker.jobs.send(None)
        if workers:
            self.reaper = threading.Thread(
                target=self._reap, args=(workers,), name="sandbox-reaper", daemon=True
            )
            self.reaper.start()

    @classmethod
    def _reap(cls, workers: list[_Worker]) -> None:
        for worker in workers:
            with contextlib.suppress(subprocess.TimeoutExpired):
                worker.process.wait(timeout=5)
            cls._stop(worker)


if __name__ == "__main__":
    # The loop runs in the module as imported, not in `__main__`: the jobs unpickled
    # are `warehouse.sandbox` classes, and `isinstance` must see the same ones.
    from warehouse.sandbox import _serve as serve

    serve(int(sys.argv[1]))
