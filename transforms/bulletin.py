"""The quarterly bulletin (季度通报): mart rows in, one self-contained HTML page out.

For each parent area (the county's townships, then each township's villages)
and each indicator that has a target in the period, the children are ranked
(the mart's `rank`, 1 = best), met / not met is shown by colour AND text, a
bar chart draws each value against the target line, and the change since the
previous period is given (value delta, status change).

Pure: frames in, strings and frames out. The page makes no request of any
kind: CSS is inline, the charts are SVG drawn here, there is no script, and
every text that comes from data goes through `html.escape`. Values are rounded
for display only (transforms.mart_presentation), never contradicting the
published status.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from transforms.catalog import Catalog
from transforms.mart_presentation import (
    LEVEL_LABELS,
    STATUS_LABELS,
    UNIT_LABELS,
    display_value,
    format_target,
    round_half_up,
)
from transforms.periods import (
    Period,
    half_period,
    month_period,
    parse_period,
    quarter_period,
    year_period,
)
from transforms.targets import score_one

JUDGED = ("met", "not_met", "no_data")
_ZH_DIGITS = "一二三四"
_MAX_HIGHLIGHTS = 40
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
    value = _float(share)
    return not math.isnan(value) and value < 1.0


def _marked(text: str, provisional: object) -> str:
    return f"{text}{PROVISIONAL_MARK}" if text and bool(provisional) else text


def _share_text(share: object) -> str:
    value = _float(share)
    return "" if math.isnan(value) else f"审核把关 {round_half_up(100 * value, 0):.0f}%"


def _float(value: object) -> float:
    if value is None or value is pd.NA:
        return math.nan
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
    return number


def _text(value: object) -> str:
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


def bulletin_table(current: pd.DataFrame, previous: pd.DataFrame, catalog: Catalog) -> pd.DataFrame:
    """One row per (parent area, indicator with a target, child area), children ranked.

    `trend` is `better`, `worse` or `same` (by the indicator's better direction,
    on the change as displayed), empty without a previous value. Parents: the
    county first, then townships, by code; indicators in catalog order.
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
        value = _float(record["value"])
        old = before.get((str(record["area_code"]), indicator))
        old_value = _float(old["value"]) if old is not None else math.nan
        old_status = _text(old["status"]) if old is not None else ""
        delta = value - old_value
        decimals = _delta_decimals(unit)
        shown = round_half_up(delta, decimals) if not math.isnan(delta) else math.nan
        trend = ""
        if not math.isnan(shown):
            op = _text(record["target_op"])
            lo, hi = _float(record["target"]), _float(record["target_hi"])
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
                "parent_name": _text(names.get(parent, parent)),
                "parent_level": _text(levels.get(parent, "")),
                "indicator": indicator,
                "indicator_name": _text(record["indicator_name"]),
                "unit": unit,
                "better": _text(better_of.get(indicator)),
                "rank": record["rank"],
                "area_code": str(record["area_code"]),
                "area_name": _text(record["area_name"]),
                "area_level": _text(record["area_level"]),
                "value": value,
                "value_text": display_value(record),
                "target_op": _text(record["target_op"]),
                "target": _float(record["target"]),
                "target_hi": _float(record["target_hi"]),
                "target_text": format_target(
                    _text(record["target_op"]),
                    _float(record["target"]),
                    None
                    if math.isnan(_float(record["target_hi"]))
                    else _float(record["target_hi"]),
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
                "signed_off_share": _float(record.get("signed_off_share")),
                "provisional": is_provisional(record.get("signed_off_share")),
                "_parent_order": (0 if levels.get(parent) == "county" else 1, parent),
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
    stripped = _text(text).rstrip("%")
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


# --------------------------------------------------------------------- html


def e(value: object) -> str:
    """Escape any text for HTML (and SVG) text and attribute values."""
    return html.escape(_text(value), quote=True)


_CSS = """
:root { --met: #1b7f3b; --met-bg: #e7f5eb; --bad: #c0392b; --bad-bg: #fdecea;
  --none: #6b7280; --none-bg: #f1f3f5; --ink: #1f2933; --muted: #5f6b7a; --line: #d9dee5; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #f6f7f9; line-height: 1.5;
  font-family: "Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", "Source Han Sans SC",
    "WenQuanYi Micro Hei", "Hiragino Sans GB", "Heiti SC", sans-serif; font-size: 14px; }
main { max-width: 1280px; margin: 0 auto; padding: 24px 28px 48px; }
header.top { border-bottom: 3px solid #b71c1c; padding-bottom: 12px; margin-bottom: 18px; }
h1 { font-size: 26px; margin: 0 0 6px; letter-spacing: 1px; }
h2 { font-size: 20px; margin: 34px 0 10px; padding-left: 10px; border-left: 5px solid #b71c1c; }
h3 { font-size: 15px; margin: 0; }
.meta, .note { color: var(--muted); font-size: 13px; }
.legend { display: flex; gap: 14px; flex-wrap: wrap; margin: 10px 0; font-size: 13px; }
.chip { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px;
  white-space: nowrap; font-weight: 600; }
.chip.met { color: var(--met); background: var(--met-bg); }
.chip.not_met { color: var(--bad); background: var(--bad-bg); }
.chip.no_data { color: var(--none); background: var(--none-bg); }
.panel { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 14px 18px; }
.stats { display: grid; grid-template-columns: repeat(auto-fill, minmax(250px, 1fr)); gap: 12px; }
.stat b { font-size: 15px; }
.stat .bar { display: flex; height: 10px; border-radius: 5px; overflow: hidden; margin: 6px 0 4px;
  background: var(--none-bg); }
.stat .bar span.met { background: var(--met); } .stat .bar span.not_met { background: var(--bad); }
ul.changes { margin: 6px 0 0; padding-left: 20px; columns: 2 420px; }
ul.changes li { break-inside: avoid; margin-bottom: 2px; }
nav.toc a { margin-right: 14px; color: #1a4f8b; text-decoration: none; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 13px; background: #fff; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: middle; }
th { background: #eef1f5; font-weight: 600; white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.matrix td.cell { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
table.matrix td.cell.met { background: var(--met-bg); color: var(--met); }
table.matrix td.cell.not_met { background: var(--bad-bg); color: var(--bad); font-weight: 600; }
table.matrix td.cell.no_data { background: var(--none-bg); color: var(--none); }
table.matrix td.parent { border-left: 2px solid #9aa5b1; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(440px, 1fr)); gap: 14px;
  margin-top: 14px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px;
  break-inside: avoid; }
.card header { display: flex; justify-content: space-between; align-items: baseline; gap: 8px;
  margin-bottom: 4px; }
.card .target { color: var(--muted); font-size: 12px; white-space: nowrap; }
.card svg { display: block; width: 100%; height: auto; margin: 4px 0 8px; }
.card table td, .card table th { padding: 3px 6px; }
.rank { font-weight: 700; text-align: center; width: 3em; }
.better { color: var(--met); } .worse { color: var(--bad); } .same { color: var(--muted); }
.own { color: var(--muted); font-size: 13px; margin: 0 0 8px; }
footer { margin-top: 36px; color: var(--muted); font-size: 12px; border-top: 1px solid var(--line);
  padding-top: 10px; }
@media print { body { background: #fff; } main { padding: 0; } .card, .panel { border-color: #bbb; }
  h2 { break-before: page; } }
"""

_SYMBOL = {"met": "✓", "not_met": "✗", "no_data": "–"}
_BAR_FILL = {"met": "#2e9d55", "not_met": "#d9483b", "no_data": "#c4c9d0"}


def _chip(status: str) -> str:
    return (
        f'<span class="chip {e(status)}">{_SYMBOL.get(status, "")} '
        f"{e(STATUS_LABELS.get(status, status))}</span>"
    )


def _nice_ceiling(x: float) -> float:
    """The smallest of 1, 2, 2.5, 5, 10 × 10^k at or above x (x > 0)."""
    if x <= 0 or math.isnan(x):
        return 1.0
    power = 10 ** math.floor(math.log10(x))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= x - _TOLERANCE * power:
            return step * power
    return 10 * power


def _tick_step(domain: float) -> float:
    """A round step (1, 2, 2.5 or 5 × 10^k) giving at most 5 intervals up to `domain`."""
    power = 10 ** math.floor(math.log10(domain / 5)) if domain > 0 else 1.0
    for factor in (1, 2, 2.5, 5, 10, 20, 25, 50):
        if domain / (factor * power) <= 5 + _TOLERANCE:
            return factor * power
    return domain


def _short(name: str, limit: int = 7) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def _axis_text(x: float, unit: str) -> str:
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return f"{text}%" if unit == "%" else text


@dataclass(frozen=True)
class Bar:
    """One bar of a chart: a ranked area's value (shown text) and status."""

    label: str
    rank: str
    value: float
    text: str
    status: str
    target_op: str = ""
    target: float = math.nan
    target_hi: float = math.nan


def bar_chart_svg(
    bars: Sequence[Bar],
    unit: str,
    target_op: str,
    target: float,
    target_hi: float,
    title: str,
) -> str:
    """A horizontal bar chart (one bar per area, in the order given) with the target line
    (`>=`, `<=`) or target band (`between`), as an inline SVG element.

    With an empty `target_op` (targets differ between the areas) each bar gets a short
    mark at its own target (two for `between`) instead of one line across the chart.
    """
    width, label_w, right_w = 440.0, 112.0, 78.0
    row_h, bar_h, top, bottom = 22.0, 14.0, 24.0, 22.0
    x0, x1 = label_w, width - right_w
    height = top + row_h * max(len(bars), 1) + bottom
    values = [b.value for b in bars if not math.isnan(b.value)]
    own = [t for b in bars for t in (b.target, b.target_hi)]
    marks = [t for t in (target, target_hi, *own) if not math.isnan(t)]
    highest = max([*values, *marks, 0.0])
    domain = 100.0 if unit == "%" and 50 < highest <= 100 else _nice_ceiling(highest * 1.05)

    def sx(v: float) -> float:
        return x0 + (x1 - x0) * max(min(v / domain, 1.0), 0.0)

    parts = [
        f'<svg viewBox="0 0 {width:.0f} {height:.0f}" '
        f'role="img" aria-label="{e(title)}"><title>{e(title)}</title>',
        '<g font-size="11" fill="#5f6b7a">',
    ]
    axis_y = top + row_h * max(len(bars), 1)
    step = _tick_step(domain)
    for i in range(round(domain / step) + 1):
        tick = step * i
        x = sx(tick)
        parts.append(
            f'<line x1="{x:.1f}" y1="{top - 4:.1f}" x2="{x:.1f}" y2="{axis_y:.1f}" '
            'stroke="#eceff3" stroke-width="1"/>'
            f'<text x="{x:.1f}" y="{axis_y + 14:.1f}" text-anchor="middle">'
            f"{e(_axis_text(tick, unit))}</text>"
        )
    parts.append("</g>")
    lines: list[float] = []
    if target_op == "between" and not math.isnan(target) and not math.isnan(target_hi):
        a, b = sx(target), sx(target_hi)
        parts.append(
            f'<rect x="{a:.1f}" y="{top - 4:.1f}" width="{max(b - a, 1.5):.1f}" '
            f'height="{axis_y - top + 4:.1f}" fill="#1a4f8b" fill-opacity="0.12"/>'
        )
        lines, target_x = [a, b], (a + b) / 2
    else:
        target_x = sx(target) if not math.isnan(target) else x0
        if target_op in (">=", "<=") and not math.isnan(target):
            lines = [target_x]
    labels: list[str] = []
    for i, bar in enumerate(bars):
        y = top + row_h * i + (row_h - bar_h) / 2
        cy = y + bar_h / 2 + 4
        parts.append(
            f'<text x="{label_w - 8:.1f}" y="{cy:.1f}" text-anchor="end" font-size="12" '
            f'fill="#1f2933"><title>{e(bar.label)}</title>{e(bar.rank)} {e(_short(bar.label))}</text>'
        )
        if math.isnan(bar.value):
            labels.append(
                f'<text x="{x0 + 4:.1f}" y="{cy:.1f}" font-size="11" fill="#6b7280">'
                f"{e(STATUS_LABELS['no_data'])}</text>"
            )
            continue
        if not target_op and bar.target_op:
            for t in (bar.target, bar.target_hi):
                if not math.isnan(t):
                    labels.append(
                        f'<line x1="{sx(t):.1f}" y1="{y - 3:.1f}" x2="{sx(t):.1f}" '
                        f'y2="{y + bar_h + 3:.1f}" stroke="#1a4f8b" stroke-width="2"/>'
                    )
        end = sx(bar.value)
        parts.append(
            f'<rect x="{x0:.1f}" y="{y:.1f}" width="{max(end - x0, 1.0):.1f}" height="{bar_h:.1f}" '
            f'rx="2" fill="{_BAR_FILL.get(bar.status, "#c4c9d0")}"/>'
        )
        labels.append(
            f'<text x="{end + 4:.1f}" y="{cy:.1f}" font-size="11" fill="#1f2933" '
            'stroke="#ffffff" stroke-width="3" paint-order="stroke">'
            f"{e(bar.text)} {_SYMBOL.get(bar.status, '')}</text>"
        )
    for x in lines:
        parts.append(
            f'<line x1="{x:.1f}" y1="{top - 6:.1f}" x2="{x:.1f}" y2="{axis_y:.1f}" '
            'stroke="#1a4f8b" stroke-width="1.5" stroke-dasharray="4 3"/>'
        )
    parts += labels
    if not target_op and any(b.target_op for b in bars):
        parts.append(
            f'<text x="{x0:.1f}" y="{top - 10:.1f}" font-size="11" fill="#1a4f8b">'
            "目标因区划而异：竖线为各自目标</text>"
        )
    elif not math.isnan(target):
        label = "目标 " + format_target(
            target_op, target, None if math.isnan(target_hi) else target_hi, unit
        )
        anchor = "end" if target_x > x0 + (x1 - x0) * 0.6 else "start"
        shift = -4 if anchor == "end" else 4
        parts.append(
            f'<text x="{target_x + shift:.1f}" y="{top - 10:.1f}" text-anchor="{anchor}" '
            f'font-size="11" fill="#1a4f8b">{e(label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _arrow(trend: str, delta: float) -> str:
    """▲ up or ▼ down (the colour, from `trend`, says whether that is better); ＝ unchanged."""
    if not trend:
        return ""
    if trend == "same" or math.isnan(delta) or delta == 0:
        return "＝"
    return "▲" if delta > 0 else "▼"


def _delta_cell(row: Mapping[str, object], unit: str) -> str:
    """较上期: arrow (coloured by the better direction), delta, and a chip if the status changed."""
    trend = _text(row["trend"])
    delta = _text(row["delta_text"]) + ("个百分点" if unit == "%" else "")
    if not trend:
        delta = "—"
    elif trend == "same" and _float(row["delta_text"]) == 0:
        delta = "持平"
    change = ""
    if row["status_change"] in ("newly_met", "newly_not_met", "other"):
        status = _text(row["status"])
        change = f' <span class="chip {e(status)}">{e(row["status_change_label"])}</span>'
    return (
        f'<td class="num {e(trend or "same")}" title="上期 {e(row["previous_value_text"])}">'
        f"{_arrow(trend, _float(row['delta_text']))} {e(delta)}{change}</td>"
    )


def _card(part: pd.DataFrame, child_label: str) -> str:
    first = part.iloc[0]
    unit = str(first["unit"])
    title = f"{first['indicator_name']}"
    bars = [
        Bar(
            label=_text(r["area_name"]),
            rank=_text(r["rank"]) if _text(r["rank"]) else "–",
            value=_float(r["value"]),
            text=_text(r["value_text"]),
            status=_text(r["status"]),
            target_op=_text(r["target_op"]),
            target=_float(r["target"]),
            target_hi=_float(r["target_hi"]),
        )
        for r in part.to_dict("records")
    ]
    targets = _targets(part)
    shared = len(targets) == 1
    svg = bar_chart_svg(
        bars,
        unit,
        _text(first["target_op"]) if shared else "",
        _float(first["target"]) if shared else math.nan,
        _float(first["target_hi"]) if shared else math.nan,
        f"{title}（{first['parent_name']}各{child_label}）",
    )
    rows = []
    for r in part.to_dict("records"):
        rank = _text(r["rank"]) or "–"
        own_target = "" if shared else f'<td class="num">{e(r["target_text"])}</td>'
        rows.append(
            f'<tr><td class="rank">{e(rank)}</td><td>{e(r["area_name"])}</td>'
            f'<td class="num" title="{e(_share_text(r["signed_off_share"]))}">'
            f"{e(_marked(_text(r['value_text']), r['provisional'])) or '—'}</td>{own_target}"
            f"<td>{_chip(str(r['status']))}</td>{_delta_cell(r, unit)}</tr>"
        )
    target_head = "" if shared else "<th>目标</th>"
    return (
        f'<article class="card" id="{e(first["parent_code"])}-{e(first["indicator"])}">'
        f"<header><h3>{e(title)}</h3>"
        f'<span class="target">目标 {e(" / ".join(targets))}</span></header>'
        f"{svg}"
        f"<table><thead><tr><th>名次</th><th>{e(child_label)}</th><th>指标值</th>{target_head}"
        f"<th>达标情况</th><th>较上期</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        "</article>"
    )


def _targets(part: pd.DataFrame) -> list[str]:
    """The distinct targets of one indicator's rows, as shown (`≥ 80% / ≥ 85%`), lowest first."""
    ordered = part.sort_values(["target", "target_hi"], kind="stable")
    return list(dict.fromkeys(_text(t) for t in ordered["target_text"] if _text(t)))


def _matrix(part: pd.DataFrame, own: pd.DataFrame, parent_name: str, child_label: str) -> str:
    """Indicators × children at a glance (value, ✓ / ✗, colour), the parent's own total last."""
    children = (
        part[["area_code", "area_name"]].drop_duplicates().sort_values("area_code", kind="stable")
    )
    cells = {(r["indicator"], r["area_code"]): r for r in part.to_dict("records")}
    own_cells = {str(r["indicator"]): r for r in own.to_dict("records")}
    head = "".join(f"<th>{e(name)}</th>" for name in children["area_name"])
    body = []
    for indicator, rows in part.groupby("indicator", sort=False):
        first = rows.iloc[0]
        tds = []
        for code in children["area_code"]:
            r = cells.get((indicator, code))
            if r is None:
                tds.append('<td class="cell"></td>')
                continue
            status = str(r["status"])
            text = _marked(_text(r["value_text"]), r["provisional"]) or STATUS_LABELS["no_data"]
            tds.append(
                f'<td class="cell {e(status)}" title="{e(r["area_name"])} '
                f'{e(STATUS_LABELS.get(status, status))}">{e(text)} {_SYMBOL.get(status, "")}</td>'
            )
        mine = own_cells.get(str(indicator))
        if mine is not None and _text(mine["status"]) in JUDGED:
            status = str(mine["status"])
            text = (
                _marked(display_value(mine), is_provisional(mine.get("signed_off_share")))
                or STATUS_LABELS["no_data"]
            )
            tds.append(
                f'<td class="cell parent {e(status)}">{e(text)} {_SYMBOL.get(status, "")}</td>'
            )
        else:
            tds.append('<td class="cell parent"></td>')
        body.append(
            f'<tr><th scope="row"><a href="#{e(first["parent_code"])}-{e(indicator)}">'
            f"{e(first['indicator_name'])}</a></th>"
            f'<td class="num">{e(" / ".join(_targets(rows)))}</td>{"".join(tds)}</tr>'
        )
    return (
        '<div class="scroll"><table class="matrix"><thead><tr><th>指标</th><th>目标</th>'
        f"{head}<th>{e(parent_name)}合计</th></tr></thead><tbody>{''.join(body)}</tbody>"
        "</table></div>"
    )


def _counts(part: pd.DataFrame) -> tuple[int, int, int]:
    status = part["status"]
    return (
        int((status == "met").sum()),
        int((status == "not_met").sum()),
        int((status == "no_data").sum()),
    )


def _stat(name: str, anchor: str, part: pd.DataFrame) -> str:
    met, not_met, no_data = _counts(part)
    total = max(met + not_met + no_data, 1)
    return (
        f'<div class="stat"><b><a href="#area-{e(anchor)}">{e(name)}</a></b>'
        f'<div class="bar"><span class="met" style="width:{100 * met / total:.1f}%"></span>'
        f'<span class="not_met" style="width:{100 * not_met / total:.1f}%"></span></div>'
        f'<span class="chip met">✓ 达标 {met}</span> <span class="chip not_met">✗ 未达标 '
        f'{not_met}</span> <span class="chip no_data">无数据 {no_data}</span></div>'
    )


def _change_items(table: pd.DataFrame, code: str) -> str:
    rows = table.loc[table["status_change"] == code]
    items = [
        f"<li>{e(r['parent_name'])} · {e(r['area_name'])} · {e(r['indicator_name'])}："
        f"{e(r['previous_value_text']) or '—'} → {e(r['value_text']) or '—'}"
        f"（目标 {e(r['target_text'])}）</li>"
        for r in rows.head(_MAX_HIGHLIGHTS).to_dict("records")
    ]
    if len(rows) > _MAX_HIGHLIGHTS:
        items.append(f"<li>另有 {len(rows) - _MAX_HIGHLIGHTS} 项，见各区划排名。</li>")
    return f'<ul class="changes">{"".join(items)}</ul>' if items else '<p class="note">无。</p>'


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
    county = current.loc[current["area_level"] == "county", "area_name"]
    county_name = _text(county.iloc[0]) if len(county) else ""
    title = f"{county_name}{period_title(label)}人口计生考核指标{bulletin_kind(label)}"
    period_row = parse_period(label)
    runs = sorted({_text(r) for r in current.get("run_id", pd.Series(dtype="string")) if _text(r)})
    meta = [period_span_text(period_row, _is_complete(current), through_month)]
    if previous_label:
        shown = period_title(previous_label)
        meta.append(f"对比上期 {shown}" + ("" if len(previous) else "（上期无数据）"))
    county_share = current.loc[current["area_level"] == "county"].get("signed_off_share")
    if county_share is not None and county_share.notna().any():
        meta.append(f"已审核把关村月 {round_half_up(100 * _float(county_share.min()), 0):.0f}%")
    if runs:
        meta.append(f"数据批次 {runs[-1]}")
    if generated_at:
        meta.append(f"生成时间 {generated_at}")
    out = [
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(title)}</title><style>{_CSS}</style></head><body><main>",
        f'<header class="top"><h1>{e(title)}</h1><p class="meta">{e(" · ".join(meta))}</p>',
        '<div class="legend">',
        _chip("met") + " 指标值满足目标",
        _chip("not_met") + " 未满足目标",
        _chip("no_data") + " 分母为0，不参与排名",
        "<span>基数过少（如出生性别比不足100例）的单位不参与排名</span>",
        '<span>较上期 ▲升 ▼降：<span class="better">绿色为变好</span>，'
        '<span class="worse">红色为变差</span></span>',
        "</div></header>",
    ]
    if table["provisional"].astype(bool).any():
        out.append(f'<p class="note provisional">{e(PROVISIONAL_NOTE)}</p>')
    if table.empty:
        out.append('<p class="panel">本期没有可通报的考核指标数据。</p>')
    else:
        groups = list(table.groupby("parent_code", sort=False))
        out.append('<section class="panel"><h3>达标概况（按上级区划统计各下级单位的指标项次）</h3>')
        out.append('<div class="stats">')
        for parent, part in groups:
            out.append(
                _stat(f"{part['parent_name'].iloc[0]}各{_child_label(part)}", str(parent), part)
            )
        out.append("</div>")
        if previous_label and len(previous):
            out.append("<h3 style='margin-top:14px'>需关注：较上期转为未达标</h3>")
            out.append(_change_items(table, "newly_not_met"))
            out.append("<h3 style='margin-top:10px'>较上期转为达标</h3>")
            out.append(_change_items(table, "newly_met"))
        out.append("</section>")
        out.append('<nav class="toc panel" style="margin-top:14px">目录：')
        for parent, part in groups:
            out.append(f'<a href="#area-{e(parent)}">{e(part["parent_name"].iloc[0])}</a>')
        out.append("</nav>")
        for parent, part in groups:
            out.append(_section(str(parent), part, current))
    out.append(
        "<footer>说明：指标值按四舍五入显示，达标情况按未经四舍五入的值判定（显示位数在必要时增加，"
        "使显示值与达标情况一致）。名次在同一上级区划内按指标的优劣方向排列，1为最好；无数据的单位不参与排名。"
        "百分比指标的变化以百分点计。本页不含脚本，不引用任何外部资源。</footer>"
    )
    out.append("</main></body></html>")
    return "\n".join(out)


def _child_label(part: pd.DataFrame) -> str:
    level = _text(part["area_level"].iloc[0])
    return LEVEL_LABELS.get(level, "单位")


def _section(parent: str, part: pd.DataFrame, current: pd.DataFrame) -> str:
    name = _text(part["parent_name"].iloc[0])
    child = _child_label(part)
    own = current.loc[current["area_code"] == parent]
    met, not_met, no_data = _counts(part)
    summary = f"各{child}合计：达标 {met} 项次，未达标 {not_met} 项次，无数据 {no_data} 项次。"
    judged_own = own.loc[own["status"].isin(("met", "not_met"))]
    if len(judged_own):
        own_met = int((judged_own["status"] == "met").sum())
        summary += f"{name}本级：{len(judged_own)} 项指标中达标 {own_met} 项。"
    cards = "".join(_card(rows, child) for _, rows in part.groupby("indicator", sort=False))
    return (
        f'<section id="area-{e(parent)}"><h2>{e(name)}（{e(parent)}）各{e(child)}排名</h2>'
        f'<p class="own">{e(summary)}</p>'
        f"{_matrix(part, own, name, child)}"
        f'<div class="grid">{cards}</div></section>'
    )
