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


def test_a_night_waits_for_its_data_docs_and_stops_on_a_failed_build() -> None:
    """The Data Docs validate starts are waited for before publish (`_await_data_docs`),
    once; a build that failed fails the night there, as a validate stage would."""
    from concurrent.futures import Future
    from pathlib import Path

    from flows import nightly, validation_work
    from flows.stages import Stage

    failed: Future[Path] = Future()
    failed.set_exception(RuntimeError("the Data Docs broke"))
    validation_work._pending_docs["run-failed"] = failed
    tracker = nightly._Tracker(Stage.AUDIT)
    with pytest.raises(RuntimeError, match="Data Docs broke"):
        nightly._await_data_docs("run-failed", tracker)
    assert tracker.stage is Stage.VALIDATE
    assert "run-failed" not in validation_work._pending_docs

    built: Future[Path] = Future()
    built.set_result(Path("reports/data-docs/run-ok/index.html"))
    validation_work._pending_docs["run-ok"] = built
    assert validation_work.docs_built("run-ok") == Path("reports/data-docs/run-ok/index.html")
    assert validation_work.docs_built("run-ok") is None  # nothing validated, or waited for
    validation_work._pending_docs["run-gone"] = built
    validation_work.forget_docs("run-gone")
    assert "run-gone" not in validation_work._pending_docs
