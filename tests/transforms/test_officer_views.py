"""What the officer's terminal shows, on tiny frames; the filter words as a parser."""

from __future__ import annotations

import re
from datetime import datetime

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from transforms.officer.views import (
    count_line,
    filter_code,
    issue_detail_lines,
    issue_list_view,
    month_word,
    rule_code,
)

ISSUE = {
    "issue_id": "DQ0000000000000001",
    "rule": "file_unrecognised_name",
    "severity": "error",
    "dimension": "validity",
    "source": pd.NA,
    "kind": pd.NA,
    "unit": pd.NA,
    "report_month": pd.NA,
    "file_name": "巴音布拉格村2026年3月花名册.xlsx",
    "row_number": pd.NA,
    "column_name": pd.NA,
    "record_key": pd.NA,
    "value": pd.NA,
    "message_zh": "文件名不符合规则",
    "message_en": "file name not recognised",
    "status": "open",
    "status_note": pd.NA,
    "status_by": pd.NA,
    "status_at": pd.NaT,
    "first_seen_run": "r1",
    "last_seen_run": "r1",
}


def test_a_file_level_issue_shows_without_crashing_on_its_null_fields() -> None:
    events = pd.DataFrame(
        {
            "at": [datetime(2026, 10, 6, 2, 31)],
            "by": ["popstat"],
            "from_status": [pd.NA],
            "to_status": ["open"],
            "note": [pd.NA],
        }
    )
    lines = issue_detail_lines(ISSUE, events, "zh")
    assert "规则: 文件名不符合规则 (file_unrecognised_name)" in lines
    assert "行: " in lines and "  2026-10-06 02:31 popstat: — → 待处理" in lines
    assert not any("<NA>" in line or "nan" in line for line in lines)


def test_the_list_view_translates_every_word_and_leaves_no_na() -> None:
    frame = pd.DataFrame([ISSUE])
    zh = issue_list_view(frame, "zh")
    assert list(zh.columns[:3]) == ["编号", "级别", "状态"]
    assert zh.iloc[0]["级别"] == "错误" and zh.iloc[0]["状态"] == "待处理"
    assert zh.iloc[0]["行"] == "" and zh.iloc[0]["单位"] == ""
    en = issue_list_view(frame, "en")
    assert en.iloc[0]["status"] == "open" and en.iloc[0]["message"] == "file name not recognised"


def test_filter_words_and_counts() -> None:
    assert filter_code("status", "已确认") == "acknowledged"
    assert filter_code("status", "acknowledged") == "acknowledged"
    assert filter_code("status", "acked") is None
    assert filter_code("severity", "警告") == "warning"
    assert rule_code("身份证号校验位错误") == "id_checksum" and rule_code("x_rule") == "x_rule"
    assert count_line(50, 63, {"error": 12, "warning": 51}, "zh").startswith(
        "显示 50 / 共 63 个问题（错误 12，警告 51）"
    )
    assert "--limit 0" not in count_line(3, 3, {"error": 3}, "en")


@given(st.integers(min_value=1000, max_value=9999), st.integers(min_value=1, max_value=12))
def test_every_way_of_writing_a_month_reads_the_same(year: int, month: int) -> None:
    expected = f"{year}-{month:02d}"
    for word in (expected, f"{year}{month:02d}", f"{year}-{month}", f" {expected} "):
        assert month_word(word) == expected


@given(st.text(max_size=12))
def test_a_month_word_is_a_month_or_nothing(word: str) -> None:
    read = month_word(word)
    assert read is None or re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", read)
