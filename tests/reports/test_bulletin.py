"""The bulletin: villages ranked per township, met / not met, changes, and a page that
fetches nothing and escapes every text."""

from __future__ import annotations

import math
import re

import pandas as pd
import pytest

from reports.bulletin import render_bulletin_html
from reports.charts import Bar, bar_chart_svg
from tests.mart_samples import FORMULA_NAME, SCRIPT_NAME, sample_mart
from transforms.indicators.catalog import load_catalog
from transforms.officer.bulletin import (
    bulletin_sheets,
    bulletin_table,
    period_title,
    previous_period,
)


def _frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    mart = sample_mart()
    return (
        mart.loc[mart["period"] == "2026-Q3"].reset_index(drop=True),
        mart.loc[mart["period"] == "2026-Q2"].reset_index(drop=True),
    )


def _page() -> str:
    current, previous = _frames()
    return render_bulletin_html(
        current, previous, "2026-Q3", load_catalog(), "2026-Q2", generated_at="2026-10-06 08:00"
    )


@pytest.mark.parametrize(
    ("label", "before"),
    [
        ("2026-Q3", "2026-Q2"),
        ("2026-Q1", "2025-Q4"),
        ("2026-01", "2025-12"),
        ("2026-09", "2026-08"),
        ("2026-H1", "2025-H2"),
        ("2026-H2", "2026-H1"),
        ("2026", "2025"),
        ("2026-01..2026-09", None),
    ],
)
def test_previous_period(label: str, before: str | None) -> None:
    assert previous_period(label) == before


def test_period_titles() -> None:
    assert period_title("2026-Q3") == "2026年第三季度"
    assert period_title("2026-H2") == "2026年下半年"
    assert period_title("2026-01..2026-09") == "2026年1—9月"
    assert period_title("2026-09") == "2026年9月"


def test_table_ranks_children_within_each_parent_and_tracks_changes() -> None:
    current, previous = _frames()
    table = bulletin_table(current, previous, load_catalog())
    assert set(table["indicator"]) == {
        "policy_compliance_rate",
        "multi_child_rate",
    }  # births: no target
    assert list(dict.fromkeys(table["parent_code"])) == ["654226", "654226100", "654226101"]
    policy = table.loc[
        (table["parent_code"] == "654226100") & (table["indicator"] == "policy_compliance_rate")
    ]
    assert list(policy["area_code"]) == ["654226100201", "654226100202", "654226100203"]
    assert list(policy["rank"].astype("string").fillna("-")) == ["1", "2", "-"]
    assert list(policy["status"]) == ["met", "not_met", "no_data"]
    first, second, none = policy.to_dict("records")
    assert (first["status_change"], first["trend"], first["delta_text"]) == (
        "newly_met",
        "better",
        "+10.00",
    )
    assert (second["status_change"], second["trend"]) == ("newly_not_met", "worse")
    assert none["trend"] == "" and math.isnan(none["delta"])
    multi = table.loc[
        (table["area_code"] == "654226100202") & (table["indicator"] == "multi_child_rate")
    ]
    assert multi["trend"].iloc[0] == "same" and multi["status_change"].iloc[0] == "same"


def test_page_shows_ranking_status_in_words_and_changes() -> None:
    page = _page()
    assert "和布克赛尔蒙古自治县2026年第三季度人口计生考核指标季度通报" in page
    section = page[page.index('id="area-654226100"') : page.index('id="area-654226101"')]
    card = section[section.index('id="654226100-policy_compliance_rate"') :]
    card = card[: card.index("</article>")]
    assert card.index("查干托洛盖村") < card.index("&lt;script&gt;")  # rank 1 before rank 2
    assert '<td class="rank">1</td>' in card and '<td class="rank">2</td>' in card
    assert "✓ 达标" in card and "✗ 未达标" in card and "无数据" in card
    assert "转为达标" in card and "转为未达标" in card
    assert "+10.00个百分点" in card and "-10.00个百分点" in card
    assert "目标 ≥ 87%" in card
    assert card.count("<svg") == 1
    assert "需关注：较上期转为未达标" in page


def test_page_escapes_every_text_from_data() -> None:
    page = _page()
    assert "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;村" in page
    assert "=HYPERLINK(&quot;x&quot;,&quot;村&quot;)" in page
    assert FORMULA_NAME not in page and SCRIPT_NAME not in page


def test_page_requests_nothing() -> None:
    page = _page()
    assert not re.search(r"https?://", page)
    assert not re.search(
        r"""(?:src|href|action|srcset)\s*=\s*["']?\s*(?:[a-z][a-z0-9+.-]*:)?//""", page, re.I
    )
    assert not re.search(r"""\bsrc\s*=""", page, re.I)
    for forbidden in (
        "<link",
        "<script",
        "<iframe",
        "<img",
        "@import",
        "url(",
        "<object",
        "<embed",
    ):
        assert forbidden not in page.lower()
    assert all(h.startswith("#") for h in re.findall(r'href="([^"]*)"', page))


def test_chart_draws_target_line_band_and_no_data() -> None:
    bars = [Bar("甲村", "1", 90.0, "90.00%", "met"), Bar("乙村", "–", math.nan, "", "no_data")]
    svg = bar_chart_svg(bars, "%", ">=", 87.0, math.nan, "政策符合率")
    assert svg.count("<rect") == 1 and "stroke-dasharray" in svg
    assert "目标 ≥ 87%" in svg and "无数据" in svg and "90.00% ✓" in svg
    band = bar_chart_svg(
        [Bar("甲村", "1", 110.0, "110.00", "not_met")],
        "ratio",
        "between",
        103.0,
        107.0,
        "出生性别比",
    )
    assert band.count("stroke-dasharray") == 2 and "目标 103–107" in band
    assert "fill-opacity" in band


def test_sheets_summarise_then_one_per_parent() -> None:
    current, previous = _frames()
    sheets = bulletin_sheets(bulletin_table(current, previous, load_catalog()))
    assert list(sheets) == ["汇总", "和布克赛尔蒙古自治县", "和什托洛盖镇", "查干库勒乡"]
    summary = sheets["汇总"].set_index("区划代码")
    assert summary.loc["654226100", "转为达标"] == 1
    assert summary.loc["654226100", "转为未达标"] == 1
    town = sheets["和什托洛盖镇"]
    assert list(town.columns[:4]) == ["上级区划", "指标", "排名", "区划代码"]
    assert "达标变化" in town.columns


def test_empty_period_renders_a_notice() -> None:
    current, previous = _frames()
    page = render_bulletin_html(current.iloc[0:0], previous.iloc[0:0], "2026-Q3", load_catalog())
    assert "本期没有可通报的考核指标数据" in page


def test_targets_that_differ_between_areas_are_drawn_per_area() -> None:
    current, previous = _frames()
    own = (current["area_code"] == "654226100201") & (
        current["indicator"] == "policy_compliance_rate"
    )
    current.loc[own, "target"] = 85.0
    page = render_bulletin_html(current, previous, "2026-Q3", load_catalog(), "2026-Q2")
    card = page[page.index('id="654226100-policy_compliance_rate"') :]
    card = card[: card.index("</article>")]
    assert "目标 ≥ 85% / ≥ 87%" in card and "目标因区划而异" in card
    assert "<th>目标</th>" in card and card.count('stroke-width="2"/>') == 2  # one mark per bar


def test_figures_not_fully_signed_off_are_marked_provisional() -> None:
    """654226100202 is not signed off in 2026-Q3: its figures and its township's are 暂定."""
    current, previous = _frames()
    table = bulletin_table(current, previous, load_catalog()).set_index(
        ["parent_code", "area_code", "indicator"]
    )
    assert table.loc[("654226100", "654226100202", "policy_compliance_rate"), "provisional"]
    assert not table.loc[("654226100", "654226100201", "policy_compliance_rate"), "provisional"]
    assert table.loc[("654226", "654226100", "policy_compliance_rate"), "provisional"]
    assert not table.loc[("654226", "654226101", "policy_compliance_rate"), "provisional"]

    page = _page()
    assert "暂定数：该数字所涉村月尚未全部经乡镇审核把关" in page
    assert "已审核把关村月 75%" in page  # the county: 9 of 12 village-months
    section = page[page.index('id="area-654226100"') : page.index('id="area-654226101"')]
    card = section[section.index('id="654226100-policy_compliance_rate"') :]
    card = card[: card.index("</article>")]
    assert 'title="审核把关 0%">80.00%*</td>' in card  # 40 of 50, not signed off
    assert 'title="审核把关 100%">90.00%</td>' in card  # signed off: no mark
    # The quarter before was fully signed off: no mark and no note.
    before = render_bulletin_html(previous, previous.iloc[0:0], "2026-Q2", load_catalog())
    assert "暂定数" not in before and "%*" not in before

    sheets = bulletin_sheets(bulletin_table(current, previous, load_catalog()))
    town = sheets["和什托洛盖镇"].set_index(["区划代码", "指标"])
    assert town.loc[("654226100202", "政策符合率"), "暂定"] == "暂定"
    assert town.loc[("654226100201", "政策符合率"), "已审核村月占比"] == 1.0


def test_a_period_still_running_says_through_which_month() -> None:
    from reports.bulletin import render_bulletin_html

    mart = sample_mart(("2026-Q3",))
    running = mart.assign(period_complete=False)
    page = render_bulletin_html(
        running, mart.iloc[0:0], "2026-Q3", load_catalog(), None, None, "2026-08"
    )
    assert "截至8月" in page and "2026-09-30" not in page
    done = render_bulletin_html(mart, mart.iloc[0:0], "2026-Q3", load_catalog())
    assert "2026-07-01 至 2026-09-30" in done and "截至" not in done


def _under_a_province(frame: pd.DataFrame) -> pd.DataFrame:
    """The sample county's rows under 塔城地区 6542 under the province 65 (copies of the
    county's rows with the codes, names and levels above it)."""
    county = frame.loc[frame["area_level"] == "county"]
    above = [
        county.assign(
            area_code="6542", area_name="塔城地区", area_level="prefecture", parent_code="65"
        ),
        county.assign(
            area_code="65", area_name="新疆维吾尔自治区", area_level="province", parent_code=None
        ),
    ]
    frame = frame.assign(
        parent_code=frame["parent_code"].where(frame["area_level"] != "county", "6542")
    )
    return pd.concat([*above, frame], ignore_index=True)


def test_a_provinces_bulletin_goes_top_down_under_the_provinces_name() -> None:
    current, previous = (_under_a_province(f) for f in _frames())
    table = bulletin_table(current, previous, load_catalog())
    assert list(dict.fromkeys(table["parent_code"])) == [
        "65",
        "6542",
        "654226",
        "654226100",
        "654226101",
    ]
    assert set(table.loc[table["parent_code"] == "6542", "area_level"]) == {"county"}
    page = render_bulletin_html(current, previous, "2026-Q3", load_catalog(), "2026-Q2")
    assert "<h1>新疆维吾尔自治区2026年第三季度" in page
