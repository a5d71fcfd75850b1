"""Writing tables for people: XLSX and CSV with formula injection neutralised.

A cell that starts with `=`, `+`, `-`, `@` (or a tab / carriage return) is run as
a formula by Excel and WPS; an upload could plant one in a name or a remark, and
an officer opening the export would run it. Such text gets a leading `'`.
Numbers stay numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _neutral_label(label: object) -> object:
    if isinstance(label, str) and label.startswith(_FORMULA_START):
        return "'" + label
    return label


def sheet_names(names: Iterable[str]) -> list[str]:
    """Legal, distinct sheet names: no `[]:*?/\\`, no leading or trailing `'`, at most 31
    characters, unique ignoring case (a township may be named anything)."""
    taken: set[str] = set()
    legal = []
    for name in names:
        base = re.sub(r"[\[\]:*?/\\]", "_", str(name)).strip("'")[:31] or "Sheet"
        candidate, k = base, 1
        while candidate.lower() in taken:
            k += 1
            suffix = f"_{k}"
            candidate = base[: 31 - len(suffix)] + suffix
        taken.add(candidate.lower())
        legal.append(candidate)
    return legal


def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells and column headers that a spreadsheet would run as formulas, prefixed
    with `'` (a pivot's headers are values too: a township may be named `=1+1`)."""
    out = frame.copy()
    out.columns = pd.Index([_neutral_label(c) for c in out.columns])
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_string_dtype(series) or series.dtype == object:
            text = series.astype("string")
            risky = text.str.startswith(_FORMULA_START).fillna(False).astype(bool)
            out[column] = text.where(~risky, "'" + text)
    return out


def write_xlsx(path: Path, sheets: Mapping[str, pd.DataFrame]) -> Path:
    """One workbook, a sheet per frame (headers as given, e.g. Chinese), formulas neutralised."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with pd.ExcelWriter(
        path,
        engine="xlsxwriter",
        engine_kwargs={"options": {"strings_to_formulas": False, "strings_to_urls": False}},
    ) as writer:
        for name, frame in zip(sheet_names(sheets), sheets.values(), strict=True):
            safe = neutralise(frame)
            safe.to_excel(writer, sheet_name=name, index=False)
            sheet = writer.sheets[name]
            for i, column in enumerate(safe.columns):
                width = max([len(str(column)) * 2, *safe[column].astype(str).str.len().head(200)])
                sheet.set_column(i, i, min(max(width, 8), 60))
            sheet.freeze_panes(1, 0)
    return path


def write_csv(path: Path, frame: pd.DataFrame) -> Path:
    """UTF-8 with BOM, so that Excel on Chinese Windows opens it correctly."""
    path.parent.mkdir(parents=True, exist_ok=True)
    neutralise(frame).to_csv(path, index=False, encoding="utf-8-sig")
    return path


def write_parquet(path: Path, frame: pd.DataFrame) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path, index=False)
    return path
