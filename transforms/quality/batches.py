"""How the uploads waiting for their quality checks are cut into batches (pure).

Great Expectations validates one batch (a frame) at a time and holds it whole, with
copies of its own: a county's year of rosters in one batch is a million rows and
more than a gigabyte. The uploads of one template are therefore cut into batches of
at most `max_rows` rows, whole uploads in the order given (by township: a batch holds
neighbours), so memory is bounded by the batch, while a small county's template
stays one batch (GX costs a few tenths of a second per batch).
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pandas as pd


def _upload_rows(uploads: pd.DataFrame) -> np.ndarray:
    """Each upload's row count (column `rows`, null as 0)."""
    return pd.to_numeric(uploads["rows"], errors="coerce").fillna(0).to_numpy(dtype="int64")


def batch_row_count(uploads: pd.DataFrame) -> int:
    """The rows of a batch of uploads (column `rows`, null as 0)."""
    return int(_upload_rows(uploads).sum())


def row_batches(uploads: pd.DataFrame, max_rows: int) -> list[pd.DataFrame]:
    """Consecutive slices of `uploads` (column `rows`: the upload's row count, null as 0)
    whose rows add up to at most `max_rows`; an upload larger than that is a batch alone."""
    if uploads.empty:
        return []
    rows = _upload_rows(uploads)
    starts = [0]
    total = 0
    # A loop over uploads (thousands), not rows: cheap, and clearer than a cumsum trick
    # that must restart at every cut.
    for i, n in enumerate(rows):
        if total and total + n > max_rows:
            starts.append(i)
            total = 0
        total += int(n)
    bounds = [*starts, len(rows)]
    return [uploads.iloc[a:b] for a, b in pairwise(bounds) if b > a]


def township_order(uploads: pd.DataFrame, townships: pd.Series) -> pd.DataFrame:
    """`uploads` sorted by township (then upload id), so that a batch holds neighbours."""
    order = np.lexsort((uploads["upload_id"].to_numpy(), townships.fillna("").to_numpy(str)))
    return uploads.iloc[order]
