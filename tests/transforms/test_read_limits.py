"""transforms.landing.readers: limits checked before parsing, and a CSV quote left open."""

from __future__ import annotations

import pytest

from tests.hostile import csv_lines, far_cell_xlsx, open_quote_csv, workbook, zip_bomb_xlsx
from transforms.landing.readers import ReadLimits, check_limits, read_upload
from transforms.templates import load_contract

BIRTHS = load_contract().templates["village_births"]
HEADER = ["母亲姓名", "母亲身份证号", "婴儿性别", "出生日期", "孩次", "政策属性", "填报日期"]
ROW = ["阿依古丽", "654226199001011234", "女", "2026-09-03", "2", "政策内", "2026-09-05"]


def test_a_quote_left_open_is_a_quarantine_naming_the_line_where_it_opens() -> None:
    rows = [[f"母亲{i}", *ROW[1:]] for i in range(1, 11)]
    result = read_upload(open_quote_csv(HEADER, rows, at=3), "csv", BIRTHS)
    assert result.problem is not None
    assert result.problem.code == "unclosed_quote"
    # Header on line 1, data row 3 on line 4.
    assert "第 4 行" in result.problem.reason_zh
    assert "line 4" in result.problem.reason_en


def test_balanced_quotes_spanning_lines_are_still_one_cell() -> None:
    data = (",".join(HEADER) + ",备注\n" + ",".join(ROW) + ',"两行\n备注"\n').encode()
    result = read_upload(data, "csv", BIRTHS)
    assert result.problem is None
    assert result.frame["备注"].tolist() == ["两行\n备注"]


def test_a_file_past_the_byte_limit_is_too_large_before_parsing() -> None:
    data = csv_lines(HEADER, ROW, 50)
    limits = ReadLimits(max_bytes=len(data) - 1)
    problem = check_limits(data, "csv", limits)
    assert problem is not None and problem.code == "too_large"
    assert check_limits(data, "csv", ReadLimits(max_bytes=len(data))) is None
    assert read_upload(data, "csv", BIRTHS, limits).problem == problem


def test_rows_past_the_limit_are_too_large_for_csv_and_xlsx() -> None:
    limits = ReadLimits(max_rows=100)
    over = 100 + 20 + 1  # the header may sit below up to 20 title rows
    assert check_limits(csv_lines(HEADER, ROW, over), "csv", limits) is not None
    assert check_limits(csv_lines(HEADER, ROW, 100), "csv", limits) is None
    big = workbook([HEADER] + [ROW] * over)
    assert read_upload(big, "xlsx", BIRTHS, limits).problem.code == "too_large"  # type: ignore[union-attr]
    assert read_upload(workbook([HEADER] + [ROW] * 100), "xlsx", BIRTHS, limits).ok


def test_a_sheet_declaring_a_cell_at_xfd1048576_is_too_large_unparsed() -> None:
    problem = check_limits(far_cell_xlsx(HEADER), "xlsx", ReadLimits())
    assert problem is not None and problem.code == "too_large"
    assert "1048576" in problem.reason_en and "16384" in problem.reason_en


def test_a_zip_bomb_is_too_large_by_its_compression_ratio_and_its_size() -> None:
    bomb = zip_bomb_xlsx(HEADER, string_bytes=16 * 1024 * 1024)
    assert len(bomb) < 200_000
    by_ratio = check_limits(bomb, "xlsx", ReadLimits())
    assert by_ratio is not None and "zip bomb" in by_ratio.reason_en
    by_size = check_limits(
        bomb, "xlsx", ReadLimits(xlsx_max_compression_ratio=1e9, xlsx_max_uncompressed_bytes=10**6)
    )
    assert by_size is not None and "uncompressed" in by_size.reason_en


@pytest.mark.parametrize("data", [b"PK\x03\x04garbage", b"not a zip", b""])
def test_limits_leave_what_is_not_a_workbook_to_the_parser(data: bytes) -> None:
    assert check_limits(data, "xlsx", ReadLimits()) is None
