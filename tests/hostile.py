"""Hostile uploads, built small by the tests: what an attacker or a broken
export could put in the inbox. Each builder returns bytes."""

from __future__ import annotations

import io
import re
import zipfile

import xlsxwriter

MiB = 1024 * 1024


def workbook(rows: list[list[object]], far_cell: bool = False) -> bytes:
    """An XLSX whose first sheet holds `rows`; `far_cell` adds one cell at XFD1048576."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False})
    sheet = book.add_worksheet()
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    if far_cell:
        sheet.write(1048575, 16383, "x")
    book.close()
    return buffer.getvalue()


def rewrite(data: bytes, change: dict[str, bytes | None]) -> bytes:
    """The archive with some members replaced (bytes), or left out (None)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            if member.filename in change:
                replaced = change[member.filename]
                if replaced is not None:
                    target.writestr(member.filename, replaced)
                continue
            target.writestr(member.filename, source.read(member.filename))
    return out.getvalue()


def far_cell_xlsx(header: list[str], declared: bool = True) -> bytes:
    """One cell at XFD1048576 (calamine asks for 512 GB and aborts the process).

    `declared=False` removes the sheet's `<dimension>`, so that only a parser finds out.
    """
    data = workbook([header], far_cell=True)
    if declared:
        return data
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    return rewrite(data, {"xl/worksheets/sheet1.xml": re.sub(rb"<dimension[^>]*/>", b"", sheet)})


def zip_bomb_xlsx(header: list[str], string_bytes: int = 64 * MiB) -> bytes:
    """A workbook whose shared-strings part unpacks to `string_bytes` of one string."""
    data = workbook([header])
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            if member.filename != "xl/sharedStrings.xml":
                target.writestr(member.filename, source.read(member.filename))
                continue
            with target.open("xl/sharedStrings.xml", "w") as part:
                part.write(b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org')
                part.write(b'/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>')
                block = b"A" * MiB
                for _ in range(string_bytes // MiB):
                    part.write(block)
                part.write(b"</t></si></sst>")
    return out.getvalue()


def csv_lines(header: list[str], row: list[str], count: int) -> bytes:
    """A CSV of `count` identical data rows under `header`."""
    line = ",".join(row) + "\n"
    return (",".join(header) + "\n" + line * count).encode("utf-8")


def open_quote_csv(header: list[str], rows: list[list[str]], at: int) -> bytes:
    """A CSV whose data row `at` (1-based) starts with a quote that is never closed."""
    lines = [",".join(header)]
    for number, row in enumerate(rows, start=1):
        text = ",".join(row)
        lines.append('"' + text if number == at else text)
    return ("\n".join(lines) + "\n").encode("utf-8")
