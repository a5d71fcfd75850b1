"""Backfill ranges: which published periods a `popstat backfill --from --to` may replace.

A period is inside the range when it lies wholly within it: `2026-03`, `2026-Q1`
and `2026-01..2026-03` lie within 2026-01..2026-06, `2026-H1` too, but not `2026`
(the year also holds July-December). Rows outside keep their published values.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

# Month arithmetic has one owner (transforms.periods); the CLI's names stay importable here.
from transforms.periods import month_range, parse_month

__all__ = ["merge_range", "month_range", "parse_month", "within"]


def within(mart: pd.DataFrame, start: date, end: date) -> pd.Series:
    """Rows whose period lies wholly inside start..end (by period_start, period_end)."""
    if mart.empty:
        return pd.Series(False, index=mart.index, dtype=bool)
    period_start = pd.to_datetime(mart["period_start"])
    period_end = pd.to_datetime(mart["period_end"])
    mask = (period_start >= pd.Timestamp(start)) & (period_end <= pd.Timestamp(end))
    return mask.fillna(False).astype(bool)


def merge_range(
    current: pd.DataFrame, computed: pd.DataFrame, start: date, end: date
) -> pd.DataFrame:
    """The mart to publish: computed rows inside the range, current rows outside it.

    Rows of the range that the new computation no longer produces are dropped;
    rows outside the range are kept as published, even if the computation differs.
    """
    kept = _like(current.loc[~within(current, start, end)], computed)
    fresh = computed.loc[within(computed, start, end)]
    frames = [f for f in (kept, fresh) if not f.empty]
    if not frames:
        return computed.iloc[0:0]
    if len(frames) == 1:
        return frames[0].reset_index(drop=True)
    return pd.concat(frames, ignore_index=True)


def _like(frame: pd.DataFrame, model: pd.DataFrame) -> pd.DataFrame:
    """`frame` with `model`'s columns and, where they are numbers or dates, their types.

    The published mart comes back from the warehouse with some numbers as text.
    """
    out = frame.reindex(columns=list(model.columns))
    for column in model.columns:
        kind = model[column].dtype
        if pd.api.types.is_numeric_dtype(kind) and not pd.api.types.is_bool_dtype(kind):
            out[column] = pd.to_numeric(out[column], errors="coerce").astype(kind)
        elif pd.api.types.is_datetime64_any_dtype(kind):
            out[column] = pd.to_datetime(out[column]).astype(kind)
    return out
