"""The officer report: escaped, self-contained, Chinese, units placed under their townships."""

from __future__ import annotations

import re
from datetime import date, datetime
from html.parser import HTMLParser

import pandas as pd
import pytest

from reports.charts import month_chart_svg
from reports.officer_report import render_html
from tests.area_samples import AREAS, HOSPITAL, INSTITUTIONS, REPORTING, T1, T2, V1, V2, V3
from transforms.officer.labels import rule_label
from transforms.officer.report import (
    ReportInput,
    county_name,
    issues_table,
    month_counts,
    place_units,
    reporting_table,
    rule_table,
    workbook_sheets,
)

EVIL = "<script>alert('x')</script><img src=\"http://evil.example/x.png\">"


def _issue(**values: object) -> dict[str, object]:
    row: dict[str, object] = {
        "issue_id": "DQ0000000000000001",
        "rule": "id_checksum",
        "severity": "error",
        "dimension": "validity",
        "source": "village",
        "kind": "women",
        "unit": V1,
        "report_month": "2026-09",
        "file_name": f"village_women_{V1}_202609.csv",
        "row_number": 3,
        "record_key": None,
        "message_zh": "“身份证号”校验位错误，本行暂不计入统计。",
        "message_en": "ID number: the check digit is wrong.",
        "status": "open",
        "status_note": None,
        "status_by": None,
    }
    row.update(values)
    return row


ISSUES = pd.DataFrame(
    [
        _issue(),
        _issue(
            issue_id="DQ0000000000000002",
            rule="birth_sex_conflict",
            severity="warning",
            kind="births",
            unit=V2,
            report_month="2026-08",
            file_name=f"village_births_{V2}_202608.xlsx",
            row_number=1,
            record_key="654226********7803",
            message_zh="婴儿性别不一致 " + EVIL,
            message_en="child's sex disagrees " + EVIL,
            status="acknowledged",
            status_note="已通知村专干 <b>核实</b>",
            status_by="officer",
        ),
        _issue(
            issue_id="DQ0000000000000003",
            rule="upload_late",
            severity="warning",
            source="hospital",
            kind="births",
            unit=HOSPITAL,
            report_month="2026-09",
            file_name=f"hospital_births_{HOSPITAL}_202609.csv",
            row_number=None,
            message_zh="和什托洛盖镇卫生院迟报。",
            message_en="late upload",
        ),
        _issue(
            issue_id="DQ0000000000000004",
            rule="file_unrecognised_name",
            source=None,
            kind=None,
            unit=None,
            report_month=None,
            file_name='=HYPERLINK("x")<i>村.xlsx',
            row_number=None,
            message_zh="文件名不符合命名规则。",
            message_en="file name not recognised",
        ),
    ]
)
DATA = ReportInput(
    issues=ISSUES,
    reporting=REPORTING,
    areas=AREAS,
    institutions=INSTITUTIONS,
    generated_at=datetime(2026, 10, 7, 8, 30),
    data_as_of=date(2026, 10, 6),
    run_id="run-20261006T020000-1",
)


@pytest.fixture(scope="module")
def page() -> str:
    return render_html(DATA)


def test_every_value_is_escaped(page: str) -> None:
    assert "<script" not in page.lower()
    assert "<img" not in page.lower()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "&lt;b&gt;核实&lt;/b&gt;" in page  # the review note
    assert "=HYPERLINK(&quot;x&quot;)&lt;i&gt;村.xlsx" in page


class _Tags(HTMLParser):
    """Every tag and attribute of a page, as the browser parses them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += [(name, value or "") for name, value in attrs]


def test_the_page_fetches_nothing(page: str) -> None:
    parsed = _Tags()
    parsed.feed(page)
    assert not {"script", "link", "img", "iframe", "object", "embed", "base"} & set(parsed.tags)
    urls = [v for k, v in parsed.attributes if k in {"src", "href", "action", "data", "poster"}]
    assert urls, "the table of contents has links"
    assert all(url.startswith("#") for url in urls), urls
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", page, re.IGNORECASE)
    lowered = page.lower()
    for fetcher in ("<link", "<iframe", "<object", "<embed", "@import", "url(", "<base"):
        assert fetcher not in lowered
    assert 'http-equiv="Content-Security-Policy" content="default-src &#x27;none&#x27;' in page
    # the only http text left is the escaped injected message, never an attribute
    assert page.count("http://") == 1 and "https://" not in page


def test_chinese_labels_names_and_masked_persons(page: str) -> None:
    assert '<html lang="zh-CN">' in page
    assert "<title>和布克赛尔蒙古自治县 数据质量问题报告</title>" in page
    for text in (
        "和什托洛盖镇",
        "查干托洛盖村",
        "和什托洛盖镇卫生院",
        "身份证号校验位错误",
        "婴儿性别不一致",
        "报表迟报",
        "654226********7803",
        "已婚育龄妇女花名册",
        "已确认",
        "报表上报率",
        "按时上报率",
        "数据截至：2026-10-06",
        "未识别单位的文件",
    ):
        assert text in page, text
    assert "ID number: the check digit is wrong." not in page


def test_english_labels_on_request() -> None:
    page = render_html(DATA, lang="en")
    assert '<html lang="en">' in page
    assert "Data quality issues report" in page and "Reporting rate" in page
    assert "ID number: the check digit is wrong." in page
    assert "校验位错误，本行" not in page
    with pytest.raises(ValueError):
        render_html(DATA, lang="fr")


def test_units_are_placed_under_their_townships() -> None:
    placed = place_units(
        [V1, T1, HOSPITAL, "H999", None, "654226109201"],
        AREAS,
        INSTITUTIONS,
        pd.DataFrame({"unit": ["H999"], "area_code": [V3]}),
    ).set_index("unit")
    assert placed.loc[V1, "township_code"] == T1 and placed.loc[V1, "unit_name"] == "查干托洛盖村"
    assert placed.loc[T1, "unit_name"] == "和什托洛盖镇（乡镇本级）"
    assert placed.loc[HOSPITAL, "township_name"] == "和什托洛盖镇"
    assert placed.loc["H999", "township_code"] == T2  # by dq_reporting.area_code
    assert placed.loc["", "township_name"] == "未归属乡镇"
    assert placed.loc["654226109201", "township_code"] == "654226109"  # code prefix, no name
    assert list(placed["unit_order"]) == [0, 1, 2, 2, 3, 0]


def test_a_provinces_report_is_named_for_the_province_and_places_units_the_same() -> None:
    assert county_name(AREAS) == "和布克赛尔蒙古自治县"
    above = pd.DataFrame(
        {
            "code": ["65", "6542"],
            "name": ["新疆维吾尔自治区", "塔城地区"],
            "level": ["province", "prefecture"],
            "parent_code": [None, "65"],
        },
        dtype="string",
    )
    areas = AREAS.copy()
    areas.loc[areas["level"] == "county", "parent_code"] = "6542"
    province = pd.concat([above, areas], ignore_index=True)
    assert county_name(province) == "新疆维吾尔自治区"
    placed = place_units([V1, T1, "6542", "65"], province, INSTITUTIONS).set_index("unit")
    assert placed.loc[V1, "township_code"] == T1 and placed.loc[T1, "township_code"] == T1
    assert placed.loc["6542", "township_code"] == placed.loc["65", "township_code"] == ""


def test_without_reference_the_report_works_by_code() -> None:
    page = render_html(ReportInput(issues=ISSUES, reporting=REPORTING))
    assert "<title>数据质量问题报告</title>" in page
    assert f'id="t-{T1}"' in page and V1 in page


def test_month_chart_is_inline_svg_with_stacked_bars() -> None:
    counts = month_counts(ISSUES)
    assert list(counts.index) == ["2026-08", "2026-09", ""]
    assert counts.loc["2026-09"].to_dict() == {"error": 1, "warning": 1}
    svg = month_chart_svg(ISSUES)
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert svg.count('class="bar-error"') == 2 + 1  # two bars with errors, one legend swatch
    assert svg.count('class="bar-warning"') == 2 + 1
    assert ">无月份<" in svg and "2026-08: 错误 0, 警告 1" in svg
    assert "没有待处理的问题" in month_chart_svg(ISSUES.iloc[0:0])


def test_reporting_rates_per_unit() -> None:
    table = reporting_table(DATA).set_index("代码")
    assert table.loc[V1, "报表上报率 (%)"] == 100.0 and table.loc[V1, "按时上报率 (%)"] == 50.0
    assert table.loc[V2, "报表上报率 (%)"] == 0.0 and table.loc[V2, "未上报"] == "2026-09：出生登记"
    assert table.loc[HOSPITAL, "乡镇"] == "和什托洛盖镇"
    assert list(table.index) == [V1, V2, HOSPITAL, V3]  # by township, villages first


def test_spreadsheet_frames_have_chinese_headers_and_no_raw_values() -> None:
    sheets = workbook_sheets(DATA)
    assert list(sheets) == ["需要更正的记录", "迟报和未报", "按规则和级别汇总", "上报情况"]
    issues = issues_table(DATA)
    assert len(issues) == 3  # the late upload is a notice, on its own sheet
    notices = issues_table(DATA, notices=True)
    assert list(notices["规则代码"]) == ["upload_late"]
    assert list(issues.columns[:4]) == ["乡镇", "村/单位", "代码", "月份"]
    assert {"文件", "行", "人员（已脱敏）", "说明", "编号"} <= set(issues.columns)
    assert "value" not in issues.columns and "值" not in issues.columns
    assert issues["编号"].iloc[-1] == "DQ0000000000000004"  # the unit-less file comes last
    rules = rule_table(DATA).set_index("规则代码")
    assert rules.loc["id_checksum", "和什托洛盖镇"] == 1 and rules.loc["upload_late", "合计"] == 1


def test_corrections_come_before_notices_errors_first() -> None:
    """Per township: rows to fix per unit (errors first), then late/missing uploads apart."""
    page = render_html(DATA)
    town = page[page.index('id="t-') :]
    fix, notices = town.index("需要更正的记录"), town.index("迟报和未报")
    assert fix < notices
    late = town.index("报表迟报", notices)
    assert "报表迟报" not in town[:notices].split("<table", 2)[-1]  # not among rows to fix
    assert late > notices


def test_report_without_areas_on_an_empty_warehouse_renders() -> None:
    """The empty issue frame from the warehouse merged badly on `unit` (int64 index)."""
    empty = ReportInput(
        issues=pd.DataFrame(columns=list(ISSUES.columns)),
        reporting=pd.DataFrame(columns=list(REPORTING.columns)),
    )
    assert "没有待处理的问题" in render_html(empty)


def test_empty_warehouse_renders() -> None:
    empty = ReportInput(issues=ISSUES.iloc[0:0], reporting=REPORTING.iloc[0:0], areas=AREAS)
    page = render_html(empty)
    assert "没有待处理的问题" in page and "没有应报报表的记录" in page
    assert issues_table(empty).empty and rule_table(empty).empty


def test_rule_labels_fall_back_to_the_code() -> None:
    assert rule_label("id_checksum") == "身份证号校验位错误"
    assert rule_label("id_checksum", "en") == "ID check digit wrong"
    assert rule_label("some_new_rule") == "some_new_rule"
