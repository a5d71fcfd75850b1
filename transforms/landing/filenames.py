"""Upload file names: `<source>_<kind>_<unit>_<YYYYMM>[<suffix>].<csv|xlsx>`.

uploads.md, "Inbox and file names". A name either parses into an `UploadName`
(whose `identity` decides which earlier upload a file supersedes) or into a
`NameProblem` whose reasons an officer can act on; the file is then quarantined.
Hidden and system files (`.DS_Store`, `Thumbs.db`) are not uploads at all:
`is_ignorable` tells the loader to skip them. Excel lock files (`~$…`) are *not*
ignorable: they are quarantined with code `lock_file` so the officer learns that
the workbook was still open when it was copied.

Pure: no file system access; a path is accepted but only its last component is read.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from transforms.templates import Contract

FileFormat = Literal["csv", "xlsx"]
NameProblemCode = Literal[
    "lock_file", "unrecognised_name", "unknown_kind", "bad_unit", "bad_month", "unsupported_format"
]

FORMATS: tuple[FileFormat, ...] = ("csv", "xlsx")

# The unit code each source reports under (uploads.md).
_UNIT_PATTERNS: dict[str, re.Pattern[str]] = {
    "village": re.compile(r"\d{12}"),
    "police": re.compile(r"\d{9}"),
    "hospital": re.compile(r"[0-9A-Za-z]+"),
}
_UNIT_RULES: dict[str, tuple[str, str]] = {
    "village": ("12 位村（社区）代码", "a 12-digit village code"),
    "police": ("9 位乡镇（街道）代码", "a 9-digit township code"),
    "hospital": (
        "institutions.csv 中的机构代码（字母和数字）",
        "an institution code from institutions.csv",
    ),
}
_DEFAULT_UNIT_PATTERN = re.compile(r"[0-9A-Za-z]+")
_DEFAULT_UNIT_RULE = ("单位代码（字母和数字）", "a unit code of letters and digits")

# After NFKC a full-width `（` is `(`; a browser's ` (1)` copy suffix keeps its space.
_SUFFIX = re.compile(r"\s*[_(].*", re.DOTALL)
_MONTH = re.compile(r"(\d{6})(?!\d)")
_LOOKS_LIKE_TEMPLATE = re.compile(r"[A-Za-z]+_[A-Za-z]+_")

_IGNORABLE_NAMES = frozenset(
    {"thumbs.db", "ehthumbs.db", "ehthumbs_vista.db", "desktop.ini", "icon\r"}
)
_IGNORABLE_DIRS = frozenset({"__macosx"})

_PATTERN_ZH = (
    "<来源>_<类别>_<单位代码>_<年月>.csv（或 .xlsx），例如 village_births_654226101001_202609.csv"
)
_PATTERN_EN = (
    "<source>_<kind>_<unit>_<YYYYMM>.csv (or .xlsx), e.g. village_births_654226101001_202609.csv"
)


@dataclass(frozen=True)
class UploadName:
    """A well-formed upload name.

    `report_month` is `YYYY-MM`; `suffix` (`_v2`, `_更正`, `(1)`, after NFKC) is kept for the
    record but is no part of `identity`.
    """

    source: str
    kind: str
    unit: str
    report_month: str
    suffix: str
    file_format: FileFormat

    @property
    def template_name(self) -> str:
        """The contract template (`village_births`) this upload follows."""
        return f"{self.source}_{self.kind}"

    @property
    def identity(self) -> tuple[str, str, str, str]:
        """(source, kind, unit, report_month): a later file with the same identity supersedes."""
        return (self.source, self.kind, self.unit, self.report_month)


@dataclass(frozen=True)
class NameProblem:
    """Why a file name is not a valid upload name, in Chinese and in English."""

    code: NameProblemCode
    reason_zh: str
    reason_en: str


def _basename(file_name: str) -> str:
    return re.split(r"[/\\]", file_name)[-1]


def is_ignorable(file_name: str) -> bool:
    """True for hidden and system files that are not uploads (skipped, not quarantined).

    Hidden files (`.DS_Store`, macOS `._name` resource forks), Windows `Thumbs.db` /
    `desktop.ini`, and anything inside a `__MACOSX` folder. Excel lock files (`~$name.xlsx`)
    are *not* ignorable: `parse_upload_name` reports them as `lock_file`.
    """
    parts = [p for p in re.split(r"[/\\]", file_name) if p]
    if not parts:
        return False
    base = parts[-1]
    if base.startswith("."):
        return True
    if base.casefold() in _IGNORABLE_NAMES:
        return True
    return any(p.casefold() in _IGNORABLE_DIRS for p in parts[:-1])


def _problem(code: NameProblemCode, zh: str, en: str) -> NameProblem:
    return NameProblem(code=code, reason_zh=zh, reason_en=en)


def _unrecognised(name: str) -> NameProblem:
    return _problem(
        "unrecognised_name",
        f"文件名“{name}”不符合命名规则，应为 {_PATTERN_ZH}。请改名后重新上传。",
        f"The file name '{name}' does not follow the naming rule; it must be {_PATTERN_EN}. "
        "Rename the file and upload it again.",
    )


def _template_names(contract: Contract) -> list[str]:
    # Longest first, so that a kind containing `_` is never cut short by a shorter one.
    return sorted(contract.templates, key=len, reverse=True)


def parse_upload_name(file_name: str, contract: Contract) -> UploadName | NameProblem:
    """Parse an upload's file name (a bare name or a path; only the last part counts).

    Never raises. The name is NFKC-normalised first (full-width digits and brackets become
    ASCII); the extension, source and kind are case-insensitive. Checks, in order: Excel lock
    file, format (`.csv`/`.xlsx`), the `<source>_<kind>` template, the unit code for the
    source, the `YYYYMM` month (01–12, year 1900–2100), and that any suffix starts with `_`
    or `(` (optionally after spaces, as in a browser's `name (1).csv`).
    """
    raw = _basename(str(file_name))
    name = unicodedata.normalize("NFKC", raw).strip()
    if name.startswith("~$"):
        return _problem(
            "lock_file",
            f"“{raw}”是 Excel 打开文件时生成的临时锁定文件，不是报表。"
            "请关闭 Excel 后重新复制原文件上传，并删除这个“~$”开头的文件。",
            f"'{raw}' is the temporary lock file Excel creates while a workbook is open, "
            "not a report. Close Excel, copy the real file again and delete the '~$' file.",
        )
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        return _unrecognised(raw)
    file_format = ext.strip().casefold()
    if file_format not in FORMATS:
        return _problem(
            "unsupported_format",
            f"文件“{raw}”的格式 .{ext} 不受支持，只接受 .csv 和 .xlsx。"
            "请在 Excel 中“另存为”Excel 工作簿(.xlsx)或 CSV（逗号分隔）后重新上传。",
            f"The file '{raw}' has the unsupported format .{ext}; only .csv and .xlsx are "
            "accepted. Save it in Excel as an Excel workbook (.xlsx) or CSV (comma delimited) "
            "and upload it again.",
        )
    stem = stem.rstrip()
    folded = stem.casefold()
    template_name = next((t for t in _template_names(contract) if folded.startswith(t + "_")), None)
    if template_name is None:
        if _LOOKS_LIKE_TEMPLATE.match(stem):
            source_kind = "_".join(stem.split("_")[:2])
            known = "、".join(sorted(contract.templates))
            return _problem(
                "unknown_kind",
                f"文件名“{raw}”中的来源和类别“{source_kind}”不是报表制度规定的报表，"
                f"应为以下之一：{known}。请改名后重新上传。",
                f"'{source_kind}' in the file name '{raw}' is not a report of the contract; "
                f"it must be one of: {', '.join(sorted(contract.templates))}. "
                "Rename the file and upload it again.",
            )
        return _unrecognised(raw)
    template = contract.templates[template_name]
    rest = stem[len(template_name) + 1 :]
    unit, sep, month_part = rest.partition("_")
    if not sep or not unit:
        return _unrecognised(raw)

    unit_pattern = _UNIT_PATTERNS.get(template.source, _DEFAULT_UNIT_PATTERN)
    if not unit_pattern.fullmatch(unit):
        rule_zh, rule_en = _UNIT_RULES.get(template.source, _DEFAULT_UNIT_RULE)
        return _problem(
            "bad_unit",
            f"文件名“{raw}”中的单位代码“{unit}”不正确：{template.title_zh}报表应使用{rule_zh}。"
            "请改名后重新上传。",
            f"The unit code '{unit}' in the file name '{raw}' is wrong: a {template_name} "
            f"report must use {rule_en}. Rename the file and upload it again.",
        )

    month_match = _MONTH.match(month_part)
    bad_month = _problem(
        "bad_month",
        f"文件名“{raw}”中的年月“{month_part}”不正确，应为 6 位数字的报告年月 YYYYMM"
        "（月份 01–12），例如 202609。请改名后重新上传。",
        f"The month '{month_part}' in the file name '{raw}' is wrong; it must be the report "
        "month as six digits YYYYMM (month 01-12), e.g. 202609. "
        "Rename the file and upload it again.",
    )
    if month_match is None:
        return bad_month
    digits = month_match.group(1)
    year, month = int(digits[:4]), int(digits[4:])
    if not (1 <= month <= 12 and 1900 <= year <= 2100):
        return bad_month
    suffix = month_part[month_match.end() :]
    if suffix and not _SUFFIX.fullmatch(suffix):
        return _unrecognised(raw)

    return UploadName(
        source=template.source,
        kind=template.kind,
        unit=unit,
        report_month=f"{year:04d}-{month:02d}",
        suffix=suffix.strip(),
        file_format="csv" if file_format == "csv" else "xlsx",
    )
