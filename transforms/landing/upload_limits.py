"""What an upload may be before it is parsed at all (README, "Limits"), and why a file
is refused: `ReadLimits`, `ReadProblem`, and `check_limits`, which looks only at what is
cheap to know (bytes, CSV lines, the XLSX archive's sizes and the sheet's declared
dimension). Nothing here parses a grid; transforms/landing/readers.py does.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from typing import Literal

ReadProblemCode = Literal[
    "empty",
    "unreadable",
    "unclosed_quote",
    "too_large",
    "no_header",
    "missing_required_columns",
    "reader_crashed",
    "reader_timeout",
]

HEADER_SEARCH_ROWS = 20
"""The header row must be among the first this many rows of the file."""


@dataclass(frozen=True)
class ReadProblem:
    """Why an upload cannot be used; the whole file is quarantined."""

    code: ReadProblemCode
    reason_zh: str
    reason_en: str


@dataclass(frozen=True)
class ReadLimits:
    """What one upload may be before it is parsed at all (README, "Limits").

    A village roster has a few thousand rows and is well under a megabyte; the defaults
    leave a wide margin and still stop a zip bomb or a sheet of a million rows.
    """

    max_bytes: int = 20 * 1024 * 1024
    max_rows: int = 100_000
    max_columns: int = 1_000
    xlsx_max_uncompressed_bytes: int = 200 * 1024 * 1024
    xlsx_max_compression_ratio: float = 200.0


_MiB = 1024 * 1024
_SHEET_REF = re.compile(rb'<sheet\b[^>]*?\br:id="([^"]+)"')
_RELATIONSHIP = re.compile(rb"<Relationship\b[^>]*>")
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="([^"]*)"')
_CELL_REF = re.compile(r"([A-Za-z]{1,3})?(\d{1,7})?")


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - ord("A") + 1
    return number


def _head(archive: zipfile.ZipFile, name: str, size: int = _MiB) -> bytes:
    try:
        with archive.open(name) as member:
            return member.read(size)
    except (KeyError, zipfile.BadZipFile, OSError, ValueError, RuntimeError, EOFError):
        return b""


def _first_sheet(archive: zipfile.ZipFile) -> str:
    """The part holding the workbook's first sheet (what calamine reads), by its relationship."""
    fallback = "xl/worksheets/sheet1.xml"
    match = _SHEET_REF.search(_head(archive, "xl/workbook.xml"))
    if match is None:
        return fallback
    for tag in _RELATIONSHIP.findall(_head(archive, "xl/_rels/workbook.xml.rels")):
        if f'Id="{match.group(1).decode(errors="replace")}"'.encode() not in tag:
            continue
        target = re.search(rb'Target="([^"]+)"', tag)
        if target is not None:
            path = target.group(1).decode(errors="replace")
            return path.lstrip("/") if path.startswith("/") else f"xl/{path}"
    return fallback


def _declared_size(archive: zipfile.ZipFile) -> tuple[int, int] | None:
    """(rows, columns) of the first sheet's `<dimension>`, when it declares one."""
    match = _DIMENSION.search(_head(archive, _first_sheet(archive), 64 * 1024))
    if match is None:
        return None
    corner = match.group(1).decode(errors="replace").split(":")[-1]
    parts = _CELL_REF.fullmatch(corner.replace("$", ""))
    if parts is None:
        return None
    letters, digits = parts.groups()
    return int(digits or 0), _column_number(letters or "")


def _xlsx_limit_problem(data: bytes, limits: ReadLimits) -> tuple[str, str] | None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, RuntimeError, EOFError):
        return None  # not a workbook at all: the parser says so
    with archive:
        unpacked = sum(m.file_size for m in members)
        if unpacked > limits.xlsx_max_uncompressed_bytes:
            return (
                f"解压后共 {unpacked / _MiB:.0f} MB，超过上限 "
                f"{limits.xlsx_max_uncompressed_bytes / _MiB:.0f} MB",
                f"{unpacked / _MiB:.0f} MB uncompressed, above the limit of "
                f"{limits.xlsx_max_uncompressed_bytes / _MiB:.0f} MB",
            )
        for member in members:
            ratio = member.file_size / max(member.compress_size, 1)
            if member.file_size > _MiB and ratio > limits.xlsx_max_compression_ratio:
                return (
                    f"{member.filename} 的压缩比为 {ratio:.0f}:1，超过上限 "
                    f"{limits.xlsx_max_compression_ratio:.0f}:1（疑似压缩炸弹）",
                    f"{member.filename} is compressed {ratio:.0f}:1, above the limit of "
                    f"{limits.xlsx_max_compression_ratio:.0f}:1 (a zip bomb?)",
                )
        size = _declared_size(archive)
    if size is not None:
        rows, columns = size
        if rows > limits.max_rows + HEADER_SEARCH_ROWS or columns > limits.max_columns:
            return (
                f"工作表声明 {rows} 行 × {columns} 列",
                f"the sheet declares {rows} rows x {columns} columns",
            )
    return None


def check_limits(data: bytes, file_format: str, limits: ReadLimits) -> ReadProblem | None:
    """`too_large` when what is cheap to know says the upload is past `limits`; else None.

    Bytes; CSV lines; for XLSX the archive's uncompressed size and compression ratio and
    the first sheet's declared dimension. Nothing is parsed.
    """
    found: tuple[str, str] | None = None
    if len(data) > limits.max_bytes:
        found = (
            f"文件大小 {len(data) / _MiB:.1f} MB，超过上限 {limits.max_bytes / _MiB:.1f} MB",
            f"the file is {len(data) / _MiB:.1f} MB, above the limit of "
            f"{limits.max_bytes / _MiB:.1f} MB",
        )
    elif file_format.lower().lstrip(".") == "csv":
        lines = data.count(b"\n")
        if lines > limits.max_rows + HEADER_SEARCH_ROWS:
            found = (f"共 {lines} 行", f"{lines} lines")
    elif file_format.lower().lstrip(".") == "xlsx":
        found = _xlsx_limit_problem(data, limits)
    if found is None:
        return None
    return too_large_problem(found[0], found[1], limits)


def too_large_problem(what_zh: str, what_en: str, limits: ReadLimits) -> ReadProblem:
    """`too_large`, saying what is past which limit and what the officer can do."""
    return ReadProblem(
        "too_large",
        f"文件超出系统限制（{what_zh}；每个文件最多 {limits.max_rows} 行、{limits.max_columns} 列）。"
        "一个单位一个月的报表不会这么大：请检查是否导出了错误的表或整张空白工作表，"
        "删除多余内容后重新上传。如确需更大的文件，请联系管理员调整限制。",
        f"The file is past the system's limits ({what_en}; at most {limits.max_rows} rows and "
        f"{limits.max_columns} columns per file). One unit's monthly report is never this big: "
        "check that the right sheet was exported and that it holds no formatted blank area, "
        "remove the rest and upload again. If a larger file is really needed, ask the "
        "administrator to raise the limit.",
    )
