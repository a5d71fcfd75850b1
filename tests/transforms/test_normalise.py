"""transforms.landing.normalise: one parser per column type, and the staged frame."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.landing.identity import id_check_digit, person_key
from transforms.landing.normalise import (
    clean_text,
    normalise_frame,
    on_distinct,
    parse_area_code,
    parse_dates,
    parse_enum,
    parse_integer,
    parse_money,
    parse_sex,
    parse_yesno,
    report_month_ends,
)
from transforms.templates import load_contract

FAST = settings(max_examples=150, deadline=None)
CONTRACT = load_contract()


def plain(series: pd.Series) -> list:
    """The values as a list with every kind of missing (NA, NaT, NaN) as None."""
    return [None if pd.isna(v) else v for v in series.tolist()]


def pairs(parser: Callable[[pd.Series], tuple[pd.Series, pd.Series]], raw: list) -> list[tuple]:
    values, codes = parser(pd.Series(raw, dtype=object))
    return list(zip(plain(values), plain(codes), strict=True))


def to_full_width(text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)


def make_id(region: str = "654226", birth: str = "19900101", seq: str = "002") -> str:
    return region + birth + seq + id_check_digit(region + birth + seq)


# --- dates -------------------------------------------------------------------------

SEPT_3 = pd.Timestamp("2026-09-03")


@pytest.mark.parametrize(
    "raw",
    [
        "2026-09-03",
        "2026-9-3",
        "2026/9/3",
        "2026/09/03",
        "2026.9.3",
        "20260903",
        "2026年9月3日",
        "2026年09月03日",
        "2026年9月3",
        " 2026 年 9 月 3 日 ",
        "2026-09-03 00:00:00",
        "2026-09-03T00:00:00",
        "2026-09-03 14:30",
        "2026/9/3 8:05:09.250",
        "2026年9月3日 00:00:00",
        "46268",
        "46268.0",
        "46268.75",
        "２０２６－０９－０３",
        "２０２６年９月３日",
        "４６２６８",
    ],
)
def test_dates_accepted(raw: str) -> None:
    assert pairs(parse_dates, [raw]) == [(SEPT_3, None)]


@pytest.mark.parametrize(
    "raw",
    [
        "2026-9/3",  # mixed separators
        "2026-02-30",
        "2026-13-01",
        "20261301",
        "2026093",
        "1899-12-31",
        "2101-01-01",
        "2026",
        "60",
        "9999",
        "73416",  # 2101-01-01 as a serial
        "202609",
        "26-9-3",
        "3/9/2026",
        "abc",
        "2026-09-03 25:00:00x",
        "46268,0",
    ],
)
def test_bad_dates(raw: str) -> None:
    assert pairs(parse_dates, [raw]) == [(None, "date_format")]


def test_date_edges_and_blanks() -> None:
    values, codes = parse_dates(
        pd.Series(["1900-01-01", "2100-12-31", "73415", "10000", None, " "])
    )
    assert values.dtype == "datetime64[s]"
    assert plain(values)[:4] == [
        pd.Timestamp("1900-01-01"),
        pd.Timestamp("2100-12-31"),
        pd.Timestamp("2100-12-31"),
        pd.Timestamp("1927-05-18"),
    ]
    assert plain(values.isna())[4:] == [True, True]
    assert codes.isna().all()


# --- sex, yes/no -------------------------------------------------------------------


def test_sex() -> None:
    raw = ["男", "女", "1", "2", "M", "F", "m", "f", "男性", "女性", " 男 ", "1.0", "Ｍ", None, ""]
    assert pairs(parse_sex, raw) == [
        ("M", None), ("F", None), ("M", None), ("F", None), ("M", None), ("F", None),
        ("M", None), ("F", None), ("M", None), ("F", None), ("M", None), ("M", None),
        ("M", None), (None, None), (None, None),
    ]  # fmt: skip
    for bad in ["0", "9", "3", "男女", "x", "未知"]:
        assert pairs(parse_sex, [bad]) == [(None, "sex_value")]
    assert parse_sex(pd.Series(["男"]))[0].dtype == "string"


def test_yesno() -> None:
    raw = ["是", "否", "Y", "N", "y", "n", "1", "0", "√", "✓", "×", "1.0", "Ｙ", None, ""]
    assert [v for v, _ in pairs(parse_yesno, raw)] == [
        True, False, True, False, True, False, True, False, True, True, False, True, True,
        None, None,
    ]  # fmt: skip
    assert pairs(parse_yesno, ["有时", "2"]) == [(None, "yesno_value")] * 2
    values, codes = parse_yesno(pd.Series(["√", "", None, "x"]), blank_is_false=True)
    assert values.dtype == "boolean"
    assert plain(values) == [True, False, False, None]
    assert plain(codes) == [None, None, None, "yesno_value"]


# --- money, integers ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "amount"),
    [
        ("12000", 12000.0),
        ("12,000.50", 12000.5),
        ("12000元", 12000.0),
        ("￥12000", 12000.0),
        ("¥12,000.5元", 12000.5),
        ("１２０００", 12000.0),
        ("１２，０００．５０元", 12000.5),
        ("-300", -300.0),
        ("−300", -300.0),
        ("¥-3.5", -3.5),
        ("-¥3.5", -3.5),
        ("0", 0.0),
        ("12.345", 12.35),  # half up on the written digits
        ("12.005", 12.01),
        ("-12.345", -12.35),
        ("0.004", 0.0),
        ("999,999,999,999.994", 999999999999.99),
        (" 12 000 ", 12000.0),
    ],
)
def test_money(raw: str, amount: float) -> None:
    values, codes = parse_money(pd.Series([raw]))
    assert values.dtype == "Float64"
    assert values.iloc[0] == amount and pd.isna(codes.iloc[0])


@pytest.mark.parametrize(
    "raw",
    [
        "abc",
        "1,2",
        "12,00",
        "1.2.3",
        "12元5",
        "--3",
        "12000.",
        ".5",
        "1e5",
        "9" * 13,
        "999999999999.995",
        "¥",
    ],
)
def test_bad_money(raw: str) -> None:
    assert pairs(parse_money, [raw]) == [(None, "money_format")]


def test_money_blank() -> None:
    assert pairs(parse_money, [None, "", " "]) == [(None, None)] * 3


@pytest.mark.parametrize(
    ("raw", "number"),
    [
        ("3", 3),
        ("３", 3),
        ("3.0", 3),
        ("3.", 3),
        ("1,234", 1234),
        ("-2", -2),
        ("+7", 7),
        (" 12 ", 12),
    ],
)
def test_integer(raw: str, number: int) -> None:
    values, codes = parse_integer(pd.Series([raw]))
    assert values.dtype == "Int64"
    assert values.iloc[0] == number and pd.isna(codes.iloc[0])


@pytest.mark.parametrize(
    "raw", ["3.5", "x", "1,23", "三", "1e3", "9" * 19, "3.01", "2147483648", "-2147483648"]
)
def test_bad_integer(raw: str) -> None:
    assert pairs(parse_integer, [raw]) == [(None, "integer_format")]


# --- enums, area codes, text -------------------------------------------------------


def test_enum_uses_the_header_folding() -> None:
    policy = CONTRACT.enum_lookup("policy_status")
    method = CONTRACT.enum_lookup("method")
    assert pairs(lambda s: parse_enum(s, policy), ["计划内", " 政策外 ", "是", "*否", None]) == [
        ("政策内", None), ("政策外", None), ("政策内", None), ("政策外", None), (None, None),
    ]  # fmt: skip
    assert pairs(lambda s: parse_enum(s, method), ["iud", "ＩＵＤ", "其它", "放 环"]) == [
        ("上环", None), ("上环", None), ("其他", None), ("上环", None),
    ]  # fmt: skip
    assert pairs(lambda s: parse_enum(s, method), ["手术", "政策内"]) == [(None, "enum_value")] * 2


def test_area_code() -> None:
    raw = ["654226100201", "'654226100201", "654226100201.0", "６５４２２６１００２０１",
           "654 226 100 201", None, "65422610020", "6542261002011", "65422610020a"]  # fmt: skip
    values, codes = parse_area_code(pd.Series(raw))
    assert plain(values) == ["654226100201"] * 5 + [None] * 4
    assert plain(codes) == [None] * 6 + ["area_code_format"] * 3


def test_clean_text() -> None:
    values, codes = clean_text(
        pd.Series([" 张三 ", "\u3000李\u3000四\u00a0", "", "  ", None, "ＡＢ１"])
    )
    assert plain(values) == ["张三", "李 四", None, None, None, "AB1"]
    assert values.dtype == "string" and codes.isna().all()


# --- properties --------------------------------------------------------------------

texts = st.lists(st.one_of(st.none(), st.text()), max_size=20)
PARSERS: list[Callable[[pd.Series], tuple[pd.Series, pd.Series]]] = [
    clean_text,
    parse_dates,
    parse_sex,
    parse_yesno,
    lambda s: parse_yesno(s, blank_is_false=True),
    parse_money,
    parse_integer,
    lambda s: parse_enum(s, CONTRACT.enum_lookup("method")),
    parse_area_code,
]


@FAST
@given(texts)
def test_no_text_makes_a_parser_raise(raw: list[str | None]) -> None:
    series = pd.Series(raw, dtype=object)
    for parser in PARSERS:
        values, codes = parser(series)
        assert len(values) == len(codes) == len(raw)
        assert not (values.notna() & codes.notna()).any()


CELLS = st.sampled_from(
    ["是", "√", "", " ", "2026-09-03", "46268", "1", "1.0", "男", "上环", "¥1,200元", "x", None]
)


@FAST
@given(st.lists(st.one_of(CELLS, st.text(max_size=4), st.none()), max_size=40))
def test_parsing_distinct_cells_once_reads_every_row_alike(raw: list[str | None]) -> None:
    """`on_distinct` (each distinct cell parsed once, spread back) gives what parsing
    every row gives, values, codes and dtypes, blanks included."""
    series = pd.Series(raw, dtype="string", index=pd.RangeIndex(len(raw)) + 5)
    for parser in PARSERS:
        expected_values, expected_codes = parser(series)
        values, codes = on_distinct(parser, series)
        pd.testing.assert_series_equal(values, expected_values, check_names=False)
        pd.testing.assert_series_equal(codes, expected_codes, check_names=False)


def date_spellings(day: dt.date) -> list[str]:
    y, m, d = day.year, day.month, day.day
    spellings = [
        day.isoformat(),
        f"{y}-{m}-{d}",
        f"{y}/{m}/{d}",
        f"{y}.{m}.{d}",
        day.strftime("%Y%m%d"),
        f"{y}年{m}月{d}日",
        f"{day.isoformat()} 00:00:00",
        to_full_width(day.isoformat()),
        to_full_width(f"{y}年{m}月{d}日"),
    ]
    serial = (day - dt.date(1899, 12, 30)).days
    if serial >= 10000:
        spellings += [str(serial), f"{serial}.0"]
    return spellings


@FAST
@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)))
def test_dates_round_trip(day: dt.date) -> None:
    spellings = date_spellings(day)
    assert pairs(parse_dates, spellings) == [(pd.Timestamp(day), None)] * len(spellings)


@FAST
@given(
    st.decimals(
        min_value=Decimal("-999999999999.99"), max_value=Decimal("999999999999.99"), places=2
    )
)
def test_money_round_trips(amount: Decimal) -> None:
    plain = f"{amount:.2f}"
    spellings = [plain, f"{amount:,.2f}", f"{amount:,.2f}元", to_full_width(f"{amount:,}")]
    if amount >= 0:
        spellings.append(f"￥{amount:,}")
    assert pairs(parse_money, spellings) == [(float(amount), None)] * len(spellings)


@FAST
@given(st.integers(min_value=-(2**31 - 1), max_value=2**31 - 1))
def test_integers_round_trip(number: int) -> None:
    spellings = [str(number), f"{number:,}", to_full_width(str(number)), f"{number}.0"]
    assert pairs(parse_integer, spellings) == [(number, None)] * len(spellings)


# --- normalise_frame ---------------------------------------------------------------


def women_raw() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "upload_id": [1, 1, 2],
            "row_number": [1, 2, 1],
            "unit": ["654226100201"] * 3,
            "report_month": ["2026-09", "2026-09", "2026-07"],
            "name": [" 张三 ", None, "李四"],
            "id_number": [make_id(birth="19900101"), "'", make_id(birth="20260815")],
            "residence": ["流入", "常住", "外出"],
            "children": ["1", "x", ""],
            "method": ["上环", "无", "IUD"],
            "method_date": ["2026/9/1", None, "46268"],
            "marriage_certificate": ["√", "", "否"],
            "not_in_template": ["a", "b", "c"],
        },
        dtype=object,
    ).astype({"upload_id": "int64", "row_number": "int64"})


def test_normalise_frame_shape_and_dtypes() -> None:
    template = CONTRACT.templates["village_women"]
    raw = women_raw()
    out = normalise_frame(raw, template, CONTRACT, raw["report_month"], b"k")
    names = [c.name for c in template.columns]
    assert plain(out.columns) == [
        "upload_id", "row_number", "unit", "report_month",
        *names, "id_number_key", "raw_id_number_key",
        *[f"err_{n}" for n in names], *[f"raw_{n}" for n in names],
    ]  # fmt: skip
    # The text of a cell that failed is kept for its issue, and only that text.
    assert plain(out["raw_children"]) == [None, "x", ""]  # "" is the blank of a `missing`
    assert plain(out["upload_id"]) == [1, 1, 2]
    assert plain(out["report_month"]) == ["2026-09", "2026-09", "2026-07"]
    assert out["name"].dtype == "string" and out["id_number"].dtype == "string"
    assert out["children"].dtype == "Int64"
    assert out["method_date"].dtype == "datetime64[s]"
    assert out["marriage_certificate"].dtype == "boolean"
    assert all(out[f"err_{n}"].dtype == "string" for n in names)

    assert plain(out["name"]) == ["张三", None, "李四"]
    assert plain(out["err_name"]) == [None, "missing", None]
    # Row 3's ID is born in August 2026, after its own report month (July).
    assert plain(out["err_id_number"]) == [None, "missing", "id_birth_date"]
    assert plain(out["id_number_key"])[1:] == [None, None]
    assert out["id_number_key"].iloc[0] == person_key(out["id_number"], b"k").iloc[0]
    assert plain(out["children"]) == [1, None, None]
    assert plain(out["err_children"]) == [None, "integer_format", "missing"]
    assert plain(out["method"]) == ["上环", "无", "上环"]
    assert plain(out["method_date"])[::2] == [pd.Timestamp("2026-09-01"), SEPT_3]
    # Ticked column: blank is "no"; an absent column stays unknown.
    assert plain(out["marriage_certificate"]) == [True, False, False]
    assert out["file_created"].isna().all() and out["err_file_created"].isna().all()
    assert out["ethnicity"].isna().all()


def test_normalise_frame_keeps_a_repeated_index() -> None:
    template = CONTRACT.templates["village_women"]
    raw = women_raw()
    raw.index = pd.Index([7, 7, 7])
    out = normalise_frame(raw, template, CONTRACT, raw["report_month"], b"k")
    assert plain(out.index) == [7, 7, 7]
    assert plain(out["err_children"]) == [None, "integer_format", "missing"]


def test_normalise_frame_with_one_report_month() -> None:
    template = CONTRACT.templates["village_women"]
    raw = women_raw()
    out = normalise_frame(raw, template, CONTRACT, "2026-09", b"k")
    assert plain(out["err_id_number"]) == [None, "missing", None]


def test_yes_no_blank_is_unknown_outside_ticked_templates() -> None:
    # Same contract shape, another template name: blanks stay NA.
    toml = """
[enums.x]
"a" = ["a"]
[templates.police_flags]
source = "police"
kind = "flags"
title_zh = "t"
title_en = "t"
columns = [
  { name = "flag", header = "标记", type = "yesno" },
  { name = "amount", header = "金额", type = "money", required = true },
  { name = "code", header = "代码", type = "area_code" },
  { name = "sex", header = "性别", type = "sex" },
]
"""
    from transforms.templates import parse_contract

    contract = parse_contract(toml)
    raw = pd.DataFrame(
        {
            "upload_id": [1, 1],
            "row_number": [1, 2],
            "unit": ["u", "u"],
            "report_month": ["2026-09", "2026-09"],
            "flag": ["是", ""],
            "amount": ["1,000", "abc"],
            "code": ["123", "654226100201"],
            "sex": ["女", "?"],
        }
    )
    out = normalise_frame(raw, contract.templates["police_flags"], contract, "2026-09", b"k")
    assert plain(out["flag"]) == [True, None]
    assert plain(out["amount"]) == [1000.0, None]
    assert plain(out["err_amount"]) == [None, "money_format"]
    assert plain(out["err_code"]) == ["area_code_format", None]
    assert plain(out["err_sex"]) == [None, "sex_value"]


@pytest.mark.parametrize("name", sorted(CONTRACT.templates))
def test_every_template_normalises_garbage_without_raising(name: str) -> None:
    template = CONTRACT.templates[name]
    rng = np.random.default_rng(0)
    junk = ["", "x", "6.54226E+17", "１", "2026-13-45", None, "√", "-1", "男"]
    data: dict[str, object] = {
        c.name: rng.choice(np.array(junk, dtype=object), 5) for c in template.columns
    }
    raw = pd.DataFrame(
        {"upload_id": 1, "row_number": range(1, 6), "unit": "u", "report_month": "2026-09", **data}
    )
    out = normalise_frame(raw, template, CONTRACT, "2026-09", b"k")
    assert len(out) == 5
    for column in template.columns:
        if column.required:
            blank = raw[column.name].isna() | (raw[column.name] == "")
            assert (out.loc[blank, f"err_{column.name}"] == "missing").all()


def test_report_month_ends() -> None:
    ends = report_month_ends(pd.Series(["2026-02", "202402", "bad", None]), pd.RangeIndex(4))
    assert plain(ends)[:2] == [pd.Timestamp("2026-02-28"), pd.Timestamp("2024-02-29")]
    assert plain(ends.isna())[2:] == [True, True]
