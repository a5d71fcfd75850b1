"""Exports of the published mart (SQLite and PostgreSQL): filters, formats, bulletin rows."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine

from flows import export_files, report_files
from tests.mart_samples import FORMULA_NAME, sample_mart
from transforms.officer.mart_presentation import MART_COLUMNS
from warehouse import mart_export
from warehouse.publish import publish

HEADERS = [c.header_zh for c in MART_COLUMNS]
ENGLISH = [c.name for c in MART_COLUMNS]


@pytest.fixture
def published(engine: Engine) -> Engine:
    publish(engine, {}, sample_mart(), "r1")
    return engine


def _read(path: Path, fmt: str) -> pd.DataFrame:
    if fmt == "csv":
        return pd.read_csv(path, encoding="utf-8-sig", dtype={"区划代码": str, "上级区划代码": str})
    if fmt == "xlsx":
        return pd.read_excel(path, engine="calamine", dtype={"区划代码": str, "上级区划代码": str})
    return pd.read_parquet(path)


def test_area_filter_takes_the_area_and_everything_below(published: Engine) -> None:
    selection = mart_export.make_filter(["2026-Q3"], ["654226100"], ["policy_compliance_rate"])
    with published.connect() as conn:
        rows = mart_export.query_mart(conn, selection)
    assert list(rows["area_code"]) == ["654226100", "654226100201", "654226100202", "654226100203"]
    both = mart_export.make_filter(["2026-Q3"], ["654226100201,654226101"], None)
    with published.connect() as conn:
        rows = mart_export.query_mart(conn, both)
    assert sorted(set(rows["area_code"])) == ["654226100201", "654226101", "654226101201"]
    assert list(rows["indicator"][:3]) == ["births", "policy_compliance_rate", "multi_child_rate"]


def test_filters_are_validated() -> None:
    with pytest.raises(ValueError, match="期间无效"):
        mart_export.make_filter(["2026-Q5"])
    with pytest.raises(ValueError, match="area codes are digits only"):
        mart_export.make_filter(None, ["6542%"])
    with pytest.raises(ValueError, match="unknown indicators: nope"):
        mart_export.make_filter(None, None, ["nope"])
    assert mart_export.make_filter(["2026-Q3", "2026-Q3,2026"]).periods == ("2026-Q3", "2026")


@pytest.mark.parametrize("fmt", export_files.FORMATS)
def test_each_format_reads_back(
    published: Engine, tmp_path: Path, fmt: export_files.ExportFormat
) -> None:
    selection = mart_export.make_filter(["2026-Q3"], ["654226100"])
    with published.connect() as conn:
        result = export_files.export_mart(conn, fmt, tmp_path, selection)
    assert result.path == tmp_path / f"mart_target_achievement_2026-Q3_654226100.{fmt}"
    assert result.rows == 4 * 3
    back = _read(result.path, fmt)
    assert len(back) == 12
    if fmt == "parquet":
        assert list(back.columns) == ENGLISH
        county_free = back.set_index(["area_code", "indicator"])
        assert county_free.loc[("654226100", "multi_child_rate"), "value"] == 1.0
        assert back["period_start"].iloc[0] == date(2026, 7, 1)
        assert set(back["status"]) == {"met", "not_met", "no_target", "no_data"}
        assert FORMULA_NAME in set(back["area_name"])  # data for machines: untouched
        return
    assert list(back.columns) == HEADERS
    assert set(back["达标情况"]) == {"达标", "未达标", "无目标", "无数据"}
    assert set(back["区划代码"]) == {"654226100", "654226100201", "654226100202", "654226100203"}
    policy = back.set_index(["区划代码", "指标代码"]).loc[("654226100", "policy_compliance_rate")]
    assert (policy["指标值"], policy["分子"], policy["分母"], policy["排名"]) == (85.0, 85, 100, 2)
    assert "'" + FORMULA_NAME in set(back["区划名称"])  # neutralised for spreadsheets
    assert set(back["起始日期"].astype(str)) == {"2026-07-01"}


def test_named_file_and_no_rows(published: Engine, tmp_path: Path) -> None:
    with published.connect() as conn:
        named = export_files.export_mart(conn, "csv", tmp_path / "x" / "mine.csv")
        nothing = export_files.export_mart(
            conn, "csv", tmp_path / "empty", mart_export.make_filter(["2025-Q3"])
        )
    assert named.path == tmp_path / "x" / "mine.csv" and named.rows == len(sample_mart())
    assert nothing.path is None and nothing.rows == 0
    assert not (tmp_path / "empty").exists()


def test_bulletin_reads_the_quarter_and_the_one_before(published: Engine, tmp_path: Path) -> None:
    with published.connect() as conn:
        rows = mart_export.bulletin_rows(conn, "2026-Q3")
        files = report_files.write_bulletin(conn, "2026-Q3", tmp_path, generated_at="now")
        missing = report_files.write_bulletin(conn, "2025-Q1", tmp_path)
    assert (rows.period, rows.previous_period) == ("2026-Q3", "2026-Q2")
    assert set(rows.current["period"]) == {"2026-Q3"} and set(rows.previous["period"]) == {
        "2026-Q2"
    }
    assert missing is None
    assert files is not None and files.html.name == "bulletin_2026-Q3.html"
    assert "转为未达标" in files.html.read_text(encoding="utf-8")
    sheets = pd.read_excel(files.xlsx, engine="calamine", sheet_name=None)
    assert list(sheets) == ["汇总", "和布克赛尔蒙古自治县", "和什托洛盖镇", "查干库勒乡"]
    town = sheets["和什托洛盖镇"]
    policy = town.loc[town["指标"] == "政策符合率"]
    assert list(policy["排名"].fillna(0).astype(int)) == [1, 2, 0]
    assert list(policy["达标情况"]) == ["达标", "未达标", "无数据"]
