"""`popstat templates` end to end: the workbooks it writes, filled with a generated county's
rows through openpyxl, land with zero issues; a bad code is refused by the workbook's own
validation rules, read back from the file.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from openpyxl.worksheet.cell_range import MultiCellRange
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select

from flows.cli import main
from flows.settings import Settings
from synthetic.county import generate_county
from synthetic.spec import CountySpec, GeneratedCounty
from tests.e2e._pipeline import county_settings, run_tasks
from transforms.landing.normalise import normalise_frame
from transforms.landing.readers import canonical_frame, read_upload
from transforms.templates import Template, load_contract
from warehouse import schema
from warehouse.db import make_engine, migrate
from warehouse.inbox import write_files
from warehouse.load import read_frame

FIRST_DATA_ROW = 4  # 1-based: title, unit line, header


@pytest.fixture(scope="module")
def clean_county() -> GeneratedCounty:
    return generate_county(
        CountySpec(
            seed=23,
            townships=1,
            villages_per_township=2,
            women_per_village=25,
            last_month=2,
            faults=False,
        )
    )


@pytest.fixture(scope="module")
def templates_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("templates")
    assert main(["templates", "--out", str(out)]) == 0
    return out


# ----------------------------------------------------------- the workbook's own rules


def _serial(day: date) -> int:
    return (day - date(1899, 12, 30)).days


@dataclass(frozen=True)
class Rule:
    """One data validation as read back from the workbook."""

    type: str
    operator: str | None
    formula1: str | None
    formula2: str | None
    cells: MultiCellRange

    def allows(self, value: object) -> bool:
        """Excel's verdict on a typed value (blank cells are allowed: ignore_blank)."""
        if value is None or value == "":
            return True
        if self.type == "list":
            return str(value) in (self.formula1 or "").strip('"').split(",")
        if self.type == "textLength":
            return self._compare(len(str(value)))
        if self.type == "date":
            return isinstance(value, date) and self._compare(_serial(_as_date(value)))
        if self.type == "whole":
            return isinstance(value, int) and self._compare(value)
        if self.type == "decimal":
            return isinstance(value, int | float) and self._compare(float(value))
        raise AssertionError(f"unexpected validation type {self.type}")

    def _compare(self, number: float) -> bool:
        lo = float(self.formula1 or 0)
        if self.operator in (None, "between"):
            return lo <= number <= float(self.formula2 or "inf")
        return {
            "equal": number == lo,
            "greaterThanOrEqual": number >= lo,
            "lessThanOrEqual": number <= lo,
        }[self.operator]


def _as_date(value: date) -> date:
    return value.date() if isinstance(value, datetime) else value


def _rules(sheet: Worksheet) -> list[Rule]:
    return [
        Rule(dv.type, dv.operator, dv.formula1, dv.formula2, dv.sqref)
        for dv in sheet.data_validations.dataValidation
    ]


def refusals(sheet: Worksheet) -> list[str]:
    """Every filled data cell a validation rule of the workbook refuses, as `B5: value`."""
    refused = []
    for rule in _rules(sheet):
        for cell_range in rule.cells.ranges:
            for row in sheet.iter_rows(
                min_row=cell_range.min_row,
                max_row=min(cell_range.max_row, sheet.max_row),
                min_col=cell_range.min_col,
                max_col=cell_range.max_col,
            ):
                refused += [f"{c.coordinate}: {c.value!r}" for c in row if not rule.allows(c.value)]
    return refused


# ------------------------------------------------------------ filling in a template


def _canonical(data: bytes, file_format: str, template: Template, month: str) -> pd.DataFrame:
    """The generator's rows of one file as canonical values (popstat's readers as the means)."""
    read = read_upload(data, file_format, template)
    assert read.problem is None, read.problem
    raw = canonical_frame(read).assign(upload_id=1, unit="u", report_month=month)
    return normalise_frame(raw, template, load_contract(), month, b"k")


def _cell(value: object, kind: str) -> object:
    """What a village clerk types in the template for a canonical value."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):  # type: ignore[call-overload]
        return None
    if kind == "sex":
        return {"M": "男", "F": "女"}[str(value)]
    if kind == "yesno":
        return "是" if bool(value) else "否"
    if kind == "date":
        return pd.Timestamp(value).date()
    if kind == "integer":
        return int(value)  # type: ignore[call-overload]
    if kind == "money":
        return float(value)  # type: ignore[arg-type]
    return str(value)


def fill(template_path: Path, template: Template, rows: pd.DataFrame) -> openpyxl.Workbook:
    book = openpyxl.load_workbook(template_path)
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[FIRST_DATA_ROW - 1]]
    for column in template.columns:
        position = header.index(("*" if column.required else "") + column.header) + 1
        for offset, value in enumerate(rows[column.name].tolist()):
            sheet.cell(FIRST_DATA_ROW + offset, position, _cell(value, column.type))
    return book


def _bytes(book: openpyxl.Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------------------- tests


def test_templates_prints_and_writes_one_workbook_per_kind(
    templates_dir: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    contract = load_contract()
    assert main(["templates", "--out", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"已生成 {len(contract.templates)} 个上报模板 → {tmp_path.resolve()}"
    women = next(line for line in lines if line.startswith("  village_women_模板.xlsx"))
    assert "12 列（必填 5，带校验 10）" in women
    assert "village_women_<12位村（社区）代码>_<YYYYMM>.xlsx" in women
    for template in contract.templates.values():
        book = openpyxl.load_workbook(tmp_path / f"{template.name}_模板.xlsx")
        assert book.sheetnames == ["填报", "填表说明"]
        fill_sheet, guide = book.worksheets
        assert template.title_zh in str(fill_sheet["A1"].value)
        assert str(fill_sheet["A2"].value).startswith("填报单位：")
        headers = [c.value for c in fill_sheet[3]]
        assert headers == [("*" if c.required else "") + c.header for c in template.columns]
        assert [
            r[0].value for r in guide.iter_rows(min_row=2, max_row=len(template.columns) + 1)
        ] == [c.header for c in template.columns]
        kinds = {str(r.cells).split(":")[0][:-1]: r.type for r in _rules(fill_sheet)}
        for i, column in enumerate(template.columns):
            letter = openpyxl.utils.get_column_letter(i + 1)
            expected = {
                "sex": "list",
                "yesno": "list",
                "enum": "list",
                "date": "date",
                "integer": "whole",
                "money": "decimal",
                "id": "textLength",
                "area_code": "textLength",
            }.get(column.type)
            assert kinds.get(letter) == expected, (template.name, column.name)


def test_filled_templates_land_with_zero_issues_and_a_bad_code_is_refused(
    clean_county: GeneratedCounty, templates_dir: Path, tmp_path: Path
) -> None:
    contract = load_contract()
    expected = clean_county.answer_key.uploads
    filled: list[tuple[str, bytes, datetime]] = []
    for f in clean_county.files:
        if not f.path.endswith((".csv", ".xlsx")) or "/" not in f.path:
            continue
        name = Path(f.path).name
        template = next(
            (t for t in contract.templates.values() if name.startswith(f"{t.name}_")), None
        )
        if template is None:
            continue
        month = f"{name.split('_')[3][:4]}-{name.split('_')[3][4:6]}"
        rows = _canonical(f.data, name.rsplit(".", 1)[1], template, month)
        book = fill(templates_dir / f"{template.name}_模板.xlsx", template, rows)
        assert refusals(book.worksheets[0]) == [], name
        filled.append((str(Path(f.path).with_suffix(".xlsx")), _bytes(book), f.arrived_at))
    assert len(filled) == len(expected.loc[expected["status"] == "loaded"])

    root = tmp_path
    write_files(root / "inbox", filled, Settings().time_zone)
    write_files(
        root / "reference", ((n, d, None) for n, d in clean_county.reference.items()), "UTC"
    )
    url = f"sqlite:///{(root / 'warehouse.db').as_posix()}"
    migrate(make_engine(url))
    settings = county_settings(clean_county, root, root / "inbox", root / "reference", url)
    run_tasks(settings, "e2e-templates", ["land", "validate"]).require("land", "validate")
    engine = make_engine(url)
    with engine.connect() as conn:
        issues = read_frame(conn, select(schema.dq_issues))
        uploads = read_frame(conn, select(schema.uploads))
    engine.dispose()
    assert issues.empty, issues[["rule", "file_name", "row_number", "message_en"]].head(10)
    assert set(uploads["status"]) == {"loaded"}
    landed = uploads.set_index(uploads["file_name"].str.replace(".xlsx", "", regex=False))["rows"]
    key = expected.set_index(expected["file_name"].str.rsplit(".", n=1).str[0])["rows"]
    assert (
        landed.sort_index().astype(int).to_dict()
        == key.loc[landed.index].sort_index().astype(int).to_dict()
    )

    # The same rows with a code that is not in the drop-down list: the workbook refuses it.
    women = contract.templates["village_women"]
    source = next(f for f in clean_county.files if Path(f.path).name.startswith("village_women_"))
    rows = _canonical(source.data, source.path.rsplit(".", 1)[1], women, "2026-01")
    rows.loc[rows.index[0], "method"] = "避孕环"
    rows.loc[rows.index[1], "id_number"] = "65422619900101002"  # 17 characters
    rows.loc[rows.index[2], "children"] = 12
    book = fill(templates_dir / "village_women_模板.xlsx", women, rows)
    assert refusals(book.worksheets[0]) == ["B5: '65422619900101002'", "E6: 12", "F4: '避孕环'"]
