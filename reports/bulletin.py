"""The bulletin (季度通报) as one self-contained HTML page (templates bulletin*.html.j2).

Mart rows in, an HTML string out: the ranked rows of transforms.officer.bulletin, per parent
area a matrix of indicators × children and a card per indicator with its bar chart
(reports.charts), met / not met by colour AND text, and the change since the previous
period. The page makes no request of any kind: the stylesheet is inline, the charts
are inline SVG, there is no script, and every text from the data is escaped by the
templates' one path (reports.rendering).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd

from reports.charts import STATUS_SYMBOLS, Bar, bar_chart_svg
from reports.rendering import render
from transforms.indicators.catalog import Catalog
from transforms.officer.bulletin import (
    JUDGED,
    PROVISIONAL_NOTE,
    as_number,
    as_text,
    bulletin_kind,
    bulletin_table,
    is_provisional,
    marked,
    period_title,
    share_text,
)
from transforms.officer.mart_presentation import (
    LEVEL_LABELS,
    STATUS_LABELS,
    display_value,
    round_half_up,
)
from transforms.periods import Period, parse_period

MAX_HIGHLIGHTS = 40
"""Status changes listed in the overview; the rest are in each area's ranking."""


def _arrow(trend: str, delta: float) -> str:
    """▲ up or ▼ down (the colour, from `trend`, says whether that is better); ＝ unchanged."""
    if not trend:
        return ""
    if trend == "same" or math.isnan(delta) or delta == 0:
        return "＝"
    return "▲" if delta > 0 else "▼"


def _delta(row: Mapping[str, object], unit: str) -> str:
    """较上期 in words: the change (percentage points for rates), 持平, or — without one."""
    trend = as_text(row["trend"])
    if not trend:
        return "—"
    if trend == "same" and as_number(row["delta_text"]) == 0:
        return "持平"
    return as_text(row["delta_text"]) + ("个百分点" if unit == "%" else "")


def _targets(part: pd.DataFrame) -> list[str]:
    """The distinct targets of one indicator's rows, as shown (`≥ 80% / ≥ 85%`), lowest first."""
    ordered = part.sort_values(["target", "target_hi"], kind="stable")
    return list(dict.fromkeys(as_text(t) for t in ordered["target_text"] if as_text(t)))


def _card(part: pd.DataFrame, child_label: str) -> dict[str, object]:
    """One indicator of one parent: its chart and ranking table."""
    first = part.iloc[0]
    unit = str(first["unit"])
    title = f"{first['indicator_name']}"
    records = part.to_dict("records")
    bars = [
        Bar(
            label=as_text(r["area_name"]),
            rank=as_text(r["rank"]) if as_text(r["rank"]) else "–",
            value=as_number(r["value"]),
            text=as_text(r["value_text"]),
            status=as_text(r["status"]),
            target_op=as_text(r["target_op"]),
            target=as_number(r["target"]),
            target_hi=as_number(r["target_hi"]),
        )
        for r in records
    ]
    targets = _targets(part)
    shared = len(targets) == 1
    chart = bar_chart_svg(
        bars,
        unit,
        as_text(first["target_op"]) if shared else "",
        as_number(first["target"]) if shared else math.nan,
        as_number(first["target_hi"]) if shared else math.nan,
        f"{title}（{first['parent_name']}各{child_label}）",
    )
    rows = []
    for r in records:
        changed = r["status_change"] in ("newly_met", "newly_not_met", "other")
        rows.append(
            {
                "rank": as_text(r["rank"]) or "–",
                "area_name": r["area_name"],
                "share": share_text(r["signed_off_share"]),
                "value": marked(as_text(r["value_text"]), r["provisional"]) or "—",
                "target_text": r["target_text"],
                "status": as_text(r["status"]),
                "trend": as_text(r["trend"]),
                "previous": r["previous_value_text"],
                "arrow": _arrow(as_text(r["trend"]), as_number(r["delta_text"])),
                "delta": _delta(r, unit),
                "change_label": r["status_change_label"] if changed else "",
            }
        )
    return {
        "indicator": first["indicator"],
        "title": title,
        "targets": " / ".join(targets),
        "chart": chart,
        "shared": shared,
        "rows": rows,
    }


def _matrix(part: pd.DataFrame, own: pd.DataFrame) -> tuple[list[str], list[dict[str, object]]]:
    """Indicators × children at a glance (value, ✓ / ✗, colour), the parent's own total last."""
    children = (
        part[["area_code", "area_name"]].drop_duplicates().sort_values("area_code", kind="stable")
    )
    cells = {(r["indicator"], r["area_code"]): r for r in part.to_dict("records")}
    own_cells = {str(r["indicator"]): r for r in own.to_dict("records")}
    rows = []
    for indicator, group in part.groupby("indicator", sort=False):
        row_cells: list[dict[str, object] | None] = []
        for code in children["area_code"]:
            r = cells.get((indicator, code))
            if r is None:
                row_cells.append(None)
                continue
            status = str(r["status"])
            row_cells.append(
                {
                    "status": status,
                    "area_name": r["area_name"],
                    "status_label": STATUS_LABELS.get(status, status),
                    "text": marked(as_text(r["value_text"]), r["provisional"])
                    or STATUS_LABELS["no_data"],
                    "symbol": STATUS_SYMBOLS.get(status, ""),
                }
            )
        mine = own_cells.get(str(indicator))
        own_cell = None
        if mine is not None and as_text(mine["status"]) in JUDGED:
            status = str(mine["status"])
            own_cell = {
                "status": status,
                "text": marked(display_value(mine), is_provisional(mine.get("signed_off_share")))
                or STATUS_LABELS["no_data"],
                "symbol": STATUS_SYMBOLS.get(status, ""),
            }
        rows.append(
            {
                "indicator": indicator,
                "indicator_name": group.iloc[0]["indicator_name"],
                "targets": " / ".join(_targets(group)),
                "cells": row_cells,
                "own": own_cell,
            }
        )
    return list(children["area_name"]), rows


def _counts(part: pd.DataFrame) -> tuple[int, int, int]:
    """(met, not met, no data) rows of one parent."""
    status = part["status"]
    return (
        int((status == "met").sum()),
        int((status == "not_met").sum()),
        int((status == "no_data").sum()),
    )


def _child_label(part: pd.DataFrame) -> str:
    """What the children of a parent are called: 乡镇, 村 or 单位."""
    return LEVEL_LABELS.get(as_text(part["area_level"].iloc[0]), "单位")


def _section(parent: str, part: pd.DataFrame, current: pd.DataFrame) -> dict[str, object]:
    """One parent area: counts for the overview, its summary, matrix and cards."""
    name = as_text(part["parent_name"].iloc[0])
    child = _child_label(part)
    own = current.loc[current["area_code"] == parent]
    met, not_met, no_data = _counts(part)
    total = max(met + not_met + no_data, 1)
    summary = f"各{child}合计：达标 {met} 项次，未达标 {not_met} 项次，无数据 {no_data} 项次。"
    judged_own = own.loc[own["status"].isin(("met", "not_met"))]
    if len(judged_own):
        own_met = int((judged_own["status"] == "met").sum())
        summary += f"{name}本级：{len(judged_own)} 项指标中达标 {own_met} 项。"
    children, matrix = _matrix(part, own)
    return {
        "code": parent,
        "name": name,
        "child": child,
        "met": met,
        "not_met": not_met,
        "no_data": no_data,
        "met_width": 100 * met / total,
        "not_met_width": 100 * not_met / total,
        "summary": summary,
        "children": children,
        "matrix": matrix,
        "cards": [_card(rows, child) for _, rows in part.groupby("indicator", sort=False)],
    }


def _changes(table: pd.DataFrame, code: str) -> dict[str, object]:
    """The rows whose status changed as `code` says, at most MAX_HIGHLIGHTS of them."""
    rows = table.loc[table["status_change"] == code]
    return {
        "rows": [
            {
                "parent_name": r["parent_name"],
                "area_name": r["area_name"],
                "indicator_name": r["indicator_name"],
                "previous": as_text(r["previous_value_text"]) or "—",
                "current": as_text(r["value_text"]) or "—",
                "target_text": r["target_text"],
            }
            for r in rows.head(MAX_HIGHLIGHTS).to_dict("records")
        ],
        "more": max(len(rows) - MAX_HIGHLIGHTS, 0),
    }


def _is_complete(current: pd.DataFrame) -> bool:
    """The rows' period_complete (a mart without the column counts as complete)."""
    if "period_complete" not in current.columns or current.empty:
        return True
    return bool(current["period_complete"].astype("boolean").fillna(True).all())


def period_span_text(period: Period, complete: bool, through_month: str | None) -> str:
    """`统计期间 2026-07-01 至 2026-12-31`, or for a period still running
    `统计期间 2026-07-01 起，截至9月（期间未完）` (indicators.md "Incomplete periods")."""
    if complete:
        return f"统计期间 {period.start:%Y-%m-%d} 至 {period.end:%Y-%m-%d}"
    if through_month is None or through_month < period.months[0]:
        return f"统计期间 {period.start:%Y-%m-%d} 起（期间未完，数据不完整）"
    return (
        f"统计期间 {period.start:%Y-%m-%d} 起，截至{int(through_month[5:])}月"
        "（期间未完，数据不完整）"
    )


def render_bulletin_html(
    current: pd.DataFrame,
    previous: pd.DataFrame,
    period: str,
    catalog: Catalog,
    previous_label: str | None = None,
    generated_at: str | None = None,
    through_month: str | None = None,
) -> str:
    """The bulletin for `period` as one self-contained HTML document.

    `current` and `previous` are mart rows (every column of mart_target_achievement)
    of the period and of the period before it (`previous_label`; may be empty).
    `through_month` (`YYYY-MM`): the last due month, said for a period still running.
    """
    label = parse_period(period).label
    table = bulletin_table(current, previous, catalog)
    # the top area: the county, or the province above its counties (no parent)
    top = current.loc[current["parent_code"].isna()] if "parent_code" in current else current[:0]
    if top.empty:
        top = current.loc[current["area_level"] == "county"]
    county = top["area_name"]
    county_name = as_text(county.iloc[0]) if len(county) else ""
    title = f"{county_name}{period_title(label)}人口计生考核指标{bulletin_kind(label)}"
    runs = sorted(
        {as_text(r) for r in current.get("run_id", pd.Series(dtype="string")) if as_text(r)}
    )
    meta = [period_span_text(parse_period(label), _is_complete(current), through_month)]
    if previous_label:
        shown = period_title(previous_label)
        meta.append(f"对比上期 {shown}" + ("" if len(previous) else "（上期无数据）"))
    county_share = top.get("signed_off_share")
    if county_share is not None and county_share.notna().any():
        meta.append(f"已审核把关村月 {round_half_up(100 * as_number(county_share.min()), 0):.0f}%")
    if runs:
        meta.append(f"数据批次 {runs[-1]}")
    if generated_at:
        meta.append(f"生成时间 {generated_at}")
    sections = [
        _section(str(parent), part, current)
        for parent, part in (table.groupby("parent_code", sort=False) if len(table) else [])
    ]
    changes = (
        {
            "newly_not_met": _changes(table, "newly_not_met"),
            "newly_met": _changes(table, "newly_met"),
        }
        if previous_label and len(previous) and len(table)
        else None
    )
    return render(
        "bulletin.html.j2",
        html_lang="zh-CN",
        body_class="bulletin",
        end_of_page="",
        title=title,
        meta=" · ".join(meta),
        provisional_note=PROVISIONAL_NOTE if table["provisional"].astype(bool).any() else "",
        sections=sections,
        changes=changes,
        symbols=STATUS_SYMBOLS,
        status_labels=STATUS_LABELS,
    )
