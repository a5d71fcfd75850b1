"""warehouse.sandbox: uploads parsed in worker processes; a worker that dies takes only its file."""

from __future__ import annotations

import time

from tests.hostile import csv_lines, far_cell_xlsx
from transforms.landing.readers import ReadLimits
from transforms.templates import load_contract
from warehouse.sandbox import ParseJob, ReaderPool, SandboxLimits

BIRTHS = load_contract().templates["village_births"]
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
