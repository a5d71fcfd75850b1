"""The mart as shown to people: Chinese headers and labels, display rounding, the data dictionary."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Boolean, Date, Float, Integer, Numeric, Text

from tests.mart_samples import sample_mart
from transforms.indicators.catalog import load_catalog
from transforms.officer.mart_presentation import (
    HEADERS_ZH,
    MART_COLUMNS,
    data_dictionary_markdown,
    display_decimals,
    display_value,
    format_target,
    format_value,
    presentation_frame,
    round_half_up,
)
from warehouse import schema

ROOT = Path(__file__).resolve().parents[2]


def test_mart_columns_match_the_warehouse_table_in_order_and_type() -> None:
    table = schema.mart_target_achievement
    assert [c.name for c in MART_COLUMNS] == [c.name for c in table.columns]
    kinds = {
        Text: "text",
        Date: "date",
        Numeric: "numeric",
        Float: "double",
        Integer: "integer",
        Boolean: "boolean",
    }
    for column in MART_COLUMNS:
        sql_type = type(table.c[column.name].type)
        assert kinds[sql_type] == column.type, column.name
    assert HEADERS_ZH["area_code"] == "区划代码" and HEADERS_ZH["status"] == "达标情况"
    assert len(set(HEADERS_ZH.values())) == len(HEADERS_ZH)


def test_round_half_up_is_the_schoolbook_rounding() -> None:
    assert round_half_up(2.675, 2) == 2.68  # round() gives 2.67
    assert round_half_up(89.4472, 2) == 89.45
    assert round_half_up(0.5, 0) == 1.0


@pytest.mark.parametrize(
    ("value", "status", "op", "target", "shown"),
    [
        (178 / 199 * 100, "met", ">=", 87.0, "89.45%"),
        (2 / 199 * 100, "not_met", "<=", 1.0, "1.01%"),
        (1.004, "not_met", "<=", 1.0, "1.004%"),  # 1.00% next to 未达标 would contradict it
        (86.996, "not_met", ">=", 87.0, "86.996%"),
        (86.9951, "not_met", ">=", 87.0, "86.995%"),
        (95.0, "met", ">=", 95.0, "95.00%"),
    ],
)
def test_display_never_contradicts_the_status(
    value: float, status: str, op: str, target: float, shown: str
) -> None:
    row = {"value": value, "unit": "%", "status": status, "target_op": op, "target": target}
    assert display_value(row) == shown


def test_display_formats_by_unit() -> None:
    assert format_value(8.0, "count") == "8"
    assert format_value(104.5, "ratio") == "104.50"
    assert format_value(None, "%") == ""
    assert display_decimals(1.0, "count") == 0
    assert display_value({"value": pd.NA, "unit": "%", "status": "no_data"}) == ""
    assert format_target(">=", 87.0, None, "%") == "≥ 87%"
    assert format_target("<=", 1.0, None, "%") == "≤ 1%"
    assert format_target("between", 103.0, 107.0, "ratio") == "103–107"
    assert format_target(None, None, None, "%") == ""


def test_presentation_frame_has_chinese_headers_labels_and_display_values() -> None:
    mart = sample_mart(("2026-Q3",))
    shown = presentation_frame(mart)
    assert list(shown.columns) == [c.header_zh for c in MART_COLUMNS]
    assert set(shown["达标情况"]) == {"达标", "未达标", "无目标", "无数据"}
    assert set(shown["层级"]) == {"县", "乡镇", "村"}
    county = shown.loc[(shown["区划代码"] == "654226") & (shown["指标代码"] == "multi_child_rate")]
    assert county["指标值"].iloc[0] == 1.01  # 2/199 = 1.005…% rounded for display
    assert county["目标比较"].iloc[0] == "≤"
    assert county["起始日期"].iloc[0] == "2026-07-01"
    assert county["分子"].iloc[0] == 2  # whole numbers stay whole
    assert mart["value"].notna().sum() == shown["指标值"].notna().sum()
    assert set(shown["期间已完整"]) == {"是"}


def test_exports_say_whether_a_period_is_complete_and_label_too_few() -> None:
    mart = sample_mart(("2026-Q3",)).assign(period_complete=False)
    mart.loc[0, "status"] = "too_few"
    shown = presentation_frame(mart)
    assert set(shown["期间已完整"]) == {"否"}
    assert shown.loc[0, "达标情况"] == "基数过少"


def test_the_committed_data_dictionary_is_generated_from_the_catalog() -> None:
    expected = data_dictionary_markdown(load_catalog())
    committed = (ROOT / "docs" / "data-dictionary.md").read_text(encoding="utf-8")
    assert committed == expected, (
        "docs/data-dictionary.md is stale; regenerate it with: .venv/bin/python -c "
        '"from transforms.indicators.catalog import load_catalog; '
        "from transforms.officer.mart_presentation import data_dictionary_markdown as d; "
        "open('docs/data-dictionary.md','w',encoding='utf-8').write(d(load_catalog()))\""
    )


def test_data_dictionary_names_every_column_and_indicator() -> None:
    text = data_dictionary_markdown(load_catalog())
    for column in MART_COLUMNS:
        assert f"| `{column.name}` |" in text
    for indicator in load_catalog():
        assert f"| `{indicator.code}` | {indicator.name_zh}" in text
    assert "政策符合率（计划生育率）" in text
    assert "`births_policy_in`:" in text  # numerator with the measure's description
