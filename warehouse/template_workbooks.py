"""Writing the upload templates as XLSX workbooks (the content is transforms.officer.upload_templates).

One workbook per upload kind: the sheet villages fill in (title, unit line, header,
data rows with Excel data validation and text / date formats), then a sheet that
explains every column.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import xlsxwriter

from transforms.officer.upload_templates import (
    DATA_ROWS,
    FIRST_DATA_ROW,
    HEADER_ROW,
    TITLE_ROW,
    UNIT_ROW,
    CellRule,
    TemplateColumn,
    TemplateWorkbook,
    template_workbooks,
)
from transforms.templates import Contract

FILL_SHEET = "填报"
EXPLAIN_SHEET = "填表说明"


def _validation(rule: CellRule, column: TemplateColumn) -> dict[str, Any]:
    """xlsxwriter's data_validation options for one column's rule."""
    options: dict[str, Any]
    if rule.kind == "list":
        options = {"validate": "list", "source": list(rule.values)}
    elif rule.kind == "length":
        options = {"validate": "length", "criteria": "==", "value": rule.length}
    elif rule.kind in ("date", "whole", "decimal"):
        kind = {"date": "date", "whole": "integer", "decimal": "decimal"}[rule.kind]
        if rule.maximum is None:
            options = {"validate": kind, "criteria": ">=", "value": rule.minimum}
        else:
            options = {
                "validate": kind,
                "criteria": "between",
                "minimum": rule.minimum,
                "maximum": rule.maximum,
            }
    else:  # pragma: no cover - CellRule.kind is a closed set
        raise ValueError(f"unknown validation {rule.kind}")
    header = column.header.lstrip("*")
    return options | {
        "input_title": header[:32],
        "input_message": column.prompt_zh,
        "error_title": "填写有误",
        "error_message": f"“{header}”：{column.prompt_zh}"[:250],
        "error_type": "stop",
        "ignore_blank": True,
    }


def write_template(book: TemplateWorkbook, folder: Path) -> Path:
    """Write one template workbook into `folder`; returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / book.file_name
    workbook = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    try:
        title = workbook.add_format({"bold": True, "font_size": 14})
        header = workbook.add_format({"bold": True, "bg_color": "#EEF1F5", "border": 1})
        required = workbook.add_format(
            {"bold": True, "bg_color": "#FDECEA", "font_color": "#C0392B", "border": 1}
        )
        sheet = workbook.add_worksheet(FILL_SHEET)
        last_col = len(book.columns) - 1
        sheet.merge_range(TITLE_ROW, 0, TITLE_ROW, max(last_col, 0), book.title, title)
        sheet.write_string(UNIT_ROW, 0, book.unit_line)
        last_row = FIRST_DATA_ROW + DATA_ROWS - 1
        for i, column in enumerate(book.columns):
            cell = workbook.add_format({"num_format": column.number_format})
            sheet.set_column(i, i, column.width, cell)
            sheet.write_string(
                HEADER_ROW, i, column.header, required if column.required else header
            )
            if column.validation is not None:
                sheet.data_validation(
                    FIRST_DATA_ROW, i, last_row, i, _validation(column.validation, column)
                )
        sheet.freeze_panes(FIRST_DATA_ROW, 0)
        note = workbook.add_format({"italic": True, "font_color": "#5F6B7A"})
        sheet.write_string(
            UNIT_ROW,
            max(last_col - 1, 1),
            f"红色表头为必填；文件名：{book.upload_name}",
            note,
        )

        explain = workbook.add_worksheet(EXPLAIN_SHEET)
        wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
        for r, row in enumerate(book.explanation_rows()):
            for c, text in enumerate(row):
                explain.write_string(r, c, text, header if r == 0 else wrap)
        for c, width in enumerate((16, 20, 6, 12, 40, 40, 24)):
            explain.set_column(c, c, width)
        explain.freeze_panes(1, 0)
        rows = len(book.columns) + 2
        explain.write_string(rows, 0, f"填好后另存为 {book.upload_name} 上传；不要改动表头。")
        explain.write_string(
            rows + 1,
            0,
            "Fill in the first sheet, keep the headers, save as "
            f"{book.name}_<unit>_<YYYYMM>.xlsx and upload it.",
        )
    finally:
        workbook.close()
    return path


def write_templates(contract: Contract, folder: Path) -> list[tuple[TemplateWorkbook, Path]]:
    """Every upload kind's template workbook, written into `folder`."""
    return [(book, write_template(book, folder)) for book in template_workbooks(contract)]


__all__ = ["EXPLAIN_SHEET", "FILL_SHEET", "write_template", "write_templates"]
