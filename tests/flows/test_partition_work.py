"""flows.partition_work: when the townships to recompute are worth worker processes."""

from __future__ import annotations

import os

import pytest

from flows.partition_work import pool_size
from flows.settings import Settings

MB = 1024 * 1024


@pytest.mark.parametrize(
    ("workers", "min_mb", "work_mb", "expected"),
    [
        (2, 32, [20, 20, 20], 2),  # enough work: as many workers as asked
        (4, 32, [20, 20], 2),  # never more workers than townships
        (2, 32, [10, 10], 0),  # too little work to repay starting a worker
        (2, 0, [100], 0),  # one township: nothing to spread
        (1, 0, [20, 20, 20], 0),  # one worker is the run's own process
        (2, 0, [0, 0], 2),  # no threshold: a pool however small the work
    ],
)
def test_pool_size(workers: int, min_mb: float, work_mb: list[int], expected: int) -> None:
    settings = Settings(partition_workers=workers, partition_pool_min_mb=min_mb)
    assert pool_size(settings, [m * MB for m in work_mb]) == expected


def test_no_worker_count_means_one_per_core() -> None:
    settings = Settings(partition_workers=0, partition_pool_min_mb=0)
    expected = min(os.cpu_count() or 1, 64)
    assert pool_size(settings, [MB] * 64) == (expected if expected > 1 else 0)
