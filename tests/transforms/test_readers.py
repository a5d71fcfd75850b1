"""transforms.landing.readers: CSV/XLSX bytes -> string frames under the located header."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable

import pandas as pd
import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from transforms.landing.readers import (
    HEADER_SEARCH_ROWS,
    ReadResult,
    UnreadableError,
    canonical_frame,
    locate_header,
    read_grid,
    read_upload,
    render_cell,
)
from transforms.templates import load_contract

CONTRACT = load_contract()
BIRTHS = CONTRACT.templates["village_births"]
WOMEN = CONTRACT.templates["village_women"]

BIRTHS_HEADER = ["母亲姓名", "母亲身份证号", "婴儿性别", "出生日期", "孩次", "政策属性", "填报日期"]
BIRTH_ROW = ["阿依古丽", "012345199001011234", "女", "2026-09-03", "2", "政策内", "2026-09-05"]


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(
    build: Callable[[xlsxwriter.Workbook, xlsxwriter.worksheet.Worksheet], None],
) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    build(workbook, workbook.add_worksheet("出生登记"))
    workbook.add_worksheet("说明").write(0, 0, "第二个工作表不读")
    workbook.close()
    return buffer.getvalue()


def values(result: ReadResult, column: str) -> list[object]:
    return [None if pd.isna(v) else v for v in result.frame[column].tolist()]


# --------------------------------------------------------------------------- encodings


def test_csv_encoding_is_utf8_unless_gb18030_is_needed() -> None:
    # Plain ASCII decodes as both: UTF-8 wins. Bytes no supported encoding decodes
    # are not guessed at: the file is refused whole.
    ascii_only = read_upload(csv_bytes([["a", "b"], ["1", "2"]]), "csv", BIRTHS)
    assert ascii_only.encoding == "utf-8"
    refused = read_upload(b"\xff\xfe\x80", "csv", BIRTHS)
    assert refused.problem is not None and refused.problem.code == "unreadable"
    assert refused.encoding is None


@pytest.mark.parametrize(
    ("encoding", "detected"), [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gbk", "gb18030")]
)
def test_csv_encodings(encoding: str, detected: str) -> None:
    data = csv_bytes([BIRTHS_HEADER, BIRTH_ROW], encoding)
    result = read_upload(data, "csv", BIRTHS)
    assert result.problem is None
    assert result.encoding == detected
    assert result.header_row == 0
    assert list(result.frame.columns) == [*BIRTHS_HEADER, "row_number"]
    assert result.frame.iloc[0, :-1].tolist() == BIRTH_ROW
    assert result.frame["row_number"].tolist() == [1]
    assert result.frame["母亲身份证号"].dtype == pd.StringDtype()
    assert result.frame["row_number"].dtype == "int64"


def test_csv_never_infers_numbers() -> None:
    row = ["阿依古丽", "012345199001011234", "1", "2026-09-03", "02", "政策内", "20260905"]
    result = read_upload(csv_bytes([BIRTHS_HEADER, row]), "csv", BIRTHS)
    assert result.frame.iloc[0, :-1].tolist() == row


def test_csv_ragged_title_rows() -> None:
    data = (
        "和什托洛盖镇2026年9月出生登记表\r\n"
        "填报单位：查干托洛盖村,,填报人：李梅\r\n"
        + ",".join(BIRTHS_HEADER)
        + ",备注\r\n"
        + ",".join(BIRTH_ROW)
        + "\r\n"
    ).encode("gbk")
    result = read_upload(data, "csv", BIRTHS)
    assert result.problem is None
    assert result.header_row == 2
    assert values(result, "母亲姓名") == ["阿依古丽"]
    assert values(result, "备注") == [None]
    assert result.columns["remarks"] == "备注"


def test_csv_quoted_field_spanning_lines() -> None:
    rows = [[*BIRTHS_HEADER, "备注"], [*BIRTH_ROW, '第一行\n第二行, 带逗号, 还有"引号"']]
    result = read_upload(csv_bytes(rows), "csv", BIRTHS)
    assert result.problem is None
    assert values(result, "备注") == ['第一行\n第二行, 带逗号, 还有"引号"']


def test_csv_that_is_really_a_workbook() -> None:
    data = xlsx_bytes(lambda wb, ws: ws.write_row(0, 0, BIRTHS_HEADER))
    result = read_upload(data, "csv", BIRTHS)
    assert result.problem is not None
    assert result.problem.code == "unreadable"
    assert ".xlsx" in result.problem.reason_zh


# --------------------------------------------------------------------------- XLSX


def _county_workbook(wb: xlsxwriter.Workbook, ws: xlsxwriter.worksheet.Worksheet) -> None:
    date_format = wb.add_format({"num_format": "yyyy-mm-dd"})
    text_format = wb.add_format({"num_format": "@"})
    ws.merge_range(0, 0, 0, 8, "和什托洛盖镇2026年9月出生登记表")
    ws.write(1, 0, "填报单位：查干托洛盖村")
    ws.write_row(
        2,
        0,
        [
            "序号",
            "*产妇姓名",
            " 母亲公民身份号码 ",
            "性别",
            "分娩日期",
            "孩　次",
            "计划内外",
            "登记日期",
            "备注",
        ],
    )
    # row 3: the first data row, ID typed as text with a leading zero, a date cell
    ws.write_row(3, 0, [1, "阿依古丽"])
    ws.write_string(3, 2, "012345199001011234", text_format)
    ws.write_row(3, 3, ["女"])
    ws.write_datetime(3, 4, dt.datetime(2026, 9, 3), date_format)
    ws.write_number(3, 5, 2)
    ws.write_row(3, 6, ["政策内", "2026/9/5"])
    # row 4 blank; row 5: ID typed as a number (Excel shows 6.54226E+17), a serial date
    ws.write_row(5, 0, [2, "古丽娜尔"])
    ws.write_number(5, 2, 654226199001011234)
    ws.write_row(5, 3, ["男"])
    ws.write_number(5, 4, 46268)
    ws.write_number(5, 5, 1)
    ws.write_row(5, 6, ["计划内"])
    ws.write_datetime(5, 7, dt.datetime(2026, 9, 6, 14, 30), date_format)
    ws.write_number(5, 8, 3.5)
    ws.write_row(6, 0, ["合计", None, None, None, None, 3])


def test_xlsx_county_workbook() -> None:
    result = read_upload(xlsx_bytes(_county_workbook), "xlsx", BIRTHS)
    assert result.problem is None
    assert result.encoding is None
    assert result.header_row == 2
    assert result.columns == {
        "mother_name": "*产妇姓名",
        "mother_id": "母亲公民身份号码",
        "child_sex": "性别",
        "birth_date": "分娩日期",
        "birth_order": "孩　次",
        "policy_status": "计划内外",
        "report_date": "登记日期",
        "remarks": "备注",
    }
    assert result.extra_columns == ("序号",)
    assert result.missing_required == ()
    # the blank row is gone but counted; the 合计 row is gone
    assert result.frame["row_number"].tolist() == [1, 3]
    assert values(result, "序号") == ["1", "2"]
    assert values(result, "母亲公民身份号码") == ["012345199001011234", "6.542261990010112E+17"]
    assert values(result, "分娩日期") == ["2026-09-03", "46268"]
    assert values(result, "孩　次") == ["2", "1"]
    assert values(result, "登记日期") == ["2026/9/5", "2026-09-06 14:30:00"]
    assert values(result, "备注") == [None, "3.5"]


def test_canonical_frame() -> None:
    frame = canonical_frame(read_upload(xlsx_bytes(_county_workbook), "xlsx", BIRTHS))
    assert list(frame.columns) == [c.name for c in BIRTHS.columns] + ["row_number"]
    assert all(frame[c.name].dtype == pd.StringDtype() for c in BIRTHS.columns)
    assert frame["row_number"].dtype == "int64"
    assert frame["mother_id"].tolist() == ["012345199001011234", "6.542261990010112E+17"]
    assert frame["father_id"].isna().all()  # absent optional column: all NA
    assert frame["row_number"].tolist() == [1, 3]


def test_xlsx_reads_first_sheet_only() -> None:
    def build(wb: xlsxwriter.Workbook, ws: xlsxwriter.worksheet.Worksheet) -> None:
        ws.write_row(0, 0, BIRTHS_HEADER)

    grid = read_grid(xlsx_bytes(build), "xlsx")
    assert grid.iloc[0].tolist() == BIRTHS_HEADER


def test_xlsx_header_only_is_an_empty_month() -> None:
    def build(wb: xlsxwriter.Workbook, ws: xlsxwriter.worksheet.Worksheet) -> None:
        ws.write(0, 0, "出生登记表")
        ws.write_row(2, 0, BIRTHS_HEADER)

    result = read_upload(xlsx_bytes(build), "xlsx", BIRTHS)
    assert result.problem is None
    assert result.header_row == 2
    assert len(result.frame) == 0
    assert list(result.frame.columns) == [*BIRTHS_HEADER, "row_number"]
    assert len(canonical_frame(result)) == 0


@pytest.mark.parametrize(
    ("cell", "text"),
    [
        (None, None),
        ("", None),
        ("　 ", None),
        (" 张三 ", " 张三 "),
        ("0012", "0012"),
        (True, "1"),
        (False, "0"),
        (3, "3"),
        (3.0, "3"),
        (-0.0, "0"),
        (654226101001.0, "654226101001"),
        (110105710923002.0, "110105710923002"),  # legacy 15-digit ID, exact
        (6.54226e17, "6.54226E+17"),
        (6.542261990010112e17, "6.542261990010112E+17"),
        (1e15, "1E+15"),
        (12000.5, "12000.5"),
        (0.1 + 0.2, "0.3"),
        (float("nan"), None),
        (dt.date(2026, 9, 3), "2026-09-03"),
        (dt.datetime(2026, 9, 3), "2026-09-03"),
        (dt.datetime(2026, 9, 3, 8, 5, 1), "2026-09-03 08:05:01"),
        (dt.time(8, 30), "08:30:00"),
    ],
)
def test_render_cell(cell: object, text: str | None) -> None:
    assert render_cell(cell) == text


# --------------------------------------------------------------------------- header & rows


def test_header_aliases_markers_and_full_width() -> None:
    header = [
        "＊产妇姓名",
        "母亲身份证号 *",
        "ＣＨＩＬＤ＿ＳＥＸ",
        "出生\n日期",
        "胎次",
        "是否政策内",
        "report_date",
    ]
    result = read_upload(csv_bytes([header, BIRTH_ROW]), "csv", BIRTHS)
    assert result.problem is None
    assert set(result.columns) == {c.name for c in BIRTHS.required_columns}


def test_header_prefers_the_exact_header_over_an_alias() -> None:
    header = ["产妇姓名", *BIRTHS_HEADER]
    result = read_upload(csv_bytes([header, ["别名列", *BIRTH_ROW]]), "csv", BIRTHS)
    assert result.columns["mother_name"] == "母亲姓名"
    assert "产妇姓名" in result.extra_columns


def test_duplicate_and_blank_headers() -> None:
    header = [*BIRTHS_HEADER, "备注", "备注", "", ""]
    row = [*BIRTH_ROW, "甲", "乙", "无表头的值", ""]
    result = read_upload(csv_bytes([header, row]), "csv", BIRTHS)
    assert list(result.frame.columns) == [*BIRTHS_HEADER, "备注", "备注_2", "列10", "row_number"]
    assert result.columns["remarks"] == "备注"
    assert result.extra_columns == ("备注_2", "列10")


def test_locate_header_within_the_first_rows() -> None:
    rows: list[list[str]] = [["说明"]] * (HEADER_SEARCH_ROWS - 1) + [BIRTHS_HEADER, BIRTH_ROW]
    grid = read_grid(csv_bytes(rows), "csv")
    assert locate_header(grid, BIRTHS) == HEADER_SEARCH_ROWS - 1
    late = [["说明"]] * HEADER_SEARCH_ROWS + [BIRTHS_HEADER, BIRTH_ROW]
    assert locate_header(read_grid(csv_bytes(late), "csv"), BIRTHS) is None


def test_locate_header_falls_back_to_the_best_partial_row() -> None:
    rows = [["母亲姓名"], ["母亲姓名", "孩次", "备注"], ["母亲姓名", "孩次"]]
    assert locate_header(read_grid(csv_bytes(rows), "csv"), BIRTHS) == 1


def test_missing_required_columns() -> None:
    header = ["母亲姓名", "母亲身份证号", "婴儿性别", "出生日期", "填报日期"]
    result = read_upload(csv_bytes([["标题"], header, BIRTH_ROW[:5]]), "csv", BIRTHS)
    assert result.problem is not None
    assert result.problem.code == "missing_required_columns"
    assert result.missing_required == ("birth_order", "policy_status")
    assert "孩次" in result.problem.reason_zh
    assert "政策属性" in result.problem.reason_zh
    assert "第 2 行" in result.problem.reason_zh
    assert "birth_order" in result.problem.reason_en
    assert result.header_row == 1
    assert len(result.frame) == 1  # still read, for the record


def test_no_header() -> None:
    data = csv_bytes([["和什托洛盖镇2026年9月出生登记表"], ["姓名", "年龄"], ["张三", "30"]])
    result = read_upload(data, "csv", BIRTHS)
    assert result.problem is not None
    assert result.problem.code == "no_header"
    assert "母亲身份证号" in result.problem.reason_zh
    assert result.header_row is None
    assert list(result.frame.columns) == ["row_number"]
    assert list(canonical_frame(result).columns) == [c.name for c in BIRTHS.columns] + [
        "row_number"
    ]


def test_wrong_template() -> None:
    data = csv_bytes([BIRTHS_HEADER, BIRTH_ROW])
    result = read_upload(data, "csv", CONTRACT.templates["hospital_prepregnancy"])
    assert result.problem is not None
    assert result.problem.code == "no_header"


def test_total_rows_dropped_only_at_the_end() -> None:
    rows = [
        BIRTHS_HEADER,
        BIRTH_ROW,
        ["小计", "", "", "", "1"],
        BIRTH_ROW,
        [],
        ["", "合 计：", "", "", "2"],
        ["总计（人）", "2"],
        ["", ""],
    ]
    result = read_upload(csv_bytes(rows), "csv", BIRTHS)
    assert result.problem is None
    assert values(result, "母亲姓名") == ["阿依古丽", "小计", "阿依古丽"]
    assert result.frame["row_number"].tolist() == [1, 2, 3]


def test_total_like_names_are_kept() -> None:
    rows = [BIRTHS_HEADER, ["合计划", *BIRTH_ROW[1:]]]
    assert values(read_upload(csv_bytes(rows), "csv", BIRTHS), "母亲姓名") == ["合计划"]


def test_header_named_row_number_does_not_clash() -> None:
    result = read_upload(
        csv_bytes([[*BIRTHS_HEADER, "row_number"], [*BIRTH_ROW, "x"]]), "csv", BIRTHS
    )
    assert values(result, "row_number_") == ["x"]
    assert result.frame["row_number"].tolist() == [1]


# --------------------------------------------------------------------------- bad input


def test_zero_bytes_is_empty() -> None:
    for file_format in ("csv", "xlsx"):
        result = read_upload(b"", file_format, BIRTHS)
        assert result.problem is not None
        assert result.problem.code == "empty"


@pytest.mark.parametrize(
    ("data", "file_format"),
    [
        (b"\xff\xfe\x80\x81garbage", "csv"),
        ("母亲姓名,孩次\n".encode("utf-16"), "csv"),
        (b"\x00\x01\x02binary", "csv"),
        (b"PK\x03\x04 not really a zip", "xlsx"),
        (b"a,b\n1,2\n", "xlsx"),
        (b"\xd0\xcf\x11\xe0" + b"\x00" * 600, "xlsx"),
        (b"a,b\n", "ods"),
    ],
)
def test_unreadable(data: bytes, file_format: str) -> None:
    result = read_upload(data, file_format, BIRTHS)
    assert result.problem is not None
    assert result.problem.code == "unreadable"
    assert result.problem.reason_zh and result.problem.reason_en
    assert list(result.frame.columns) == ["row_number"]


def test_read_grid_raises_unreadable_error() -> None:
    with pytest.raises(UnreadableError) as info:
        read_grid(b"not a workbook", "xlsx")
    assert "Excel" in info.value.reason_zh


# --------------------------------------------------------------------------- properties


@given(st.binary(max_size=2048), st.sampled_from(["csv", "xlsx"]))
@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
def test_read_upload_never_raises(data: bytes, file_format: str) -> None:
    result = read_upload(data, file_format, BIRTHS)
    assert isinstance(result, ReadResult)
    canonical_frame(result)


@given(st.binary(max_size=512).map(lambda b: csv_bytes([BIRTHS_HEADER]) + b))
@settings(max_examples=100)
def test_read_upload_never_raises_after_a_good_header(data: bytes) -> None:
    result = read_upload(data, "csv", BIRTHS)
    assert isinstance(result, ReadResult)
    canonical_frame(result)


_CELL_CHARS = st.sampled_from(
    list("0123456789 ,\"'\n\r\t　abcXx-./:：（）()*阿依古丽张三李四男女政策内外是否年月日")
)
_CELLS = st.text(alphabet=_CELL_CHARS, max_size=12)


def _expected(cell: str) -> str | None:
    return cell if cell.strip() else None


@given(
    st.lists(
        st.lists(_CELLS, min_size=len(WOMEN.columns), max_size=len(WOMEN.columns)), max_size=15
    ),
    st.sampled_from(["utf-8", "utf-8-sig", "gbk"]),
)
@settings(max_examples=150)
def test_csv_values_round_trip(rows: list[list[str]], encoding: str) -> None:
    header = [c.header for c in WOMEN.columns]
    result = read_upload(csv_bytes([header, *rows], encoding), "csv", WOMEN)
    assert result.problem is None
    kept = [
        (number, row)
        for number, row in enumerate(rows, start=1)
        if any(_expected(cell) is not None for cell in row)
    ]
    assert result.frame["row_number"].tolist() == [number for number, _ in kept]
    got = [[None if pd.isna(v) else v for v in r] for r in result.frame[header].values.tolist()]
    assert got == [[_expected(cell) for cell in row] for _, row in kept]
    ids = [None if pd.isna(v) else v for v in canonical_frame(result)["id_number"].tolist()]
    assert ids == [_expected(row[1]) for _, row in kept]


# Every character `str.strip` strips (the reader's "blank"), with text around them.
_WHITESPACE = [chr(c) for c in range(0x3001) if chr(c).isspace() and chr(c) not in "\r\n"]
_RAGGED_CELLS = st.text(
    alphabet=st.sampled_from([*_WHITESPACE, "a", "张", ",", '"', "0"]), max_size=4
)


def _reference_body(rows: list[list[str]], header_at: int) -> list[tuple[int, list[str | None]]]:
    """What the reader should give under a header, written plainly: the header's columns
    of each row (short rows padded), a cell blank when `str.strip` leaves nothing, rows
    blank throughout (cells past the header's too) dropped but still counted."""
    width = len(rows[header_at])
    body = []
    for number, row in enumerate(rows[header_at + 1 :], start=1):
        if any(_expected(c) is not None for c in row):
            cells = [*(_expected(c) for c in row[:width]), *([None] * (width - len(row)))]
            body.append((number, cells))
    return body


@given(
    st.lists(st.lists(_RAGGED_CELLS, max_size=len(BIRTHS_HEADER) + 2), max_size=12),
    st.integers(min_value=0, max_value=3),
)
@settings(max_examples=200)
def test_ragged_rows_with_any_whitespace_read_as_written(
    rows: list[list[str]], titles: int
) -> None:
    # Title rows above the header, rows shorter or longer than it, cells of whitespace of
    # every kind: the rows under the header as the plain reference reads them.
    header_at = titles
    grid = [["报表标题"]] * titles + [BIRTHS_HEADER] + rows
    result = read_upload(csv_bytes(grid), "csv", BIRTHS)
    assert result.problem is None and result.header_row == header_at
    expected = _reference_body(grid, header_at)
    assert result.frame["row_number"].tolist() == [number for number, _ in expected]
    got = [[None if pd.isna(v) else v for v in r] for r in result.frame[BIRTHS_HEADER].values]
    assert got == [cells for _, cells in expected]
