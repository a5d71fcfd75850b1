"""Backfill ranges: which periods a backfill may replace, and the merge with the mart."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from flows.period_range import merge_range, month_range, parse_month, within


def _mart(rows: list[tuple[str, str, str, float]]) -> pd.DataFrame:
    """(period, start, end, value) rows of one area and indicator."""
    return pd.DataFrame(
        {
            "area_code": "654226",
            "period": [r[0] for r in rows],
            "period_start": pd.to_datetime([r[1] for r in rows]),
            "period_end": pd.to_datetime([r[2] for r in rows]),
            "indicator": "births",
            "value": [r[3] for r in rows],
        }
    )


PERIODS = [
    ("2026-03", "2026-03-01", "2026-03-31"),
    ("2026-Q1", "2026-01-01", "2026-03-31"),
    ("2026-01..2026-06", "2026-01-01", "2026-06-30"),
    ("2026-H1", "2026-01-01", "2026-06-30"),
    ("2026-07", "2026-07-01", "2026-07-31"),
    ("2026", "2026-01-01", "2026-12-31"),
    ("2025-12", "2025-12-01", "2025-12-31"),
]


def test_month_range_and_its_errors() -> None:
    assert month_range("2025-01", "2026-06") == (date(2025, 1, 1), date(2026, 6, 30))
    assert month_range("2024-02", "2024-02") == (date(2024, 2, 1), date(2024, 2, 29))
    assert parse_month(" 2026-09 ") == (2026, 9)
    for bad in ("2026-13", "2026-1", "26-01", "2026/01", ""):
        with pytest.raises(ValueError, match="2026-06"):
            parse_month(bad)
    with pytest.raises(ValueError, match="after"):
        month_range("2026-06", "2026-01")


def test_a_period_is_inside_only_when_wholly_inside() -> None:
    mart = _mart([(*p, 1.0) for p in PERIODS])
    inside = mart.loc[within(mart, date(2026, 1, 1), date(2026, 6, 30)), "period"]
    assert list(inside) == ["2026-03", "2026-Q1", "2026-01..2026-06", "2026-H1"]
    assert not within(mart.iloc[0:0], date(2026, 1, 1), date(2026, 6, 30)).any()


def test_merge_keeps_published_rows_outside_the_range() -> None:
    current = _mart([(*p, 1.0) for p in PERIODS])
    current["value"] = current["value"].astype(str)  # as the warehouse returns it
    current["run_id"] = "old"
    computed = _mart([(*p, 2.0) for p in PERIODS[:-1]])  # 2025-12 no longer computed
    computed["run_id"] = "new"
    merged = merge_range(current, computed, date(2026, 1, 1), date(2026, 6, 30))
    values = dict(zip(merged["period"], merged["value"], strict=True))
    assert values == {
        "2026-03": 2.0,
        "2026-Q1": 2.0,
        "2026-01..2026-06": 2.0,
        "2026-H1": 2.0,
        "2026-07": 1.0,
        "2026": 1.0,
        "2025-12": 1.0,
    }
    assert merged["value"].dtype == computed["value"].dtype


def test_merge_drops_range_rows_no_longer_computed() -> None:
    current = _mart([(*PERIODS[0], 1.0), (*PERIODS[4], 1.0)])
    computed = _mart([(*PERIODS[4], 5.0)])
    merged = merge_range(current, computed, date(2026, 1, 1), date(2026, 6, 30))
    assert list(merged["period"]) == ["2026-07"]
    assert list(merged["value"]) == [1.0]  # outside the range: the published value stays
    empty = merge_range(current.iloc[0:0], computed.iloc[0:0], date(2026, 1, 1), date(2026, 6, 30))
    assert empty.empty
