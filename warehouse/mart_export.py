"""Reading the published mart for people: filtered exports and the rows of a bulletin.

`query_mart` selects rows of mart_target_achievement (by period, by area and
everything below it, by indicator), one row per area × period × indicator;
flows.export_files writes them. `bulletin_rows` reads a period and the one before
it for the bulletin (rendered by reports.bulletin, written by flows.report_files).
Read-only and no files: frames out, nothing written.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection, func, or_, select

from transforms.indicators.catalog import Catalog, load_catalog
from transforms.officer.bulletin import previous_period
from transforms.periods import parse_period
from warehouse import schema
from warehouse.load import read_frame


@dataclass(frozen=True)
class MartFilter:
    """Which mart rows to read; an empty tuple means no filter on that column.

    `areas` selects each area and everything below it (codes that start with it).
    """

    periods: tuple[str, ...] = ()
    areas: tuple[str, ...] = ()
    indicators: tuple[str, ...] = ()


def _split(values: Iterable[str] | None) -> tuple[str, ...]:
    """Repeated flags and comma-separated lists, flattened, blanks dropped, order kept."""
    out: list[str] = []
    for value in values or ():
        out += [v.strip() for v in str(value).split(",") if v.strip()]
    return tuple(dict.fromkeys(out))


def make_filter(
    periods: Iterable[str] | None = None,
    areas: Iterable[str] | None = None,
    indicators: Iterable[str] | None = None,
    catalog: Catalog | None = None,
) -> MartFilter:
    """A validated filter: period labels as parse_period writes them, digit-only area
    codes, indicator codes from the catalog. Anything else is a ValueError that says why.
    """
    try:
        period_labels = tuple(parse_period(p).label for p in _split(periods))
    except ValueError as error:
        raise ValueError(f"期间无效 / {error}") from error
    area_codes = _split(areas)
    bad_areas = [a for a in area_codes if not a.isascii() or not a.isdigit()]
    if bad_areas:
        raise ValueError(f"区划代码只能是数字 / area codes are digits only: {', '.join(bad_areas)}")
    codes = _split(indicators)
    known = (catalog or load_catalog()).codes
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise ValueError(
            f"未知指标 / unknown indicators: {', '.join(unknown)}; 可选 / known: {', '.join(known)}"
        )
    return MartFilter(periods=period_labels, areas=area_codes, indicators=codes)


def _order(frame: pd.DataFrame, catalog: Catalog) -> pd.DataFrame:
    """Area code, then period (start, then end: the month before the ytd, quarter, …),
    then indicators in catalog order."""
    if frame.empty:
        return frame.reset_index(drop=True)
    position = {code: i for i, code in enumerate(catalog.codes)}
    keys = pd.DataFrame(
        {
            "area": frame["area_code"].astype("string"),
            "start": frame["period_start"],
            "end": frame["period_end"],
            "indicator": frame["indicator"].map(lambda c: position.get(c, len(position))),
            "code": frame["indicator"].astype("string"),
        },
        index=frame.index,
    )
    ordered = keys.sort_values(["area", "start", "end", "indicator", "code"], kind="stable")
    return frame.loc[ordered.index].reset_index(drop=True)


def query_mart(
    conn: Connection, selection: MartFilter = MartFilter(), catalog: Catalog | None = None
) -> pd.DataFrame:
    """The mart rows that match, every column, ordered by area, period and catalog order."""
    m = schema.mart_target_achievement.c
    statement = select(schema.mart_target_achievement)
    if selection.periods:
        statement = statement.where(m.period.in_(selection.periods))
    if selection.indicators:
        statement = statement.where(m.indicator.in_(selection.indicators))
    if selection.areas:
        statement = statement.where(
            or_(*[m.area_code.startswith(code, autoescape=True) for code in selection.areas])
        )
    frame = read_frame(conn, statement)
    # read_frame types Numeric columns but not Float ones (not a Numeric subclass in
    # SQLAlchemy 2.1): the doubles come back as text unless made numbers here.
    for column in ("value", "target", "target_hi"):
        frame[column] = pd.to_numeric(frame[column]).astype("Float64")
    return _order(frame, catalog or load_catalog())


@dataclass(frozen=True)
class BulletinRows:
    """The mart rows of a bulletin: the period, and the period before it (maybe empty)."""

    period: str
    previous_period: str | None
    current: pd.DataFrame
    previous: pd.DataFrame


def bulletin_rows(conn: Connection, period: str, catalog: Catalog | None = None) -> BulletinRows:
    """Every area's rows for `period` and for the period before it (Q3 → Q2, Q1 → last Q4)."""
    label = parse_period(period).label
    before = previous_period(label)
    labels = (label,) if before is None else (label, before)
    frame = query_mart(conn, MartFilter(periods=labels), catalog)
    current = frame.loc[frame["period"] == label].reset_index(drop=True)
    previous = (
        frame.loc[frame["period"] == before].reset_index(drop=True)
        if before is not None
        else frame.iloc[0:0]
    )
    return BulletinRows(label, before, current, previous)


def last_complete_month(conn: Connection, period: str) -> str | None:
    """The last month of `period` whose own mart rows say it is complete (all due)."""
    months = parse_period(period).months
    m = schema.mart_target_achievement.c
    found = conn.execute(
        select(func.max(m.period)).where(m.period.in_(months), m.period_complete.is_(True))
    ).scalar()
    return None if found is None else str(found)
