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
"""

from __future__ import annotations

import contextlib
import os
import resource
import subprocess
import sys
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from types import TracebackType

from transforms.landing.readers import ReadLimits, ReadProblem, ReadResult, failed_read, read_upload
from transforms.templates import Template

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


def _serve(memory_bytes: int) -> None:
    """The worker's loop (`python -m warehouse.sandbox <bytes>`): cap memory, answer jobs.

    Jobs arrive as pickles on stdin and `ReadResult`s leave on stdout (the pipes of the
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
    while True:
        try:
            job = jobs.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        try:
            result = read_upload(job.data, job.file_format, job.template, job.limits)
        except MemoryError:
            result = _crashed(job.template, "MemoryError")
        answers.send(result)


def _crashed(template: Template, how: str) -> ReadResult:
    return _problem_result(
        template,
        ReadProblem(
            code="reader_crashed",
            reason_zh=f"读取该文件时读取程序异常终止（{how}，通常是内存超出限制）。"
            "文件可能已损坏或含有异常巨大的内容：请用 Excel 打开后重新保存为 .xlsx 或 CSV，"
            "删除多余的内容后再上传。",
            reason_en=f"The reader stopped while reading this file ({how}; usually the memory "
            "limit). The file may be damaged or hold something abnormally large: open it in "
            "Excel, save it again as .xlsx or CSV without the extra content, and upload it.",
        ),
    )


def _timed_out(template: Template, seconds: float) -> ReadResult:
    return _problem_result(
        template,
        ReadProblem(
            code="reader_timeout",
            reason_zh=f"读取该文件超过 {seconds:.0f} 秒仍未完成，已停止。"
            "一个单位一个月的报表几秒内即可读完：请检查文件是否含有多余的内容，重新保存后再上传。",
            reason_en=f"Reading this file took more than {seconds:.0f} s and was stopped. One "
            "unit's monthly report reads in seconds: check the file for extra content, save it "
            "again and upload it.",
        ),
    )


def _problem_result(template: Template, problem: ReadProblem) -> ReadResult:
    return failed_read(problem, template)


@dataclass
class _Worker:
    process: subprocess.Popen[bytes]
    jobs: Connection
    conn: Connection
    job: int | None = None
    started: float = 0.0


class ReaderPool:
    """Parsing workers for one landing; use as a context manager (`with ReaderPool(...)`).

    Workers are started on the first batch, not before: a run with no new file
    starts none.
    """

    def __init__(self, limits: SandboxLimits | None = None) -> None:
        self.limits = limits or SandboxLimits()
        self._workers: list[_Worker] = []

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
        """Stop every worker (a worker also ends when its pipe closes: the run died)."""
        for worker in self._workers:
            with contextlib.suppress(OSError, ValueError):
                worker.jobs.send(None)
        for worker in self._workers:
            with contextlib.suppress(subprocess.TimeoutExpired):
                worker.process.wait(timeout=5)
            self._stop(worker)
        self._workers = []


if __name__ == "__main__":
    _serve(int(sys.argv[1]))
