"""The data officer's report: open quality issues and reporting rates, as one HTML page.

Pure: frames in, an HTML string (and spreadsheet frames) out. The page is
self-contained so that it opens from a shared folder on an office intranet with
no Internet: inline CSS, charts drawn here as inline SVG, no script, no font or
image from anywhere else — a Content-Security-Policy meta tag forbids any fetch.
Every value from the data is HTML-escaped. Person IDs are already masked in
`dq_issues`; the offending `value` column is not shown at all.

Inputs (`ReportInput`): `dq_issues` rows to report (open and acknowledged, still
found), `dq_reporting` rows, and the reference `areas` and `institutions`
frames, which name the units and place each under its township. A unit is a
village (12-digit code), a township (9 digits: police uploads) or a health
institution (placed under its township by `institutions.csv`, else by
`dq_reporting.area_code`).
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import pandas as pd

from transforms.templates import load_contract

Lang = str  # "zh" or "en"

ISSUE_COLUMNS: tuple[str, ...] = (
    "issue_id",
    "rule",
    "severity",
    "dimension",
    "source",
    "kind",
    "unit",
    "report_month",
    "file_name",
    "row_number",
    "record_key",
    "message_zh",
    "message_en",
    "status",
    "status_note",
    "status_by",
)
REPORTING_COLUMNS: tuple[str, ...] = (
    "unit",
    "source",
    "kind",
    "report_month",
    "area_code",
    "received",
    "on_time",
)
AREA_COLUMNS: tuple[str, ...] = ("code", "name", "level", "parent_code")
INSTITUTION_COLUMNS: tuple[str, ...] = ("code", "name", "township_code")

RATE_GOOD = 99.0
"""The county's bar for reporting (uploads.md: “…均达99%以上”): at or above it is green."""
RATE_FAIR = 90.0

_NO_UNIT = ""
_NO_TOWNSHIP = ""
_SEVERITIES = ("error", "warning")

LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "title": "数据质量问题报告",
        "generated": "生成时间",
        "data_as_of": "数据截至",
        "run": "最近一次运行",
        "contents": "目录",
        "overview": "总览",
        "open_total": "待处理问题",
        "errors": "错误",
        "warnings": "警告",
        "acknowledged": "已确认、处理中",
        "units_with_issues": "有问题的单位",
        "reporting_rate": "报表上报率",
        "on_time_rate": "按时上报率",
        "by_month": "各月问题数",
        "by_month_note": "按报表月份统计待处理问题；把鼠标停在柱子上可看数字。",
        "no_month": "无月份",
        "by_rule": "按规则和级别汇总",
        "reporting": "上报情况",
        "reporting_note": "应报：截止日期已过、应当上报的报表数（每个单位每类报表每月一份）。"
        "上报率 = 已报 ÷ 应报；按时上报率 = 按时 ÷ 应报。",
        "townships": "各乡镇、村问题明细",
        "township": "乡镇",
        "unit": "村/单位",
        "code": "代码",
        "expected": "应报",
        "received": "已报",
        "on_time": "按时",
        "missing": "未上报",
        "total": "合计",
        "county_total": "全县合计",
        "subtotal": "小计",
        "severity": "级别",
        "rule": "规则",
        "rule_code": "规则代码",
        "main_rules": "主要问题",
        "rows_to_fix": "需要更正的记录",
        "issue_id": "编号",
        "month": "月份",
        "source": "来源",
        "report": "报表",
        "file": "文件",
        "row": "行",
        "person": "人员（已脱敏）",
        "status": "状态",
        "status_note": "处理说明",
        "message": "说明",
        "no_issues": "没有待处理的问题。",
        "no_issues_unit": "无待处理问题",
        "no_reporting": "没有应报报表的记录（尚无运行结果）。",
        "unplaced": "未归属乡镇",
        "no_unit": "未识别单位的文件",
        "township_level": "（乡镇本级）",
        "how_to": "处理后请在命令行记录：popstat issues ack|resolve|waive 编号 --note “说明”。"
        "文件更正后重新上报，下一次夜间运行会自动复核；已更正的问题将不再出现在本报告中。",
        "privacy": "本报告不含身份证号原文和姓名；人员以脱敏身份证号表示。请勿外传。",
        "chart_label": "各月待处理问题数（柱状图）",
        "none": "—",
    },
    "en": {
        "title": "Data quality issues report",
        "generated": "Generated",
        "data_as_of": "Data as of",
        "run": "Latest run",
        "contents": "Contents",
        "overview": "Overview",
        "open_total": "Open issues",
        "errors": "Errors",
        "warnings": "Warnings",
        "acknowledged": "Acknowledged, in progress",
        "units_with_issues": "Units with issues",
        "reporting_rate": "Reporting rate",
        "on_time_rate": "On-time rate",
        "by_month": "Issues per month",
        "by_month_note": "Open issues by report month; hover a bar for the numbers.",
        "no_month": "no month",
        "by_rule": "By rule and severity",
        "reporting": "Reporting",
        "reporting_note": "Expected: uploads past their deadline (one per unit, kind and month). "
        "Reporting rate = received ÷ expected; on-time rate = on time ÷ expected.",
        "townships": "Issues by township and village",
        "township": "Township",
        "unit": "Village / unit",
        "code": "Code",
        "expected": "Expected",
        "received": "Received",
        "on_time": "On time",
        "missing": "Not received",
        "total": "Total",
        "county_total": "County total",
        "subtotal": "Subtotal",
        "severity": "Severity",
        "rule": "Rule",
        "rule_code": "Rule code",
        "main_rules": "Main problems",
        "rows_to_fix": "Records to correct",
        "issue_id": "Id",
        "month": "Month",
        "source": "Source",
        "report": "Report",
        "file": "File",
        "row": "Row",
        "person": "Person (masked)",
        "status": "Status",
        "status_note": "Review note",
        "message": "Message",
        "no_issues": "No open issues.",
        "no_issues_unit": "no open issues",
        "no_reporting": "No expected uploads recorded yet (no run).",
        "unplaced": "No township",
        "no_unit": "Files with no recognisable unit",
        "township_level": " (township level)",
        "how_to": "Record what was done: popstat issues ack|resolve|waive ID --note '…'. "
        "A corrected file uploaded again is re-checked by the next nightly run; "
        "problems that are gone leave this report.",
        "privacy": "This report holds no ID number in clear and no name; persons appear as "
        "masked ID numbers. Do not pass it outside the office.",
        "chart_label": "Open issues per report month (bar chart)",
        "none": "—",
    },
}

SEVERITY_LABELS = {
    "zh": {"error": "错误", "warning": "警告"},
    "en": {"error": "error", "warning": "warning"},
}
STATUS_LABELS = {
    "zh": {"open": "待处理", "acknowledged": "已确认", "resolved": "已解决", "waived": "已豁免"},
    "en": {
        "open": "open",
        "acknowledged": "acknowledged",
        "resolved": "resolved",
        "waived": "waived",
    },
}
SOURCE_LABELS = {
    "zh": {"village": "村", "police": "公安", "hospital": "医疗机构"},
    "en": {"village": "village", "police": "police", "hospital": "health institution"},
}

RULE_LABELS: dict[str, tuple[str, str]] = {
    "missing": ("必填项为空", "required value missing"),
    "required_unless": ("条件必填项为空", "conditionally required value missing"),
    "id_format": ("身份证号格式错误", "ID number malformed"),
    "id_scientific": ("身份证号被科学计数法损坏", "ID number destroyed by Excel"),
    "id_checksum": ("身份证号校验位错误", "ID check digit wrong"),
    "id_region": ("身份证号省份代码无效", "ID province code invalid"),
    "id_birth_date": ("身份证号出生日期无效", "ID birth date invalid"),
    "date_format": ("日期无法识别", "unreadable date"),
    "sex_value": ("性别填写错误", "invalid sex"),
    "yesno_value": ("是/否填写错误", "invalid yes/no"),
    "money_format": ("金额格式错误", "invalid amount"),
    "integer_format": ("整数格式错误", "invalid integer"),
    "enum_value": ("不是规定的选项", "value not in the list"),
    "area_code_format": ("村居代码格式错误", "invalid village code"),
    "out_of_range": ("超出允许范围", "out of range"),
    "duplicate_in_file": ("文件内重复", "duplicate in the file"),
    "duplicate_across_units": ("与其他上报重复", "duplicate across uploads"),
    "date_after_report_month": ("日期晚于报表月份", "date after the report month"),
    "date_outside_report_month": ("日期不在报表月份内", "date outside the report month"),
    "exceeds_column": ("数值大于关联项", "exceeds a related value"),
    "disagrees_with_id": ("与身份证号出生日期不符", "disagrees with the ID number"),
    "upload_missing": ("报表未上报", "upload missing"),
    "upload_late": ("报表迟报", "upload late"),
    "fee_paid_to_date_continuity": ("累计缴费金额不连续", "fee paid-to-date does not add up"),
    "fee_case_vanished": ("征收案件从台账中消失", "fee case vanished from the ledger"),
    "roster_children_decreased": ("现有子女数减少", "number of children decreased"),
    "roster_size_jump": ("花名册人数突变", "roster size jumped"),
    "outlier_monthly_count": ("月度数量异常", "unusual monthly count"),
    "birth_missing_in_village": ("出生漏报", "birth not reported by the village"),
    "birth_mother_id_mismatch": ("母亲身份证号无效", "mother's ID number invalid"),
    "birth_sex_conflict": ("婴儿性别不一致", "child's sex disagrees"),
    "birth_date_conflict": ("出生日期不一致", "birth date disagrees"),
    "police_birth_without_mother": ("户籍出生登记缺母亲身份证号", "police birth without mother"),
    "roster_dead_or_moved_out": ("花名册含死亡或迁出人员", "roster holds a dead or moved person"),
    "roster_stale_method": ("避孕措施未更新", "contraceptive method out of date"),
    "roster_duplicate_person": ("花名册人员重复", "person on two rosters"),
    "mart_audit_failed": ("发布前核查未通过", "publication audit failed"),
    "file_lock_file": ("Excel临时锁定文件", "Excel lock file"),
    "file_unrecognised_name": ("文件名不符合规则", "file name not recognised"),
    "file_unknown_kind": ("未知的报表类别", "unknown report kind"),
    "file_bad_unit": ("文件名中的单位代码错误", "bad unit code in the name"),
    "file_bad_month": ("文件名中的月份错误", "bad month in the name"),
    "file_unsupported_format": ("文件格式不支持", "unsupported file format"),
    "file_empty": ("空文件", "empty file"),
    "file_unreadable": ("文件无法读取", "file cannot be read"),
    "file_no_header": ("找不到表头", "no header row"),
    "file_missing_required_columns": ("缺少必需的列", "required columns missing"),
    "file_unclosed_quote": ("CSV 引号未闭合", "CSV quote left open"),
    "file_too_large": ("文件超出大小限制", "file past the size limits"),
    "file_reader_crashed": ("读取程序异常终止", "reader stopped on the file"),
    "file_reader_timeout": ("读取超时", "reading timed out"),
    "file_unknown_unit": ("单位代码不在参考数据中", "unit not in the reference"),
    "file_not_yet_due": ("报告月份尚未到期", "report month not yet due"),
    "file_before_first_month": ("报告月份早于启用月份", "month before the first month"),
    "file_symbolic_link": ("符号链接（不读取）", "symbolic link (not followed)"),
    "file_not_a_regular_file": ("不是普通文件", "not a regular file"),
    "file_unlistable_folder": ("文件夹无法打开", "folder cannot be opened"),
    "file_quarantined": ("文件已隔离", "file quarantined"),
}


def _empty(columns: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype="string") for c in columns})


@dataclass(frozen=True)
class ReportInput:
    """What the report shows.

    `issues`: `dq_issues` rows (at least `ISSUE_COLUMNS`); `reporting`:
    `dq_reporting` rows; `areas` / `institutions`: the reference frames (may be
    empty: units then show by code, placed by the code's first 9 digits).
    """

    issues: pd.DataFrame
    reporting: pd.DataFrame
    areas: pd.DataFrame = field(default_factory=lambda: _empty(AREA_COLUMNS))
    institutions: pd.DataFrame = field(default_factory=lambda: _empty(INSTITUTION_COLUMNS))
    generated_at: datetime | None = None
    data_as_of: date | None = None
    run_id: str | None = None


def _e(value: object) -> str:
    """HTML-escaped text; null is empty."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return html.escape(str(value), quote=True)


def _text(value: object) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return str(value)


def _anchor(prefix: str, code: str) -> str:
    return prefix + "-" + (re.sub(r"[^0-9A-Za-z_-]", "_", code) or "none")


def rule_label(rule: str, lang: Lang = "zh") -> str:
    """A rule's short name for people; the code itself when it has none."""
    names = RULE_LABELS.get(rule)
    if names is None:
        return rule
    return names[0] if lang == "zh" else names[1]


def _report_titles(lang: Lang) -> dict[tuple[str, str], str]:
    return {
        (t.source, t.kind): (t.title_zh if lang == "zh" else t.title_en)
        for t in load_contract().templates.values()
    }


def _labels(lang: Lang) -> dict[str, str]:
    if lang not in LABELS:
        raise ValueError(f"lang must be one of {sorted(LABELS)}, got {lang!r}")
    return LABELS[lang]


# ----------------------------------------------------------------------------- placement


def place_units(
    units: Iterable[str | None],
    areas: pd.DataFrame,
    institutions: pd.DataFrame | None = None,
    reporting: pd.DataFrame | None = None,
    lang: Lang = "zh",
) -> pd.DataFrame:
    """Where each unit sits: one row per distinct unit (null unit → `""`).

    Columns: `unit`, `unit_name`, `unit_order` (0 village, 1 township level,
    2 institution or other, 3 no unit), `township_code` (`""` when unknown),
    `township_name`.
    """
    text = _labels(lang)
    area_rows = areas.reindex(columns=list(AREA_COLUMNS)).astype("string")
    names = dict(zip(area_rows["code"], area_rows["name"], strict=True))
    levels = dict(zip(area_rows["code"], area_rows["level"], strict=True))
    parents = dict(zip(area_rows["code"], area_rows["parent_code"], strict=True))
    inst = (institutions if institutions is not None else _empty(INSTITUTION_COLUMNS)).reindex(
        columns=list(INSTITUTION_COLUMNS)
    )
    inst = inst.astype("string")
    inst_names = dict(zip(inst["code"], inst["name"], strict=True))
    inst_towns = dict(zip(inst["code"], inst["township_code"], strict=True))
    report_areas: dict[str, str] = {}
    if reporting is not None and len(reporting):
        pairs = reporting[["unit", "area_code"]].dropna().astype("string").drop_duplicates("unit")
        report_areas = dict(zip(pairs["unit"], pairs["area_code"], strict=True))

    def township_of_area(code: str) -> str:
        level = levels.get(code)
        if level == "township":
            return code
        if level == "village":
            return _text(parents.get(code)) or code[:9]
        if level == "county":
            return _NO_TOWNSHIP
        if re.fullmatch(r"\d{12}", code):
            return code[:9]
        if re.fullmatch(r"\d{9}", code):
            return code
        return _NO_TOWNSHIP

    rows = []
    seen: set[str] = set()
    for raw in units:
        unit = _text(raw)
        if unit in seen:
            continue
        seen.add(unit)
        if unit == _NO_UNIT:
            rows.append((unit, text["no_unit"], 3, _NO_TOWNSHIP))
            continue
        level = levels.get(unit)
        if level == "village" or (level is None and re.fullmatch(r"\d{12}", unit)):
            rows.append((unit, _text(names.get(unit)) or unit, 0, township_of_area(unit)))
        elif level == "township" or (level is None and re.fullmatch(r"\d{9}", unit)):
            name = (_text(names.get(unit)) or unit) + text["township_level"]
            rows.append((unit, name, 1, unit))
        elif unit in inst_names:
            town = _text(inst_towns.get(unit))
            rows.append((unit, _text(inst_names[unit]) or unit, 2, town))
        elif unit in report_areas:
            rows.append((unit, unit, 2, township_of_area(report_areas[unit])))
        else:
            rows.append((unit, _text(names.get(unit)) or unit, 2, _NO_TOWNSHIP))
    placed = pd.DataFrame(rows, columns=["unit", "unit_name", "unit_order", "township_code"])
    placed["township_name"] = [
        (_text(names.get(t)) or t) if t else text["unplaced"] for t in placed["township_code"]
    ]
    return placed.astype(
        {
            "unit": "string",
            "unit_name": "string",
            "unit_order": "int64",
            "township_code": "string",
            "township_name": "string",
        }
    )


def _county_name(areas: pd.DataFrame) -> str:
    if "level" not in areas.columns or "name" not in areas.columns:
        return ""
    county = areas.loc[areas["level"] == "county", "name"].dropna()
    return str(county.iloc[0]) if len(county) else ""


def _villages(areas: pd.DataFrame) -> list[str]:
    if "level" not in areas.columns:
        return []
    return [str(c) for c in areas.loc[areas["level"] == "village", "code"].dropna()]


@dataclass(frozen=True)
class _Prepared:
    issues: pd.DataFrame  # ISSUE_COLUMNS + placement columns
    units: pd.DataFrame  # placement of every unit, with counts and rates
    reporting: pd.DataFrame  # dq_reporting rows, typed


def _prepare(data: ReportInput, lang: Lang) -> _Prepared:
    issues = data.issues.reindex(columns=list(ISSUE_COLUMNS)).copy()
    for column in ISSUE_COLUMNS:
        if column != "row_number":
            issues[column] = issues[column].astype("string")
    issues["row_number"] = pd.to_numeric(issues["row_number"]).astype("Int64")
    issues["unit"] = issues["unit"].fillna(_NO_UNIT)
    reporting = data.reporting.reindex(columns=list(REPORTING_COLUMNS)).copy()
    for column in ("unit", "source", "kind", "report_month", "area_code"):
        reporting[column] = reporting[column].astype("string")
    for column in ("received", "on_time"):
        reporting[column] = reporting[column].astype("boolean").fillna(False).astype(bool)

    all_units = [*_villages(data.areas), *reporting["unit"].dropna(), *issues["unit"]]
    placed = place_units(all_units, data.areas, data.institutions, reporting, lang)
    issues = issues.merge(placed, on="unit", how="left")

    counts = (
        issues.groupby(["unit", "severity"]).size().unstack(fill_value=0)
        if len(issues)
        else pd.DataFrame()
    ).reindex(columns=list(_SEVERITIES), fill_value=0)
    rates = (
        reporting.groupby("unit")
        .agg(
            expected=("received", "size"),
            received=("received", "sum"),
            on_time=("on_time", "sum"),
        )
        .astype("int64")
    )
    units = placed.merge(counts, left_on="unit", right_index=True, how="left")
    units = units.merge(rates, left_on="unit", right_index=True, how="left")
    for column in (*_SEVERITIES, "expected", "received", "on_time"):
        units[column] = units[column].fillna(0).astype("int64")
    units["issues"] = units["error"] + units["warning"]
    units = units.sort_values(["township_code", "unit_order", "unit"]).reset_index(drop=True)
    # the unplaced group goes last
    units = pd.concat(
        [units.loc[units["township_code"] != ""], units.loc[units["township_code"] == ""]],
        ignore_index=True,
    )
    return _Prepared(issues=issues, units=units, reporting=reporting)


def _rate(numerator: int, denominator: int) -> float | None:
    return None if denominator == 0 else 100.0 * numerator / denominator


def _fmt_rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


# ----------------------------------------------------------------------------- chart


def _nice_step(top: int) -> int:
    """An axis step of 1, 2 or 5 × 10ⁿ giving at most 5 intervals up to `top`."""
    raw = max(top, 1) / 5
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    for factor in (1, 2, 5, 10):
        step = int(factor * magnitude)
        if step >= raw:
            return max(step, 1)
    return int(10 * magnitude)


def month_counts(issues: pd.DataFrame) -> pd.DataFrame:
    """Issues per report month and severity: index month (`""` for none, last), columns severities."""
    if issues.empty:
        return pd.DataFrame(columns=list(_SEVERITIES), dtype="int64")
    months = issues["report_month"].astype("string").fillna("")
    counts = (
        issues.assign(_month=months)
        .groupby(["_month", "severity"])
        .size()
        .unstack(fill_value=0)
        .reindex(columns=list(_SEVERITIES), fill_value=0)
        .astype("int64")
    )
    order = sorted(m for m in counts.index if m) + ([""] if "" in counts.index else [])
    return counts.reindex(order)


def month_chart_svg(issues: pd.DataFrame, lang: Lang = "zh") -> str:
    """Stacked bars (errors below, warnings on top) of open issues per report month, as inline SVG."""
    text = _labels(lang)
    severity_names = SEVERITY_LABELS[lang]
    counts = month_counts(issues)
    if counts.empty:
        return f'<p class="muted">{_e(text["no_issues"])}</p>'
    width, height = 760, 280
    left, right, top, bottom = 48, 16, 36, 56
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = counts.sum(axis=1)
    step = _nice_step(int(totals.max()))
    y_max = step * math.ceil(int(totals.max()) / step) or step
    slot = plot_w / len(counts)
    bar_w = min(slot * 0.62, 56.0)
    rotate = len(counts) > 12

    def y(value: float) -> float:
        return top + plot_h - plot_h * value / y_max

    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{_e(text["chart_label"])}">',
        f"<title>{_e(text['chart_label'])}</title>",
    ]
    for tick in range(0, y_max + 1, step):
        ty = y(tick)
        parts.append(
            f'<line x1="{left}" y1="{ty:.1f}" x2="{width - right}" y2="{ty:.1f}" class="grid"/>'
            f'<text x="{left - 8}" y="{ty + 4:.1f}" text-anchor="end" class="tick">{tick}</text>'
        )
    for i, (month, row) in enumerate(counts.iterrows()):
        x = left + slot * i + (slot - bar_w) / 2
        base = 0
        label = str(month) or text["no_month"]
        tip = f"{label}: " + ", ".join(f"{severity_names[s]} {int(row[s])}" for s in _SEVERITIES)
        parts.append(f"<g><title>{_e(tip)}</title>")
        for severity in _SEVERITIES:
            n = int(row[severity])
            if n == 0:
                continue
            y0, y1 = y(base), y(base + n)
            parts.append(
                f'<rect x="{x:.1f}" y="{y1:.1f}" width="{bar_w:.1f}" height="{y0 - y1:.1f}" '
                f'class="bar-{severity}"/>'
            )
            base += n
        cx = x + bar_w / 2
        parts.append(
            f'<text x="{cx:.1f}" y="{y(base) - 5:.1f}" text-anchor="middle" class="total">'
            f"{base}</text></g>"
        )
        if rotate:
            parts.append(
                f'<text x="{cx:.1f}" y="{top + plot_h + 14}" text-anchor="end" class="tick" '
                f'transform="rotate(-45 {cx:.1f} {top + plot_h + 14})">{_e(label)}</text>'
            )
        else:
            parts.append(
                f'<text x="{cx:.1f}" y="{top + plot_h + 20}" text-anchor="middle" class="tick">'
                f"{_e(label)}</text>"
            )
    parts.append(
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" '
        'class="axis"/>'
    )
    lx = width - right - 170
    for j, severity in enumerate(_SEVERITIES):
        parts.append(
            f'<rect x="{lx + j * 85}" y="8" width="14" height="14" class="bar-{severity}"/>'
            f'<text x="{lx + j * 85 + 20}" y="20" class="legend">'
            f"{_e(severity_names[severity])}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


# ----------------------------------------------------------------------------- tables


def _missing_text(rows: pd.DataFrame, lang: Lang) -> str:
    """Not-received uploads of one unit: `2026-02：出生登记、花名册；2026-03：…`."""
    titles = _report_titles(lang)
    missing = rows.loc[~rows["received"]]
    if missing.empty:
        return ""
    parts = []
    for month, group in missing.groupby("report_month", sort=True):
        kinds = [
            titles.get((str(s), str(k)), f"{s}_{k}")
            for s, k in zip(group["source"], group["kind"], strict=True)
        ]
        sep = "、" if lang == "zh" else ", "
        parts.append(f"{month}{'：' if lang == 'zh' else ': '}{sep.join(sorted(kinds))}")
    return ("；" if lang == "zh" else "; ").join(parts)


def reporting_table(data: ReportInput, lang: Lang = "zh") -> pd.DataFrame:
    """Reporting and on-time rates per unit (rates in percent), with the uploads not received."""
    text = _labels(lang)
    prepared = _prepare(data, lang)
    units = prepared.units.loc[prepared.units["expected"] > 0]
    missing = {
        str(unit): _missing_text(rows, lang) for unit, rows in prepared.reporting.groupby("unit")
    }
    table = pd.DataFrame(
        {
            text["township"]: units["township_name"],
            text["unit"]: units["unit_name"],
            text["code"]: units["unit"],
            text["expected"]: units["expected"],
            text["received"]: units["received"],
            text["on_time"]: units["on_time"],
            text["reporting_rate"] + " (%)": [
                _round(_rate(r, e))
                for r, e in zip(units["received"], units["expected"], strict=True)
            ],
            text["on_time_rate"] + " (%)": [
                _round(_rate(r, e))
                for r, e in zip(units["on_time"], units["expected"], strict=True)
            ],
            text["missing"]: [missing.get(str(u), "") for u in units["unit"]],
        }
    )
    return table.reset_index(drop=True)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def issues_table(data: ReportInput, lang: Lang = "zh") -> pd.DataFrame:
    """The open issues, one row each, with headers in `lang` (the spreadsheet's first sheet)."""
    text = _labels(lang)
    issues = _sorted_issues(_prepare(data, lang).issues)
    titles = _report_titles(lang)
    message = "message_zh" if lang == "zh" else "message_en"
    return pd.DataFrame(
        {
            text["township"]: issues["township_name"],
            text["unit"]: issues["unit_name"],
            text["code"]: issues["unit"].replace("", pd.NA),
            text["month"]: issues["report_month"],
            text["source"]: issues["source"].map(
                lambda s: SOURCE_LABELS[lang].get(s, s) if pd.notna(s) else pd.NA
            ),
            text["report"]: [
                titles.get((str(s), str(k)), pd.NA)
                for s, k in zip(issues["source"], issues["kind"], strict=True)
            ],
            text["file"]: issues["file_name"],
            text["row"]: issues["row_number"],
            text["person"]: issues["record_key"],
            text["severity"]: issues["severity"].map(lambda s: SEVERITY_LABELS[lang].get(s, s)),
            text["rule"]: issues["rule"].map(lambda r: rule_label(r, lang)),
            text["status"]: issues["status"].map(lambda s: STATUS_LABELS[lang].get(s, s)),
            text["status_note"]: issues["status_note"],
            text["message"]: issues[message],
            text["rule_code"]: issues["rule"],
            text["issue_id"]: issues["issue_id"],
        }
    ).reset_index(drop=True)


def rule_table(data: ReportInput, lang: Lang = "zh") -> pd.DataFrame:
    """Open issues per rule and severity (rows) and township (columns), with a total."""
    text = _labels(lang)
    prepared = _prepare(data, lang)
    issues = prepared.issues
    towns = prepared.units.drop_duplicates("township_code")
    town_names = dict(zip(towns["township_code"], towns["township_name"], strict=True))
    if issues.empty:
        return pd.DataFrame(columns=[text["severity"], text["rule"], text["total"]])
    matrix = (
        issues.groupby(["severity", "rule", "township_code"])
        .size()
        .unstack(fill_value=0)
        .astype("int64")
    )
    order = [t for t in towns["township_code"] if t in matrix.columns]
    matrix = matrix.reindex(columns=order)
    matrix[text["total"]] = matrix.sum(axis=1)
    matrix = matrix.reset_index()
    matrix["_sev"] = matrix["severity"].map({s: i for i, s in enumerate(_SEVERITIES)}).fillna(9)
    matrix = matrix.sort_values(["_sev", text["total"], "rule"], ascending=[True, False, True])
    out = pd.DataFrame(
        {
            text["severity"]: matrix["severity"].map(lambda s: SEVERITY_LABELS[lang].get(s, s)),
            text["rule"]: matrix["rule"].map(lambda r: rule_label(r, lang)),
            text["rule_code"]: matrix["rule"],
        }
    )
    for code in order:
        out[town_names.get(code, code)] = matrix[code].to_numpy()
    out[text["total"]] = matrix[text["total"]].to_numpy()
    return out.reset_index(drop=True)


def workbook_sheets(data: ReportInput, lang: Lang = "zh") -> dict[str, pd.DataFrame]:
    """The spreadsheet: open issues first, then rules × townships, then reporting rates."""
    text = _labels(lang)
    return {
        text["open_total"]: issues_table(data, lang),
        text["by_rule"]: rule_table(data, lang),
        text["reporting"]: reporting_table(data, lang),
    }


def _sorted_issues(issues: pd.DataFrame) -> pd.DataFrame:
    township_last = (issues["township_code"] == "").astype(int)
    return (
        issues.assign(_last=township_last)
        .sort_values(
            [
                "_last",
                "township_code",
                "unit_order",
                "unit",
                "report_month",
                "file_name",
                "row_number",
                "rule",
            ],
            na_position="last",
        )
        .drop(columns="_last")
        .reset_index(drop=True)
    )


# ----------------------------------------------------------------------------- HTML

_CSS = """
:root { --err: #c0392b; --warn: #d98c10; --ok: #2e7d32; --ink: #222; --muted: #666;
  --line: #d9dde3; --head: #eef2f7; --zebra: #f8f9fb; --accent: #1f5f99; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff; line-height: 1.55; font-size: 14px;
  font-family: "Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", "Source Han Sans SC",
  "WenQuanYi Micro Hei", "SimHei", "SimSun", sans-serif; }
main { max-width: 1280px; margin: 0 auto; padding: 20px 28px 48px; }
header { border-bottom: 3px solid var(--accent); margin-bottom: 16px; padding-bottom: 8px; }
h1 { font-size: 24px; margin: 0 0 4px; color: var(--accent); }
h2 { font-size: 19px; margin: 32px 0 10px; padding-left: 10px; border-left: 5px solid var(--accent); }
h3 { font-size: 16px; margin: 0; display: inline; }
.meta, .muted { color: var(--muted); font-size: 13px; }
nav { background: var(--zebra); border: 1px solid var(--line); border-radius: 6px;
  padding: 8px 14px; margin: 12px 0; font-size: 13px; }
nav a { color: var(--accent); text-decoration: none; margin-right: 14px; white-space: nowrap; }
nav a:hover { text-decoration: underline; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 8px 0 4px; }
.card { flex: 1 1 150px; border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px;
  background: #fff; }
.card .n { font-size: 26px; font-weight: bold; }
.card .l { color: var(--muted); font-size: 13px; }
.card.err .n { color: var(--err); } .card.warn .n { color: var(--warn); }
table { border-collapse: collapse; width: 100%; margin: 6px 0 14px; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: var(--head); font-weight: bold; white-space: nowrap; }
tbody tr:nth-child(even) td { background: var(--zebra); }
td.num, th.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.code, td.nowrap { white-space: nowrap; }
td.code { font-family: Consolas, "DejaVu Sans Mono", monospace; font-size: 12px; }
tr.sub td { background: var(--head) !important; font-weight: bold; }
tr.total td { background: #dfe7f1 !important; font-weight: bold; }
.sev-error { color: var(--err); font-weight: bold; white-space: nowrap; }
.sev-warning { color: var(--warn); font-weight: bold; white-space: nowrap; }
.zero { color: #aaa; }
.rate { display: flex; align-items: center; gap: 6px; white-space: nowrap; }
.rate .track { width: 80px; height: 9px; background: #eceff3; border-radius: 5px; overflow: hidden; }
.rate .fill { height: 100%; }
.good .fill { background: var(--ok); } .fair .fill { background: var(--warn); }
.poor .fill { background: var(--err); }
.poor .v { color: var(--err); font-weight: bold; }
.chart { width: 100%; max-width: 820px; height: auto; display: block; }
.chart .grid { stroke: #e3e6ea; stroke-width: 1; }
.chart .axis { stroke: #888; stroke-width: 1; }
.chart .tick, .chart .legend { font-size: 12px; fill: #555; }
.chart .total { font-size: 12px; fill: #222; font-weight: bold; }
.chart .bar-error { fill: var(--err); } .chart .bar-warning { fill: var(--warn); }
section.township { border-top: 1px solid var(--line); margin-top: 18px; }
details.unit { border: 1px solid var(--line); border-radius: 6px; margin: 10px 0; padding: 0 12px; }
details.unit > summary { cursor: pointer; padding: 8px 0; }
details.unit[open] > summary { border-bottom: 1px solid var(--line); margin-bottom: 8px; }
.chips { margin: 4px 0 8px; }
.chip { display: inline-block; border-radius: 10px; padding: 0 8px; margin: 2px 4px 2px 0;
  font-size: 12px; border: 1px solid var(--line); background: var(--zebra); }
.chip.error { border-color: #e6b0aa; background: #fbeeec; }
.chip.warning { border-color: #f0d19a; background: #fdf6e8; }
td.msg { min-width: 220px; }
td.file { word-break: break-all; min-width: 130px; max-width: 240px; font-size: 12px; }
.scroll { overflow-x: auto; }
td.report { min-width: 6.5em; }
td.rule { min-width: 7.5em; }
.note { color: var(--muted); font-size: 12px; white-space: normal; min-width: 8em; }
footer { margin-top: 36px; border-top: 1px solid var(--line); padding-top: 10px;
  color: var(--muted); font-size: 12px; }
@media print {
  nav { display: none; }
  main { max-width: none; padding: 0; }
  details.unit { break-inside: avoid-page; }
  h2 { break-after: avoid-page; }
}
"""

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


def _rate_cell(numerator: int, denominator: int) -> str:
    value = _rate(numerator, denominator)
    if value is None:
        return '<td class="num">—</td>'
    grade = "good" if value >= RATE_GOOD else "fair" if value >= RATE_FAIR else "poor"
    return (
        f'<td><div class="rate {grade}"><div class="track"><div class="fill" '
        f'style="width:{min(value, 100.0):.1f}%"></div></div>'
        f'<span class="v">{_fmt_rate(value)}</span></div></td>'
    )


def _num(n: int, severity: str | None = None) -> str:
    if n == 0:
        return '<td class="num zero">0</td>'
    cls = f" sev-{severity}" if severity else ""
    return f'<td class="num{cls}">{n}</td>'


def _overview(prepared: _Prepared, lang: Lang) -> str:
    text = _labels(lang)
    issues, units = prepared.issues, prepared.units
    n_err = int((issues["severity"] == "error").sum())
    n_warn = int((issues["severity"] == "warning").sum())
    n_ack = int((issues["status"] == "acknowledged").sum())
    n_units = int((units["issues"] > 0).sum())
    expected = int(units["expected"].sum())
    cards = [
        ("", text["open_total"], str(len(issues))),
        ("err", text["errors"], str(n_err)),
        ("warn", text["warnings"], str(n_warn)),
        ("", text["acknowledged"], str(n_ack)),
        ("", text["units_with_issues"], str(n_units)),
        ("", text["reporting_rate"], _fmt_rate(_rate(int(units["received"].sum()), expected))),
        ("", text["on_time_rate"], _fmt_rate(_rate(int(units["on_time"].sum()), expected))),
    ]
    body = "".join(
        f'<div class="card {cls}"><div class="n">{_e(n)}</div><div class="l">{_e(label)}</div></div>'
        for cls, label, n in cards
    )
    return f'<section id="overview"><h2>{_e(text["overview"])}</h2><div class="cards">{body}</div></section>'


def _frame_html(
    frame: pd.DataFrame,
    numeric: Sequence[str] = (),
    code: Sequence[str] = (),
    severity: tuple[str, Mapping[str, str]] | None = None,
) -> str:
    """A frame as an HTML table; `severity` = (column, label → severity code) colours that column."""
    head = "".join(
        f'<th class="{"num" if c in numeric else ""}">{_e(c)}</th>' for c in frame.columns
    )
    rows = []
    for record in frame.itertuples(index=False, name=None):
        cells = []
        for column, value in zip(frame.columns, record, strict=True):
            if column in numeric:
                n = int(value) if pd.notna(value) else 0
                cells.append(_num(n))
            elif column in code:
                cells.append(f'<td class="code">{_e(value)}</td>')
            elif severity is not None and column == severity[0]:
                level = severity[1].get(_text(value), "")
                cells.append(f'<td class="sev-{_e(level)}">{_e(value)}</td>')
            else:
                cells.append(f"<td>{_e(value)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _rules_section(data: ReportInput, lang: Lang) -> str:
    text = _labels(lang)
    table = rule_table(data, lang)
    if table.empty:
        body = f'<p class="muted">{_e(text["no_issues"])}</p>'
    else:
        fixed = {text["severity"], text["rule"], text["rule_code"]}
        numeric = [c for c in table.columns if c not in fixed]
        levels = {label: code for code, label in SEVERITY_LABELS[lang].items()}
        body = _frame_html(
            table, numeric=numeric, code=[text["rule_code"]], severity=(text["severity"], levels)
        )
    return f'<section id="rules"><h2>{_e(text["by_rule"])}</h2>{body}</section>'


def _reporting_section(prepared: _Prepared, lang: Lang) -> str:
    text = _labels(lang)
    units = prepared.units.loc[prepared.units["expected"] > 0]
    head = f"<h2>{_e(text['reporting'])}</h2><p class='note'>{_e(text['reporting_note'])}</p>"
    if units.empty:
        return f'<section id="reporting">{head}<p class="muted">{_e(text["no_reporting"])}</p></section>'
    missing = {
        str(unit): _missing_text(rows, lang) for unit, rows in prepared.reporting.groupby("unit")
    }
    cols = [
        text["township"],
        text["unit"],
        text["code"],
        text["expected"],
        text["received"],
        text["on_time"],
        text["reporting_rate"],
        text["on_time_rate"],
        text["missing"],
    ]
    numeric = {text["expected"], text["received"], text["on_time"]}
    th = "".join(f'<th class="{"num" if c in numeric else ""}">{_e(c)}</th>' for c in cols)
    rows = []

    def totals(cls: str, town: str, label: str, group: pd.DataFrame) -> str:
        e, r, o = (int(group[c].sum()) for c in ("expected", "received", "on_time"))
        return (
            f'<tr class="{cls}"><td>{_e(town)}</td><td>{_e(label)}</td><td></td>'
            f'<td class="num">{e}</td><td class="num">{r}</td><td class="num">{o}</td>'
            f"{_rate_cell(r, e)}{_rate_cell(o, e)}<td></td></tr>"
        )

    for _, group in units.groupby("township_code", sort=False):
        town = str(group["township_name"].iloc[0])
        for unit in group.itertuples(index=False):
            rows.append(
                f"<tr><td>{_e(town)}</td><td>{_e(unit.unit_name)}</td>"
                f'<td class="code">{_e(unit.unit)}</td>'
                f'<td class="num">{unit.expected}</td><td class="num">{unit.received}</td>'
                f'<td class="num">{unit.on_time}</td>'
                f"{_rate_cell(int(unit.received), int(unit.expected))}"
                f"{_rate_cell(int(unit.on_time), int(unit.expected))}"
                f"<td>{_e(missing.get(str(unit.unit), ''))}</td></tr>"
            )
        rows.append(totals("sub", town, text["subtotal"], group))
    rows.append(totals("total", text["county_total"], "", units))
    table = f"<table><thead><tr>{th}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    return f'<section id="reporting">{head}{table}</section>'


def _chips(issues: pd.DataFrame, lang: Lang) -> str:
    counts = issues.groupby(["severity", "rule"]).size().reset_index(name="n")
    counts["_sev"] = counts["severity"].map({s: i for i, s in enumerate(_SEVERITIES)}).fillna(9)
    counts = counts.sort_values(["_sev", "n", "rule"], ascending=[True, False, True])
    chips = "".join(
        f'<span class="chip {_e(r.severity)}" title="{_e(r.rule)}">'
        f"{_e(SEVERITY_LABELS[lang].get(str(r.severity), r.severity))} · "
        f"{_e(rule_label(str(r.rule), lang))} <b>{int(r.n)}</b></span>"
        for r in counts.itertuples(index=False)
    )
    return f'<div class="chips">{chips}</div>'


def _issue_rows(issues: pd.DataFrame, lang: Lang) -> str:
    text = _labels(lang)
    titles = _report_titles(lang)
    message = "message_zh" if lang == "zh" else "message_en"
    cols = [
        text["issue_id"],
        text["month"],
        text["report"],
        text["file"],
        text["row"],
        text["person"],
        text["severity"],
        text["rule"],
        text["status"],
        text["message"],
    ]
    th = "".join(f'<th class="{"num" if c == text["row"] else ""}">{_e(c)}</th>' for c in cols)
    rows = []
    for r in issues.itertuples(index=False):
        source, kind = _text(r.source), _text(r.kind)
        report = titles.get((source, kind), "")
        if not report and source:
            report = SOURCE_LABELS[lang].get(source, source)
        status = _e(STATUS_LABELS[lang].get(_text(r.status), _text(r.status)))
        note = _text(r.status_note)
        if note:
            by = _text(r.status_by)
            status += f'<div class="note">{_e(note)}{" — " + _e(by) if by else ""}</div>'
        severity = _text(r.severity)
        row_number = "" if pd.isna(r.row_number) else str(int(r.row_number))
        rows.append(
            f'<tr><td class="code">{_e(r.issue_id)}</td>'
            f'<td class="nowrap">{_e(r.report_month)}</td><td class="report">{_e(report)}</td>'
            f'<td class="file">{_e(r.file_name)}</td><td class="num">{_e(row_number)}</td>'
            f'<td class="code">{_e(r.record_key)}</td>'
            f'<td class="sev-{_e(severity)}">{_e(SEVERITY_LABELS[lang].get(severity, severity))}</td>'
            f'<td class="rule" title="{_e(r.rule)}">{_e(rule_label(_text(r.rule), lang))}</td>'
            f'<td class="nowrap">{status}</td><td class="msg">{_e(getattr(r, message))}</td></tr>'
        )
    table = f"<table><thead><tr>{th}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    return f'<div class="scroll">{table}</div>'


def _township_sections(prepared: _Prepared, lang: Lang) -> str:
    text = _labels(lang)
    issues = _sorted_issues(prepared.issues)
    by_unit = {str(u): g for u, g in issues.groupby("unit", sort=False)}
    sections = [f'<section id="townships"><h2>{_e(text["townships"])}</h2>']
    for code, group in prepared.units.groupby("township_code", sort=False):
        town = str(group["township_name"].iloc[0])
        n_err, n_warn = int(group["error"].sum()), int(group["warning"].sum())
        if n_err + n_warn == 0 and code == _NO_TOWNSHIP:
            continue
        sections.append(
            f'<section class="township" id="{_e(_anchor("t", str(code)))}">'
            f"<h2>{_e(town)} <span class='meta'>{_e(code)}</span></h2>"
        )
        head = (
            f"<tr><th>{_e(text['unit'])}</th><th>{_e(text['code'])}</th>"
            f"<th class='num'>{_e(text['errors'])}</th><th class='num'>{_e(text['warnings'])}</th>"
            f"<th class='num'>{_e(text['total'])}</th><th>{_e(text['main_rules'])}</th></tr>"
        )
        rows = []
        for unit in group.itertuples(index=False):
            mine = by_unit.get(str(unit.unit))
            if mine is not None:
                top = mine["rule"].value_counts().head(3)
                main = "、" if lang == "zh" else ", "
                summary = main.join(f"{rule_label(str(r), lang)} {n}" for r, n in top.items())
                name = f'<a href="#{_e(_anchor("u", str(unit.unit)))}">{_e(unit.unit_name)}</a>'
            else:
                summary, name = "", _e(unit.unit_name)
            rows.append(
                f'<tr><td>{name}</td><td class="code">{_e(unit.unit)}</td>'
                f"{_num(int(unit.error), 'error')}{_num(int(unit.warning), 'warning')}"
                f"{_num(int(unit.issues))}<td>{_e(summary)}</td></tr>"
            )
        rows.append(
            f'<tr class="sub"><td>{_e(text["subtotal"])}</td><td></td>'
            f"{_num(n_err, 'error')}{_num(n_warn, 'warning')}{_num(n_err + n_warn)}<td></td></tr>"
        )
        sections.append(f"<table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>")
        for unit in group.itertuples(index=False):
            mine = by_unit.get(str(unit.unit))
            if mine is None:
                continue
            counts = (
                f"<span class='sev-error'>{_e(text['errors'])} {int(unit.error)}</span> · "
                f"<span class='sev-warning'>{_e(text['warnings'])} {int(unit.warning)}</span>"
            )
            sections.append(
                f'<details class="unit" open id="{_e(_anchor("u", str(unit.unit)))}">'
                f"<summary><h3>{_e(unit.unit_name)}</h3> "
                f"<span class='meta'>{_e(unit.unit)}</span> — {counts}</summary>"
                f"{_chips(mine, lang)}"
                f"<p class='note'>{_e(text['rows_to_fix'])}</p>{_issue_rows(mine, lang)}</details>"
            )
        sections.append("</section>")
    sections.append("</section>")
    return "".join(sections)


def _nav(prepared: _Prepared, lang: Lang) -> str:
    text = _labels(lang)
    links = [
        ("overview", text["overview"]),
        ("months", text["by_month"]),
        ("rules", text["by_rule"]),
        ("reporting", text["reporting"]),
    ]
    parts = [f'<a href="#{_e(a)}">{_e(label)}</a>' for a, label in links]
    for code, group in prepared.units.groupby("township_code", sort=False):
        n = int(group["issues"].sum())
        if n == 0 and code == _NO_TOWNSHIP:
            continue
        parts.append(
            f'<a href="#{_e(_anchor("t", str(code)))}">{_e(group["township_name"].iloc[0])}'
            f" ({n})</a>"
        )
    colon = "：" if lang == "zh" else ": "
    return f"<nav><b>{_e(text['contents'])}{colon}</b>{''.join(parts)}</nav>"


def render_html(data: ReportInput, lang: Lang = "zh") -> str:
    """The whole report as one self-contained HTML document (no external resource at all)."""
    text = _labels(lang)
    prepared = _prepare(data, lang)
    county = _county_name(data.areas)
    title = f"{county} {text['title']}".strip()
    meta = []
    if data.generated_at is not None:
        meta.append(f"{text['generated']}：{data.generated_at:%Y-%m-%d %H:%M}")
    if data.data_as_of is not None:
        meta.append(f"{text['data_as_of']}：{data.data_as_of:%Y-%m-%d}")
    if data.run_id:
        meta.append(f"{text['run']}：{data.run_id}")
    sep = "；" if lang == "zh" else "; "
    if lang == "en":
        meta = [m.replace("：", ": ") for m in meta]
    html_lang = "zh-CN" if lang == "zh" else "en"
    return "".join(
        [
            "<!DOCTYPE html>\n",
            f'<html lang="{html_lang}"><head><meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{_e(_CSP)}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            '<meta name="referrer" content="no-referrer">',
            f"<title>{_e(title)}</title><style>{_CSS}</style></head><body><main>",
            f"<header><h1>{_e(title)}</h1><div class='meta'>{_e(sep.join(meta))}</div></header>",
            _nav(prepared, lang),
            _overview(prepared, lang),
            f'<section id="months"><h2>{_e(text["by_month"])}</h2>'
            f"<p class='note'>{_e(text['by_month_note'])}</p>"
            f"{month_chart_svg(prepared.issues, lang)}</section>",
            _rules_section(data, lang),
            _reporting_section(prepared, lang),
            _township_sections(prepared, lang),
            f"<footer><p>{_e(text['how_to'])}</p><p>{_e(text['privacy'])}</p>"
            "<p>popstat</p></footer>",
            "</main></body></html>\n",
        ]
    )
