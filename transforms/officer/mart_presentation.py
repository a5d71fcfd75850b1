"""How the published mart is shown to people: Chinese headers and labels, display rounding.

Pure functions, no I/O. The warehouse keeps every value unrounded and decides
`status` on the unrounded value (docs/indicators.md); rounding happens here, for
display only. A rounded value must never contradict the published status:
2 multi-child births out of 199 are 1.005 %, which does not meet `<= 1.0`, so it
is shown as `1.005%`, not as `1.00%` next to "未达标" (`display_decimals`).

`MART_COLUMNS` describes every column of `mart_target_achievement` (in the
order and types of warehouse.schema, which a test checks); `data_dictionary_markdown`
turns it and the indicator catalog into docs/data-dictionary.md, and
`indicator_catalog_markdown` writes the catalog table of docs/indicators.md
(`make docs`; their tests keep the committed files true).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

from transforms.indicators.catalog import Catalog
from transforms.indicators.measures import MEASURES, Measure
from transforms.officer.views import officer_decisions_markdown


@dataclass(frozen=True)
class MartColumn:
    """One column of mart_target_achievement as the data dictionary describes it."""

    name: str
    type: str
    header_zh: str
    meaning_zh: str
    meaning_en: str


MART_COLUMNS: tuple[MartColumn, ...] = (
    MartColumn(
        "area_code",
        "text",
        "区划代码",
        "村、乡镇、县、地区或省的区划代码",
        "village, township, county, prefecture or province code",
    ),
    MartColumn("area_name", "text", "区划名称", "区划名称", "area name"),
    MartColumn(
        "area_level",
        "text",
        "层级",
        "层级：village 村、township 乡镇、county 县、prefecture 地区、province 省",
        "level: `village`, `township`, `county`, `prefecture` or `province`",
    ),
    MartColumn(
        "parent_code",
        "text",
        "上级区划代码",
        "上级区划代码；最高一级（县级库为县，省级库为省）为空",
        "parent area code; null for the top area (the county, or the province above it)",
    ),
    MartColumn(
        "period",
        "text",
        "期间",
        "统计期间：月 `2026-09`、1至n月 `2026-01..2026-09`、季度 `2026-Q3`、半年 `2026-H2`、年 `2026`",
        "period label: `2026-09`, `2026-01..2026-09`, `2026-Q3`, `2026-H2` or `2026`",
    ),
    MartColumn("period_start", "date", "起始日期", "期间第一天", "first day of the period"),
    MartColumn("period_end", "date", "截止日期", "期间最后一天", "last day of the period"),
    MartColumn(
        "indicator",
        "text",
        "指标代码",
        "指标代码（见下方指标表）",
        "indicator code (see the indicator table below)",
    ),
    MartColumn("indicator_name", "text", "指标", "指标中文名称", "indicator name in Chinese"),
    MartColumn("numerator", "numeric", "分子", "分子", "numerator"),
    MartColumn(
        "denominator", "numeric", "分母", "分母；计数类指标为空", "denominator; null for counts"
    ),
    MartColumn(
        "value",
        "double",
        "指标值",
        "指标值，未经四舍五入；百分比以百分数表示（89.447…）",
        "value, unrounded; percentages in percent (89.447…)",
    ),
    MartColumn(
        "unit",
        "text",
        "单位",
        "单位：`%`、`count` 计数、`ratio` 比值（女=100）",
        "unit: `%`, `count` or `ratio` (women = 100)",
    ),
    MartColumn(
        "target_op",
        "text",
        "目标比较",
        "目标比较方式：`>=`、`<=`、`between` 区间；无目标为空",
        "how the target is judged: `>=`, `<=`, `between`; null without a target",
    ),
    MartColumn(
        "target", "double", "目标值", "目标值（区间的下限）", "target (lower bound for `between`)"
    ),
    MartColumn("target_hi", "double", "目标上限", "区间目标的上限", "upper bound for `between`"),
    MartColumn(
        "status",
        "text",
        "达标情况",
        "达标情况：`met` 达标、`not_met` 未达标、`no_target` 无目标、`no_data` 无数据（分母为0）、"
        "`too_few` 基数过少（低于指标的最小基数，不参与排名）；按未经四舍五入的值判定",
        "`met`, `not_met`, `no_target`, `no_data` (denominator 0), `too_few` (base below the "
        "indicator's minimum; not ranked); judged on the unrounded value",
    ),
    MartColumn(
        "rank",
        "integer",
        "排名",
        "在同一上级区划、同一期间内的排名，1为最好；无目标时为空",
        "rank within the parent area and period, 1 = best; null without a target",
    ),
    MartColumn(
        "period_complete",
        "boolean",
        "期间已完整",
        "期间内每个月的报表截至运行日期均已到期；否则为截至某月的数据（如“截至9月”）",
        "every month of the period is due at the run's as-of date; else the months so far",
    ),
    MartColumn(
        "signed_off_share",
        "double",
        "审核把关比例",
        "该行数字所涉村月中已由乡镇审核签核（popstat signoff）的比例，0–1；不足1即为暂定数。"
        "所涉村月：该区划内每个村（乡镇、县为其下所有村）× 期间内该村有上报文件或已到报送期限的月份"
        "（未到期且未上报的月份不计，期间是否已满见 period_complete）；"
        "签核后该村该月又有新文件即撤销签核；无所涉村月时为空。次日运行后更新",
        "share of the village-months behind the row signed off by a township officer "
        "(`popstat signoff`), 0–1; below 1 the figure is provisional. Behind a row: every "
        "village in the area (all villages of a township or the county) × every month of the "
        "period in which that village uploaded a file or had one due (months neither due nor "
        "uploaded do not count; `period_complete` says whether the period is over). A new file "
        "for a signed-off village-month withdraws its sign-off. Null when nothing is behind "
        "the row. Updated by the next run",
    ),
    MartColumn(
        "run_id", "text", "发布批次", "发布该行的运行批次", "the run that published the row"
    ),
)

HEADERS_ZH: dict[str, str] = {c.name: c.header_zh for c in MART_COLUMNS}
STATUS_LABELS: dict[str, str] = {
    "met": "达标",
    "not_met": "未达标",
    "no_target": "无目标",
    "no_data": "无数据",
    "too_few": "基数过少",
}
LEVEL_LABELS: dict[str, str] = {
    "village": "村",
    "township": "乡镇",
    "county": "县",
    "prefecture": "地区",
    "province": "省",
}
UNIT_LABELS: dict[str, str] = {"%": "%", "count": "计数", "ratio": "比值"}
TARGET_OP_LABELS: dict[str, str] = {">=": "≥", "<=": "≤", "between": "区间"}
BETTER_LABELS: dict[str, str] = {"higher": "越高越好", "lower": "越低越好", "range": "在区间内"}
_BASE_DECIMALS: dict[str, int] = {"%": 2, "ratio": 2, "count": 0}
_MAX_DECIMALS = 6


def _missing(value: object) -> bool:
    if value is None or value is pd.NA:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def round_half_up(value: float, decimals: int) -> float:
    """`value` rounded 四舍五入 on its shortest decimal form (2.675 -> 2.68, unlike round())."""
    quantum = Decimal(1).scaleb(-decimals)
    return float(Decimal(repr(float(value))).quantize(quantum, rounding=ROUND_HALF_UP))


def meets(value: float, target_op: str, target: float, target_hi: float | None = None) -> bool:
    """Whether `value` satisfies the target (`>=`, `<=`, or inside `between`)."""
    if target_op == ">=":
        return value >= target
    if target_op == "<=":
        return value <= target
    if target_op == "between":
        return target <= value <= (math.inf if target_hi is None else target_hi)
    raise ValueError(f"unknown target op {target_op!r}")


def display_decimals(
    value: float,
    unit: str,
    status: str | None = None,
    target_op: str | None = None,
    target: float | None = None,
    target_hi: float | None = None,
) -> int:
    """Decimals to show: 2 for rates, 0 for counts, more when fewer would contradict the status.

    With a target and a met / not_met status, digits are added (up to 6) until
    the rounded value, judged against the target, gives the published status.
    """
    decimals = _BASE_DECIMALS.get(unit, 2)
    if _missing(value) or status not in ("met", "not_met") or not target_op or _missing(target):
        return decimals
    assert target is not None
    hi = None if _missing(target_hi) else target_hi
    want = status == "met"
    while decimals < _MAX_DECIMALS:
        if meets(round_half_up(value, decimals), target_op, target, hi) == want:
            break
        decimals += 1
    return decimals


def _number(value: float, decimals: int) -> str:
    return f"{round_half_up(value, decimals):,.{decimals}f}".replace(",", "")


def format_value(value: float | None, unit: str, decimals: int | None = None) -> str:
    """`89.45%`, `100.00` (a ratio), `8` (a count); empty for a missing value."""
    if value is None or _missing(value):
        return ""
    places = _BASE_DECIMALS.get(unit, 2) if decimals is None else decimals
    text = _number(float(value), places)
    return f"{text}%" if unit == "%" else text


def format_target(
    target_op: str | None, target: float | None, target_hi: float | None, unit: str
) -> str:
    """`≥ 87%`, `≤ 1%`, `103–107`; empty without a target."""
    if not target_op or _missing(target_op) or target is None or _missing(target):
        return ""

    def short(x: float) -> str:
        text = f"{round_half_up(float(x), 4):.4f}".rstrip("0").rstrip(".")
        return f"{text}%" if unit == "%" else text

    if target_op == "between":
        return f"{short(target)}–{short(target_hi) if target_hi is not None and not _missing(target_hi) else '∞'}"
    return f"{TARGET_OP_LABELS.get(target_op, target_op)} {short(target)}"


def _as_float(value: object) -> float | None:
    if _missing(value):
        return None
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _as_text(value: object) -> str | None:
    return None if _missing(value) else str(value)


def display_value(row: Mapping[str, object]) -> str:
    """A mart row's value as shown to people: rounded, never contradicting its status."""
    value = _as_float(row.get("value"))
    if value is None:
        return ""
    unit = _as_text(row.get("unit")) or ""
    decimals = display_decimals(
        value,
        unit,
        _as_text(row.get("status")),
        _as_text(row.get("target_op")),
        _as_float(row.get("target")),
        _as_float(row.get("target_hi")),
    )
    return format_value(value, unit, decimals)


def _rounded_value(row: Mapping[str, object]) -> float | None:
    text = display_value(row).rstrip("%")
    return float(text) if text else None


def _whole_if_integral(series: pd.Series) -> pd.Series:
    """Numbers as Int64 when every one is whole (178, not 178.0), else Float64."""
    numbers = pd.to_numeric(series).astype("Float64")
    present = numbers.dropna()
    if (present == present.round(0)).all():
        return numbers.round(0).astype("Int64")
    return numbers


def presentation_frame(mart: pd.DataFrame) -> pd.DataFrame:
    """The mart for a spreadsheet: every column under its Chinese header, in contract order.

    Status, level, unit and target op become Chinese labels, dates `YYYY-MM-DD`,
    `指标值` is rounded for display (`display_value`: 2 decimals, 0 for counts,
    more where needed to keep the status visible). Numerator and denominator
    are exact, so any value can be recomputed.
    """
    out = pd.DataFrame(index=mart.index)
    records = mart.to_dict("records")
    for column in MART_COLUMNS:
        name = column.name
        if name not in mart.columns:
            continue
        series = mart[name]
        if name in ("period_start", "period_end"):
            out[name] = pd.to_datetime(series).dt.strftime("%Y-%m-%d").astype("string")
        elif name == "status":
            out[name] = series.astype("string").map(lambda s: STATUS_LABELS.get(s, s))
        elif name == "area_level":
            out[name] = series.astype("string").map(lambda s: LEVEL_LABELS.get(s, s))
        elif name == "unit":
            out[name] = series.astype("string").map(lambda s: UNIT_LABELS.get(s, s))
        elif name == "target_op":
            out[name] = series.astype("string").map(lambda s: TARGET_OP_LABELS.get(s, s))
        elif name == "value":
            out[name] = pd.array([_rounded_value(r) for r in records], dtype="Float64")
        elif name == "rank":
            out[name] = series.astype("Int64")
        elif name == "period_complete":
            out[name] = series.astype("boolean").map({True: "是", False: "否"}).astype("string")
        elif name in ("numerator", "denominator", "target", "target_hi"):
            out[name] = _whole_if_integral(series)
        else:
            out[name] = series.astype("string")
    return out.rename(columns=HEADERS_ZH).reset_index(drop=True)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _measure_text(name: str | None, measures: Mapping[str, Measure]) -> str:
    if name is None:
        return "—"
    found = measures.get(name)
    description = " ".join(found.description.split("\n\n")[0].split()) if found else ""
    return f"`{name}`: {description}" if description else f"`{name}`"


def indicator_catalog_markdown(
    catalog: Catalog, measures: Mapping[str, Measure] | None = None
) -> str:
    """The catalog table of docs/indicators.md: one row per indicator, as the TOML says."""
    known = MEASURES if measures is None else measures
    lines = [
        "| code | 名称 | name | numerator | denominator | unit | factor | better "
        "| kind | published for | judged on |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for i in catalog:
        name_zh = i.name_zh + (f"（{'、'.join(i.aka_zh)}）" if i.aka_zh else "")
        better = f"{i.better} {BETTER_LABELS[i.better]}" if i.better else "—"
        cells = (
            f"`{i.code}`",
            name_zh,
            i.name_en,
            _measure_text(i.numerator, known),
            _measure_text(i.denominator, known),
            i.unit,
            f"{i.factor:g}",
            better,
            "flow" if i.flow else "stock",
            ", ".join(i.periods),
            ", ".join(i.target_periods),
        )
        lines.append("| " + " | ".join(_cell(x) for x in cells) + " |")
    return "\n".join(lines) + "\n"


UPLOAD_DECISIONS = (
    "期望上报从“首个月份”开始（默认 targets.csv 中最早年份的 1 月，可用 POPSTAT_FIRST_MONTH 设置）；"
    "更早月份的文件隔离（before_first_month）。Expected uploads start at the first month "
    "(default January of the earliest year in targets.csv; POPSTAT_FIRST_MONTH); an earlier "
    "month's file is quarantined.",
    "报告月份晚于统计截止日所在月份的文件隔离（not_yet_due），截止月份本身可以接收。"
    "A file for a month after the as-of month is quarantined; the as-of month itself is taken.",
    "单位代码既不在 areas.csv 也不在 institutions.csv 中的文件隔离（unknown_unit）。"
    "A file whose unit is in neither areas.csv nor institutions.csv is quarantined.",
    "已隔离的文件不会因截止日推后而重新读取：只有路径或内容改变的文件才会重新接收。"
    "A quarantined file is read again only when its path or bytes change, not when --as-of moves.",
    "符号链接、命名管道、设备文件、套接字一律不读取，各自隔离并记一条上报记录。"
    "Links, FIFOs, devices and sockets are never read; each gets its own quarantined uploads row.",
    "超出限制（字节、行、列、XLSX 解压大小与压缩比）或读取程序崩溃/超时的文件整体隔离，见 README。"
    "A file past the limits (bytes, rows, columns, XLSX unpacked size and ratio), or whose reader "
    "crashes or times out, is quarantined whole; see the README.",
    "问题编号以身份证号的密钥哈希区分人员，从不以脱敏号码区分。"
    "Issue identity tells persons apart by the keyed hash of the ID, never by its mask.",
)


def data_dictionary_markdown(
    catalog: Catalog, measures: Mapping[str, Measure] | None = None
) -> str:
    """docs/data-dictionary.md: the mart's columns and the indicator catalog, as Markdown."""
    known = MEASURES if measures is None else measures
    lines = [
        "# 数据字典 Data dictionary",
        "",
        "<!-- Generated by transforms.officer.mart_presentation.data_dictionary_markdown(load_catalog());",
        "     tests/transforms/test_mart_presentation.py fails when this file is out of date. -->",
        "",
        "## mart_target_achievement",
        "",
        "考核指标达标情况：每个区划 × 期间 × 指标一行。",
        "One row per area × period × indicator: the published target achievement.",
        "",
        "| column | type | 表头 | 含义 | meaning |",
        "| --- | --- | --- | --- | --- |",
    ]
    for c in MART_COLUMNS:
        lines.append(
            f"| `{c.name}` | {c.type} | {c.header_zh} | {_cell(c.meaning_zh)} | {_cell(c.meaning_en)} |"
        )
    lines += [
        "",
        "达标情况 status: "
        + "，".join(f"`{k}` {v}" for k, v in STATUS_LABELS.items())
        + "。层级 level: "
        + "，".join(f"`{k}` {v}" for k, v in LEVEL_LABELS.items())
        + "。",
        "",
        "## 考核指标 Indicators",
        "",
        "value = numerator × factor ÷ denominator (counts: value = numerator). "
        "Rates aggregate up the hierarchy by summing numerators and denominators.",
        "",
        "| code | 名称 | name | numerator | denominator | unit | factor | better "
        "| 发布期间 published for | 考核期间 judged on | 最小基数 minimum |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for i in catalog:
        name_zh = i.name_zh + (f"（{'、'.join(i.aka_zh)}）" if i.aka_zh else "")
        better = f"{i.better} {BETTER_LABELS[i.better]}" if i.better else "—"
        factor = f"{i.factor:g}"
        lines.append(
            "| "
            + " | ".join(
                _cell(x)
                for x in (
                    f"`{i.code}`",
                    name_zh,
                    i.name_en,
                    _measure_text(i.numerator, known),
                    _measure_text(i.denominator, known),
                    i.unit,
                    factor,
                    better,
                    ", ".join(i.periods),
                    ", ".join(i.target_periods),
                    _minimum_text(i.min_denominator, i.minimum_of),
                )
            )
            + " |"
        )
    lines += ["", "## 口径 Decisions", ""]
    lines += [f"- {line}" for line in DECISIONS]
    lines += officer_decisions_markdown()
    lines += ["", "## 接收规则 Upload decisions", ""]
    lines += [f"- {decision}" for decision in UPLOAD_DECISIONS]
    lines.append("")
    return "\n".join(lines)


def _minimum_text(minimum: float | None, measure: str | None) -> str:
    return "—" if minimum is None else f"{minimum:g} (`{measure}`)"


# One line per judgement the figures rest on (indicators.md "Decisions that the
# catalog's short cells rest on"). The README repeats them.
DECISIONS: tuple[str, ...] = (
    "错误行不参与核对 Error rows never reconcile: a row excluded as an `error` (e.g. an "
    "invalid mother ID) takes no part in reconciliation or any figure; the birth the "
    "hospital or police saw stays `missing_in_village` (漏报) until the corrected upload.",
    "漏报不因迟报而消失 A late report does not erase 漏报: a birth of month M is reported on "
    "time when a valid village row for it is in the upload for M or M+1 "
    "(`recon_births.reported_on_time`); otherwise it counts in `birth_underreport_rate` "
    "for M for good, even after the village reports it (`village_report_month`).",
    "待定 Pending: a birth whose upload for M+1 is not yet due is `pending`, not 漏报 "
    "(`reported_on_time` null), but counts in `births` and the 漏报 denominator.",
    "已知属性为分母 Known-status denominators: `policy_compliance_rate` and "
    "`multi_child_rate` count only births whose policy status / birth order is known from "
    "a valid village row; births only the hospital or police saw are left out.",
    "三查按半年 三查 is a half-year campaign: `three_checks_rate` and "
    "`three_checks_rate_2plus` are published for half-years only.",
    "计数目标不下放 Count targets stay with their area: a `births` or `prepregnancy_exams` "
    "target is the annual task of the area it names, judged on its year period only, never "
    "handed to the villages below; rate targets are inherited by areas without their own.",
    "期间完整 Incomplete periods: `period_complete` is false while a month of the period is "
    "not yet due; exports and the bulletin say “截至N月”.",
    "基数过少 Too few: below an indicator's `min_denominator` (catalog data) the status is "
    "`too_few` and the row is not ranked; 出生性别比 needs 100 births (boys and girls), "
    "counted on the `births` measure.",
    "状态优先顺序 Status precedence: `no_data` (denominator 0), then `too_few`, then "
    "`no_target`, then `met` / `not_met` on the unrounded value.",
    "孕前检查按对 Pre-pregnancy exams count distinct couples: a couple counts once a year, in "
    "the month and village of its first exam of the year (a repeat exam is not a new couple).",
    "一人两村 One woman on two villages' rosters in one month counts once, where she lives "
    "(`常住` or `流入` over `流出`); both rows get a `uniqueness` warning. Across townships and "
    "counties too: every row about a person is reconciled in her home township.",
    "按乡镇分区 Partitions: a run reconciles each township apart; a person's rows go to her "
    "home township (where a village lists her, else where a village reported her birth, else "
    "the uploader's), so a birth matches whichever hospital or police station saw it. A "
    "village birth row with an invalid mother ID is matched by the mother's name among the "
    "records of its own township only. Higher levels sum the townships' figures.",
    "目标表错误行 A bad row of targets.csv (unknown indicator or area, bad operator, "
    "non-numeric year or target) is a quality issue with the file and row; it sets no target.",
)
