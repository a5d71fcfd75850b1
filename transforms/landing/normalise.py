"""Type the raw string cells of an upload into canonical staged values.

One vectorised parser per column type of the contract, each returning
`(values, error_codes)`: the canonical value (docs/design.md, "Canonical values")
or null, and the error code or null. `normalise_frame` applies them to a whole
raw frame and builds the `stg_<template>` shape.

Only parsing lives here. Ranges, date rules, uniqueness and cross-column rules are
quality checks done elsewhere, on the typed values. A bad cell never raises: it
becomes null with a code.

Regexes use `[0-9]` and literal character classes instead of `\\d`/`\\s` and avoid
backreferences and lookarounds, so pandas can run them on pyarrow's RE2 engine; a
pattern RE2 cannot run makes pandas fall back to a Python loop over the rows.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np
import pandas as pd

from transforms.landing.identity import INVISIBLE_CHARS, nfkc, normalise_ids, person_key
from transforms.templates import Column, Contract, Template, fold_header

LINEAGE_COLUMNS = ("upload_id", "row_number", "unit", "report_month")

# Templates whose yes/no columns are ticked: `√` for yes, an empty cell for no.
BLANK_IS_FALSE_TEMPLATES = frozenset({"village_women"})

FIRST_YEAR, LAST_YEAR = 1900, 2100

# Excel's 1900 date system counts day 1 as 1900-01-01 but also counts the 1900-02-29
# that never was (serial 60), so from serial 61 on the effective epoch is 1899-12-30.
EXCEL_EPOCH = np.datetime64("1899-12-30", "s")
# Serials are accepted from 10000 (1927-05-18) to 73415 (2100-12-31). A bare 4-digit
# number in a date column is far more likely a year typed alone than a day in 1905, and
# no date column of the contract reaches back before 1927; below serial 61 the 1900 bug
# would also need special-casing.
EXCEL_SERIAL_MIN, EXCEL_SERIAL_MAX = 10000, 73415

_EDGE_RE = f"^[{INVISIBLE_CHARS}]+|[{INVISIBLE_CHARS}]+$"
_ANYWHERE_RE = f"[{INVISIBLE_CHARS}]+"
_FLOAT_ZERO_RE = r"^([0-9]+)\.0+$"

_YMD_SEP_RE = (
    "[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
    "|[0-9]{4}/[0-9]{1,2}/[0-9]{1,2}"
    r"|[0-9]{4}\.[0-9]{1,2}\.[0-9]{1,2}"
    "|[0-9]{4}年[0-9]{1,2}月[0-9]{1,2}日?"
)
_YMD_COMPACT_RE = "[0-9]{8}"
_SERIAL_RE = r"[0-9]{5}(\.[0-9]+)?"
# A time of day after the date, as pandas or calamine render an Excel date cell
# (`2026-09-03 00:00:00`, `2026-09-03T00:00:00`). Staged dates are midnight.
_TIME_RE = r"[0-9]{1,2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?$"

_SEX = {
    "男": "M",
    "男性": "M",
    "1": "M",
    "m": "M",
    "女": "F",
    "女性": "F",
    "2": "F",
    "f": "F",
}
# `×`/`✗` are how the same forms mark "no" when they mark it at all.
_YESNO = {
    "是": True,
    "y": True,
    "yes": True,
    "1": True,
    "√": True,
    "✓": True,
    "✔": True,
    "否": False,
    "n": False,
    "no": False,
    "0": False,
    "×": False,
    "✗": False,
    "✘": False,
}

_AMOUNT = r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)"
# One optional sign, before or after the currency sign; `元` after the amount.
_MONEY_RE = rf"(?:[+-]?¥?|¥[+-]){_AMOUNT}(?:\.[0-9]+)?元?"
_INTEGER_RE = rf"[+-]?{_AMOUNT}(?:\.0*)?"
# The staged columns bound what a cell may hold (warehouse/schema.py: integers are SQL
# INTEGER, money NUMERIC(14, 2)); a larger number would fail the whole batch's insert,
# so it is a cell that cannot be read. Every contract range is far inside both.
INTEGER_LIMIT = 2**31 - 1
_MAX_INTEGER_DIGITS = 10  # len(str(INTEGER_LIMIT)); longer strings are rejected unparsed
_MAX_MONEY_DIGITS = 12  # whole 元 in NUMERIC(14, 2); also keeps every cent exact in a float


def _true(mask: pd.Series) -> np.ndarray:
    """A nullable boolean result as a plain numpy mask, NA counting as False."""
    return np.asarray(mask.fillna(False), dtype=bool)


def _codes(bad: np.ndarray, code: str, index: pd.Index) -> pd.Series:
    """`code` where `bad`, NA elsewhere, as the `string` dtype."""
    codes = np.full(len(index), None, dtype=object)
    codes[bad] = code
    return pd.Series(codes, index=index, dtype="string")


def _blank_to_na(s: pd.Series) -> pd.Series:
    return s.mask(_true(s == ""))


def _prepare(raw: pd.Series) -> pd.Series:
    """NFKC, trimmed (every space-like and invisible character), blank -> NA; `string`."""
    s = nfkc(raw)
    return _blank_to_na(s.str.replace(_EDGE_RE, "", regex=True))


def _squeeze(raw: pd.Series) -> pd.Series:
    """`_prepare` plus spaces removed inside too and a float rendering's `.0` dropped.

    For codes and flags (`1.0` is what a numeric Excel cell holding 1 comes back as).
    """
    s = _prepare(raw).str.replace(_ANYWHERE_RE, "", regex=True)
    return s.str.replace(_FLOAT_ZERO_RE, r"\1", regex=True)


def clean_text(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Free text: NFKC, trimmed, blank -> NA. Never an error (codes all NA)."""
    values = _prepare(raw)
    return values, pd.Series(pd.NA, index=raw.index, dtype="string")


def parse_dates(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Dates as `datetime64[s]` (midnight); unreadable or outside 1900..2100 -> `date_format`.

    Accepted: `2026-09-03`, `2026/9/3`, `2026.9.3` (one separator throughout),
    `20260903`, `2026年9月3日`, any of them followed by a time of day, and Excel
    serial numbers (`46268`, `46268.0`, 1900 date system).
    """
    s = _prepare(raw)
    s = s.str.replace(f"[ T]+{_TIME_RE}", "", regex=True)
    s = s.str.replace(f"日{_TIME_RE}", "日", regex=True)
    # Spaces inside a date (`2026年 9月 3日`) carry nothing.
    s = s.str.replace(_ANYWHERE_RE, "", regex=True)
    present = _true(s.notna())

    # to_datetime's own format parsing is lenient (it reads `2026093` with %Y%m%d), so
    # the regexes decide the shape and to_datetime only checks the calendar.
    separated = _true(s.str.fullmatch(_YMD_SEP_RE))
    compact = _true(s.str.fullmatch(_YMD_COMPACT_RE))
    serial = _true(s.str.fullmatch(_SERIAL_RE))

    dates = pd.Series(pd.NaT, index=s.index, dtype="datetime64[s]")
    if separated.any():
        dashed = s[separated].str.replace("[/.年月]", "-", regex=True).str.replace("日", "")
        parsed = pd.to_datetime(dashed, format="%Y-%m-%d", errors="coerce")
        dates[separated] = parsed.astype("datetime64[s]").to_numpy()
    if compact.any():
        parsed = pd.to_datetime(s[compact], format="%Y%m%d", errors="coerce")
        dates[compact] = parsed.astype("datetime64[s]").to_numpy()
    if serial.any():
        days = np.floor(pd.to_numeric(s[serial]).to_numpy(dtype=float))
        in_range = (days >= EXCEL_SERIAL_MIN) & (days <= EXCEL_SERIAL_MAX)
        day_offsets = np.where(in_range, days, 0).astype(np.int64).astype("timedelta64[D]")
        from_serial = np.where(in_range, EXCEL_EPOCH + day_offsets, np.datetime64("NaT"))
        dates[serial] = from_serial.astype("datetime64[s]")

    years = dates.dt.year
    plausible = _true((years >= FIRST_YEAR) & (years <= LAST_YEAR))
    dates = dates.where(plausible)
    return dates, _codes(present & ~plausible, "date_format", s.index)


def parse_sex(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """`M`/`F` from 男/女, 男性/女性, 1/2 (GB/T 2261.1), M/F in any case; else `sex_value`."""
    s = _squeeze(raw).str.casefold()
    values = s.map(_SEX).astype("string")
    return values, _codes(_true(s.notna()) & _true(values.isna()), "sex_value", s.index)


def parse_yesno(raw: pd.Series, blank_is_false: bool = False) -> tuple[pd.Series, pd.Series]:
    """Booleans from 是/否, Y/N, yes/no, 1/0, √/✓ (and ×/✗); else `yesno_value`.

    Blank is NA unless `blank_is_false`: in ticked columns an empty cell means no.
    """
    s = _squeeze(raw).str.casefold()
    values = s.map(_YESNO).astype("boolean")
    bad = _true(s.notna()) & _true(values.isna())
    if blank_is_false:
        values = values.mask(_true(s.isna()), False)
    return values, _codes(bad, "yesno_value", s.index)


def parse_money(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Amounts in 元 as `Float64` rounded to 2 decimals; else `money_format`.

    Accepted: `12000`, `12,000.50`, `12000元`, `￥12000`, full-width digits, a sign.
    Negative amounts parse: whether they are allowed is a range rule, not parsing.
    """
    s = _prepare(raw).str.replace("−", "-")  # U+2212, the minus sign NFKC keeps
    s = s.str.replace(_ANYWHERE_RE, "", regex=True)
    shaped = _true(s.str.fullmatch(_MONEY_RE))
    numbers = s.where(shaped).str.replace("[,¥元+]", "", regex=True)
    negative = _true(numbers.str.startswith("-"))
    unsigned = numbers.str.lstrip("-")
    whole = unsigned.str.replace(r"\..*$", "", regex=True)
    fits = _true(whole.str.len() <= _MAX_MONEY_DIGITS)
    # Round half up on the decimal digits as written, in integer cents: rounding the
    # float instead would turn 12.345 (stored as 12.3449999…) into 12.34.
    fraction = unsigned.str.replace(r"^[0-9]*\.?", "", regex=True) + "000"
    whole_cents = whole.where(fits).astype("Int64").to_numpy(dtype=np.int64, na_value=0) * 100
    two_places = fraction.str.slice(0, 2).astype("Int64").to_numpy(dtype=np.int64, na_value=0)
    third = fraction.str.slice(2, 3).astype("Int64").to_numpy(dtype=np.int64, na_value=0)
    cents = whole_cents + two_places + (third >= 5)
    # Rounding can carry into a 13th digit (999999999999.995).
    fits = fits & (np.abs(cents) < 10 ** (_MAX_MONEY_DIGITS + 2))
    amounts = pd.Series(np.where(negative, -cents, cents) / 100, index=s.index, dtype="Float64")
    amounts = amounts.where(fits)
    bad = _true(s.notna()) & ~fits
    return amounts, _codes(bad, "money_format", s.index)


def parse_integer(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Whole numbers as `Int64`: digits, full-width digits, thousands commas, `3.0`.

    `3.5`, text and numbers beyond ±(2**31 - 1) give `integer_format`.
    """
    s = _prepare(raw).str.replace("−", "-").str.replace(_ANYWHERE_RE, "", regex=True)
    shaped = _true(s.str.fullmatch(_INTEGER_RE))
    digits = s.where(shaped).str.replace(r"[,+]|\.0*$", "", regex=True)
    short = _true(digits.str.lstrip("-").str.len() <= _MAX_INTEGER_DIGITS)
    values = digits.where(short).astype("Int64")
    fits = _true(values.abs() <= INTEGER_LIMIT)
    values = values.where(fits)
    return values, _codes(_true(s.notna()) & ~fits, "integer_format", s.index)


def parse_enum(raw: pd.Series, lookup: dict[str, str]) -> tuple[pd.Series, pd.Series]:
    """The canonical value of an enumeration; else `enum_value`.

    `lookup` is `Contract.enum_lookup(name)`: folded spelling -> canonical value. Values
    are folded with the very same `fold_header`, once per distinct value (an enum
    column holds a handful), so a spelling matches exactly when its header would.
    """
    s = _prepare(raw)
    folded = {value: fold_header(value) for value in s.dropna().unique().tolist()}
    values = s.map({value: lookup.get(key) for value, key in folded.items()}).astype("string")
    return values, _codes(_true(s.notna()) & _true(values.isna()), "enum_value", s.index)


def parse_area_code(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """12-digit 统计用区划代码 (spaces, a leading `'`, `.0` removed); else `area_code_format`."""
    s = _squeeze(raw).str.replace("^['‘’`]+", "", regex=True)
    s = _blank_to_na(s)
    ok = _true(s.str.fullmatch("[0-9]{12}"))
    return s.where(ok), _codes(_true(s.notna()) & ~ok, "area_code_format", s.index)


def report_month_ends(report_month: str | pd.Series, index: pd.Index) -> pd.Series:
    """The last day of each row's report month (`YYYY-MM` or `YYYYMM`), NaT if unreadable."""
    months = pd.Series(report_month, index=index) if isinstance(report_month, str) else report_month
    compact = months.astype("string").str.replace("-", "")
    starts = pd.to_datetime(compact, format="%Y%m", errors="coerce")
    return (starts + pd.offsets.MonthEnd(0)).astype("datetime64[s]")


Parser = Callable[[pd.Series], tuple[pd.Series, pd.Series]]


def on_distinct(parse: Parser, raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """`parse(raw)`, parsing each distinct cell once and spreading the results back.

    A column of a batch holds few distinct values in many rows (ticks, methods, the dates
    of one month's checks: a handful in a county's hundred thousand roster rows), and the
    parsers' string operations cost per row. Only for parsers that read a cell alone;
    mostly distinct columns (names) are parsed as they are.
    """
    positions, distinct = pd.factorize(raw, use_na_sentinel=False)
    if 2 * len(distinct) > len(raw):
        return parse(raw)
    values, codes = parse(pd.Series(distinct))
    return (
        pd.Series(values.array.take(positions), index=raw.index),
        pd.Series(codes.array.take(positions), index=raw.index),
    )


def _parse_column(
    column: Column,
    raw: pd.Series,
    contract: Contract,
    month_ends: pd.Series,
    blank_is_false: bool,
) -> tuple[pd.Series, pd.Series]:
    """Dispatch one column to its type's parser (once per distinct cell: `on_distinct`)."""
    if column.type == "id":
        # An ID's reading depends on its row's report month, not on the cell alone.
        return normalise_ids(raw, month_ends)
    return on_distinct(_cell_parser(column, contract, blank_is_false), raw)


def _cell_parser(column: Column, contract: Contract, blank_is_false: bool) -> Parser:
    """The parser of a column whose cells are read each on its own."""
    match column.type:
        case "text":
            return clean_text
        case "date":
            return parse_dates
        case "sex":
            return parse_sex
        case "yesno":
            return partial(parse_yesno, blank_is_false=blank_is_false)
        case "money":
            return parse_money
        case "integer":
            return parse_integer
        case "enum":
            if column.enum is None:
                raise ValueError(f"enum column {column.name!r} names no enumeration")
            return partial(parse_enum, lookup=contract.enum_lookup(column.enum))
        case "area_code":
            return parse_area_code
    raise ValueError(f"column {column.name!r} has unknown type {column.type!r}")


def normalise_frame(
    raw: pd.DataFrame,
    template: Template,
    contract: Contract,
    report_month: str | pd.Series,
    secret: bytes,
) -> pd.DataFrame:
    """Type a raw upload frame into the `stg_<template>` shape of docs/design.md.

    `raw`: string cells under canonical column names (an absent optional column may
    be left out: it reads as all blank) plus the lineage columns, which pass through.
    `report_month` (`YYYY-MM`, one for all rows or a Series per row, since a batch
    holds many uploads) bounds the birth dates encoded in IDs.

    Output columns: lineage, each template column in its canonical dtype, `<col>_key`
    for ID columns, `err_<col>` for every template column (`missing` for a blank
    required cell, else the parser's code, else NA).
    """
    index = raw.index
    months = report_month if isinstance(report_month, pd.Series) else None
    month_ends = report_month_ends(report_month, index)

    lineage: dict[str, pd.Series] = {}
    for name in LINEAGE_COLUMNS:
        if name in raw.columns:
            lineage[name] = raw[name]
        elif name == "report_month":
            lineage[name] = (
                months if months is not None else pd.Series(report_month, index=index)
            ).astype("string")
        else:
            raise KeyError(f"raw frame lacks the lineage column {name!r}")

    values: dict[str, pd.Series] = {}
    keys: dict[str, pd.Series] = {}
    errors: dict[str, pd.Series] = {}
    unread: dict[str, pd.Series] = {}
    for column in template.columns:
        present = column.name in raw.columns
        cells = raw[column.name] if present else pd.Series(pd.NA, index=index, dtype="string")
        # An absent column is unknown, not "no": only ticks in a column that exists
        # turn blanks into False.
        blank_is_false = (
            column.type == "yesno" and present and template.name in BLANK_IS_FALSE_TEMPLATES
        )
        parsed, codes = _parse_column(column, cells, contract, month_ends, blank_is_false)
        if column.required:
            # No value and no parse error means the cell held nothing (a blank, or only
            # what cleaning strips, like a lone `'`).
            blank = _true(parsed.isna()) & _true(codes.isna())
            codes = codes.mask(blank, "missing")
        values[column.name] = parsed
        errors[f"err_{column.name}"] = codes
        # The text of a cell that failed, so that its issue can say what was found.
        unread[f"raw_{column.name}"] = cells.astype("string").where(codes.notna())
        if column.type == "id":
            keys[f"{column.name}_key"] = person_key(parsed, secret)
            # An ID that failed still names someone: its issue is told apart from another
            # bad ID with the same mask by this keyed hash of the text (never by the mask).
            failed = _true(codes.notna())
            failed_keys = np.full(len(index), None, dtype=object)
            if failed.any():  # few cells: squeeze and hash only those
                failed_keys[failed] = person_key(_squeeze(cells[failed]), secret).to_numpy(
                    dtype=object, na_value=None
                )
            keys[f"raw_{column.name}_key"] = pd.Series(failed_keys, index=index, dtype="string")

    return pd.DataFrame({**lineage, **values, **keys, **errors, **unread}, index=index)


def empty_staged(template: Template, contract: Contract) -> pd.DataFrame:
    """A staged frame of `template` with no rows: every column and dtype, for a source
    or kind that has not sent a file yet (a county's first night, hospitals not onboarded).
    """
    raw = pd.DataFrame(
        {
            "upload_id": pd.Series([], dtype="int64"),
            "row_number": pd.Series([], dtype="int64"),
            "unit": pd.Series([], dtype="string"),
            "report_month": pd.Series([], dtype="string"),
        }
    )
    return normalise_frame(raw, template, contract, raw["report_month"], b"")
