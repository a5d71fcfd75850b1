"""The one chart helper: inline SVG bar charts for the pages (no script, no fetch).

Two charts, drawn by templates under reports/templates/charts/: the report's
stacked bars of open issues per report month, and the bulletin's horizontal bars
of each area's value against its target. Here is only the geometry (scales, axis
steps, positions); every text goes through the templates' one escaping path.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from markupsafe import Markup

from reports.rendering import render
from transforms.officer.labels import SEVERITY_LABELS, Lang, labels_for
from transforms.officer.mart_presentation import STATUS_LABELS, format_target
from transforms.officer.report import SEVERITIES, month_counts

_TOLERANCE = 1e-9
STATUS_SYMBOLS = {"met": "✓", "not_met": "✗", "no_data": "–"}
"""Met / not met said by a symbol as well as by colour."""
_BAR_FILL = {"met": "#2e9d55", "not_met": "#d9483b", "no_data": "#c4c9d0"}


# ------------------------------------------------------------------ axis steps


def whole_step(top: int) -> int:
    """An axis step of 1, 2 or 5 × 10ⁿ giving at most 5 intervals up to `top` (counts)."""
    raw = max(top, 1) / 5
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    for factor in (1, 2, 5, 10):
        step = int(factor * magnitude)
        if step >= raw:
            return max(step, 1)
    return int(10 * magnitude)


def nice_ceiling(x: float) -> float:
    """The smallest of 1, 2, 2.5, 5, 10 × 10^k at or above x (x > 0)."""
    if x <= 0 or math.isnan(x):
        return 1.0
    power = 10 ** math.floor(math.log10(x))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= x - _TOLERANCE * power:
            return step * power
    return 10 * power


def decimal_step(domain: float) -> float:
    """A round step (1, 2, 2.5 or 5 × 10^k) giving at most 5 intervals up to `domain`."""
    power = 10 ** math.floor(math.log10(domain / 5)) if domain > 0 else 1.0
    for factor in (1, 2, 2.5, 5, 10, 20, 25, 50):
        if domain / (factor * power) <= 5 + _TOLERANCE:
            return factor * power
    return domain


# ------------------------------------------------------------- issues per month


def month_chart_svg(issues: pd.DataFrame, lang: Lang = "zh") -> Markup:
    """Stacked bars (errors below, warnings on top) of open issues per report month, as inline SVG."""
    text = labels_for(lang)
    severity_names = SEVERITY_LABELS[lang]
    counts = month_counts(issues)
    if counts.empty:
        return Markup(render("charts/no_issues.html.j2", message=text["no_issues"]))
    width, height = 760, 280
    left, right, top, bottom = 48, 16, 36, 56
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = counts.sum(axis=1)
    step = whole_step(int(totals.max()))
    y_max = step * math.ceil(int(totals.max()) / step) or step
    slot = plot_w / len(counts)
    bar_w = min(slot * 0.62, 56.0)

    def y(value: float) -> float:
        return top + plot_h - plot_h * value / y_max

    bars = []
    for i, (month, row) in enumerate(counts.iterrows()):
        x = left + slot * i + (slot - bar_w) / 2
        label = str(month) or text["no_month"]
        segments, base = [], 0
        for severity in SEVERITIES:
            n = int(row[severity])
            if n:
                segments.append(
                    {"severity": severity, "y": y(base + n), "height": y(base) - y(base + n)}
                )
                base += n
        bars.append(
            {
                "x": x,
                "cx": x + bar_w / 2,
                "label": label,
                "tip": f"{label}: "
                + ", ".join(f"{severity_names[s]} {int(row[s])}" for s in SEVERITIES),
                "segments": segments,
                "total": base,
                "total_y": y(base) - 5,
            }
        )
    legend_x = width - right - 170
    return Markup(
        render(
            "charts/month_bars.svg.j2",
            width=width,
            height=height,
            left=left,
            right=width - right,
            baseline=top + plot_h,
            label=text["chart_label"],
            ticks=[{"value": t, "y": y(t)} for t in range(0, y_max + 1, step)],
            bars=bars,
            bar_width=bar_w,
            rotate=len(counts) > 12,
            legend=[
                {"x": legend_x + j * 85, "severity": s, "name": severity_names[s]}
                for j, s in enumerate(SEVERITIES)
            ],
        )
    )


# ------------------------------------------------------------ values vs target


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


def _short(name: str, limit: int = 7) -> str:
    """A bar's label cut to `limit` characters (the full name is the tooltip)."""
    return name if len(name) <= limit else name[: limit - 1] + "…"


def _axis_text(x: float, unit: str) -> str:
    """A tick label without trailing zeros (`87.5%`, `2`)."""
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return f"{text}%" if unit == "%" else text


def bar_chart_svg(
    bars: Sequence[Bar],
    unit: str,
    target_op: str,
    target: float,
    target_hi: float,
    title: str,
) -> Markup:
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
    domain = 100.0 if unit == "%" and 50 < highest <= 100 else nice_ceiling(highest * 1.05)

    def sx(v: float) -> float:
        return x0 + (x1 - x0) * max(min(v / domain, 1.0), 0.0)

    axis_y = top + row_h * max(len(bars), 1)
    step = decimal_step(domain)
    ticks = [
        {"x": sx(step * i), "text": _axis_text(step * i, unit)}
        for i in range(round(domain / step) + 1)
    ]
    band = None
    lines: list[float] = []
    if target_op == "between" and not math.isnan(target) and not math.isnan(target_hi):
        a, b = sx(target), sx(target_hi)
        band = {"x": a, "width": max(b - a, 1.5)}
        lines, target_x = [a, b], (a + b) / 2
    else:
        target_x = sx(target) if not math.isnan(target) else x0
        if target_op in (">=", "<=") and not math.isnan(target):
            lines = [target_x]
    drawn = []
    for i, bar in enumerate(bars):
        y = top + row_h * i + (row_h - bar_h) / 2
        shown = not math.isnan(bar.value)
        end = sx(bar.value) if shown else x0
        own_marks = (
            [sx(t) for t in (bar.target, bar.target_hi) if not math.isnan(t)]
            if shown and not target_op and bar.target_op
            else []
        )
        drawn.append(
            {
                "label": bar.label,
                "short_label": _short(bar.label),
                "rank": bar.rank,
                "y": y,
                "cy": y + bar_h / 2 + 4,
                "width": max(end - x0, 1.0) if shown else None,
                "end": end,
                "fill": _BAR_FILL.get(bar.status, "#c4c9d0"),
                "marks": own_marks,
                "text": bar.text,
                "symbol": STATUS_SYMBOLS.get(bar.status, ""),
            }
        )
    note = None
    if not target_op and any(b.target_op for b in bars):
        note = {"x": x0, "anchor": "", "text": "目标因区划而异：竖线为各自目标"}
    elif not math.isnan(target):
        label = "目标 " + format_target(
            target_op, target, None if math.isnan(target_hi) else target_hi, unit
        )
        anchor = "end" if target_x > x0 + (x1 - x0) * 0.6 else "start"
        note = {"x": target_x + (-4 if anchor == "end" else 4), "anchor": anchor, "text": label}
    return Markup(
        render(
            "charts/target_bars.svg.j2",
            width=width,
            height=height,
            title=title,
            top=top,
            axis_y=axis_y,
            ticks=ticks,
            band=band,
            bars=drawn,
            x0=x0,
            label_width=label_w,
            bar_height=bar_h,
            lines=lines,
            no_data=STATUS_LABELS["no_data"],
            target_note=note,
        )
    )
