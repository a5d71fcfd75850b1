"""What the officer's terminal commands show: issue rows as words, in one language.

Pure: frames in, frames and strings out. The words a person types in a filter
(`--status 已确认` or `--status acknowledged`) are parsed here too, so an unknown
word is refused with the list of the known ones instead of matching nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import pandas as pd

from transforms.indicators.catalog import Indicator
from transforms.officer.explain import LEFT_OUT_COLUMNS, RECORD_COLUMNS, reason_text
from transforms.officer.labels import (
    RULE_LABELS,
    SEVERITY_LABELS,
    SOURCE_LABELS,
    STATUS_LABELS,
    rule_label,
)
from transforms.templates import load_contract

Lang = str

FILTER_WORDS: dict[str, Mapping[str, Mapping[str, str]]] = {
    "status": STATUS_LABELS,
    "severity": SEVERITY_LABELS,
    "source": SOURCE_LABELS,
}
"""Filters whose values are a closed list: the codes, and their labels in either language."""

LIST_COLUMNS: dict[str, dict[str, str]] = {
    "zh": {
        "issue_id": "编号",
        "severity": "级别",
        "status": "状态",
        "rule": "规则",
        "unit": "单位",
        "report_month": "月份",
        "file_name": "文件",
        "row_number": "行",
        "record_key": "人员",
        "message": "说明",
    },
    "en": {
        "issue_id": "id",
        "severity": "severity",
        "status": "status",
        "rule": "rule",
        "unit": "unit",
        "report_month": "month",
        "file_name": "file",
        "row_number": "row",
        "record_key": "person",
        "message": "message",
    },
}

SCRIPT_COLUMNS: tuple[str, ...] = (
    "issue_id",
    "severity",
    "status",
    "rule",
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
    "status_note",
    "status_by",
    "status_at",
    "first_seen_run",
    "last_seen_run",
    "active",
)
"""`--format csv|json`: stable codes and English column names, for scripts."""


def filter_code(name: str, word: str) -> str | None:
    """The code a filter word means (`已确认` → `acknowledged`), or None when unknown."""
    words = FILTER_WORDS[name]
    for labels in words.values():
        for code, label in labels.items():
            if word in (code, label):
                return code
    return None


def rule_code(word: str) -> str:
    """A rule's code from its code or its label in either language (`身份证号校验位错误`)."""
    for code, labels in RULE_LABELS.items():
        if word in labels:
            return code
    return word


def month_word(word: str) -> str | None:
    """`2026-09` (also `202609`, `2026-9`) as `YYYY-MM`; None when it is no month."""
    found = re.fullmatch(r"([0-9]{4})-?([0-9]{1,2})", word.strip())
    if not found or not 1 <= int(found.group(2)) <= 12:
        return None
    return f"{found.group(1)}-{int(found.group(2)):02d}"


def known_words(name: str) -> str:
    """`open 待处理, acknowledged 已确认, …`: what a filter accepts."""
    zh = FILTER_WORDS[name]["zh"]
    return ", ".join(f"{code} {label}" for code, label in zh.items())


def _text(value: object) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return str(value)


def issue_list_view(issues: pd.DataFrame, lang: Lang) -> pd.DataFrame:
    """The queue as text cells under `lang` headers: words translated, no `<NA>`."""
    labels = LIST_COLUMNS[lang]
    message = issues["message_zh"] if lang == "zh" else issues["message_en"]
    rows = pd.to_numeric(issues["row_number"], errors="coerce").astype("Int64")
    view = pd.DataFrame(
        {
            "issue_id": issues["issue_id"].map(_text),
            "severity": issues["severity"].map(
                lambda s: SEVERITY_LABELS[lang].get(_text(s), _text(s))
            ),
            "status": issues["status"].map(lambda s: STATUS_LABELS[lang].get(_text(s), _text(s))),
            "rule": issues["rule"].map(lambda r: rule_label(_text(r), lang)),
            "unit": issues["unit"].map(_text),
            "report_month": issues["report_month"].map(_text),
            "file_name": issues["file_name"].map(_text),
            "row_number": rows.map(lambda n: "" if pd.isna(n) else str(int(n))),
            "record_key": issues["record_key"].map(_text),
            "message": message.map(_text),
        }
    )
    return view.rename(columns=labels).reset_index(drop=True)


def script_view(issues: pd.DataFrame) -> pd.DataFrame:
    """The issues for `--format csv|json`: `SCRIPT_COLUMNS`, codes as stored."""
    out = issues.reindex(columns=list(SCRIPT_COLUMNS)).copy()
    out["row_number"] = pd.to_numeric(out["row_number"], errors="coerce").astype("Int64")
    return out.reset_index(drop=True)


def count_line(shown: int, total: int, by_severity: Mapping[str, int], lang: Lang) -> str:
    """`显示 50 / 共 63 个问题（错误 12，警告 51）` — the queue never ends silently."""
    errors, warnings = by_severity.get("error", 0), by_severity.get("warning", 0)
    if lang == "zh":
        line = f"显示 {shown} / 共 {total} 个问题（错误 {errors}，警告 {warnings}）"
        if shown < total:
            line += "；用 --limit 0 显示全部"
        return line
    line = f"showing {shown} of {total} issues ({errors} errors, {warnings} warnings)"
    if shown < total:
        line += "; --limit 0 shows all"
    return line


SHOW_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("issue_id", "编号", "id"),
    ("rule", "规则", "rule"),
    ("severity", "级别", "severity"),
    ("dimension", "维度", "dimension"),
    ("source", "来源", "source"),
    ("unit", "单位", "unit"),
    ("report_month", "月份", "month"),
    ("file_name", "文件", "file"),
    ("row_number", "行", "row"),
    ("column_name", "列", "column"),
    ("record_key", "人员", "person"),
    ("value", "值", "value"),
    ("status", "状态", "status"),
    ("status_note", "处理说明", "review note"),
    ("status_by", "处理人", "reviewed by"),
    ("status_at", "处理时间", "reviewed at"),
    ("first_seen_run", "首次发现", "first seen"),
    ("last_seen_run", "最近发现", "last seen"),
)


def _when(value: object) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return f"{pd.Timestamp(str(value)):%Y-%m-%d %H:%M}"


def issue_detail_lines(issue: Mapping[str, object], events: pd.DataFrame, lang: Lang) -> list[str]:
    """One issue as `label: value` lines, then its history (`at by: from → to note`)."""
    zh = lang == "zh"
    lines = []
    for key, label_zh, label_en in SHOW_FIELDS:
        value = issue.get(key)
        if key == "severity":
            text = SEVERITY_LABELS[lang].get(_text(value), _text(value))
        elif key == "status":
            text = STATUS_LABELS[lang].get(_text(value), _text(value))
        elif key == "source":
            text = SOURCE_LABELS[lang].get(_text(value), _text(value))
        elif key == "rule":
            text = f"{rule_label(_text(value), lang)} ({_text(value)})"
        elif key == "row_number":
            number = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
            text = "" if pd.isna(number) else str(int(number))
        elif key == "status_at":
            text = _when(value)
        else:
            text = _text(value)
        lines.append(f"{label_zh if zh else label_en}: {text}")
    message = issue.get("message_zh" if zh else "message_en")
    lines.append(f"{'说明' if zh else 'message'}: {_text(message)}")
    lines.append("处理记录:" if zh else "history:")
    for event in events.to_dict("records"):
        before = STATUS_LABELS[lang].get(_text(event["from_status"]), "") or "—"
        after = STATUS_LABELS[lang].get(_text(event["to_status"]), _text(event["to_status"]))
        note = _text(event["note"])
        lines.append(
            f"  {_when(event['at'])} {_text(event['by'])}: {before} → {after}"
            + (f"  {note}" if note else "")
        )
    return lines


MART_STATUS_LABELS = {
    "zh": {
        "met": "达标",
        "not_met": "未达标",
        "no_target": "无目标",
        "no_data": "无数据",
        "too_few": "人数太少，不作考核",
    },
    "en": {
        "met": "met",
        "not_met": "not met",
        "no_target": "no target",
        "no_data": "no data",
        "too_few": "too few to judge",
    },
}


def _number(value: object) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "—"
    number = float(str(value))
    return f"{number:,.0f}" if number == int(number) else f"{number:,.2f}"


def explain_header(
    figure: Mapping[str, object], indicator: Indicator, n_records: int, lang: Lang
) -> list[str]:
    """The figure explained, as `label: value` lines."""
    zh = lang == "zh"
    value = figure.get("value")
    unit = _text(figure.get("unit"))
    shown = "—" if value is None or pd.isna(value) else f"{float(str(value)):.2f}"
    if unit == "%" and shown != "—":
        shown += " %"
    status = _text(figure.get("status"))
    status_word = MART_STATUS_LABELS[lang].get(status, status)
    target = figure.get("target")
    target_text = "" if target is None or pd.isna(target) else f"{figure.get('target_op')} {target}"
    name = indicator.name_zh if zh else indicator.name_en
    area = f"{_text(figure.get('area_name'))} ({_text(figure.get('area_code'))})"
    lines = [
        f"{'指标' if zh else 'indicator'}: {name} ({indicator.code})",
        f"{'地区' if zh else 'area'}: {area}",
        f"{'期间' if zh else 'period'}: {_text(figure.get('period'))}",
        f"{'分子' if zh else 'numerator'}: {_number(figure.get('numerator'))}",
        f"{'分母' if zh else 'denominator'}: {_number(figure.get('denominator'))}",
        f"{'数值' if zh else 'value'}: {shown}",
        f"{'考核' if zh else 'status'}: {status_word}"
        + (
            (f"（目标 {target_text}）" if zh else f" (target {target_text})") if target_text else ""
        ),
        f"{'运行' if zh else 'run'}: {_text(figure.get('run_id'))}",
    ]
    if status == "too_few":
        lines.append(
            "分母低于该指标的最低人数，本数字不作考核。"
            if zh
            else "The denominator is below the indicator's minimum: the figure is not judged."
        )
    lines.append(
        f"下列 {n_records} 条记录的分子、分母之和即上面的数字。"
        if zh
        else f"The {n_records} records below add up to the numerator and denominator above."
    )
    return lines


EXPLAIN_LABELS = {
    "zh": {
        "area_code": "村/单位",
        "month": "月份",
        "person": "人员（已脱敏）",
        "numerator": "分子",
        "denominator": "分母",
        "status": "核对状态",
        "reason": "原因",
        "detail": "说明",
        "source": "来源报表",
        "file_name": "文件",
        "row_number": "行",
        "other_sources": "其他来源",
    },
    "en": {
        "area_code": "area",
        "month": "month",
        "person": "person (masked)",
        "numerator": "numerator",
        "denominator": "denominator",
        "status": "reconciliation",
        "reason": "reason",
        "detail": "detail",
        "source": "source",
        "file_name": "file",
        "row_number": "row",
        "other_sources": "other sources",
    },
}


RECORD_STATUS_LABELS = {
    "zh": {
        "matched": "已核对一致",
        "missing_in_village": "村漏报",
        "pending": "待核实",
        "village_only": "仅村上报",
        "conflict": "信息不一致",
        "too_few": "人数太少",
        "on_time": "按时上报",
        "received": "迟报",
        "missing": "未上报",
        "accurate": "准确",
        "inaccurate": "不准确",
    },
    "en": {
        "matched": "matched",
        "missing_in_village": "missing in village",
        "pending": "pending",
        "village_only": "village only",
        "conflict": "conflict",
        "too_few": "too few",
        "on_time": "on time",
        "received": "late",
        "missing": "missing",
        "accurate": "accurate",
        "inaccurate": "inaccurate",
    },
}
"""Reconciliation status of a record (recon_* `status`, uploads, accuracy), in words."""


def _record_status(value: object, lang: Lang) -> str:
    text = _text(value)
    word, _, rule = text.partition(": ")
    label = RECORD_STATUS_LABELS[lang].get(word, word)
    return f"{label}：{rule_label(rule, lang)}" if rule else label


def _source_title(value: object, lang: Lang) -> str:
    """`village_births` → 村 (who sent it; the file name says which report), else the code."""
    text = _text(value)
    template = load_contract().templates.get(text)
    if template is None:
        return text
    return SOURCE_LABELS[lang].get(template.source, template.source)


def _detail(detail: str, reason: str, lang: Lang) -> str:
    """Error rules by name (`id_checksum,missing` → 身份证号校验位错误、必填项为空); a
    quarantine's reason in the chosen language (stored as `zh / en`)."""
    if reason == "error_row":
        sep = "、" if lang == "zh" else ", "
        return sep.join(rule_label(rule, lang) for rule in detail.split(",") if rule)
    zh, _, en = detail.partition(" / ")
    return zh if lang == "zh" or not en else en


def explain_view(rows: pd.DataFrame, included: bool, lang: Lang) -> pd.DataFrame:
    """Counted records (or those left out) as text cells under `lang` headers."""
    columns = RECORD_COLUMNS if included else LEFT_OUT_COLUMNS
    out = pd.DataFrame(index=rows.index)
    for column in columns:
        values = rows[column]
        if column in ("numerator", "denominator"):
            out[column] = values.map(_number)
        elif column == "row_number":
            numbers = pd.to_numeric(values, errors="coerce").astype("Int64")
            out[column] = numbers.map(lambda n: "" if pd.isna(n) else str(int(n)))
        elif column == "reason":
            out[column] = values.map(lambda r: reason_text(_text(r), lang))
        elif column == "detail":
            out[column] = [
                _detail(_text(d), _text(r), lang)
                for d, r in zip(values, rows["reason"], strict=True)
            ]
        elif column == "status":
            out[column] = values.map(lambda v: _record_status(v, lang))
        elif column == "source":
            out[column] = values.map(lambda v: _source_title(v, lang))
        else:
            out[column] = values.map(_text)
    # a column empty on every row (no status in a roster, no second source) says nothing
    out = out.loc[:, [c for c in out.columns if (out[c] != "").any()]]
    return out.rename(columns=EXPLAIN_LABELS[lang]).reset_index(drop=True)


OFFICER_DECISIONS: tuple[str, ...] = (
    "The review queue (`popstat issues list`) shows errors first, then unit, month, file "
    "and row; it says how many it shows of how many. `--format csv|json` lists every "
    "selected issue unless `--limit` is given.",
    "Filter words are codes or their Chinese labels (`--status 已确认` = `acknowledged`; "
    "`--rule` also takes a rule's name; `--month` takes 2026-09, 202609 or 2026-9). "
    "An unknown or empty word is refused (exit 2); an unknown issue id exits 1; ack, "
    "resolve, waive or reopen on a selection that holds no issue exits 1 and changes "
    "nothing; a list that matches nothing is an answer (exit 0). resolve and waive need "
    "a note.",
    "Officer commands refuse (exit 2) a warehouse that does not exist or has no completed "
    "run, naming the URL they looked at; they never create one.",
    "Late and missing uploads (`upload_late`, `upload_missing`) are notices: the report and "
    "its workbook list them apart from the records to correct.",
    "A quarantined file is found again by every run while the same file (path) is still in "
    "the inbox and no later upload of the same source, kind, unit and month (or path) has "
    "come: a resolved file issue then reopens, as a row issue does.",
    "Times an officer reads (run ids, reviews, issue events, report stamps) are wall time "
    "in `POPSTAT_TIME_ZONE`, stored without zone, like upload arrival times.",
    "`popstat explain`: a record's share of a figure is the indicator's own measure applied "
    "to it — flows over the period's months, stocks at each source area's last snapshot "
    "in the period — so the records add up to the published numerator and denominator. "
    "Records are traced to staged rows of current uploads by the person's key (births: "
    "mother and birth date within 31 days; roster and fee ledger: the same month; exams: "
    "the same date); twins are paired with rows in row order; the village's row is named "
    "first, then the hospital's, then the police's. Left out: error rows (`stg_exclusions`) "
    "and quarantined files of the frame's upload kinds in the area's units and months (for "
    "a stock: error rows of the snapshot month used, and quarantines of that month or "
    "later), and pending births that count nowhere. Changes (`recon_changes`) are not traced to rows.",
    "The officer report explains each township's figures of the latest year-to-date period "
    "on a page per township beside it (at most 500 records per figure; `popstat explain "
    "--format csv` gives all).",
)
"""Choices made for the officer's commands; docs/data-dictionary.md lists them."""


def officer_decisions_markdown() -> list[str]:
    """The decisions as a Markdown section (lines)."""
    return [
        "",
        "## 数据专干命令的约定 Officer commands: decisions",
        "",
        *[f"- {line}" for line in OFFICER_DECISIONS],
    ]
