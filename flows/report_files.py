"""Writing what people read: the officer report with its explanation pages, and the bulletin.

Thin: the warehouse reads the frames (warehouse.report_data, warehouse.mart_export),
transforms/ shapes them, reports/ renders the pages, and here they are written —
HTML as UTF-8 text, spreadsheets through warehouse.tabular (formula injection
neutralised). A second report or bulletin of the same day replaces the first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection

from reports.bulletin import render_bulletin_html
from reports.explain_page import render_explain_page
from reports.officer_report import render_html
from transforms.indicators.catalog import Catalog, load_catalog
from transforms.officer.bulletin import bulletin_sheets, bulletin_table
from transforms.officer.report import (
    AREA_COLUMNS,
    ReportInput,
    report_file_names,
    workbook_sheets,
)
from warehouse.mart_export import bulletin_rows, last_complete_month
from warehouse.tabular import write_xlsx


@dataclass(frozen=True)
class ReportFiles:
    """The files one report wrote."""

    html: Path
    xlsx: Path
    explain_pages: tuple[Path, ...] = ()


def _write_text(path: Path, text: str) -> Path:
    """Write through a temporary file, so a reader never opens half a page."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


def write_report(data: ReportInput, folder: Path, day: date, lang: str = "zh") -> ReportFiles:
    """Write the HTML report, the open-issues workbook and one explanation page per
    township into `folder` (made if needed)."""
    folder.mkdir(parents=True, exist_ok=True)
    html_name, xlsx_name = report_file_names(day)
    html_path = _write_text(folder / html_name, render_html(data, lang))
    xlsx_path = write_xlsx(folder / xlsx_name, workbook_sheets(data, lang))
    pages = []
    names = _township_names(data)
    for code, explained in data.explanations.items():
        page = folder / data.explain_pages[code]
        text = render_explain_page(code, names.get(code, code), explained, lang, html_name)
        page.write_text(text, encoding="utf-8")
        pages.append(page)
    return ReportFiles(html=html_path, xlsx=xlsx_path, explain_pages=tuple(pages))


def _township_names(data: ReportInput) -> dict[str, str]:
    areas = data.areas.reindex(columns=list(AREA_COLUMNS)).astype("string")
    return {
        str(c): str(n) for c, n in zip(areas["code"], areas["name"], strict=True) if pd.notna(n)
    }


@dataclass(frozen=True)
class BulletinFiles:
    """The bulletin written: the page, the workbook, and how many ranked rows they hold."""

    html: Path
    xlsx: Path
    rows: int


def write_bulletin(
    conn: Connection,
    period: str,
    out_dir: Path,
    generated_at: str | None = None,
    catalog: Catalog | None = None,
) -> BulletinFiles | None:
    """`bulletin_<period>.html` and `.xlsx` in `out_dir`; None when the period has no rows."""
    cat = catalog or load_catalog()
    rows = bulletin_rows(conn, period, cat)
    if rows.current.empty:
        return None
    page = render_bulletin_html(
        rows.current,
        rows.previous,
        rows.period,
        cat,
        rows.previous_period,
        generated_at,
        through_month=last_complete_month(conn, rows.period),
    )
    table = bulletin_table(rows.current, rows.previous, cat)
    stem = f"bulletin_{rows.period}".replace("..", "_to_")
    out_dir.mkdir(parents=True, exist_ok=True)
    html_path = out_dir / f"{stem}.html"
    html_path.write_text(page, encoding="utf-8")
    xlsx_path = write_xlsx(out_dir / f"{stem}.xlsx", bulletin_sheets(table))
    return BulletinFiles(html=html_path, xlsx=xlsx_path, rows=len(table))
