"""Quality rules as data: every rule code, its dimension, severity and messages.

A *finding* is one broken rule at one place (an upload row, a whole upload, or a
unit and month). Every check — the Great Expectations suites in `expectations/`,
the cross-row checks in `transforms/quality/checks.py`, reconciliation — returns
findings as a frame with `FINDING_COLUMNS` (docs/design.md, "Findings");
`warehouse/issues.py` turns them into `dq_issues` rows.

Severity of a column rule follows the column (`Column.default_severity`: a bad
required value is an `error`, a bad optional one a `warning`, a template may
override); rules across rows, months or sources are always warnings
(uploads.md, "What bad input gets").

Messages are `str.format` templates for a village data officer: what is wrong,
the value found and what to do. Placeholders every message may use:

- `{column}` / `{column_zh}`: the column's canonical name / Chinese header;
- `{value_note}`: `（值：…）` / ` (value: …)`, or empty when the value is unknown;
- `{consequence}`: what happens to the row, by severity (`CONSEQUENCE`);

and the rule's own ones (`{min}`, `{report_month}`, `{first_row}`, …), listed
with each rule below.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

Severity = Literal["error", "warning"]
Dimension = Literal[
    "completeness", "timeliness", "validity", "uniqueness", "consistency", "accuracy"
]

FINDING_COLUMNS: tuple[str, ...] = (
    "rule",
    "severity",
    "dimension",
    "source",
    "kind",
    "unit",
    "report_month",
    "upload_id",
    "row_number",
    "column",
    "record_key",
    "value",
    "message_zh",
    "message_en",
)
ROW_COLUMNS = ("upload_id", "row_number")
"""What names a staged row: its upload and its row number in the file (the finding's
integer columns)."""
IDENTITY_KEY_COLUMNS = ("person_key", "value_key")
"""Optional finding columns, never stored nor shown: keyed hashes of the row's person and
of an ID value, which tell issues apart where the masked `record_key`/`value` cannot."""

CONSEQUENCE: dict[str, dict[Severity, str]] = {
    "zh": {
        "error": "本行暂不计入统计",
        "warning": "本行仍计入统计，但已标记待核",
    },
    "en": {
        "error": "the row is left out of the figures until it is corrected",
        "warning": "the row is still counted but flagged for review",
    },
}


@dataclass(frozen=True)
class Rule:
    """One rule code.

    `severity` is `"column"` when the column decides (`Column.default_severity`),
    otherwise the fixed severity of the rule.
    """

    code: str
    dimension: Dimension
    severity: Severity | Literal["column"]
    message_zh: str
    message_en: str

    def severity_for(self, column_severity: Severity | None = None) -> Severity:
        """The finding's severity: fixed by the rule, else the column's."""
        if self.severity != "column":
            return self.severity
        return column_severity or "error"

    def render(self, severity: Severity, **params: Any) -> tuple[str, str]:
        """(message_zh, message_en) with `params` filled in.

        `value_note` is built from `value` (already displayed, e.g. masked) when the
        caller does not give it; `consequence` from the severity.
        """
        value = params.get("value")
        known = value is not None and not (isinstance(value, float) and pd.isna(value))
        zh = {
            "value_note": f"（值：{value}）" if known else "",
            "consequence": CONSEQUENCE["zh"][severity],
            **params,
        }
        en = {
            "value_note": f" (value: {value})" if known else "",
            "consequence": CONSEQUENCE["en"][severity],
            **params,
        }
        return self.message_zh.format_map(zh), self.message_en.format_map(en)


_CHECK_ID = "请核对原始证件后更正并重新上报。"
_CHECK_ID_EN = "Check the original ID card, correct the number and upload the file again."
_REUPLOAD = "请更正后重新上报。"
_REUPLOAD_EN = "Correct it and upload the file again."

RULES: tuple[Rule, ...] = (
    # --- cell values: the normaliser's `err_<column>` codes (docs/design.md) and the
    # --- suite's own checks on canonical values. Severity: the column's.
    Rule(
        "missing",
        "completeness",
        "column",
        "必填项“{column_zh}”为空，{consequence}。请补填后重新上报。",
        "The required field {column} ({column_zh}) is empty; {consequence}. "
        "Fill it in and upload the file again.",
    ),
    Rule(  # {condition_column_zh} {condition_column} {condition_value} {condition_actual}
        "required_unless",
        "completeness",
        "column",
        "“{column_zh}”为空：{condition_column_zh}为“{condition_actual}”时必须填写"
        "（只有“{condition_value}”时可以不填），{consequence}。请补填后重新上报。",
        "{column} ({column_zh}) is empty; it is required unless {condition_column} is "
        "'{condition_value}' (here it is '{condition_actual}'); {consequence}. "
        "Fill it in and upload the file again.",
    ),
    Rule(
        "id_format",
        "validity",
        "column",
        "“{column_zh}”格式不对{value_note}，应为18位（最后一位可以是X），{consequence}。"
        + _CHECK_ID,
        "{column} ({column_zh}) is not an ID number{value_note}: it must have 18 characters, "
        "the last may be X; {consequence}. " + _CHECK_ID_EN,
    ),
    Rule(
        "id_scientific",
        "validity",
        "column",
        "“{column_zh}”被Excel变成了科学计数法{value_note}，号码已损坏、无法恢复，{consequence}。"
        "请把该列设为“文本”格式，重新录入完整号码后上报。",
        "{column} ({column_zh}) was turned into scientific notation by Excel{value_note}; the "
        "number is destroyed and cannot be repaired; {consequence}. Format the column as text, "
        "type the full numbers again and upload the file again.",
    ),
    Rule(
        "id_checksum",
        "validity",
        "column",
        "“{column_zh}”校验位错误{value_note}，{consequence}。" + _CHECK_ID,
        "{column} ({column_zh}): the check digit is wrong{value_note}; {consequence}. "
        + _CHECK_ID_EN,
    ),
    Rule(
        "id_region",
        "validity",
        "column",
        "“{column_zh}”前两位不是有效的省份代码{value_note}，{consequence}。" + _CHECK_ID,
        "{column} ({column_zh}): the first two digits are not a province code{value_note}; "
        "{consequence}. " + _CHECK_ID_EN,
    ),
    Rule(
        "id_birth_date",
        "validity",
        "column",
        "“{column_zh}”中的出生日期不存在或晚于报表月份{value_note}，{consequence}。" + _CHECK_ID,
        "{column} ({column_zh}): the birth date in the number is not a real date or is after "
        "the report month{value_note}; {consequence}. " + _CHECK_ID_EN,
    ),
    Rule(
        "date_format",
        "validity",
        "column",
        "“{column_zh}”不是能识别的日期{value_note}，{consequence}。"
        "请按“2026-09-03”的格式填写后重新上报。",
        "{column} ({column_zh}) is not a date{value_note}; {consequence}. "
        "Write it as 2026-09-03 and upload the file again.",
    ),
    Rule(
        "sex_value",
        "validity",
        "column",
        "“{column_zh}”只能填“男”或“女”{value_note}，{consequence}。" + _REUPLOAD,
        "{column} ({column_zh}) must be 男 or 女{value_note}; {consequence}. " + _REUPLOAD_EN,
    ),
    Rule(
        "yesno_value",
        "validity",
        "column",
        "“{column_zh}”只能填“是”或“否”{value_note}，{consequence}。" + _REUPLOAD,
        "{column} ({column_zh}) must be 是 or 否{value_note}; {consequence}. " + _REUPLOAD_EN,
    ),
    Rule(
        "money_format",
        "validity",
        "column",
        "“{column_zh}”不是有效的金额{value_note}，{consequence}。请只填数字（单位：元）后重新上报。",
        "{column} ({column_zh}) is not an amount of money{value_note}; {consequence}. "
        "Write digits only (yuan) and upload the file again.",
    ),
    Rule(
        "integer_format",
        "validity",
        "column",
        "“{column_zh}”应为整数{value_note}，{consequence}。" + _REUPLOAD,
        "{column} ({column_zh}) must be a whole number{value_note}; {consequence}. " + _REUPLOAD_EN,
    ),
    Rule(  # {allowed}
        "enum_value",
        "validity",
        "column",
        "“{column_zh}”不是规定的选项{value_note}，只能填：{allowed}。{consequence}。" + _REUPLOAD,
        "{column} ({column_zh}) is not one of the allowed values{value_note}: {allowed}; "
        "{consequence}. " + _REUPLOAD_EN,
    ),
    Rule(
        "area_code_format",
        "validity",
        "column",
        "“{column_zh}”应为12位村居代码{value_note}，{consequence}。" + _REUPLOAD,
        "{column} ({column_zh}) must be a 12-digit village code{value_note}; {consequence}. "
        + _REUPLOAD_EN,
    ),
    Rule(  # {range_zh} {range_en}
        "out_of_range",
        "validity",
        "column",
        "“{column_zh}”超出允许范围{value_note}，应{range_zh}，{consequence}。" + _REUPLOAD,
        "{column} ({column_zh}) is out of range{value_note}: it must be {range_en}; "
        "{consequence}. " + _REUPLOAD_EN,
    ),
    Rule(  # {first_row}
        "duplicate_in_file",
        "uniqueness",
        "column",
        "“{column_zh}”在本文件中重复{value_note}，与第{first_row}行相同；以第{first_row}行为准，"
        "{consequence}。请删除重复的行或更正编号后重新上报。",
        "{column} ({column_zh}) repeats within the file{value_note}: row {first_row} has it "
        "too and is kept; {consequence}. Delete the repeated row or correct it and upload the "
        "file again.",
    ),
    Rule(  # {first_upload} {first_row}
        "duplicate_across_units",
        "uniqueness",
        "column",
        "“{column_zh}”已在其他上报文件中出现{value_note}（首次：文件编号{first_upload}第{first_row}行），"
        "{consequence}。请核对编号；如属重复上报，请删除本行后重新上报。",
        "{column} ({column_zh}) was already reported in another upload{value_note} (first: "
        "upload {first_upload}, row {first_row}); {consequence}. Check the number; if the record "
        "was reported twice, delete this row and upload the file again.",
    ),
    Rule(  # {report_month}
        "date_after_report_month",
        "validity",
        "column",
        "“{column_zh}”晚于报表月份{report_month}{value_note}，{consequence}。"
        "请核对日期；下个月的事项请在下个月的报表中上报。",
        "{column} ({column_zh}) is after the report month {report_month}{value_note}; "
        "{consequence}. Check the date; report next month's events in next month's file.",
    ),
    Rule(  # {report_month}
        "date_outside_report_month",
        "validity",
        "column",
        "“{column_zh}”不在报表月份{report_month}内{value_note}，{consequence}。"
        "请核对日期，或把该行放到所属月份的报表中上报。",
        "{column} ({column_zh}) is not in the report month {report_month}{value_note}; "
        "{consequence}. Check the date, or report the row in the file of its own month.",
    ),
    Rule(  # {other_column} {other_column_zh} {other_value}
        "exceeds_column",
        "consistency",
        "column",
        "“{column_zh}”{value}大于“{other_column_zh}”{other_value}，{consequence}。"
        "请核对台账后更正并重新上报。",
        "{column} ({column_zh}) {value} is above {other_column} ({other_column_zh}) "
        "{other_value}; {consequence}. Check the ledger, correct it and upload the file again.",
    ),
    Rule(  # {other_column} {other_column_zh} {other_value}
        "disagrees_with_id",
        "consistency",
        "column",
        "“{column_zh}”{value}与“{other_column_zh}”中的出生日期{other_value}不一致，{consequence}。"
        "请核对户籍底册后更正并重新上报。",
        "{column} ({column_zh}) {value} differs from the birth date {other_value} in "
        "{other_column} ({other_column_zh}); {consequence}. Check the register, correct it and "
        "upload the file again.",
    ),
    # --- uploads: completeness and timeliness (transforms/quality/checks.py)
    Rule(  # {unit_name} {unit} {report_month} {title_zh} {title_en} {deadline}
        "upload_missing",
        "completeness",
        "warning",
        "{unit_name}（{unit}）{report_month}的《{title_zh}》还没有上报（截止日期{deadline}）。"
        "请尽快上报。",
        "{unit_name} ({unit}) has not uploaded the {title_en} for {report_month} "
        "(due {deadline}). Upload it as soon as possible.",
    ),
    Rule(  # {unit_name} {unit} {report_month} {title_zh} {title_en} {deadline} {arrived_at}
        "upload_late",
        "timeliness",
        "warning",
        "{unit_name}（{unit}）{report_month}的《{title_zh}》于{arrived_at}上报，晚于截止日期"
        "{deadline}。数据已经入库；请以后按时上报。",
        "{unit_name} ({unit}) uploaded the {title_en} for {report_month} on {arrived_at}, "
        "after the deadline {deadline}. The data is loaded; please upload on time.",
    ),
    # --- across rows and months: always warnings
    Rule(  # {case_no} {prev_month} {prev_paid} {paid_this_month} {expected}
        "fee_paid_to_date_continuity",
        "consistency",
        "warning",
        "案件{case_no}：累计缴纳金额{value}元，不等于{prev_month}累计{prev_paid}元加本月缴纳"
        "{paid_this_month}元（应为{expected}元）。{consequence}。请核对台账后更正。",
        "Case {case_no}: paid to date {value} is not last month's ({prev_month}) {prev_paid} "
        "plus this month's {paid_this_month} (expected {expected}); {consequence}. "
        "Check the ledger and correct it.",
    ),
    Rule(  # {row} {reason_zh} / {reason_en}: built by transforms.indicators.target_findings
        "target_row_invalid",
        "validity",
        "error",
        "目标文件 targets.csv 第{row}行：{reason_zh}。该行不设定目标；请更正目标文件。",
        "targets.csv row {row}: {reason_en}. The row sets no target; correct the targets file.",
    ),
    Rule(  # {case_no} {prev_month}
        "fee_case_vanished",
        "completeness",
        "warning",
        "案件{case_no}在{prev_month}的台账中有，本月（{report_month}）的台账中没有。"
        "已缴清的案件也要保留到年底。请核对是否漏填，补上后重新上报。",
        "Case {case_no} is in the {prev_month} ledger but not in this month's ({report_month}). "
        "Cases paid in full stay in the ledger until the end of the year. Check whether it was "
        "left out, add it and upload the file again.",
    ),
    Rule(  # {prev_month} {prev_children}
        "roster_children_decreased",
        "consistency",
        "warning",
        "花名册中此人（{record_key}）的现有子女数由{prev_month}的{prev_children}个减少为{value}个。"
        "{consequence}。请核实是否填错；如情况属实，请向乡镇计生办说明。",
        "In the roster, this woman's ({record_key}) number of children fell from "
        "{prev_children} in {prev_month} to {value}; {consequence}. Check whether it is a "
        "mistake; if it is true, explain it to the township office.",
    ),
    Rule(  # {prev_month} {prev_count} {change_pct} {threshold_pct}
        "roster_size_jump",
        "consistency",
        "warning",
        "花名册人数由{prev_month}的{prev_count}人变为本月的{value}人（变化{change_pct}，超过"
        "{threshold_pct}）。请核对是否漏报或重复上报了人员。",
        "The roster went from {prev_count} women in {prev_month} to {value} this month "
        "(a change of {change_pct}, more than {threshold_pct}). Check whether women were left "
        "out or listed twice.",
    ),
    Rule(  # {measure_zh} {measure_en} {history} {history_en} {months} {median} {score}
        "outlier_monthly_count",
        "accuracy",
        "warning",
        "{report_month}的{measure_zh}为{value}，与本单位以往{months}个月（{history}，中位数{median}）"
        "相比异常（修正Z值{score}）。请核实是否漏报、重复上报或录入错误。",
        "{measure_en} for {report_month} is {value}, unusual against the previous {months} "
        "months ({history_en}; median {median}; modified z-score {score}). Check for records "
        "left out, reported twice or mistyped.",
    ),
)

RULES_BY_CODE: dict[str, Rule] = {r.code: r for r in RULES}


def rule(code: str) -> Rule:
    """The rule with this code (KeyError for an unknown code: rules are data, add it here)."""
    return RULES_BY_CODE[code]


def empty_findings() -> pd.DataFrame:
    """A findings frame with no rows and the right dtypes."""
    return findings_frame([])


def excluded_rows(findings: pd.DataFrame) -> pd.DataFrame:
    """The rows an `error` finding leaves out of the figures: upload_id, row_number, rules."""
    rows = findings.loc[
        (findings["severity"] == "error") & findings["row_number"].notna(), [*ROW_COLUMNS, "rule"]
    ].drop_duplicates()
    rules = rows.sort_values("rule").groupby(list(ROW_COLUMNS), sort=True)["rule"].agg(",".join)
    return rules.rename("rules").reset_index()


def findings_frame(records: Iterable[Mapping[str, Any]] | pd.DataFrame) -> pd.DataFrame:
    """Findings with exactly `FINDING_COLUMNS`: text as `string`, row identity as `Int64`."""
    frame = records.copy() if isinstance(records, pd.DataFrame) else pd.DataFrame(list(records))
    for col in FINDING_COLUMNS:
        if col not in frame.columns:
            frame[col] = pd.NA
    kept = list(FINDING_COLUMNS) + [c for c in IDENTITY_KEY_COLUMNS if c in frame.columns]
    frame = frame.loc[:, kept]
    return frame.astype({c: ("Int64" if c in ROW_COLUMNS else "string") for c in kept}).reset_index(
        drop=True
    )


def make_finding(
    code: str,
    *,
    severity: Severity | None = None,
    source: str,
    kind: str,
    unit: str | None,
    report_month: str | None,
    upload_id: int | None = None,
    row_number: int | None = None,
    record_key: str | None = None,
    value: Any = None,
    **params: Any,
) -> dict[str, Any]:
    """One finding record of rule `code`, its messages rendered from `params`."""
    r = rule(code)
    sev = r.severity_for(severity)
    shown = None if value is None else str(value)
    zh, en = r.render(
        sev, value=shown, unit=unit, report_month=report_month, record_key=record_key, **params
    )
    return {
        "rule": code,
        "severity": sev,
        "dimension": r.dimension,
        "source": source,
        "kind": kind,
        "unit": unit,
        "report_month": report_month,
        "upload_id": upload_id,
        "row_number": row_number,
        "record_key": record_key,
        "value": shown,
        "message_zh": zh,
        "message_en": en,
    }
