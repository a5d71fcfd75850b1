"""flows.validation_work: when the validate stage's batches are worth worker processes."""

from __future__ import annotations

import pytest

from flows.settings import Settings
from flows.validation_work import pool_size


@pytest.mark.parametrize(
    ("workers", "min_rows", "batch_rows", "expected"),
    [
        (2, 400_000, [250_000, 250_000], 2),  # enough rows: as many workers as asked
        (4, 0, [10, 10], 2),  # never more workers than batches
        (2, 400_000, [300, 200], 1),  # a correction's few files: one worker, GX loaded
        (2, 0, [1_000_000], 1),  # one batch: nothing to spread
        (1, 0, [10, 10, 10], 0),  # one worker is the run's own process
        (0, 0, [], 0),  # nothing to validate
    ],
)
def test_pool_size(workers: int, min_rows: int, batch_rows: list[int], expected: int) -> None:
    settings = Settings(validate_workers=workers, validate_pool_min_rows=min_rows)
    assert pool_size(settings, batch_rows) == expected
