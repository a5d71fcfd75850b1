"""The words an officer reads for the codes of the issue store, in Chinese and English.

One owner of these labels: the report (reports/), the spreadsheet and the terminal
commands (transforms.officer.views) all name severities, statuses, sources, rules
and figure statuses from here.
"""

from __future__ import annotations

Lang = str  # "zh" or "en"

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
        "rows_to_fix_note": "先改这些：错误行不计入统计，更正后重新上报。",
        "notices": "迟报和未报",
        "figures": "考核数字",
        "figures_note": "点击数值查看分子、分母背后的每一条记录，以及未计入的记录和原因。",
        "indicator": "指标",
        "period": "期间",
        "numerator": "分子",
        "denominator": "分母",
        "value": "数值",
        "judged": "考核",
        "notices_note": "上报提醒：报表迟报或未报。已报的数据已计入；未报的请尽快补报。",
        "n_notices": "迟报/未报",
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
        "rows_to_fix_note": "Fix these first: error rows are left out of the figures until "
        "a corrected file is uploaded.",
        "notices": "Late and missing uploads",
        "figures": "Published figures",
        "figures_note": "Click a value for every record behind its numerator and denominator, "
        "and what was left out and why.",
        "indicator": "Indicator",
        "period": "Period",
        "numerator": "Numerator",
        "denominator": "Denominator",
        "value": "Value",
        "judged": "Status",
        "notices_note": "Reminders: uploads that came late or not at all. Late data is counted; "
        "missing uploads should be sent now.",
        "n_notices": "Late/missing",
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

FIGURE_STATUS = {
    "zh": {
        "met": "达标",
        "not_met": "未达标",
        "no_target": "无目标",
        "no_data": "无数据",
        "too_few": "人数太少",
    },
    "en": {
        "met": "met",
        "not_met": "not met",
        "no_target": "no target",
        "no_data": "no data",
        "too_few": "too few",
    },
}


def rule_label(rule: str, lang: Lang = "zh") -> str:
    """A rule's short name for people; the code itself when it has none."""
    names = RULE_LABELS.get(rule)
    if names is None:
        return rule
    return names[0] if lang == "zh" else names[1]


def labels_for(lang: Lang) -> dict[str, str]:
    """The report's words in `lang`; any language but zh or en is a ValueError."""
    if lang not in LABELS:
        raise ValueError(f"lang must be one of {sorted(LABELS)}, got {lang!r}")
    return LABELS[lang]
