"""Read an upload's bytes into a frame of strings under its header row.

uploads.md, "Encodings and formats". Two steps:

1. `read_grid`: the file as a grid of strings (CSV in UTF-8, UTF-8 with BOM or
   GB18030/GBK; XLSX: the first sheet). Nothing is inferred: an ID keeps its leading
   zeros, a number typed into Excel is rendered the way the officer saw it.
2. `read_upload`: find the header row (title rows above it are skipped), name the
   columns, drop blank rows and a trailing `合计` row, and number the rows so that
   an officer can find each one in the file.

`read_upload` never raises: a file that cannot be used carries a `ReadProblem`
(`empty`, `unreadable`, `unclosed_quote`, `too_large`, `no_header`,
`missing_required_columns`) with reasons in Chinese and English, and the loader
quarantines it. Before parsing, `check_limits` (upload_limits.py) looks at what is
cheap to know (bytes, CSV lines, the XLSX archive's sizes and the sheet's declared
dimension) against `ReadLimits`; the loader parses in a worker process with a memory and
time limit as well (warehouse/sandbox.py), because a parser can still be made to
allocate without bound.

XLSX cell rendering (one string per cell, `<NA>` for an empty cell):

- text: as stored (a `'0012` ID typed as text keeps its zeros);
- integral numbers below 1e15: digits without `.0` (`3`, `654226101001`, an Excel
  serial date `46268`); a legacy 15-digit ID typed as a number survives this way;
- integral numbers from 1e15: scientific notation (`6.542261990010112E+17`). Excel has
  already destroyed such an 18-digit ID; the ID normaliser reports `id_scientific`;
- other numbers: up to 15 significant digits, as Excel shows them (`12000.5`);
- date cells: `YYYY-MM-DD`; date-time cells `YYYY-MM-DD HH:MM:SS` (the time part is
  dropped at midnight); time cells `HH:MM:SS`;
- booleans (TRUE/FALSE cells): `1` / `0`, which the yes/no type reads as 是 / 否;
- errors (`#DIV/0!`) arrive from calamine as their cached value or as empty.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property, lru_cache
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from transforms.landing.upload_limits import (
    HEADER_SEARCH_ROWS,
    ReadLimits,
    ReadProblem,
    ReadProblemCode,
    check_limits,
    too_large_problem,
)
from transforms.templates import Template, fold_header

ROW_NUMBER = "row_number"
_STRING = pd.StringDtype()
_TOTAL_ROW = re.compile(r"(合计|总计|小计)(\W.*)?", re.DOTALL)
_SCIENTIFIC_FROM = 1e15


class UnreadableError(ValueError):
    """`read_grid` could not decode or open the bytes; carries the officer-facing reasons."""

    def __init__(
        self, reason_zh: str, reason_en: str, code: ReadProblemCode = "unreadable"
    ) -> None:
        super().__init__(reason_en)
        self.reason_zh = reason_zh
        self.reason_en = reason_en
        self.code: ReadProblemCode = code


@dataclass(frozen=True)
class ReadResult:
    """One upload, read.

    `table` holds the data rows under the header: one text column per header cell of
    the file (its original text, stripped; repeats de-duplicated as `姓名_2`; a blank header
    over data becomes `列<n>`, n = 1-based column position), plus the int column
    `row_number` (1 = first row under the header; blank rows are dropped but still counted).
    `frame` is the same as pandas (`string` columns). `columns` maps each template column
    found to its table column; `extra_columns` are the table columns that are not in the
    template (kept raw, ignored downstream). `header_row` is 0-based in the file;
    `encoding` is None for XLSX.
    """

    table: pa.Table
    columns: dict[str, str]
    extra_columns: tuple[str, ...]
    missing_required: tuple[str, ...]
    encoding: str | None
    header_row: int | None
    problem: ReadProblem | None
    template: Template | None = field(default=None, repr=False, compare=False)

    @cached_property
    def frame(self) -> pd.DataFrame:
        """`table` as pandas, built on first use: landing stages the Arrow table itself."""
        columns: dict[str, Any] = {
            name: pd.arrays.ArrowStringArray(column.combine_chunks())
            for name, column in zip(self.table.column_names, self.table.columns, strict=True)
            if name != ROW_NUMBER
        }
        columns[ROW_NUMBER] = self.table.column(ROW_NUMBER).to_numpy()
        return pd.DataFrame(columns, index=pd.RangeIndex(self.table.num_rows), copy=False)

    @property
    def ok(self) -> bool:
        """True when the upload can be normalised (no problem)."""
        return self.problem is None


# --------------------------------------------------------------------------- decoding


def _decode(data: bytes) -> tuple[str, str] | None:
    """(text, encoding) or None when no supported encoding decodes the bytes strictly."""
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data.decode("utf-8-sig"), "utf-8-sig"
        except UnicodeDecodeError:
            return None
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return None


# --------------------------------------------------------------------------- grids

_TEXT = pa.large_string()


@dataclass(frozen=True)
class _Cells:
    """A file's grid: `text` holds its cells column after column as one Arrow array (null
    where blank: empty, or only whitespace as `str.strip` sees it), `present`
    says which cells hold text, as (columns, rows); trailing blank columns are dropped.

    A file's cells are cleaned in a few Arrow calls, not one Python test a cell: upload
    files are small and many, and that test was most of a CSV's reading.
    """

    text: pa.Array
    present: np.ndarray
    rows: int

    @property
    def width(self) -> int:
        return int(self.present.shape[0])

    def column(self, position: int, start: int = 0) -> pa.Array:
        """One grid column's cells from row `start` on (zero-copy)."""
        return self.text.slice(position * self.rows + start, self.rows - start)

    def head(self, stop: int) -> list[list[str | None]]:
        """The first `stop` rows as lists of text or None (the header search reads few)."""
        stop = min(stop, self.rows)
        columns = [self.column(j).slice(0, stop).to_pylist() for j in range(self.width)]
        return [list(row) for row in zip(*columns, strict=True)] if columns else [[]] * stop

    def objects(self) -> np.ndarray:
        """The cells as a 2-D object array (text or None), rows by columns."""
        values = self.text.to_numpy(zero_copy_only=False)
        return values.reshape(self.width, self.rows).T


def _cells(cells: np.ndarray) -> _Cells:
    """The grid of the raw cells (a 2-D object array: text or None), cleaned."""
    rows, width = cells.shape
    if width == 0 or rows == 0:
        return _Cells(pa.array([], type=_TEXT), np.zeros((0, rows), bool), rows)
    # Column after column: a grid column is then a slice of one array.
    text = pa.array(cells.T.ravel(), type=_TEXT)
    blank = pc.equal(pc.utf8_trim_whitespace(text), "").fill_null(True)
    present = ~blank.to_numpy(zero_copy_only=False).reshape(width, rows)
    has_value = np.flatnonzero(present.any(axis=1))
    width = int(has_value[-1]) + 1 if len(has_value) else 0
    present = present[:width]
    text = text.slice(0, width * rows)
    if not present.all():
        text = pc.if_else(pa.array(present.ravel()), text, pa.scalar(None, _TEXT))
    return _Cells(text, present, rows)


def _cells_frame(cells: _Cells) -> pd.DataFrame:
    """The grid of `read_grid` from cleaned cells: columns 0..n-1 of `string`."""
    if cells.width == 0:
        return pd.DataFrame(index=pd.RangeIndex(cells.rows), columns=pd.RangeIndex(0))
    return pd.DataFrame(cells.objects(), columns=pd.RangeIndex(cells.width), dtype=_STRING)


def _blank_to_na(value: str) -> str | None:
    return value if value.strip() else None


def _rows_cells(rows: list[list[str | None]]) -> _Cells:
    """Ragged rows as cleaned cells (short rows padded with None)."""
    width = max(map(len, rows), default=0)
    if width == 0:
        return _cells(np.empty((len(rows), 0), dtype=object))
    # Padded as lists, then one array: a row-by-row copy into the array costs more.
    padded = [r if len(r) == width else [*r, *([None] * (width - len(r)))] for r in rows]
    cells = np.empty((len(rows), width), dtype=object)
    cells[:] = padded
    return _cells(cells)


def _csv_cells(text: str) -> _Cells:
    """Parse CSV text into cleaned cells with the csv module (C), ragged records padded.

    Uploads are small (a village's month is about a hundred lines): the csv module reads
    one in a fraction of the time pandas' parser spends setting up, and it reads what a
    spreadsheet writes (a title row of one field, quoted fields spanning lines) as it is.
    """
    rows: list[list[str | None]] = [*csv.reader(io.StringIO(text, newline=""), strict=False)]
    return _rows_cells(rows)


def _unclosed_quote_line(text: str) -> int | None:
    """The 1-based line where a quoted field opens and never closes, or None.

    Well-formed CSV holds an even number of `"`: an odd count is the cheap sign, and
    then the csv module (strict) finds the record that runs into the end of the file.
    """
    if text.count('"') % 2 == 0:
        return None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    ended_at = 0
    try:
        for _ in reader:
            ended_at = reader.line_num
    except csv.Error:
        return ended_at + 1
    return None


def _check_quotes(text: str) -> None:
    line = _unclosed_quote_line(text)
    if line is not None:
        raise UnreadableError(
            f'CSV 文件第 {line} 行的引号（"）没有闭合，其后各行都会被读进同一个单元格。'
            "请删除或补齐这个引号，或用 Excel 打开后“另存为”CSV（逗号分隔）再重新上传。",
            f'A quote (") opened on line {line} of the CSV file is never closed: every line '
            "after it would be read into one cell. Remove or close the quote, or open the file "
            "in Excel, save it as CSV (comma delimited) and upload it again.",
            code="unclosed_quote",
        )


def _read_csv(data: bytes) -> tuple[_Cells, str]:
    if data.startswith(b"PK\x03\x04") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnreadableError(
            "这是一个 Excel 文件，却以 .csv 为扩展名。请把扩展名改为 .xlsx，"
            "或在 Excel 中“另存为”CSV（逗号分隔）后重新上传。",
            "This is an Excel workbook named .csv. Rename it to .xlsx, or save it in Excel "
            "as CSV (comma delimited), and upload it again.",
        )
    decoded = _decode(data)
    if decoded is None or "\x00" in decoded[0]:
        raise UnreadableError(
            "无法识别文件编码：CSV 文件应为 UTF-8 或 GBK/GB18030 编码的文本。"
            "请用 Excel 打开后“另存为”CSV（逗号分隔）或 CSV UTF-8，再重新上传。",
            "The file's encoding is not recognised: a CSV upload must be text in UTF-8 or "
            "GBK/GB18030. Open it in Excel, save it as CSV (comma delimited) or CSV UTF-8, "
            "and upload it again.",
        )
    text, encoding = decoded
    if encoding == "utf-8" and text.startswith("\ufeff"):
        text = text[1:]
    _check_quotes(text)
    try:
        grid = _csv_cells(text)
    except csv.Error as exc:
        raise UnreadableError(
            f"CSV 文件格式错误，无法解析（{exc}）。"
            "请用 Excel 打开后“另存为”CSV（逗号分隔）再重新上传。",
            f"The CSV file is malformed and cannot be parsed ({exc}). Open it in Excel, save it "
            "as CSV (comma delimited) and upload it again.",
        ) from exc
    return grid, encoding


def _render_float(value: float) -> str | None:
    if math.isnan(value) or math.isinf(value):
        return None
    if value.is_integer():
        if abs(value) < _SCIENTIFIC_FROM:
            return str(int(value))
        return format(Decimal(repr(value)).normalize(), "E")
    text = format(value, ".15g")
    return repr(value) if "e" in text else text


def render_cell(value: object) -> str | None:
    """One XLSX cell as the string the officer saw (None when empty); see the module doc."""
    if value is None:
        return None
    if isinstance(value, str):
        return _blank_to_na(value)
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _render_float(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat(timespec="seconds")
    return _blank_to_na(str(value))


def _xlsx_rows(data: bytes) -> list[list[str | None]]:
    from python_calamine import CalamineWorkbook

    try:
        with CalamineWorkbook.from_filelike(io.BytesIO(data)) as workbook:
            sheet = workbook.get_sheet_by_index(0)
            cells = sheet.to_python(skip_empty_area=False)
            # Text cells pass as they are (cleaning blanks them later): only numbers, dates
            # and booleans need rendering, and a call per text cell is most of the cost.
            return [[c if c.__class__ is str else render_cell(c) for c in row] for row in cells]
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # calamine raises CalamineError, zip errors, Rust panics
        raise UnreadableError(
            "无法打开 Excel 文件：文件已损坏、加了密码或不是 .xlsx 格式。"
            "请用 Excel 打开后“另存为”Excel 工作簿(.xlsx)再重新上传。",
            "The Excel file cannot be opened: it is damaged, password-protected or not an "
            ".xlsx workbook. Open it in Excel, save it as an Excel workbook (.xlsx) and upload "
            "it again.",
        ) from exc


def _read_cells(data: bytes, file_format: str) -> tuple[_Cells, str | None]:
    """The file's cleaned cells and its encoding (None for XLSX)."""
    fmt = file_format.lower().lstrip(".")
    if fmt == "csv":
        return _read_csv(data)
    if fmt == "xlsx":
        return _rows_cells(_xlsx_rows(data)), None
    raise UnreadableError(
        f"不支持的文件格式 {file_format}，只接受 .csv 和 .xlsx。",
        f"Unsupported file format {file_format}; only .csv and .xlsx are accepted.",
    )


def read_grid(data: bytes, file_format: str) -> pd.DataFrame:
    """The file as a grid: columns 0..n-1, one row per file row, `string` cells, NA when blank.

    No header is interpreted and no value is inferred. CSV rows may be ragged (a title row
    with one field); short rows are padded with NA. `file_format` is `csv` or `xlsx`.
    Raises `UnreadableError` when the bytes cannot be decoded or opened.
    """
    return _cells_frame(_read_cells(data, file_format)[0])


# --------------------------------------------------------------------------- limits


def _too_large(
    what_zh: str, what_en: str, limits: ReadLimits, template: Template | None
) -> ReadResult:
    return failed_read(too_large_problem(what_zh, what_en, limits), template)


# --------------------------------------------------------------------------- header


@lru_cache(maxsize=64)
def _spelling_lookup(template: Template) -> dict[str, tuple[str, int]]:
    """Folded spelling -> (column name, priority); header 0, canonical name 1, alias 2."""
    lookup: dict[str, tuple[str, int]] = {}
    for column in template.columns:
        candidates = [(column.header, 0), (column.name, 1)] + [(a, 2) for a in column.aliases]
        for spelling, priority in candidates:
            key = fold_header(spelling)
            if key not in lookup or priority < lookup[key][1]:
                lookup[key] = (column.name, priority)
    return lookup


def _match_row(cells: list[str | None], lookup: dict[str, tuple[str, int]]) -> dict[str, int]:
    """Template column -> grid position for one candidate header row (best spelling wins)."""
    best: dict[str, tuple[int, int]] = {}
    for position, cell in enumerate(cells):
        if cell is None:
            continue
        hit = lookup.get(fold_header(cell))
        if hit is None:
            continue
        name, priority = hit
        if name not in best or priority < best[name][0]:
            best[name] = (priority, position)
    return {name: position for name, (_, position) in best.items()}


def _row_texts(cells: np.ndarray) -> list[list[str | None]]:
    """Rows of cells as lists of text or None (one conversion, not one per row)."""
    return [[None if v is None else str(v) for v in row] for row in cells.tolist()]


def _grid_cells(grid: pd.DataFrame) -> np.ndarray:
    return grid.to_numpy(dtype=object, na_value=None)


def _header_row(head: list[list[str | None]], template: Template) -> int | None:
    """The header's row among the grid's first rows `head` (at most HEADER_SEARCH_ROWS, as
    both callers take them; see `locate_header`)."""
    lookup = _spelling_lookup(template)
    required = {c.name for c in template.required_columns}
    best_row: int | None = None
    best_count = 1
    for row, texts in enumerate(head):
        matched = _match_row(texts, lookup)
        if required <= matched.keys() and matched:
            return row
        if len(matched) > best_count:
            best_row, best_count = row, len(matched)
    return best_row


def locate_header(grid: pd.DataFrame, template: Template) -> int | None:
    """The 0-based grid row holding the header, or None.

    The first of the first `HEADER_SEARCH_ROWS` rows whose cells name every required column
    of the template (by header, alias or canonical name, compared with `fold_header`). When
    no row names them all, the row naming the most template columns, if it names at least
    two, so that the caller can report which required columns are missing.
    """
    return _header_row(_row_texts(_grid_cells(grid.iloc[:HEADER_SEARCH_ROWS])), template)


# --------------------------------------------------------------------------- upload


def _column_names(header: list[str | None], used: list[int]) -> list[str]:
    names: list[str] = []
    taken: set[str] = set()
    for position in used:
        cell = header[position]
        base = cell.strip() if cell is not None and cell.strip() else f"列{position + 1}"
        if base == ROW_NUMBER:
            base = f"{ROW_NUMBER}_"
        name, k = base, 1
        while name in taken:
            k += 1
            name = f"{base}_{k}"
        taken.add(name)
        names.append(name)
    return names


def _is_total_row(first_cell: str | None) -> bool:
    return first_cell is not None and _TOTAL_ROW.fullmatch(fold_header(first_cell)) is not None


def _empty_table() -> pa.Table:
    return pa.table({ROW_NUMBER: pa.array([], type=pa.int64())})


def _failed(
    code: ReadProblemCode, zh: str, en: str, encoding: str | None, template: Template | None
) -> ReadResult:
    return ReadResult(
        table=_empty_table(),
        columns={},
        extra_columns=(),
        missing_required=(),
        encoding=encoding,
        header_row=None,
        problem=ReadProblem(code=code, reason_zh=zh, reason_en=en),
        template=template,
    )


def failed_read(problem: ReadProblem, template: Template | None) -> ReadResult:
    """The result of an upload that could not be read for `problem` (no rows)."""
    return _failed(problem.code, problem.reason_zh, problem.reason_en, None, template)


def _headers_zh(template: Template, names: Iterable[str]) -> str:
    return "、".join(template.column(n).header for n in names)


def _headers_en(template: Template, names: Iterable[str]) -> str:
    return ", ".join(f"{template.column(n).header} ({n})" for n in names)


def _body(
    cells: _Cells, header_row: int, header: list[str | None]
) -> tuple[pa.Table, dict[int, str]]:
    """Data rows under the header (blank and trailing total rows dropped).

    Returns the table and grid position -> table column name. A column is kept when its
    header cell or any cell under it is non-blank.
    """
    start = header_row + 1
    present = cells.present[:, start:]
    has_data: list[bool] = np.asarray(present.any(axis=1)).tolist()
    used = [p for p in range(cells.width) if header[p] is not None or has_data[p]]
    names = _column_names(header, used)
    kept = np.flatnonzero(present[used].any(axis=0))
    while len(kept):
        last = int(kept[-1])
        first = next(p for p in used if present[p, last])
        if not _is_total_row(cells.column(first, start)[last].as_py()):
            break
        kept = kept[:-1]
    every_row = len(kept) == cells.rows - start
    positions = None if every_row else pa.array(kept, type=pa.int64())
    columns = [
        cells.column(p, start) if positions is None else cells.column(p, start).take(positions)
        for p in used
    ]
    columns.append(pa.array(kept + 1, type=pa.int64()))
    table = pa.Table.from_arrays(columns, names=[*names, ROW_NUMBER])
    return table, dict(zip(used, names, strict=True))


def read_upload(
    data: bytes, file_format: str, template: Template, limits: ReadLimits | None = None
) -> ReadResult:
    """Read one upload of `template` (`file_format` `csv` or `xlsx`). Never raises.

    Problems: `empty` (zero bytes), `too_large` (past `limits`, checked before parsing
    where the bytes tell, and on the grid), `unreadable` (not decodable / not a
    workbook), `unclosed_quote` (a CSV quote that runs to the end of the file),
    `no_header` (no header row among the first rows), `missing_required_columns` (a header
    row was found but lacks required columns; the frame is still filled). A header with no
    data rows under it is an empty month, not a problem.
    """
    encoding: str | None = None
    limits = limits or ReadLimits()
    try:
        if not data:
            return _failed(
                "empty",
                "文件是空的（0 字节）。请重新导出报表后再上传。",
                "The file is empty (0 bytes). Export the report again and upload it.",
                None,
                template,
            )
        too_large = check_limits(data, file_format, limits)
        if too_large is not None:
            return _failed(too_large.code, too_large.reason_zh, too_large.reason_en, None, template)
        try:
            cells, encoding = _read_cells(data, file_format)
        except UnreadableError as exc:
            return _failed(exc.code, exc.reason_zh, exc.reason_en, None, template)
        n_rows, n_columns = cells.rows, cells.width
        if n_rows > limits.max_rows + HEADER_SEARCH_ROWS or n_columns > limits.max_columns:
            return _too_large(
                f"{n_rows} 行 × {n_columns} 列",
                f"{n_rows} rows x {n_columns} columns",
                limits,
                template,
            )

        required = [c.name for c in template.required_columns]
        head = cells.head(HEADER_SEARCH_ROWS)
        header_row = _header_row(head, template)
        if header_row is None:
            return _failed(
                "no_header",
                f"找不到表头行：文件前 {HEADER_SEARCH_ROWS} 行中没有一行包含“{template.title_zh}”"
                f"报表的必填列（{_headers_zh(template, required)}）。"
                "请使用区里下发的模板（不要改动表头），然后重新上传。",
                f"No header row found: none of the first {HEADER_SEARCH_ROWS} rows names the "
                f"required columns of the {template.name} report "
                f"({_headers_en(template, required)}). Use the district's template with its "
                "headers unchanged and upload again.",
                encoding,
                template,
            )

        header = head[header_row]
        table, names_at = _body(cells, header_row, header)
        matched = _match_row(header, _spelling_lookup(template))
        columns = {
            col.name: names_at[matched[col.name]] for col in template.columns if col.name in matched
        }
        mapped = set(columns.values())
        extra = tuple(n for n in names_at.values() if n not in mapped)
        missing = tuple(n for n in required if n not in columns)
        problem = None
        if missing:
            problem = ReadProblem(
                code="missing_required_columns",
                reason_zh=f"缺少必填列：{_headers_zh(template, missing)}"
                f"（表头在第 {header_row + 1} 行）。请按模板补上这些列后重新上传。",
                reason_en=f"Required columns are missing: {_headers_en(template, missing)} "
                f"(header in row {header_row + 1}). Add them as in the template and upload "
                "again.",
            )
        return ReadResult(
            table=table,
            columns=columns,
            extra_columns=extra,
            missing_required=missing,
            encoding=encoding,
            header_row=header_row,
            problem=problem,
            template=template,
        )
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:  # the contract: any bytes give a result, never an exception
        return _failed(
            "unreadable",
            "文件无法读取。请用 Excel 打开后重新保存为 .xlsx 或 CSV 再上传。",
            f"The file cannot be read ({type(exc).__name__}). Open it in Excel, save it again "
            "as .xlsx or CSV and upload it.",
            encoding,
            template,
        )


def canonical_frame(result: ReadResult) -> pd.DataFrame:
    """The frame with canonical column names: every template column (in template order,
    all-NA when the file lacks it) as `string`, then `row_number`. Extra columns are left out.
    """
    frame = result.frame
    names = (
        [c.name for c in result.template.columns]
        if result.template is not None
        else list(result.columns)
    )
    # Built once from the arrays, without a copy per column: this runs for every file,
    # in the run's own process, so pandas' per-frame overhead is the cost that counts.
    rows = len(frame)
    missing = None
    columns: dict[str, Any] = {}
    for name in names:
        source = result.columns.get(name)
        if source is not None and source in frame.columns:
            array = frame[source].array
            columns[name] = array if array.dtype == _STRING else array.astype(_STRING)
            continue
        if missing is None:
            missing = pd.array([pd.NA] * rows, dtype=_STRING)
        columns[name] = missing
    row_numbers = frame[ROW_NUMBER] if ROW_NUMBER in frame.columns else pd.Series(dtype="int64")
    columns[ROW_NUMBER] = row_numbers.to_numpy(dtype="int64")
    return pd.DataFrame(columns, index=pd.RangeIndex(rows), copy=False)
