"""Writing exports of the published mart: CSV (UTF-8 with BOM) or XLSX with Chinese
headers (transforms.officer.mart_presentation), Parquet with the English names and
unrounded values for dashboards.

Thin: warehouse.mart_export reads the rows (one per area × period × indicator),
here they are written through warehouse.tabular (formula injection neutralised).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd
from sqlalchemy import Connection

from transforms.indicators.catalog import Catalog
from transforms.officer.mart_presentation import presentation_frame
from warehouse.mart_export import MartFilter, query_mart
from warehouse.tabular import write_csv, write_parquet, write_xlsx

ExportFormat = Literal["csv", "xlsx", "parquet"]
FORMATS: tuple[ExportFormat, ...] = ("csv", "xlsx", "parquet")
SHEET_NAME = "考核指标达标情况"


def default_file_name(fmt: ExportFormat, selection: MartFilter) -> str:
    """`mart_target_achievement_2026-Q3_654226100.csv`: the table and the filters."""
    parts = ["mart_target_achievement", *selection.periods, *selection.areas]
    if len(selection.indicators) == 1:
        parts.append(selection.indicators[0])
    return "_".join(parts).replace("..", "_to_") + f".{fmt}"


def parquet_frame(mart: pd.DataFrame) -> pd.DataFrame:
    """The mart as dashboards read it: English names, unrounded values, real dates."""
    out = mart.copy()
    for column in ("period_start", "period_end"):
        out[column] = pd.to_datetime(out[column]).dt.date
    return out


def write_export(frame: pd.DataFrame, fmt: ExportFormat, path: Path) -> Path:
    """Write mart rows: CSV (UTF-8 with BOM) or XLSX with Chinese headers, Parquet in English."""
    if fmt == "csv":
        return write_csv(path, presentation_frame(frame))
    if fmt == "xlsx":
        return write_xlsx(path, {SHEET_NAME: presentation_frame(frame)})
    if fmt == "parquet":
        return write_parquet(path, parquet_frame(frame))
    raise ValueError(f"unknown export format {fmt!r}; one of {', '.join(FORMATS)}")


@dataclass(frozen=True)
class ExportResult:
    """Where the export went and how many rows it holds."""

    path: Path | None
    rows: int


def export_mart(
    conn: Connection,
    fmt: ExportFormat,
    out: Path,
    selection: MartFilter | None = None,
    catalog: Catalog | None = None,
) -> ExportResult:
    """Write the selected mart rows to `out`: a file, or a folder (an existing one, or a
    path without a suffix) that gets the default name.

    Writes nothing when no row matches (a wrong period is more likely than a wish
    for an empty file); the result then has no path.
    """
    selection = selection or MartFilter()
    frame = query_mart(conn, selection, catalog)
    if frame.empty:
        return ExportResult(path=None, rows=0)
    folder = out.is_dir() or not out.suffix
    path = out / default_file_name(fmt, selection) if folder else out
    return ExportResult(path=write_export(frame, fmt, path), rows=len(frame))
