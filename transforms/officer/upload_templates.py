"""What the district's upload templates contain, and the upload contract as Markdown.

Pure: the contract (contracts/templates.toml) in, plain data and text out. The
XLSX writing is I/O and lives in warehouse/template_workbooks.py; `docs/uploads.md`
is `uploads_markdown(load_contract())` (a test keeps the committed file current).
A new alias, allowed value or rule is one edit of templates.toml: the workbooks,
their drop-down lists and the documentation follow.

A template workbook (first sheet, what villages fill in): a title row, a line for
the reporting unit and month, the header row (Chinese headers, `*` before the
required ones — the readers ignore the marker), then empty data rows that carry
Excel data validation: a drop-down list for coded columns (sex, yes/no, every
enumeration), a date rule for dates, whole or decimal numbers within the
contract's range, and the exact length of ID numbers (18) and area codes (12).
ID and code cells are formatted as text, so Excel never turns a number into
`6.54226E+17`. The second sheet explains every column.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Literal

from transforms.templates import Column, Contract, Template

TITLE_ROW = 0
UNIT_ROW = 1
HEADER_ROW = 2
FIRST_DATA_ROW = 3
DATA_ROWS = 5000
"""Rows under the header that carry the validation (a village roster has a few hundred)."""

REQUIRED_MARK = "*"
FIRST_DATE, LAST_DATE = date(1900, 1, 1), date(2099, 12, 31)
ID_LENGTH, AREA_CODE_LENGTH = 18, 12
SEX_VALUES = ("男", "女")
YESNO_VALUES = ("是", "否")

SOURCE_ZH = {"village": "村（社区）", "police": "派出所", "hospital": "卫生院、医院、妇幼保健院"}
UNIT_CODE_ZH = {
    "village": "12位村（社区）代码",
    "police": "9位乡镇代码",
    "hospital": "机构代码（institutions.csv）",
}
UNIT_CODE_EN = {
    "village": "the 12-digit village code",
    "police": "the 9-digit township code",
    "hospital": "the institution code (institutions.csv)",
}
TYPE_ZH = {
    "text": "文本",
    "id": "公民身份号码",
    "date": "日期",
    "sex": "性别",
    "yesno": "是/否",
    "money": "金额（元）",
    "integer": "整数",
    "enum": "代码值",
    "area_code": "区划代码",
}
TYPE_EN = {
    "text": "text",
    "id": "ID number",
    "date": "date",
    "sex": "sex",
    "yesno": "yes/no",
    "money": "money (yuan)",
    "integer": "integer",
    "enum": "coded value",
    "area_code": "area code",
}
_DATE_RULE_ZH = {
    "not_after_report_month": "不得晚于报表月份",
    "in_report_month": "须在报表月份内",
}
_DATE_RULE_EN = {
    "not_after_report_month": "not after the report month",
    "in_report_month": "within the report month",
}

ValidationKind = Literal["list", "date", "whole", "decimal", "length"]


@dataclass(frozen=True)
class CellRule:
    """The Excel data validation of one column's data cells."""

    kind: ValidationKind
    values: tuple[str, ...] = ()
    """`list`: the drop-down choices."""
    minimum: float | date | None = None
    maximum: float | date | None = None
    length: int | None = None
    """`length`: the exact number of characters."""


@dataclass(frozen=True)
class TemplateColumn:
    """One column of a template workbook."""

    name: str
    header: str
    """As written in the header row: the Chinese header, `*` first when required."""
    required: bool
    type_zh: str
    type_en: str
    allowed_zh: str
    """What may be written, in Chinese (drop-down values, range, format)."""
    allowed_en: str
    rules_zh: str
    """The contract's further rules (uniqueness, date rules, conditions), in Chinese."""
    rules_en: str
    aliases: tuple[str, ...]
    number_format: str
    width: int
    validation: CellRule | None

    @property
    def prompt_zh(self) -> str:
        """The input message Excel shows on a selected cell (at most 255 characters)."""
        text = "；".join(t for t in (self.allowed_zh, self.rules_zh) if t)
        return text[:250]


@dataclass(frozen=True)
class TemplateWorkbook:
    """Everything one template workbook holds."""

    name: str
    file_name: str
    title: str
    unit_line: str
    upload_name: str
    """How to name the filled-in file: `village_births_<12位村代码>_<YYYYMM>.xlsx`."""
    columns: tuple[TemplateColumn, ...]

    def explanation_rows(self) -> list[tuple[str, ...]]:
        """The second sheet: one row per column (header first)."""
        rows: list[tuple[str, ...]] = [EXPLANATION_HEADERS]
        for c in self.columns:
            rows.append(
                (
                    c.header.lstrip(REQUIRED_MARK),
                    c.name,
                    "是" if c.required else "否",
                    c.type_zh,
                    c.allowed_zh,
                    c.rules_zh,
                    "、".join(c.aliases),
                )
            )
        return rows


EXPLANATION_HEADERS = ("表头", "英文列名", "必填", "类型", "填写内容", "规则", "也接受的表头")


def _enum_values(column: Column, contract: Contract) -> tuple[str, ...]:
    if column.enum is None or column.enum not in contract.enums:
        raise KeyError(f"column {column.name} names no known enumeration ({column.enum!r})")
    return tuple(contract.enums[column.enum])


def cell_rule(column: Column, contract: Contract) -> CellRule | None:
    """The data validation a column's cells get; None for free text."""
    kind = column.type
    if kind == "sex":
        return CellRule("list", values=SEX_VALUES)
    if kind == "yesno":
        return CellRule("list", values=YESNO_VALUES)
    if kind == "enum":
        return CellRule("list", values=_enum_values(column, contract))
    if kind == "date":
        return CellRule("date", minimum=FIRST_DATE, maximum=LAST_DATE)
    if kind == "integer":
        return CellRule(
            "whole",
            minimum=column.min if column.min is not None else 0,
            maximum=column.max,
        )
    if kind == "money":
        return CellRule("decimal", minimum=column.min if column.min is not None else 0)
    if kind == "id":
        return CellRule("length", length=ID_LENGTH)
    if kind == "area_code":
        return CellRule("length", length=AREA_CODE_LENGTH)
    return None


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _allowed(column: Column, contract: Contract) -> tuple[str, str]:
    """What may be written in a cell, (Chinese, English)."""
    kind = column.type
    if kind == "sex":
        return "从下拉列表选择：男、女", "pick from the list: 男 (male), 女 (female)"
    if kind == "yesno":
        return "从下拉列表选择：是、否", "pick from the list: 是 (yes), 否 (no)"
    if kind == "enum":
        values = _enum_values(column, contract)
        return f"从下拉列表选择：{'、'.join(values)}", f"pick from the list: {', '.join(values)}"
    if kind == "date":
        return "日期，如 2026-09-03", "a date, e.g. 2026-09-03"
    if kind == "integer":
        lo = _number(column.min if column.min is not None else 0)
        if column.max is not None:
            return f"整数 {lo}–{_number(column.max)}", f"a whole number {lo}-{_number(column.max)}"
        return f"不小于 {lo} 的整数", f"a whole number from {lo}"
    if kind == "money":
        lo = _number(column.min if column.min is not None else 0)
        return f"金额（元），不小于 {lo}，可有两位小数", f"yuan, at least {lo}, two decimals"
    if kind == "id":
        return (
            "18位公民身份号码（末位可为X），以文本填写",
            "the 18-character ID number (last may be X), as text",
        )
    if kind == "area_code":
        return "12位村（社区）区划代码", "the 12-digit village code"
    return "", ""


def _rules(column: Column, template: Template) -> tuple[str, str]:
    """The contract's further rules of a column, (Chinese, English)."""
    zh: list[str] = []
    en: list[str] = []
    if column.unique == "file":
        zh.append("同一文件内不得重复")
        en.append("unique within the file")
    if column.unique == "all":
        zh.append("在所有单位中不得重复")
        en.append("unique across all units")
    if column.date_rule:
        zh.append(_DATE_RULE_ZH[column.date_rule])
        en.append(_DATE_RULE_EN[column.date_rule])
    if column.required_unless is not None:
        other = template.column(column.required_unless.column).header
        zh.append(f"必填，除非“{other}”为“{column.required_unless.equals}”")
        en.append(
            f"required unless {column.required_unless.column} is {column.required_unless.equals}"
        )
    if column.only_when is not None:
        other = template.column(column.only_when.column).header
        zh.append(f"仅“{other}”为“{column.only_when.equals}”时填写")
        en.append(f"only where {column.only_when.column} is {column.only_when.equals}")
    if column.at_most_column:
        other = template.column(column.at_most_column).header
        zh.append(f"不得大于“{other}”")
        en.append(f"at most {column.at_most_column}")
    if column.agrees_with_id:
        other = template.column(column.agrees_with_id).header
        zh.append(f"须与“{other}”中的出生日期一致")
        en.append(f"must equal the birth date in {column.agrees_with_id}")
    return "；".join(zh), "; ".join(en)


_FORMATS = {"id": "@", "area_code": "@", "text": "@", "date": "yyyy-mm-dd", "money": "0.00"}
_WIDTHS = {"id": 22, "area_code": 16, "date": 13, "text": 14}


def template_column(column: Column, template: Template, contract: Contract) -> TemplateColumn:
    allowed_zh, allowed_en = _allowed(column, contract)
    rules_zh, rules_en = _rules(column, template)
    header = (REQUIRED_MARK if column.required else "") + column.header
    return TemplateColumn(
        name=column.name,
        header=header,
        required=column.required,
        type_zh=TYPE_ZH[column.type],
        type_en=TYPE_EN[column.type],
        allowed_zh=allowed_zh,
        allowed_en=allowed_en,
        rules_zh=rules_zh,
        rules_en=rules_en,
        aliases=column.aliases,
        number_format=_FORMATS.get(column.type, "General"),
        width=max(_WIDTHS.get(column.type, 10), 2 * len(header) + 2),
        validation=cell_rule(column, contract),
    )


def upload_name(template: Template, ext: str = "xlsx") -> str:
    """`village_births_<12位村代码>_<YYYYMM>.xlsx`: how a filled-in template is named."""
    return f"{template.name}_<{UNIT_CODE_ZH[template.source]}>_<YYYYMM>.{ext}"


def template_workbook(template: Template, contract: Contract) -> TemplateWorkbook:
    """What the workbook of one upload kind holds."""
    return TemplateWorkbook(
        name=template.name,
        file_name=f"{template.name}_模板.xlsx",
        title=f"{template.title_zh}（{template.name}）",
        unit_line="填报单位：                    报表月份：      年    月",
        upload_name=upload_name(template),
        columns=tuple(template_column(c, template, contract) for c in template.columns),
    )


def template_workbooks(contract: Contract) -> list[TemplateWorkbook]:
    """One workbook per upload kind, in the contract's order."""
    return [template_workbook(t, contract) for t in contract.templates.values()]


# ------------------------------------------------------------------ docs/uploads.md


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(headers: Iterable[str], rows: Iterable[Iterable[str]]) -> list[str]:
    heads = list(headers)
    lines = ["| " + " | ".join(heads) + " |", "| " + " | ".join("---" for _ in heads) + " |"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


_INTRO = """\
# 上报模板与上报约定 Upload contract

<!-- Generated by transforms.officer.upload_templates.uploads_markdown(load_contract()) from
     transforms/contracts/templates.toml; tests/transforms/test_upload_templates.py fails
     when this file is out of date. `popstat templates --out DIR` writes the XLSX templates
     from the same source. -->

村（社区）、派出所和卫生院、医院、妇幼保健院每月按种类各报一个文件。本文说明 popstat
接受什么样的文件、每一列怎么填，以及不合格的文件和行会怎样处理。
Villages, police stations and health institutions send one file per kind each month.
This page says what popstat accepts, how each column is filled in, and what happens to
a file or a row that does not fit.

## 文件名 File names

    <source>_<kind>_<unit>_<YYYYMM>[后缀].csv|xlsx

- `source`：`village` 村、`police` 派出所、`hospital` 医疗卫生机构 / who reports.
- `kind`：下列报表种类之一 / one of the kinds below.
- `unit`：村用12位村代码，派出所用9位乡镇代码，医疗机构用 institutions.csv 中的机构代码 /
  the 12-digit village code, the 9-digit township code of a police station, or the
  institution code.
- `YYYYMM`：数据所属月份 / the month the rows belong to.
- 可选后缀以 `_` 或 `(` 开头（`_更正`、`(1)`），不影响识别 / an optional suffix starting
  with `_` or `(` is ignored.

同一单位、同一种类、同一月份后到的文件整体替换先到的文件（更正）；字节完全相同的重复文件只算一次；
无法读取而被隔离的文件不替换任何文件。A later file for the same unit, kind and month replaces
the earlier one as a whole (a correction); the same bytes twice count once; a quarantined
file replaces nothing.

## 报送期限 Deadline

M 月的数据在 M+1 月5日前报送（可配置）。逾期文件照常读取，但记为迟报。
The uploads of month M are due by the 5th of month M+1 (configurable). A late file is still
read, and counted as late.

## 格式 Formats

- CSV：逗号分隔，UTF-8（有无 BOM 均可）或 GB18030/GBK，自动识别 / comma separated, UTF-8
  or GB18030/GBK, detected.
- XLSX：读取第一个工作表；表头行上方可有标题行和“填报单位”行；空行和末尾的“合计”行忽略 /
  the first sheet; title and unit lines above the header row, blank rows and a final
  合计 row are ignored.
- 表头：中文表头、下表列出的其他表头或英文列名均可；空格、全角字符和 `*` 标记忽略 /
  the Chinese header, an alias or the English name; spaces, full-width forms and `*` are
  ignored.

## 取值 Values

| 类型 type | 可以填写 accepted |
| --- | --- |
| 公民身份号码 ID | 18位，末位可为 X；15位旧号自动升为18位；校验位、省份代码和出生日期须有效；科学计数法（6.54226E+17）无法恢复 / 18 characters, legacy 15 upgraded; check digit, province and birth date must be valid; scientific notation cannot be repaired |
| 日期 date | `2026-09-03`、`2026/9/3`、`2026.9.3`、`20260903`、`2026年9月3日`、Excel 日期 |
| 性别 sex | `男`/`女`、`1`/`2`、`M`/`F` |
| 是/否 yes/no | `是`/`否`、`Y`/`N`、`1`/`0`、`√`/空白 |
| 金额 money | `12000`、`12,000.50`、`12000元`，两位小数 / two decimals |
| 整数 integer | 数字（含全角数字）/ digits, full-width too |
"""

_OUTRO = """\
## 不合格的文件和行 What bad input gets

- 整个文件无法使用（文件名不对、无法读取、找不到表头行、缺少必填列、超过大小限制、
  单位代码未知、月份超出范围、符号链接）时，文件被隔离，并说明原因。
  A file that cannot be used at all is quarantined whole, with the reason.
- 违反规则的行保留在原始层，并作为质量问题报告（文件、行号、规则、中英文说明）：
  A row that breaks a rule is kept in the raw layer and reported as a quality issue:
  - `error`：该行不进入核对和发布数据（必填值缺失或无法识别、必填列身份证号无效、
    值不在允许范围、日期违反规则、应唯一的值重复（保留第一次出现）、累计缴纳大于应征）/
    the row is left out of reconciliation and the published figures;
  - `warning`：该行保留并标记（选填列的值无效按空处理、跨行跨月规则、来源之间不一致）/
    the row is kept and flagged.
"""


def _kind_section(template: Template, contract: Contract) -> list[str]:
    book = template_workbook(template, contract)
    lines = [
        f"### {template.name} — {template.title_zh} ({template.title_en})",
        "",
        f"报送单位 reported by: {SOURCE_ZH[template.source]} ({template.source}); "
        f"文件名 file name: `{template.name}_<unit>_<YYYYMM>.csv|xlsx`, "
        f"unit = {UNIT_CODE_ZH[template.source]} / {UNIT_CODE_EN[template.source]}.",
        "",
    ]
    rows = [
        (
            f"`{c.name}`" + (" *" if c.required else ""),
            c.header.lstrip(REQUIRED_MARK),
            "、".join(c.aliases),
            f"{c.type_zh} {c.type_en}",
            "；".join(t for t in (c.allowed_zh, c.rules_zh) if t),
            "; ".join(t for t in (c.allowed_en, c.rules_en) if t),
        )
        for c in book.columns
    ]
    lines += _table(("column", "表头", "也接受 aliases", "类型 type", "填写 rule", "rule"), rows)
    return [*lines, ""]


def _enum_section(contract: Contract) -> list[str]:
    lines = [
        "## 代码值 Coded values",
        "",
        "模板的下拉列表给出标准值；上报文件中也接受右列的写法。",
        "The templates' drop-down lists give the standard value; uploads may also use the "
        "spellings on the right.",
        "",
    ]
    rows = [
        (f"`{enum}`", value, "、".join(s for s in spellings if s != value))
        for enum, values in contract.enums.items()
        for value, spellings in values.items()
    ]
    lines += _table(("enum", "标准值 value", "也接受 also accepted"), rows)
    return [*lines, ""]


def uploads_markdown(contract: Contract) -> str:
    """docs/uploads.md: the upload contract, from the same source as the templates."""
    lines = [_INTRO, "## 报表种类 Kinds", "", "`*` = 必填 required.", ""]
    for template in contract.templates.values():
        lines += _kind_section(template, contract)
    lines += _enum_section(contract)
    lines.append(_OUTRO)
    return "\n".join(lines)
