"""Reporting periods: labels, ranges, and the set of periods a run publishes."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from transforms.periods import Period, parse_month, parse_period, periods_for


def _by_label(periods: list[Period]) -> dict[str, Period]:
    return {p.label: p for p in periods}


def test_periods_for_one_month_gives_the_five_kinds() -> None:
    periods = periods_for(["2026-09"])
    assert [p.label for p in periods] == [
        "2026-09",
        "2026-01..2026-09",
        "2026-Q3",
        "2026-H2",
        "2026",
    ]
    assert [p.kind for p in periods] == ["month", "ytd", "quarter", "half", "year"]


def test_ranges_and_months() -> None:
    found = _by_label(periods_for(["2026-09"]))
    month = found["2026-09"]
    assert (month.start, month.end, month.months) == (
        date(2026, 9, 1),
        date(2026, 9, 30),
        ("2026-09",),
    )
    ytd = found["2026-01..2026-09"]
    assert (ytd.start, ytd.end) == (date(2026, 1, 1), date(2026, 9, 30))
    assert ytd.months == tuple(f"2026-{m:02d}" for m in range(1, 10))
    quarter = found["2026-Q3"]
    assert (quarter.start, quarter.end) == (date(2026, 7, 1), date(2026, 9, 30))
    half = found["2026-H2"]
    assert (half.start, half.end, len(half.months)) == (date(2026, 7, 1), date(2026, 12, 31), 6)
    year = found["2026"]
    assert (year.start, year.end, year.last_month) == (
        date(2026, 1, 1),
        date(2026, 12, 31),
        "2026-12",
    )
    assert all(p.year == 2026 for p in found.values())


def test_february_ends_on_its_last_day() -> None:
    assert parse_period("2028-02").end == date(2028, 2, 29)
    assert parse_period("2026-02").end == date(2026, 2, 28)


def test_several_months_share_quarter_half_and_year() -> None:
    periods = periods_for(["2026-08", "2026-07", "2026-08", "2026-02"])
    labels = [p.label for p in periods]
    assert len(labels) == len(set(labels))
    assert set(labels) == {
        "2026-02",
        "2026-07",
        "2026-08",
        "2026-01..2026-02",
        "2026-01..2026-07",
        "2026-01..2026-08",
        "2026-Q1",
        "2026-Q3",
        "2026-H1",
        "2026-H2",
        "2026",
    }
    # ordered: months, then ytd, quarters, halves, the year
    assert labels[:3] == ["2026-02", "2026-07", "2026-08"]
    assert labels[-1] == "2026"


def test_years_are_kept_apart() -> None:
    labels = [p.label for p in periods_for(["2025-12", "2026-01"])]
    assert labels == [
        "2025-12",
        "2025-01..2025-12",
        "2025-Q4",
        "2025-H2",
        "2025",
        "2026-01",
        "2026-01..2026-01",
        "2026-Q1",
        "2026-H1",
        "2026",
    ]


@pytest.mark.parametrize(
    "label", ["2026-09", "2026-01..2026-09", "2026-Q3", "2026-H2", "2026", "2026-01..2026-01"]
)
def test_parse_period_round_trips(label: str) -> None:
    assert parse_period(label).label == label


@pytest.mark.parametrize("bad", ["2026-13", "2026-9", "202609", "2026/09", "", "2026-00"])
def test_bad_months_are_rejected(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_month(bad)
    with pytest.raises(ValueError):
        periods_for([bad])


@pytest.mark.parametrize("bad", ["2026-Q5", "2026-H3", "2025-01..2026-03", "2026-02..2026-09"])
def test_bad_period_labels_are_rejected(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_period(bad)


def test_month_columns_and_deadlines_have_one_rule() -> None:
    import pandas as pd

    from transforms.periods import (
        deadline_moments,
        deadline_passed,
        month_due,
        month_index,
        month_label,
    )

    months = pd.Series(["2026-09", "2026-12", None, "2026-13", "bad"], dtype="string")
    index = month_index(months)
    assert index.tolist()[:2] == [2026 * 12 + 8, 2026 * 12 + 11]
    assert index.isna().tolist() == [False, False, True, True, True]
    assert month_label(index).tolist()[:2] == ["2026-09", "2026-12"]
    moments = deadline_moments(months, 5)
    assert moments.iloc[1] == pd.Timestamp("2027-01-06")  # late from the 6th of January
    assert moments.iloc[2:].isna().all()
    for as_of in (date(2026, 10, 5), date(2026, 10, 6)):
        column = deadline_passed(index.iloc[:1], as_of, 5).iloc[0]
        assert column == month_due("2026-09", as_of, 5) == (as_of.day == 6)


@given(
    as_of=st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
    back=st.integers(min_value=-3, max_value=30),
    deadline_day=st.integers(min_value=1, max_value=28),
)
def test_a_month_is_due_exactly_when_it_is_no_later_than_the_last_due_month(
    as_of: date, back: int, deadline_day: int
) -> None:
    """What the partition cache keys on instead of the as-of date (flows.nightly)."""
    from transforms.periods import last_due_month, month_due, month_name, month_number

    month = month_name(as_of.year * 12 + as_of.month - 1 - back)
    due = month_number(month) <= month_number(last_due_month(as_of, deadline_day))
    assert month_due(month, as_of, deadline_day) == due
