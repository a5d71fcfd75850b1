"""Reporting periods (indicators.md, "Periods").

Five kinds, all inside one calendar year:

| kind      | label              | covers                              |
| --------- | ------------------ | ----------------------------------- |
| `month`   | `2026-09`          | the month                           |
| `ytd`     | `2026-01..2026-09` | January to the month (the seed's 1—9月) |
| `quarter` | `2026-Q3`          | the calendar quarter                |
| `half`    | `2026-H2`          | the calendar half-year (下半年)      |
| `year`    | `2026`             | the calendar year                   |

A period always spans its whole calendar range (`2026-Q3` ends on 30
September even when only July's data are in); which months actually hold
data is the indicator computation's business (flows count what is there,
stocks take the last snapshot that is there). Whether a period is complete
(every month of it due) is `Period.complete_at`.

This module also owns month and deadline arithmetic (uploads.md: the upload of
month M is due by day `deadline_day` of M+1, and *due* — late when missing —
once that day has passed): `month_number`, `month_name`, `deadline_for`,
`month_due`, `month_range` for one month; `month_index`, `date_month_index`,
`month_label`, `month_end`, `deadline_passed`, `deadline_moments` for whole columns
(month indexes `year * 12 + month - 1`, so "the month after" is `+ 1`).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np
import pandas as pd

PeriodKind = Literal["month", "ytd", "quarter", "half", "year"]
PERIOD_KINDS: tuple[PeriodKind, ...] = ("month", "ytd", "quarter", "half", "year")

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_YTD = re.compile(r"^(\d{4})-01\.\.(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_HALF = re.compile(r"^(\d{4})-H([12])$")
_YEAR = re.compile(r"^(\d{4})$")


@dataclass(frozen=True, order=True)
class Period:
    """One reporting period: a run of whole calendar months within one year.

    `months` lists every calendar month of the period as `YYYY-MM`, first to last.
    """

    start: date
    end: date
    kind: PeriodKind
    label: str
    months: tuple[str, ...]

    @property
    def year(self) -> int:
        """The calendar year the period lies in (targets are set per year)."""
        return self.start.year

    @property
    def last_month(self) -> str:
        """The period's last month, `YYYY-MM`."""
        return self.months[-1]

    def complete_at(self, as_of: date, deadline_day: int = 5) -> bool:
        """Every month of the period is due at `as_of` (indicators.md "Incomplete periods")."""
        return month_due(self.last_month, as_of, deadline_day)


def parse_month(month: str) -> tuple[int, int]:
    """`'2026-09'` -> `(2026, 9)`; anything else is a ValueError."""
    found = _MONTH.match(str(month).strip())
    if found is None or not 1 <= int(found.group(2)) <= 12:
        raise ValueError(f"not a month (YYYY-MM), e.g. 2026-06: {month!r}")
    return int(found.group(1)), int(found.group(2))


def month_number(month: str) -> int:
    """`'2026-09'` -> `2026 * 12 + 8`: "the month after" is `+ 1`."""
    year, number = parse_month(month)
    return year * 12 + number - 1


def month_name(number: int) -> str:
    """The inverse of `month_number`: `2026 * 12 + 8` -> `'2026-09'`."""
    return f"{number // 12:04d}-{number % 12 + 1:02d}"


def deadline_for(month: str, deadline_day: int = 5) -> date:
    """The last day on which the upload of `month` is on time: day `deadline_day` of M+1."""
    year, number = divmod(month_number(month) + 1, 12)
    return date(year, number + 1, deadline_day)


def month_due(month: str, as_of: date, deadline_day: int = 5) -> bool:
    """Whether the upload of `month` is due at `as_of` (its deadline has passed)."""
    return as_of > deadline_for(month, deadline_day)


def last_due_month(as_of: date, deadline_day: int = 5) -> str:
    """The latest month whose upload is due at `as_of`: month M is due exactly when
    M <= last_due_month (`month_due`, `deadline_passed`). Days between two deadlines
    share it, so whatever depends on as_of only through "is M due" is the same on them."""
    current = as_of.year * 12 + as_of.month - 1
    return month_name(current - 1 if as_of.day > deadline_day else current - 2)


def month_range(first: str, last: str) -> tuple[date, date]:
    """First day of `first` .. last day of `last`; ValueError when reversed or malformed."""
    y1, m1 = parse_month(first)
    y2, m2 = parse_month(last)
    start = date(y1, m1, 1)
    end = date(y2, m2, calendar.monthrange(y2, m2)[1])
    if end < start:
        raise ValueError(f"--from {first} is after --to {last}")
    return start, end


def _span(year: int, first: int, last: int, kind: PeriodKind, label: str) -> Period:
    months = tuple(f"{year:04d}-{m:02d}" for m in range(first, last + 1))
    end = date(year, last, calendar.monthrange(year, last)[1])
    return Period(start=date(year, first, 1), end=end, kind=kind, label=label, months=months)


def month_period(year: int, month: int) -> Period:
    """The month `YYYY-MM`."""
    return _span(year, month, month, "month", f"{year:04d}-{month:02d}")


def ytd_period(year: int, month: int) -> Period:
    """January to `month`: `YYYY-01..YYYY-MM` (also for January itself)."""
    return _span(year, 1, month, "ytd", f"{year:04d}-01..{year:04d}-{month:02d}")


def quarter_period(year: int, quarter: int) -> Period:
    """Calendar quarter `YYYY-Qn`."""
    first = 3 * (quarter - 1) + 1
    return _span(year, first, first + 2, "quarter", f"{year:04d}-Q{quarter}")


def half_period(year: int, half: int) -> Period:
    """Calendar half-year `YYYY-H1` (Jan–Jun) or `YYYY-H2` (Jul–Dec)."""
    first = 6 * (half - 1) + 1
    return _span(year, first, first + 5, "half", f"{year:04d}-H{half}")


def year_period(year: int) -> Period:
    """Calendar year `YYYY`."""
    return _span(year, 1, 12, "year", f"{year:04d}")


def parse_period(label: str) -> Period:
    """The period a label names (`2026-09`, `2026-01..2026-09`, `2026-Q3`, `2026-H2`, `2026`)."""
    text = str(label)
    if _MONTH.match(text):
        return month_period(*parse_month(text))
    if found := _YTD.match(text):
        if found.group(1) != found.group(2):
            raise ValueError(f"a year-to-date period lies in one year: {label!r}")
        return ytd_period(*parse_month(f"{found.group(2)}-{found.group(3)}"))
    if found := _QUARTER.match(text):
        return quarter_period(int(found.group(1)), int(found.group(2)))
    if found := _HALF.match(text):
        return half_period(int(found.group(1)), int(found.group(2)))
    if found := _YEAR.match(text):
        return year_period(int(found.group(1)))
    raise ValueError(f"not a period label: {label!r}")


_KIND_ORDER = {kind: i for i, kind in enumerate(PERIOD_KINDS)}


def periods_for(months: Iterable[str]) -> list[Period]:
    """Every period touched by the given months: for each month present, the month,
    the year-to-date up to it, and its quarter, half-year and year.

    Duplicates collapse; the result is ordered by year, kind (month, ytd, quarter,
    half, year), then start and end. Invalid month strings raise ValueError.
    """
    found: dict[str, Period] = {}
    for text in set(months):
        year, month = parse_month(text)
        for period in (
            month_period(year, month),
            ytd_period(year, month),
            quarter_period(year, (month - 1) // 3 + 1),
            half_period(year, 1 if month <= 6 else 2),
            year_period(year),
        ):
            found.setdefault(period.label, period)
    return sorted(found.values(), key=lambda p: (p.year, _KIND_ORDER[p.kind], p.start, p.end))


# ------------------------------------------------------------ month columns

# numpy's datetime64[M] counts months from 1970-01: index = that count + 1970 * 12.
_EPOCH_MONTH = 1970 * 12


def _index_or_none(label: object) -> int | None:
    found = _MONTH.match(str(label))
    if found is None or not 1 <= int(found.group(2)) <= 12:
        return None
    return int(found.group(1)) * 12 + int(found.group(2)) - 1


def month_index(months: pd.Series) -> pd.Series:
    """`YYYY-MM` labels → month index (`year * 12 + month - 1`, Int64; null or unreadable
    → null). Each distinct label is parsed once."""
    codes, uniques = pd.factorize(months.astype("string"), use_na_sentinel=True)
    parsed = [_index_or_none(u) for u in uniques]
    lookup = np.array([-1 if p is None else p for p in parsed], dtype=np.int64)
    values = (
        lookup[np.where(codes >= 0, codes, 0)] if len(lookup) else np.zeros(len(codes), np.int64)
    )
    missing = (codes < 0) | (values < 0)
    return pd.Series(
        pd.arrays.IntegerArray(np.where(missing, 0, values), missing), index=months.index
    )


def date_month_index(dates: pd.Series) -> pd.Series:
    """Dates → month index of the date (Int64; NaT → null)."""
    raw = dates.to_numpy(dtype="datetime64[s]")
    missing = np.isnat(raw)
    values = raw.astype("datetime64[M]").astype(np.int64) + _EPOCH_MONTH
    return pd.Series(
        pd.arrays.IntegerArray(np.where(missing, 0, values), missing), index=dates.index
    )


def month_label(index: pd.Series) -> pd.Series:
    """Month index → `YYYY-MM` (string dtype; null stays null)."""
    values = index.astype("Int64")
    missing = values.isna().to_numpy()
    months = (values.fillna(_EPOCH_MONTH).to_numpy(np.int64) - _EPOCH_MONTH).astype("datetime64[M]")
    labels = np.datetime_as_string(months, unit="M").astype(object)
    labels[missing] = pd.NA
    return pd.Series(labels, index=index.index, dtype="string")


def month_end(index: pd.Series) -> pd.Series:
    """Month index → the last day of that month, at midnight (`datetime64[s]`)."""
    values = index.astype("Int64")
    missing = values.isna().to_numpy()
    nxt = (values.fillna(_EPOCH_MONTH).to_numpy(np.int64) - _EPOCH_MONTH + 1).astype(
        "datetime64[M]"
    )
    ends = (nxt.astype("datetime64[D]") - np.timedelta64(1, "D")).astype("datetime64[s]")
    ends[missing] = np.datetime64("NaT")
    return pd.Series(ends, index=index.index)


def as_of_month(as_of: date) -> int:
    """The month index of a date."""
    return as_of.year * 12 + as_of.month - 1


def deadline_passed(upload_month: pd.Series, as_of: date, deadline_day: int) -> pd.Series:
    """Whether the upload of each month index is due as of `as_of` (plain bool).

    The upload of month M is due by day `deadline_day` of month M+1 (uploads.md); it
    is *due* once that deadline has passed, i.e. from the next day on.
    """
    current = as_of_month(as_of)
    nxt = upload_month.astype("Int64") + 1
    passed = (nxt < current) | ((nxt == current) & (as_of.day > deadline_day))
    return passed.fillna(False).astype(bool)


def deadline_moments(report_months: pd.Series, deadline_day: int) -> pd.Series:
    """The first moment an upload of each `YYYY-MM` month is late: the start of the day
    after day `deadline_day` of the next month (NaT for a null or unreadable month)."""
    nxt = month_index(report_months) + 1
    missing = nxt.isna().to_numpy()
    starts = (nxt.fillna(_EPOCH_MONTH).to_numpy(np.int64) - _EPOCH_MONTH).astype("datetime64[M]")
    moments = starts.astype("datetime64[s]") + np.timedelta64(deadline_day, "D")
    moments[missing] = np.datetime64("NaT")
    return pd.Series(moments, index=report_months.index)
