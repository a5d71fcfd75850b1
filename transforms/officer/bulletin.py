"""The quarterly bulletin (季度通报) as data: mart rows in, ranked rows and sheets out.

For each parent area (top down: a province's prefectures, a prefecture's
counties, a county's townships, then each township's villages)
and each indicator that has a target in the period, the children are ranked
(the mart's `rank`, 1 = best), met / not met is shown by colour AND text, a
bar chart draws each value against the target line, and the change since the
previous period is given (value delta, status change).

Pure: frames in, frames out. Grain of `bulletin_table`: one row per (parent area,
indicator with a target, child area). Values are rounded for display only
(transforms.officer.mart_presentation), never contradicting the published status. The
page made from these rows lives in reports/ (reports.bulletin).
"""

from __future__ import annotations

import math

import pandas as pd

from transforms.indicators.achievement import AREA_LEVELS
from transforms.indicators.catalog import Catalog
from transforms.indicators.targets import score_one
from transforms.officer.mart_presentation import (
    STATUS_LABELS,
    UNIT_LABELS,
    display_value,
    format_target,
    round_half_up,
)
from transforms.periods import (
    half_period,
    month_period,
    parse_period,
    quarter_period,
    year_period,
)

JUDGED = ("met", "not_met", "no_data")
_ZH_DIGITS = "一二三四"
_TOLERANCE = 1e-9


# ------------------------------------------------------------------ periods


def previous_period(label: str) -> str | None:
    """The period a bulletin compares with: the month, quarter, half-year or year before.

    `2026-Q3` → `2026-Q2`, `2026-Q1` → `2025-Q4`, `2026-01` → `2025-12`. A
    year-to-date period has no such predecessor (None).
    """
    period = parse_period(label)
    year = period.year
    if period.kind == "month":
        month = int(period.last_month[5:])
        return (month_period(year, month - 1) if month > 1 else month_period(year - 1, 12)).label
    if period.kind == "quarter":
        quarter = int(label[-1])
        return (
            quarter_period(year, quarter - 1) if quarter > 1 else quarter_period(year - 1, 4)
        ).label
    if period.kind == "half":
        return (half_period(year, 1) if label.endswith("H2") else half_period(year - 1, 2)).label
    if period.kind == "year":
        return year_period(year - 1).label
    return None


def period_title(label: str) -> str:
    """`2026年第三季度`, `2026年9月`, `2026年1—9月`, `2026年下半年`, `2026年`."""
    period = parse_period(label)
    year = period.year
    first, last = int(period.months[0][5:]), int(period.last_month[5:])
    if period.kind == "quarter":
        return f"{year}年第{_ZH_DIGITS[int(label[-1]) - 1]}季度"
    if period.kind == "half":
        return f"{year}年{'上' if label.endswith('H1') else '下'}半年"
    if period.kind == "year":
        return f"{year}年"
    if period.kind == "ytd":
        return f"{year}年1—{last}月" if last > 1 else f"{year}年1月"
    return f"{year}年{first}月"


def bulletin_kind(label: str) -> str:
    """季度通报, 月度通报, 半年通报, 年度通报 or 通报 (year to date)."""
    kind = parse_period(label).kind
    return {"quarter": "季度通报", "month": "月度通报", "half": "半年通报", "year": "年度通报"}.get(
        kind, "通报"
    )


# -------------------------------------------------------------------- table

PROVISIONAL_MARK = "*"
PROVISIONAL_NOTE = "* 暂定数：该数字所涉村月尚未全部经乡镇审核把关（签核），以签核后的数字为准。"


def is_provisional(share: object) -> bool:
    """A figure not fully signed off (审核把关): some village-month behind it is unreviewed.

    A row with nothing behind it (null share) is not marked: there is no figure to review.
    """
    value = as_number(share)
    return not math.isnan(value) and value < 1.0


def marked(text: str, provisional: object) -> str:
    """A shown value with the provisional mark (`*`) when its figure is not fully signed off."""
    return f"{text}{PROVISIONAL_MARK}" if text and bool(provisional) else text


def share_text(share: object) -> str:
    """`审核把关 80%`: how much of a figure is signed off, for a tooltip."""
    value = as_number(share)
    return "" if math.isnan(value) else f"审核把关 {round_half_up(100 * value, 0):.0f}%"


def as_number(value: object) -> float:
    """A cell as a float; missing or not a number is NaN."""
    if value is None or value is pd.NA:
        return math.nan
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
    return number


def as_text(value: object) -> str:
    """A cell as text; missing is empty."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def _delta_decimals(unit: str) -> int:
    return 0 if unit == "count" else 2


def _status_change(previous: str, current: str) -> tuple[str, str]:
    """(code, label) of a status change: same, newly_met, newly_not_met, other, no_previous."""
    if not previous:
        return "no_previous", "上期无数据"
    if previous == current:
        return "same", "未变"
    if previous == "not_met" and current == "met":
        return "newly_met", "转为达标"
    if previous == "met" and current == "not_met":
        return "newly_not_met", "转为未达标"
    return "other", f"{STATUS_LABELS.get(previous, previous)}→{STATUS_LABELS.get(current, current)}"


TABLE_COLUMNS = (
    "parent_code",
    "parent_name",
    "parent_level",
    "indicator",
    "indicator_name",
    "unit",
    "better",
    "rank",
    "area_code",
    "area_name",
    "area_level",
    "value",
    "value_text",
    "target_op",
    "target",
    "target_hi",
    "target_text",
    "status",
    "status_label",
    "previous_value",
    "previous_value_text",
    "previous_status",
    "previous_rank",
    "delta",
    "delta_text",
    "trend",
    "status_change",
    "status_change_label",
    "signed_off_share",
    "provisional",
)

_LEVEL_ORDER = {level: i for i, level in enumerate(AREA_LEVELS)}


def bulletin_table(current: pd.DataFrame, previous: pd.DataFrame, catalog: Catalog) -> pd.DataFrame:
    """One row per (parent area, indicator with a target, child area), children ranked.

    `trend` is `better`, `worse` or `same` (by the indicator's better direction,
    on the change as displayed), empty without a previous value. Parents: top
    down by level (province, prefecture, county, township), by code within a level;
    indicators in catalog order.
    """
    if current.empty:
        return pd.DataFrame(columns=list(TABLE_COLUMNS))
    names = dict(zip(current["area_code"], current["area_name"], strict=False))
    levels = dict(zip(current["area_code"], current["area_level"], strict=False))
    before = {(str(r["area_code"]), str(r["indicator"])): r for r in previous.to_dict("records")}
    better_of = {i.code: i.better for i in catalog}
    position = {code: i for i, code in enumerate(catalog.codes)}
    judged = current.loc[
        current["parent_code"].notna()
        & current["status"].isin(JUDGED)
        & current["target_op"].notna()
    ]
    rows: list[dict[str, object]] = []
    for record in judged.to_dict("records"):
        parent = str(record["parent_code"])
        unit = str(record["unit"])
        indicator = str(record["indicator"])
        status = str(record["status"])
        value = as_number(record["value"])
        old = before.get((str(record["area_code"]), indicator))
        old_value = as_number(old["value"]) if old is not None else math.nan
        old_status = as_text(old["status"]) if old is not None else ""
        delta = value - old_value
        decimals = _delta_decimals(unit)
        shown = round_half_up(delta, decimals) if not math.isnan(delta) else math.nan
        trend = ""
        if not math.isnan(shown):
            op = as_text(record["target_op"])
            lo, hi = as_number(record["target"]), as_number(record["target_hi"])
            better = better_of.get(indicator)
            change = score_one(value, better, op, lo, hi) - score_one(old_value, better, op, lo, hi)
            trend = (
                "same"
                if shown == 0 or abs(change) < _TOLERANCE
                else ("better" if change < 0 else "worse")
            )
        code, label = _status_change(old_status, status)
        rows.append(
            {
                "parent_code": parent,
                "parent_name": as_text(names.get(parent, parent)),
                "parent_level": as_text(levels.get(parent, "")),
                "indicator": indicator,
                "indicator_name": as_text(record["indicator_name"]),
                "unit": unit,
                "better": as_text(better_of.get(indicator)),
                "rank": record["rank"],
                "area_code": str(record["area_code"]),
                "area_name": as_text(record["area_name"]),
                "area_level": as_text(record["area_level"]),
                "value": value,
                "value_text": display_value(record),
                "target_op": as_text(record["target_op"]),
                "target": as_number(record["target"]),
                "target_hi": as_number(record["target_hi"]),
                "target_text": format_target(
                    as_text(record["target_op"]),
                    as_number(record["target"]),
                    None
                    if math.isnan(as_number(record["target_hi"]))
                    else as_number(record["target_hi"]),
                    unit,
                ),
                "status": status,
                "status_label": STATUS_LABELS.get(status, status),
                "previous_value": old_value,
                "previous_value_text": display_value(old) if old is not None else "",
                "previous_status": old_status,
                "previous_rank": old["rank"] if old is not None else pd.NA,
                "delta": delta,
                "delta_text": "" if math.isnan(shown) else f"{shown:+.{decimals}f}",
                "trend": trend,
                "status_change": code,
                "status_change_label": label,
                "signed_off_share": as_number(record.get("signed_off_share")),
                "provisional": is_provisional(record.get("signed_off_share")),
                "_parent_order": (
                    _LEVEL_ORDER.get(str(levels.get(parent)), len(AREA_LEVELS)),
                    parent,
                ),
                "_indicator_order": position.get(indicator, len(position)),
            }
        )
    table = pd.DataFrame(rows)
    table["_rank"] = pd.to_numeric(table["rank"]).fillna(math.inf)
    table = table.sort_values(
        ["_parent_order", "_indicator_order", "indicator", "_rank", "area_code"], kind="stable"
    )
    table["rank"] = table["rank"].astype("Int64")
    table["previous_rank"] = pd.to_numeric(table["previous_rank"]).astype("Int64")
    return table[list(TABLE_COLUMNS)].reset_index(drop=True)


# ------------------------------------------------------------------- sheets

_SHEET_HEADERS = {
    "parent_name": "上级区划",
    "indicator_name": "指标",
    "rank": "排名",
    "area_code": "区划代码",
    "area_name": "区划名称",
    "shown_value": "指标值",
    "unit_label": "单位",
    "target_text": "目标",
    "status_label": "达标情况",
    "shown_previous": "上期指标值",
    "shown_delta": "较上期变化（百分比指标为百分点）",
    "previous_rank": "上期排名",
    "status_change_label": "达标变化",
    "shown_share": "已审核村月占比",
    "provisional_label": "暂定",
}


def _shown_number(text: object) -> float | None:
    """The number a display text shows (`89.45%` -> 89.45), for a spreadsheet cell."""
    stripped = as_text(text).rstrip("%")
    return float(stripped) if stripped else None


def bulletin_sheets(table: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The bulletin as workbook sheets with Chinese headers: a summary, then one per parent.

    Sheet names are the parent's name (unique, at most 31 characters).
    """
    summary = (
        table.assign(
            met=table["status"].eq("met"),
            not_met=table["status"].eq("not_met"),
            no_data=table["status"].eq("no_data"),
            newly_met=table["status_change"].eq("newly_met"),
            newly_not_met=table["status_change"].eq("newly_not_met"),
        )
        .groupby(["parent_code", "parent_name"], sort=False)[
            ["met", "not_met", "no_data", "newly_met", "newly_not_met"]
        ]
        .sum()
        .reset_index()
        .rename(
            columns={
                "parent_code": "区划代码",
                "parent_name": "区划名称",
                "met": "达标项次",
                "not_met": "未达标项次",
                "no_data": "无数据项次",
                "newly_met": "转为达标",
                "newly_not_met": "转为未达标",
            }
        )
    )
    sheets: dict[str, pd.DataFrame] = {"汇总": summary}
    for (_, name), part in table.groupby(["parent_code", "parent_name"], sort=False):
        sheet = str(name)[:28] or "区划"
        base, n = sheet, 2
        while sheet in sheets:
            sheet, n = f"{base[:26]}_{n}", n + 1
        shown = part.assign(
            shown_value=pd.array([_shown_number(t) for t in part["value_text"]], dtype="Float64"),
            shown_previous=pd.array(
                [_shown_number(t) for t in part["previous_value_text"]], dtype="Float64"
            ),
            shown_delta=pd.array([_shown_number(t) for t in part["delta_text"]], dtype="Float64"),
            unit_label=part["unit"].map(lambda u: UNIT_LABELS.get(u, u)),
            shown_share=pd.to_numeric(part["signed_off_share"]).astype("Float64"),
            provisional_label=part["provisional"].map({True: "暂定", False: ""}),
        )
        sheets[sheet] = shown[list(_SHEET_HEADERS)].rename(columns=_SHEET_HEADERS)
    return sheets
