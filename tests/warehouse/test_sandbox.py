"""warehouse.sandbox: uploads parsed in worker processes; a worker that dies takes only its file."""

from __future__ import annotations

import time

import pandas as pd
import pyarrow as pa

from tests.hostile import csv_lines, far_cell_xlsx
from transforms.landing.batches import stage_files
from transforms.landing.readers import ReadLimits, read_upload
from transforms.templates import load_contract
from warehouse.sandbox import ParseJob, ReaderPool, SandboxLimits, StageJob, StageSpec

CONTRACT = load_contract()
BIRTHS = CONTRACT.templates["village_births"]
SECRET = b"test-secret"
HEADER = ["母亲姓名", "母亲身份证号", "婴儿性别", "出生日期", "孩次", "政策属性", "填报日期"]
ROW = ["阿依古丽", "654226199001011234", "女", "2026-09-03", "2", "政策内", "2026-09-05"]


def _job(data: bytes, fmt: str = "csv", limits: ReadLimits | None = None) -> ParseJob:
    return ParseJob(data, fmt, BIRTHS, limits or ReadLimits())


def test_a_parser_that_aborts_takes_only_its_file_and_says_why_in_both_languages() -> None:
    good = csv_lines(HEADER, ROW, 3)
    deadly = far_cell_xlsx(HEADER, declared=False)  # calamine aborts (SIGABRT) on this
    with ReaderPool(SandboxLimits(workers=2)) as pool:
        results = pool.read_many([_job(good), _job(deadly, "xlsx"), _job(good)])
        again = pool.read_many([_job(good)])  # the dead worker was replaced
    assert [len(r.frame) for r in results] == [3, 0, 3]
    assert results[0].ok and results[2].ok and again[0].ok
    problem = results[1].problem
    assert problem is not None and problem.code == "reader_crashed"
    assert "读取程序异常终止" in problem.reason_zh and "memory limit" in problem.reason_en


def test_a_file_that_takes_too_long_is_stopped_and_quarantined() -> None:
    slow = csv_lines(HEADER, ROW, 60_000)
    with ReaderPool(SandboxLimits(seconds=0.05, workers=1)) as pool:
        pool.read_many([_job(csv_lines(HEADER, ROW, 1))])  # the worker is up
        results = pool.read_many([_job(slow), _job(csv_lines(HEADER, ROW, 2))])
    assert results[0].problem is not None and results[0].problem.code == "reader_timeout"
    assert results[1].ok and len(results[1].frame) == 2


def test_workers_are_reused_and_parse_in_parallel() -> None:
    jobs = [_job(csv_lines(HEADER, ROW, n)) for n in range(1, 41)]
    with ReaderPool(SandboxLimits(workers=2)) as pool:
        pool.read_many(jobs[:2])
        workers = [w.process.pid for w in pool._workers]
        started = time.perf_counter()
        results = pool.read_many(jobs)
        seconds = time.perf_counter() - started
        assert [w.process.pid for w in pool._workers] == workers
    assert [len(r.frame) for r in results] == list(range(1, 41))
    assert seconds < 5  # no process start per file


def test_no_worker_is_started_for_nothing() -> None:
    with ReaderPool() as pool:
        assert pool.read_many([]) == []
        assert pool._workers == []


def _stage_job(data: bytes, upload_id: int, fmt: str = "csv") -> StageJob:
    return StageJob(data, fmt, BIRTHS, ReadLimits(), upload_id, "654226100201", "2026-09")


def _staged_whole(jobs: list[StageJob]) -> pa.Table:
    """What staging the good files in one process, as one batch, gives."""
    results = [read_upload(j.data, j.file_format, j.template, j.limits) for j in jobs]
    good = [(j, r) for j, r in zip(jobs, results, strict=True) if r.ok]
    lineage = pd.DataFrame(
        {
            "upload_id": [j.upload_id for j, _ in good],
            "unit": [j.unit for j, _ in good],
            "report_month": [j.report_month for j, _ in good],
        }
    )
    _, staged = stage_files([r for _, r in good], lineage, BIRTHS, CONTRACT, SECRET)
    return pa.Table.from_pandas(staged, preserve_index=False)


def test_a_batch_staged_in_parts_by_two_workers_equals_the_batch_staged_whole() -> None:
    jobs = [_stage_job(csv_lines(HEADER, ROW, n % 4), 100 + n) for n in range(12)]
    with ReaderPool(SandboxLimits(workers=2)) as pool:
        batch = pool.stage_many(
            jobs, StageSpec(BIRTHS, CONTRACT, SECRET), held_rows=3, lane_bytes=1
        )
    assert batch.staged is not None and batch.as_read is not None
    assert batch.staged.equals(_staged_whole(jobs))
    assert [r.rows for r in batch.reads] == [n % 4 for n in range(12)]
    assert batch.as_read.column("upload_id").to_pylist() == [
        100 + n for n in range(12) for _ in range(n % 4)
    ]


def test_a_crash_mid_batch_takes_only_its_file_and_the_files_held_are_read_again() -> None:
    deadly = _stage_job(far_cell_xlsx(HEADER, declared=False), 3, "xlsx")
    jobs = [_stage_job(csv_lines(HEADER, ROW, 1), 1), _stage_job(csv_lines(HEADER, ROW, 2), 2)]
    jobs += [deadly, _stage_job(csv_lines(HEADER, ROW, 3), 4)]
    with ReaderPool(SandboxLimits(workers=1)) as pool:  # one worker holds 1 and 2, then dies
        batch = pool.stage_many(jobs, StageSpec(BIRTHS, CONTRACT, SECRET))
    problem = batch.reads[2].problem
    assert problem is not None and problem.code == "reader_crashed"
    assert batch.staged is not None
    assert batch.staged.column("upload_id").to_pylist() == [1, 2, 2, 4, 4, 4]
    assert batch.staged.equals(_staged_whole([j for j in jobs if j is not deadly]))


def test_closing_the_pool_ends_its_workers_without_waiting_for_their_exit() -> None:
    """Landing goes on while the workers tear down (~0.1 s each); they still end."""
    with ReaderPool(SandboxLimits(workers=2)) as pool:
        pool.read_many([_job(csv_lines(HEADER, ROW, n)) for n in (1, 2)])
        processes = [w.process for w in pool._workers]
    assert len(processes) == 2 and pool._workers == []
    assert pool.reaper is not None
    pool.reaper.join(timeout=10)
    assert not pool.reaper.is_alive()
    assert all(p.returncode == 0 for p in processes)  # told to end: a clean exit, reaped
