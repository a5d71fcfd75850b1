"""The data officer's report as data: open quality issues and reporting rates, placed.

Pure: frames in, frames out. Grain: `prepare_report` gives one row per issue and one
row per unit (village, township level, institution) with its counts and rates; the
spreadsheet sheets (`workbook_sheets`) are one row per issue, per rule × severity and
per unit. The HTML page made from them lives in reports/ (reports.officer_report).
Person IDs are already masked in `dq_issues`; the offending `value` column is not
shown at all.

Inputs (`ReportInput`): `dq_issues` rows to report (open and acknowledged, still
found), `dq_reporting` rows, and the reference `areas` and `institutions`
frames, which name the units and place each under its township. A unit is a
village (12-digit code), a township (9 digits: police uploads) or a health
institution (placed under its township by `institutions.csv`, else by
`dq_reporting.area_code`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import pandas as pd

from transforms.officer.explain import Explanation
from transforms.officer.labels import (
    SEVERITY_LABELS,
    SOURCE_LABELS,
    STATUS_LABELS,
    Lang,
    labels_for,
    rule_label,
)
from transforms.templates import load_contract

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
FIGURE_COLUMNS: tuple[str, ...] = (
    "area_code",
    "period",
    "indicator",
    "indicator_name",
    "numerator",
    "denominator",
    "value",
    "unit",
    "status",
)
INSTITUTION_COLUMNS: tuple[str, ...] = ("code", "name", "township_code")

RATE_GOOD = 99.0
"""The county's bar for reporting (uploads.md: “…均达99%以上”): at or above it is green."""
RATE_FAIR = 90.0

NO_UNIT = ""
NO_TOWNSHIP = ""
SEVERITIES = ("error", "warning")
NOTICE_RULES = frozenset({"upload_late", "upload_missing"})
"""Reminders about uploads (late, missing): listed apart from the rows to correct."""


def is_notice(issues: pd.DataFrame) -> pd.Series:
    """Per issue: a late or missing upload notice rather than a record to correct."""
    return issues["rule"].astype("string").isin(NOTICE_RULES).fillna(False).astype(bool)


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
    figures: pd.DataFrame = field(default_factory=lambda: _empty(FIGURE_COLUMNS))
    """Published township figures (mart rows) shown per township, each linked to its
    explanation: `explain_pages` maps a township code to its page's file name."""
    explain_pages: Mapping[str, str] = field(default_factory=dict)
    explanations: Mapping[str, Sequence[Explanation]] = field(default_factory=dict)
    """Per township code, its figures explained (the pages' content)."""


def _text(value: object) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return str(value)


def report_titles(lang: Lang) -> dict[tuple[str, str], str]:
    """(source, kind) → the upload's title in `lang`, from the upload templates."""
    return {
        (t.source, t.kind): (t.title_zh if lang == "zh" else t.title_en)
        for t in load_contract().templates.values()
    }


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
    text = labels_for(lang)
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
        if level in ("county", "prefecture", "province"):
            return NO_TOWNSHIP
        if re.fullmatch(r"\d{12}", code):
            return code[:9]
        if re.fullmatch(r"\d{9}", code):
            return code
        return NO_TOWNSHIP

    rows = []
    seen: set[str] = set()
    for raw in units:
        unit = _text(raw)
        if unit in seen:
            continue
        seen.add(unit)
        if unit == NO_UNIT:
            rows.append((unit, text["no_unit"], 3, NO_TOWNSHIP))
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
            rows.append((unit, _text(names.get(unit)) or unit, 2, NO_TOWNSHIP))
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


def county_name(areas: pd.DataFrame) -> str:
    """The name of the top area of the reference areas: the county, or the province
    above its counties (the area without a parent; empty when unknown)."""
    if "name" not in areas.columns:
        return ""
    if "parent_code" in areas.columns:
        parent = areas["parent_code"].astype("string").str.strip().replace("", pd.NA)
        root = areas.loc[parent.isna().to_numpy(dtype=bool), "name"].dropna()
        if len(root) == 1:
            return str(root.iloc[0])
    if "level" not in areas.columns:
        return ""
    county = areas.loc[areas["level"] == "county", "name"].dropna()
    return str(county.iloc[0]) if len(county) else ""


def _villages(areas: pd.DataFrame) -> list[str]:
    if "level" not in areas.columns:
        return []
    return [str(c) for c in areas.loc[areas["level"] == "village", "code"].dropna()]


@dataclass(frozen=True)
class PreparedReport:
    """The report's frames: issues placed under their units and townships, every unit with
    its counts and reporting rates, and the reporting rows typed."""

    issues: pd.DataFrame  # ISSUE_COLUMNS + placement columns
    units: pd.DataFrame  # placement of every unit, with counts and rates
    reporting: pd.DataFrame  # dq_reporting rows, typed


def prepare_report(data: ReportInput, lang: Lang) -> PreparedReport:
    """Type the input, place every unit, and count issues and uploads per unit
    (townships in code order, units unplaced last)."""
    issues = data.issues.reindex(columns=list(ISSUE_COLUMNS)).copy()
    for column in ISSUE_COLUMNS:
        if column != "row_number":
            issues[column] = issues[column].astype("string")
    issues["row_number"] = pd.to_numeric(issues["row_number"]).astype("Int64")
    issues["unit"] = issues["unit"].fillna(NO_UNIT)
    reporting = data.reporting.reindex(columns=list(REPORTING_COLUMNS)).copy()
    for column in ("unit", "source", "kind", "report_month", "area_code"):
        reporting[column] = reporting[column].astype("string")
    for column in ("received", "on_time"):
        reporting[column] = reporting[column].astype("boolean").fillna(False).astype(bool)

    all_units = [*_villages(data.areas), *reporting["unit"].dropna(), *issues["unit"]]
    placed = place_units(all_units, data.areas, data.institutions, reporting, lang)
    issues = issues.merge(placed, on="unit", how="left")

    # an empty frame's index is int64: give it the unit's type so the merge below holds
    counts = (
        issues.groupby(["unit", "severity"]).size().unstack(fill_value=0)
        if len(issues)
        else pd.DataFrame(index=pd.Index([], dtype="string", name="unit"))
    ).reindex(columns=list(SEVERITIES), fill_value=0)
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
    for column in (*SEVERITIES, "expected", "received", "on_time"):
        units[column] = units[column].fillna(0).astype("int64")
    units["issues"] = units["error"] + units["warning"]
    notices = issues.loc[is_notice(issues)].groupby("unit").size()
    units["notices"] = units["unit"].map(notices).fillna(0).astype("int64")
    units = units.sort_values(["township_code", "unit_order", "unit"]).reset_index(drop=True)
    # the unplaced group goes last
    units = pd.concat(
        [units.loc[units["township_code"] != ""], units.loc[units["township_code"] == ""]],
        ignore_index=True,
    )
    return PreparedReport(issues=issues, units=units, reporting=reporting)


def rate_percent(numerator: int, denominator: int) -> float | None:
    """numerator / denominator in percent; None when nothing was expected."""
    return None if denominator == 0 else 100.0 * numerator / denominator


def format_rate(value: float | None) -> str:
    """`97.5%`, or `—` for no rate."""
    return "—" if value is None else f"{value:.1f}%"


def month_counts(issues: pd.DataFrame) -> pd.DataFrame:
    """Issues per report month and severity: index month (`""` for none, last), columns severities."""
    if issues.empty:
        return pd.DataFrame(columns=list(SEVERITIES), dtype="int64")
    months = issues["report_month"].astype("string").fillna("")
    counts = (
        issues.assign(_month=months)
        .groupby(["_month", "severity"])
        .size()
        .unstack(fill_value=0)
        .reindex(columns=list(SEVERITIES), fill_value=0)
        .astype("int64")
    )
    order = sorted(m for m in counts.index if m) + ([""] if "" in counts.index else [])
    return counts.reindex(order)


# ----------------------------------------------------------------------------- tables


def missing_uploads_text(rows: pd.DataFrame, lang: Lang) -> str:
    """Not-received uploads of one unit: `2026-02：出生登记、花名册；2026-03：…`."""
    titles = report_titles(lang)
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
    text = labels_for(lang)
    prepared = prepare_report(data, lang)
    units = prepared.units.loc[prepared.units["expected"] > 0]
    missing = {
        str(unit): missing_uploads_text(rows, lang)
        for unit, rows in prepared.reporting.groupby("unit")
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
                _round(rate_percent(r, e))
                for r, e in zip(units["received"], units["expected"], strict=True)
            ],
            text["on_time_rate"] + " (%)": [
                _round(rate_percent(r, e))
                for r, e in zip(units["on_time"], units["expected"], strict=True)
            ],
            text["missing"]: [missing.get(str(u), "") for u in units["unit"]],
        }
    )
    return table.reset_index(drop=True)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def issues_table(data: ReportInput, lang: Lang = "zh", notices: bool = False) -> pd.DataFrame:
    """The open records to correct (or, with `notices`, the late and missing uploads), one
    row each, with headers in `lang` (the spreadsheet's first and second sheets)."""
    text = labels_for(lang)
    issues = sorted_issues(prepare_report(data, lang).issues)
    issues = issues.loc[is_notice(issues) == notices].reset_index(drop=True)
    titles = report_titles(lang)
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
    text = labels_for(lang)
    prepared = prepare_report(data, lang)
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
    matrix["_sev"] = matrix["severity"].map({s: i for i, s in enumerate(SEVERITIES)}).fillna(9)
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
    """The spreadsheet: records to correct first, then late and missing uploads, then
    rules × townships, then reporting rates."""
    text = labels_for(lang)
    return {
        text["rows_to_fix"]: issues_table(data, lang),
        text["notices"]: issues_table(data, lang, notices=True),
        text["by_rule"]: rule_table(data, lang),
        text["reporting"]: reporting_table(data, lang),
    }


def sorted_issues(issues: pd.DataFrame) -> pd.DataFrame:
    """Township, unit, then errors before warnings, then month, file and row."""
    township_last = (issues["township_code"] == "").astype(int)
    severity = issues["severity"].map({s: i for i, s in enumerate(SEVERITIES)}).fillna(9)
    return (
        issues.assign(_last=township_last, _sev=severity)
        .sort_values(
            [
                "_last",
                "township_code",
                "unit_order",
                "unit",
                "_sev",
                "report_month",
                "file_name",
                "row_number",
                "rule",
            ],
            na_position="last",
        )
        .drop(columns=["_last", "_sev"])
        .reset_index(drop=True)
    )


def report_file_names(day: date) -> tuple[str, str]:
    """(HTML, XLSX) file names for the report of `day`: ASCII, sortable by date."""
    stamp = day.isoformat()
    return f"dq-report-{stamp}.html", f"dq-open-issues-{stamp}.xlsx"


def explain_page_name(day: date, township_code: str) -> str:
    """`dq-explain-<date>-<township>.html`: ASCII, beside the report of that day."""
    safe = "".join(c if c.isalnum() else "_" for c in township_code)
    return f"dq-explain-{day.isoformat()}-{safe}.html"
