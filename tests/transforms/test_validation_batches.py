"""Cutting the uploads waiting for their checks into GX batches (transforms.quality.batches)."""

from __future__ import annotations

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from transforms.quality.batches import batch_row_count, row_batches, township_order


def _uploads(rows: list[int | None]) -> pd.DataFrame:
    return pd.DataFrame(
        {"upload_id": range(1, len(rows) + 1), "rows": pd.array(rows, dtype="Int64")}
    )


def test_whole_uploads_fill_a_batch_up_to_the_budget() -> None:
    batches = row_batches(_uploads([40, 50, 20, None, 90, 200, 5]), max_rows=100)
    assert [b["upload_id"].tolist() for b in batches] == [[1, 2], [3, 4], [5], [6], [7]]


def test_a_batch_counts_its_uploads_rows_unknown_as_none() -> None:
    assert batch_row_count(_uploads([40, None, 7])) == 47
    assert batch_row_count(_uploads([])) == 0


@given(
    rows=st.lists(st.one_of(st.none(), st.integers(0, 500)), max_size=40),
    budget=st.integers(1, 600),
)
def test_every_upload_lands_in_one_batch_in_order_and_no_batch_overflows_needlessly(
    rows: list[int | None], budget: int
) -> None:
    uploads = _uploads(rows)
    batches = row_batches(uploads, budget)
    assert pd.concat([*batches, uploads.iloc[0:0]])["upload_id"].tolist() == list(
        uploads["upload_id"]
    )
    for batch in batches:
        sizes = batch["rows"].fillna(0)
        # Over the budget only when one upload alone is (empty uploads may ride along).
        assert int(sizes.sum()) <= budget or int((sizes > 0).sum()) == 1


def test_batches_hold_neighbours_township_by_township() -> None:
    uploads = _uploads([1, 1, 1, 1])
    townships = pd.Series(["654226101", "654226100", None, "654226100"], dtype="string")
    assert township_order(uploads, townships)["upload_id"].tolist() == [3, 2, 4, 1]
