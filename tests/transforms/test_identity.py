"""transforms.landing.identity: ID cleaning and validation, person keys, masks."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.landing.identity import (
    PROVINCE_CODES,
    birth_date_from_id,
    id_check_digit,
    mask_id,
    mask_id_value,
    normalise_ids,
    person_key,
)

END = pd.Timestamp("2026-09-30")  # report month 2026-09
FAST = settings(max_examples=150, deadline=None)


def plain(series: pd.Series) -> list:
    """The values as a list with every kind of missing (NA, NaT, NaN) as None."""
    return [None if pd.isna(v) else v for v in series.tolist()]


def make_id(region: str = "654226", birth: str = "19900101", seq: str = "002") -> str:
    """A valid 18-character ID with the given parts and its computed check character."""
    first17 = region + birth + seq
    return first17 + id_check_digit(first17)


def run(values: Sequence[object], end: pd.Timestamp | pd.Series | None = END) -> list[tuple]:
    ids, codes = normalise_ids(pd.Series(values, dtype=object), end)
    return list(zip(plain(ids), plain(codes), strict=True))


def to_full_width(text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)


# --- check digit -------------------------------------------------------------------


def test_check_digit_of_the_standard_example() -> None:
    # The example printed in GB 11643-1999.
    assert id_check_digit("11010519491231002") == "X"
    assert id_check_digit("44052418800101001") == "4"


@pytest.mark.parametrize(
    "bad", ["1101051949123100", "1101051949123100X", "１１０１０５１９４９１２３１００２"]
)
def test_check_digit_rejects_anything_but_17_ascii_digits(bad: str) -> None:
    with pytest.raises(ValueError):
        id_check_digit(bad)


# --- normalise_ids -----------------------------------------------------------------

VALID = make_id("110105", "19491231", "002")  # 11010519491231002X


@pytest.mark.parametrize(
    "raw",
    [
        VALID,
        VALID.lower(),
        f"  {VALID}\t",
        "110105 1949 1231 002X",
        f"\u3000{VALID}\u00a0",
        f"\u200b{VALID}\ufeff",
        f"'{VALID}",
        f"‘{VALID}",
        to_full_width(VALID),
        to_full_width(VALID.lower()),
    ],
)
def test_valid_id_spellings_normalise(raw: str) -> None:
    assert run([raw]) == [(VALID, None)]


def test_legacy_15_digit_id_upgrades() -> None:
    # 110105 491231 002 -> 110105 19 491231 002 + check character.
    assert run(["110105491231002"]) == [("11010519491231002X", None)]
    legacy = "654226900101123"
    assert (
        run([legacy, f"{legacy}.0", to_full_width(legacy)])
        == [(make_id("654226", "19900101", "123"), None)] * 3
    )


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("6.54226E+17", "id_scientific"),
        ("6.54226e+17", "id_scientific"),
        ("6.54226199E17", "id_scientific"),
        (VALID[:17], "id_format"),
        (VALID + "1", "id_format"),
        ("11010519491231002Y", "id_format"),
        ("X1010519491231002X", "id_format"),
        ("1101051949123100", "id_format"),
        ("abc", "id_format"),
        ("11010519491231002X1", "id_format"),
        ("110105194912310021", "id_checksum"),
        (make_id("990105"), "id_region"),
        (make_id("720105"), "id_region"),
        (make_id("100105"), "id_region"),
        (make_id("654226", "19000229"), "id_birth_date"),  # 1900 was not a leap year
        (make_id("654226", "19901301"), "id_birth_date"),
        (make_id("654226", "19900431"), "id_birth_date"),
        (make_id("654226", "18991231"), "id_birth_date"),
        (make_id("654226", "20261001"), "id_birth_date"),  # after the report month
        ("654226901301123", "id_birth_date"),  # legacy with month 13
        ("990105491231002", "id_region"),  # legacy with a bad region
    ],
)
def test_invalid_ids_get_their_code(raw: str, code: str) -> None:
    assert run([raw]) == [(None, code)]


@pytest.mark.parametrize(
    "raw",
    [
        make_id("810000"),
        make_id("820000"),
        make_id("830000"),
        make_id("710000"),
        make_id("654226", "20000229"),
        make_id("654226", "19000101"),
        make_id("654226", "20260930"),
    ],
)
def test_edge_valid_ids(raw: str) -> None:
    assert run([raw]) == [(raw, None)]


@pytest.mark.parametrize("blank", [None, np.nan, pd.NA, "", "   ", "\u3000", "'"])
def test_blank_is_na_without_a_code(blank: object) -> None:
    assert run([blank]) == [(None, None)]


def test_birth_date_bound_per_row() -> None:
    born = make_id("654226", "20260815")
    ends = pd.Series(pd.to_datetime(["2026-07-31", "2026-08-31", None]))
    ids, codes = normalise_ids(pd.Series([born] * 3), ends)
    assert plain(codes) == ["id_birth_date", None, None]
    assert plain(ids) == [None, born, born]


def test_no_bound_accepts_recent_dates() -> None:
    assert run([make_id("654226", "20990101")], None) == [(make_id("654226", "20990101"), None)]


def test_output_shape_and_index_are_kept() -> None:
    legacy, wide = "110105491231002", to_full_width("110105491231002")
    values = pd.Series([VALID, "bad", None, wide, legacy], index=[10, 10, 3, 3, 10], dtype="str")
    ids, codes = normalise_ids(values, END)
    assert ids.dtype == "string" and codes.dtype == "string"
    assert plain(ids.index) == [10, 10, 3, 3, 10]
    assert plain(ids) == [VALID, None, None, VALID, VALID]
    assert plain(codes) == [None, "id_format", None, None, None]
    assert len(normalise_ids(pd.Series([], dtype="str"), END)[0]) == 0


def test_birth_date_from_id() -> None:
    dates = birth_date_from_id(pd.Series([VALID, None, "bad", make_id("654226", "20000229")]))
    assert dates.dtype == "datetime64[s]"
    assert plain(dates)[0] == pd.Timestamp("1949-12-31")
    assert plain(dates.isna()) == [False, True, True, False]
    assert dates.iloc[3] == pd.Timestamp("2000-02-29")


# --- person_key --------------------------------------------------------------------


def test_person_key_is_the_hmac_of_the_id() -> None:
    keys = person_key(pd.Series([VALID, None, VALID]), b"secret")
    expected = hmac.new(b"secret", VALID.encode(), hashlib.sha256).hexdigest()
    assert plain(keys) == [expected, None, expected]
    assert keys.dtype == "string"


def test_person_key_is_stable_and_secret_dependent() -> None:
    ids = pd.Series([VALID, make_id()])
    first, again = person_key(ids, b"a"), person_key(ids, b"a")
    other = person_key(ids, b"b")
    assert plain(first) == again.tolist()
    assert first.iloc[0] != first.iloc[1]
    assert all(x != y for x, y in zip(first, other, strict=True))
    assert all(len(k) == 64 for k in first)


# --- masks -------------------------------------------------------------------------


def test_mask_examples() -> None:
    masked = mask_id(
        pd.Series(["65422619900101002x", "110105491231002", "6.54226E+17", None, "12"])
    )
    assert plain(masked) == [
        "654226********002X",
        "110**********02",
        "6.********7",
        None,
        "**",
    ]
    assert mask_id_value("11010519491231002X") == "110105********002X"
    assert mask_id_value(" 110105 19491231002X ") == "110105********002X"
    assert mask_id_value(None) is None
    assert mask_id_value("") is None
    assert mask_id_value("abc") == "***"


# --- properties --------------------------------------------------------------------

provinces = st.sampled_from(sorted(PROVINCE_CODES))
births = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2026, 9, 30))
texts = st.lists(st.one_of(st.none(), st.text()), max_size=20)


@FAST
@given(texts)
def test_normalise_ids_never_raises(values: list[str | None]) -> None:
    ids, codes = normalise_ids(pd.Series(values, dtype=object), END)
    assert len(ids) == len(codes) == len(values)
    # A value comes out exactly when no code does (blank: neither).
    assert not (ids.notna() & codes.notna()).any()


@FAST
@given(provinces, st.integers(0, 9999), births, st.integers(0, 999))
def test_valid_ids_round_trip(province: int, county: int, born: dt.date, seq: int) -> None:
    valid = make_id(f"{province:02d}{county:04d}", born.strftime("%Y%m%d"), f"{seq:03d}")
    spellings = [valid, valid.lower(), to_full_width(valid), f" '{valid} "]
    assert run(spellings) == [(valid, None)] * len(spellings)
    assert birth_date_from_id(pd.Series([valid])).iloc[0] == pd.Timestamp(born)


@FAST
@given(
    provinces,
    st.integers(0, 9999),
    st.dates(dt.date(1900, 1, 1), dt.date(1999, 12, 31)),
    st.integers(0, 999),
)
def test_legacy_ids_round_trip(province: int, county: int, born: dt.date, seq: int) -> None:
    region = f"{province:02d}{county:04d}"
    legacy = region + born.strftime("%y%m%d") + f"{seq:03d}"
    assert run([legacy]) == [(make_id(region, born.strftime("%Y%m%d"), f"{seq:03d}"), None)]


@FAST
@given(provinces, births, st.integers(0, 999), st.integers(1, 10))
def test_a_wrong_check_character_is_caught(
    province: int, born: dt.date, seq: int, shift: int
) -> None:
    valid = make_id(f"{province:02d}0000", born.strftime("%Y%m%d"), f"{seq:03d}")
    chars = "0123456789X"
    wrong = valid[:17] + chars[(chars.index(valid[17]) + shift) % 11]
    assert run([wrong]) == [(None, "id_checksum")]


@FAST
@given(st.one_of(st.none(), st.text()))
def test_masks_never_reveal_more_than_ten_characters(value: str | None) -> None:
    masked = mask_id_value(value)
    if masked is None:
        return
    revealed = [ch for ch in masked if ch != "*"]
    assert len(revealed) <= 10
    if len(masked) < 18:
        assert len(revealed) <= 5
