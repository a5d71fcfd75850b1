"""What the officer report reads from the warehouse: frames, gathered in a `ReportInput`.

The report shows the issues an officer still has to act on — `open` and
`acknowledged`, still found by the latest check (`active`) — with the reporting
rows and the latest completed run. Units are named and placed under their
townships from the reference folder (`areas.csv`, `institutions.csv`); without
it, the report still works by code. Rendering and writing the files is the
caller's (flows.report_files, with reports/).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection, select

from transforms.indicators.catalog import load_catalog
from transforms.officer.explain import Explanation
from transforms.officer.report import (
    AREA_COLUMNS,
    FIGURE_COLUMNS,
    INSTITUTION_COLUMNS,
    ReportInput,
    explain_page_name,
)
from warehouse import schema
from warehouse.explain_data import explain_many
from warehouse.load import read_frame
from warehouse.reference import read_reference

REPORT_STATUSES = ("open", "acknowledged")
"""Statuses an officer still has to act on; resolved and waived issues are done."""


def report_issues(conn: Connection) -> pd.DataFrame:
    """Active issues still to act on (`REPORT_STATUSES`), every `dq_issues` column."""
    c = schema.dq_issues.c
    query = (
        select(schema.dq_issues)
        .where(c.status.in_(REPORT_STATUSES), c.active.is_(True))
        .order_by(c.unit, c.report_month, c.file_name, c.row_number, c.rule, c.issue_id)
    )
    return read_frame(conn, query)


def report_reporting(conn: Connection) -> pd.DataFrame:
    """Every expected upload (`dq_reporting`), received or not, on time or not."""
    r = schema.dq_reporting.c
    return read_frame(
        conn, select(schema.dq_reporting).order_by(r.unit, r.source, r.kind, r.report_month)
    )


def latest_run(conn: Connection) -> tuple[str, date] | None:
    """(run_id, as_of) of the latest completed run, or None before the first."""
    r = schema.runs.c
    row = conn.execute(
        select(r.run_id, r.as_of)
        .where(r.status == "completed")
        .order_by(r.finished_at.desc(), r.run_id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    as_of = row[1]
    if isinstance(as_of, datetime):
        as_of = as_of.date()
    return str(row[0]), as_of


def report_period(conn: Connection) -> str | None:
    """The period whose figures the report explains: the latest year-to-date period
    published (`2026-01..2026-09`), or None before the first publication."""
    m = schema.mart_target_achievement.c
    periods = [str(p) for (p,) in conn.execute(select(m.period).distinct())]
    year_to_date = [p for p in periods if ".." in p]
    return max(year_to_date, key=lambda p: p.split("..")[1]) if year_to_date else None


def report_figures(conn: Connection, period: str) -> pd.DataFrame:
    """Township figures of `period` (mart rows, FIGURE_COLUMNS), in catalog order."""
    m = schema.mart_target_achievement.c
    rows = read_frame(
        conn,
        select(*[m[c] for c in FIGURE_COLUMNS]).where(
            m.period == period, m.area_level == "township"
        ),
    )
    order = {code: i for i, code in enumerate(i.code for i in load_catalog())}
    rows["_order"] = rows["indicator"].map(order).fillna(len(order))
    return rows.sort_values(["area_code", "_order"]).drop(columns="_order").reset_index(drop=True)


def township_explanations(conn: Connection, figures: pd.DataFrame) -> dict[str, list[Explanation]]:
    """Every township figure explained (transforms.officer.explain), per township code."""
    out: dict[str, list[Explanation]] = {}
    for (area, period), rows in figures.groupby(["area_code", "period"], sort=False):
        codes = [str(c) for c in rows["indicator"]]
        out[str(area)] = explain_many(conn, str(area), str(period), codes)
    return out


def load_report_input(
    conn: Connection,
    areas: pd.DataFrame | None = None,
    institutions: pd.DataFrame | None = None,
    reference: Path | None = None,
    generated_at: datetime | None = None,
    explain_day: date | None = None,
) -> ReportInput:
    """Everything the report shows.

    Areas and institutions come from the frames given, else from the `reference`
    folder (`read_reference`, which raises `ReferenceError` when a file is
    missing), else are empty (units shown by code).
    """
    if (areas is None or institutions is None) and reference is not None:
        ref = read_reference(reference)
        areas = ref.areas if areas is None else areas
        institutions = ref.institutions if institutions is None else institutions
    run = latest_run(conn)
    period = report_period(conn)
    figures = report_figures(conn, period) if period else None
    explanations = township_explanations(conn, figures) if figures is not None else {}
    day = explain_day or (generated_at or datetime.now()).date()
    pages = {code: explain_page_name(day, code) for code in explanations}
    return ReportInput(
        issues=report_issues(conn),
        reporting=report_reporting(conn),
        areas=_or_empty(areas, AREA_COLUMNS),
        institutions=_or_empty(institutions, INSTITUTION_COLUMNS),
        generated_at=generated_at or datetime.now(),
        data_as_of=run[1] if run else None,
        run_id=run[0] if run else None,
        figures=figures if figures is not None else _or_empty(None, FIGURE_COLUMNS),
        explain_pages=pages,
        explanations=explanations,
    )


def _or_empty(frame: pd.DataFrame | None, columns: tuple[str, ...]) -> pd.DataFrame:
    if frame is None:
        return pd.DataFrame({c: pd.Series([], dtype="string") for c in columns})
    return frame
