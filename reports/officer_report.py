"""The data officer's report as one self-contained HTML page (templates officer_report.html.j2,
report_township.html.j2 and report_cells.html.j2).

Pure: `ReportInput` (transforms.officer.report) in, an HTML string out. The page opens
from a shared folder on an office intranet with no Internet: the stylesheet is inline,
the chart is inline SVG (reports.charts), there is no script and no font or image from
anywhere else — a Content-Security-Policy meta tag forbids any fetch. Every value from
the data is escaped by the templates' one path (reports.rendering). Person IDs are
already masked in `dq_issues`; the offending `value` column is not shown at all.

Here only the words and numbers each table shows are chosen; the markup is in the
templates, the data shaping in transforms.officer.report.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pandas as pd

from reports.charts import month_chart_svg
from reports.rendering import render, text_of
from transforms.officer.labels import (
    FIGURE_STATUS,
    SEVERITY_LABELS,
    SOURCE_LABELS,
    STATUS_LABELS,
    Lang,
    labels_for,
    rule_label,
)
from transforms.officer.report import (
    NO_TOWNSHIP,
    RATE_FAIR,
    RATE_GOOD,
    SEVERITIES,
    PreparedReport,
    ReportInput,
    county_name,
    format_rate,
    is_notice,
    missing_uploads_text,
    prepare_report,
    rate_percent,
    report_titles,
    rule_table,
    sorted_issues,
)


def _anchor(prefix: str, code: str) -> str:
    """An element id for a township (`t-…`) or unit (`u-…`): safe characters only."""
    return prefix + "-" + (re.sub(r"[^0-9A-Za-z_-]", "_", code) or "none")


def _rate(numerator: int, denominator: int) -> dict[str, object] | None:
    """A rate cell: grade (good ≥ RATE_GOOD, fair ≥ RATE_FAIR, else poor), bar width, text."""
    value = rate_percent(numerator, denominator)
    if value is None:
        return None
    grade = "good" if value >= RATE_GOOD else "fair" if value >= RATE_FAIR else "poor"
    return {"grade": grade, "width": min(value, 100.0), "text": format_rate(value)}


def _nav(prepared: PreparedReport, text: Mapping[str, str]) -> list[dict[str, str]]:
    links = [
        {"anchor": "overview", "label": text["overview"]},
        {"anchor": "months", "label": text["by_month"]},
        {"anchor": "rules", "label": text["by_rule"]},
        {"anchor": "reporting", "label": text["reporting"]},
    ]
    for code, group in prepared.units.groupby("township_code", sort=False):
        n = int(group["issues"].sum())
        if n == 0 and code == NO_TOWNSHIP:
            continue
        name = text_of(group["township_name"].iloc[0])
        links.append({"anchor": _anchor("t", str(code)), "label": f"{name} ({n})"})
    return links


def _cards(prepared: PreparedReport, text: Mapping[str, str]) -> list[dict[str, str]]:
    """The overview's figures: totals of issues, notices, severities and the two rates."""
    issues, units = prepared.issues, prepared.units
    n_notices = int(is_notice(issues).sum())
    expected = int(units["expected"].sum())
    cards = [
        ("", text["open_total"], str(len(issues))),
        ("err", text["rows_to_fix"], str(len(issues) - n_notices)),
        ("", text["notices"], str(n_notices)),
        ("err", text["errors"], str(int((issues["severity"] == "error").sum()))),
        ("warn", text["warnings"], str(int((issues["severity"] == "warning").sum()))),
        ("", text["acknowledged"], str(int((issues["status"] == "acknowledged").sum()))),
        ("", text["units_with_issues"], str(int((units["issues"] > 0).sum()))),
        (
            "",
            text["reporting_rate"],
            format_rate(rate_percent(int(units["received"].sum()), expected)),
        ),
        (
            "",
            text["on_time_rate"],
            format_rate(rate_percent(int(units["on_time"].sum()), expected)),
        ),
    ]
    return [{"css": css, "label": label, "value": value} for css, label, value in cards]


def _rules(data: ReportInput, lang: Lang, text: Mapping[str, str]) -> dict[str, object] | None:
    """Issues per rule × township (transforms.officer.report.rule_table) as a table."""
    table = rule_table(data, lang)
    if table.empty:
        return None
    fixed = {text["severity"], text["rule"], text["rule_code"]}
    return {
        "columns": list(table.columns),
        "numeric": [c for c in table.columns if c not in fixed],
        "code": text["rule_code"],
        "severity": text["severity"],
        "levels": {label: code for code, label in SEVERITY_LABELS[lang].items()},
        "rows": [
            [
                (c, v if c in fixed else int(v) if pd.notna(v) else 0)
                for c, v in zip(table.columns, r, strict=True)
            ]
            for r in table.itertuples(index=False, name=None)
        ],
    }


def _reporting(
    prepared: PreparedReport, lang: Lang, text: Mapping[str, str]
) -> dict[str, object] | None:
    """Per unit expected / received / on time with both rates, township subtotals, county total."""
    units = prepared.units.loc[prepared.units["expected"] > 0]
    if units.empty:
        return None
    missing = {
        str(unit): missing_uploads_text(rows, lang)
        for unit, rows in prepared.reporting.groupby("unit")
    }

    def row(
        township: str, name: str, unit: str, group: pd.DataFrame, total_of: str = ""
    ) -> dict[str, object]:
        e, r, o = (int(group[c].sum()) for c in ("expected", "received", "on_time"))
        return {
            "township": township,
            "name": name,
            "unit": unit,
            "total_of": total_of,
            "expected": e,
            "received": r,
            "on_time": o,
            "reporting_rate": _rate(r, e),
            "on_time_rate": _rate(o, e),
            "missing": "" if total_of else missing.get(unit, ""),
        }

    rows = []
    for _, group in units.groupby("township_code", sort=False):
        town = str(group["township_name"].iloc[0])
        for i in range(len(group)):
            unit = group.iloc[i : i + 1]
            rows.append(
                row(town, text_of(unit["unit_name"].iloc[0]), str(unit["unit"].iloc[0]), unit)
            )
        rows.append(row(town, text["subtotal"], "", group, "sub"))
    rows.append(row(text["county_total"], "", "", units, "total"))
    numeric = [text["expected"], text["received"], text["on_time"]]
    columns = [
        text["township"],
        text["unit"],
        text["code"],
        *numeric,
        text["reporting_rate"],
        text["on_time_rate"],
        text["missing"],
    ]
    return {"columns": columns, "numeric": numeric, "rows": rows}


def _issue(r: Any, lang: Lang, titles: Mapping[tuple[str, str], str]) -> dict[str, object]:
    """One record to correct, as its row shows it."""
    source, kind = text_of(r.source), text_of(r.kind)
    report = titles.get((source, kind), "")
    if not report and source:
        report = SOURCE_LABELS[lang].get(source, source)
    severity = text_of(r.severity)
    row_number = r.row_number
    status = text_of(r.status)
    return {
        "issue_id": r.issue_id,
        "report_month": r.report_month,
        "report": report,
        "file_name": r.file_name,
        "row_number": "" if pd.isna(row_number) else str(int(row_number)),
        "record_key": r.record_key,
        "severity": severity,
        "severity_label": SEVERITY_LABELS[lang].get(severity, severity),
        "rule": r.rule,
        "rule_label": rule_label(text_of(r.rule), lang),
        "status": STATUS_LABELS[lang].get(status, status),
        "note": text_of(r.status_note),
        "by": text_of(r.status_by),
        "message": getattr(r, "message_zh" if lang == "zh" else "message_en"),
    }


def _chips(issues: pd.DataFrame, lang: Lang) -> list[dict[str, object]]:
    """Count per severity and rule, errors first, most frequent first."""
    counts = issues.groupby(["severity", "rule"]).size().reset_index(name="n")
    counts["_sev"] = counts["severity"].map({s: i for i, s in enumerate(SEVERITIES)}).fillna(9)
    counts = counts.sort_values(["_sev", "n", "rule"], ascending=[True, False, True])
    return [
        {
            "severity": r.severity,
            "rule": r.rule,
            "severity_label": SEVERITY_LABELS[lang].get(str(r.severity), r.severity),
            "rule_label": rule_label(str(r.rule), lang),
            "n": int(r.n),
        }
        for r in counts.itertuples(index=False)
    ]


def _figure_number(value: object, digits: int = 0) -> str:
    """`1,234.5` with thousands separators; `—` for no number."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "—"
    return f"{float(str(value)):,.{digits}f}"


def _figures(figures: pd.DataFrame, lang: Lang) -> list[dict[str, object]]:
    """A township's published figures: value (1 decimal, `%` for rates), numerator, denominator."""
    rows = []
    for f in figures.itertuples(index=False):
        value = _figure_number(f.value, 1 if text_of(f.unit) != "count" else 0)
        if text_of(f.unit) == "%" and value != "—":
            value += "%"
        status = text_of(f.status)
        rows.append(
            {
                "indicator_name": f.indicator_name,
                "indicator": f.indicator,
                "period": f.period,
                "numerator": _figure_number(f.numerator),
                "denominator": _figure_number(f.denominator),
                "value": value,
                "status": status,
                "status_label": FIGURE_STATUS[lang].get(status, status),
            }
        )
    return rows


def _townships(prepared: PreparedReport, data: ReportInput, lang: Lang) -> list[dict[str, object]]:
    """Per township: its units' counts (warnings apart from late/missing notices; the total
    counts all), the records to correct per unit (errors first), then the late and missing
    uploads, then its figures."""
    titles = report_titles(lang)
    issues = sorted_issues(prepared.issues)
    notice = is_notice(issues)
    by_unit = {str(u): g for u, g in issues.loc[~notice].groupby("unit", sort=False)}
    notices_by_town = {
        str(t): g for t, g in issues.loc[notice].groupby("township_code", sort=False)
    }
    figures, pages = data.figures, data.explain_pages
    towns = []
    for code, group in prepared.units.groupby("township_code", sort=False):
        n_err, n_warn = int(group["error"].sum()), int(group["warning"].sum())
        n_notice = int(group["notices"].sum())
        if n_err + n_warn == 0 and code == NO_TOWNSHIP:
            continue
        units, to_fix = [], []
        for unit in group.itertuples(index=False):
            mine = by_unit.get(str(unit.unit))
            summary, anchor = "", ""
            if mine is not None:
                top = mine["rule"].value_counts().head(3)
                joiner = "、" if lang == "zh" else ", "
                summary = joiner.join(f"{rule_label(str(r), lang)} {n}" for r, n in top.items())
                anchor = _anchor("u", str(unit.unit))
                to_fix.append(
                    {
                        "anchor": anchor,
                        "name": unit.unit_name,
                        "code": unit.unit,
                        "errors": int((mine["severity"] == "error").sum()),
                        "warnings": int((mine["severity"] == "warning").sum()),
                        "chips": _chips(mine, lang),
                        "issues": [_issue(r, lang, titles) for r in mine.itertuples(index=False)],
                    }
                )
            units.append(
                {
                    "anchor": anchor,
                    "name": unit.unit_name,
                    "code": unit.unit,
                    "errors": int(unit.error),
                    "warnings": int(unit.warning) - int(unit.notices),
                    "notices": int(unit.notices),
                    "total": int(unit.issues),
                    "summary": summary,
                }
            )
        town_notices = notices_by_town.get(str(code))
        notices = []
        for r in (town_notices if town_notices is not None else issues.iloc[0:0]).itertuples(
            index=False
        ):
            status = text_of(r.status)
            notices.append(
                {
                    "unit_name": r.unit_name,
                    "report": titles.get((text_of(r.source), text_of(r.kind)), text_of(r.kind)),
                    "report_month": r.report_month,
                    "rule": r.rule,
                    "rule_label": rule_label(text_of(r.rule), lang),
                    "status": STATUS_LABELS[lang].get(status, status),
                    "message": getattr(r, "message_zh" if lang == "zh" else "message_en"),
                }
            )
        mine_figures = (
            figures.loc[figures["area_code"].astype("string") == str(code)]
            if figures is not None and len(figures)
            else figures.iloc[0:0]
        )
        towns.append(
            {
                "anchor": _anchor("t", str(code)),
                "name": str(group["township_name"].iloc[0]),
                "code": code,
                "units": units,
                "errors": n_err,
                "warnings": n_warn - n_notice,
                "notices": n_notice,
                "total": n_err + n_warn,
                "to_fix": to_fix,
                "notices_list": notices,
                "figures": _figures(mine_figures, lang),
                "page": (pages or {}).get(str(code), ""),
            }
        )
    return towns


def render_html(data: ReportInput, lang: Lang = "zh") -> str:
    """The whole report as one self-contained HTML document (no external resource at all)."""
    text = labels_for(lang)
    prepared = prepare_report(data, lang)
    title = f"{county_name(data.areas)} {text['title']}".strip()
    meta = []
    if data.generated_at is not None:
        meta.append(f"{text['generated']}：{data.generated_at:%Y-%m-%d %H:%M}")
    if data.data_as_of is not None:
        meta.append(f"{text['data_as_of']}：{data.data_as_of:%Y-%m-%d}")
    if data.run_id:
        meta.append(f"{text['run']}：{data.run_id}")
    if lang == "en":
        meta = [m.replace("：", ": ") for m in meta]
    return render(
        "officer_report.html.j2",
        html_lang="zh-CN" if lang == "zh" else "en",
        body_class="report",
        end_of_page="\n",
        title=title,
        meta=("；" if lang == "zh" else "; ").join(meta),
        text=text,
        colon="：" if lang == "zh" else ": ",
        nav=_nav(prepared, text),
        cards=_cards(prepared, text),
        month_chart=month_chart_svg(prepared.issues, lang),
        rules=_rules(data, lang, text),
        reporting=_reporting(prepared, lang, text),
        townships=_townships(prepared, data, lang),
        issue_columns=[
            text[k]
            for k in (
                "issue_id",
                "month",
                "report",
                "file",
                "row",
                "person",
                "severity",
                "rule",
                "status",
                "message",
            )
        ],
        notice_columns=[text[k] for k in ("unit", "report", "month", "rule", "status", "message")],
        figure_columns=[
            text[k] for k in ("indicator", "period", "numerator", "denominator", "value", "judged")
        ],
        figure_numeric=[text["numerator"], text["denominator"], text["value"]],
    )
