"""Citizen ID numbers (公民身份号码, GB 11643-1999): cleaning, validation, keys, masks.

Every ID column of every upload passes through `normalise_ids`; downstream of
staging only `person_key` values are used, and anything shown to people (issue
reports, dashboards) goes through `mask_id`.

Validation is vectorised: the cleaned IDs are packed into one uint8 matrix of
ASCII codes (one row per ID) and the check digit, region and birth date are
computed column-wise with numpy, so a million IDs take about a second rather
than a Python loop over strings.
"""

from __future__ import annotations

import hmac

import numpy as np
import pandas as pd

# ISO 7064 MOD 11-2 as GB 11643-1999 states it: weight 2**(17-i) mod 11 for the first 17
# digits; the remainder of the weighted sum indexes the check character.
ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
CHECK_CHARS = "10X98765432"
_CHECK_BYTES = np.frombuffer(CHECK_CHARS.encode("ascii"), dtype=np.uint8)

# GB/T 2260 provinces, plus 81/82/83: residence permits for Hong Kong, Macao and Taiwan
# residents (居住证) carry those codes in an otherwise standard 18-character number.
PROVINCE_CODES = frozenset(
    [
        *range(11, 16),
        *range(21, 24),
        *range(31, 38),
        *range(41, 47),
        *range(50, 55),
        *range(61, 66),
        71,
        81,
        82,
        83,
    ]
)
_PROVINCE_TABLE = np.zeros(100, dtype=bool)
_PROVINCE_TABLE[list(PROVINCE_CODES)] = True

EARLIEST_BIRTH = 19000101  # yyyymmdd, uploads.md: "a real date between 1900-01-01 and ..."

# Characters removed anywhere in an ID (after NFKC): every character Python's
# str.isspace() accepts, plus invisible format characters that Excel and WeChat copies
# carry (zero-width space/joiners, word joiner, BOM). Spelled out as literal characters
# rather than `\s` so that pandas can keep the regex on pyarrow's engine (RE2's `\s`
# differs from Python's, so pandas would fall back to a per-row Python loop).
INVISIBLE_CHARS = (
    "\t\n\v\f\r \x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000-\u200a\u200b\u200c\u200d"
    "\u2028\u2029\u202f\u205f\u2060\u3000\ufeff"
)
_INVISIBLE_RE = f"[{INVISIBLE_CHARS}]+"
# A leading apostrophe is how Excel users force a cell to text; typographic quotes are
# what the same keystroke becomes after a pass through Word or WeChat.
_LEADING_QUOTE_RE = "^['‘’`]+"
# A numeric Excel cell holding a 15-digit legacy ID is exact in a float and comes back
# rendered as "…001.0"; the trailing ".0" is formatting, not data.
_FLOAT_ZERO_RE = r"^([0-9]+)\.0+$"
_SCIENTIFIC_RE = r"[+-]?[0-9]*\.?[0-9]+E[+-]?[0-9]+"

ID18_RE = "[0-9]{17}[0-9X]"
_ID15_RE = "[0-9]{15}"


def id_check_digit(first17: str) -> str:
    """The GB 11643-1999 check character (ISO 7064 MOD 11-2) for 17 ASCII digits.

    >>> id_check_digit("11010519491231002")
    'X'
    """
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError(f"need 17 ASCII digits, got {first17!r}")
    total = sum(int(ch) * w for ch, w in zip(first17, ID_WEIGHTS.tolist(), strict=True))
    return CHECK_CHARS[total % 11]


def as_text(values: pd.Series) -> pd.Series:
    """Any Series as the `string` dtype (NA-aware), whatever its cells hold.

    A lone surrogate (undecodable bytes carried through `surrogateescape`) cannot enter
    an Arrow string; it becomes U+FFFD rather than failing the whole batch.
    """
    try:
        return values.astype("string")
    except UnicodeEncodeError:
        repaired = values.map(
            lambda v: v.encode("utf-8", "replace").decode("utf-8") if isinstance(v, str) else v
        )
        return repaired.astype("string")


def nfkc(values: pd.Series) -> pd.Series:
    """NFKC-normalise text as the `string` dtype.

    pandas runs `str.normalize` as a Python loop over the rows; ASCII text is already
    in NFKC, so only the (usually few) non-ASCII values go through it.
    """
    s = as_text(values)
    wide = _true(~s.str.isascii())
    if wide.any():
        s = s.copy()
        s[wide] = s[wide].str.normalize("NFKC").to_numpy()
    return s


def clean_id_text(values: pd.Series) -> pd.Series:
    """Undo what spreadsheets and typing do to an ID, without judging it.

    NFKC (full-width digits and `Ｘ` become ASCII), every space-like or invisible
    character removed (not only at the ends: `654226 1990 …` is common), a leading
    apostrophe dropped, upper case (`x` -> `X`), and a float rendering's `.0` dropped.
    Blank becomes NA. Returns the `string` dtype.
    """
    s = nfkc(values)
    s = s.str.replace(_INVISIBLE_RE, "", regex=True)
    s = s.str.replace(_LEADING_QUOTE_RE, "", regex=True)
    s = s.str.upper()
    s = s.str.replace(_FLOAT_ZERO_RE, r"\1", regex=True)
    return s.mask(_true(s == ""))


def _true(mask: pd.Series) -> np.ndarray:
    """A nullable boolean result as a plain numpy mask, NA counting as False."""
    return np.asarray(mask.fillna(False), dtype=bool)


def _ascii_matrix(strings: pd.Series, width: int) -> np.ndarray:
    """Pack equal-length ASCII strings into a (n, width) uint8 matrix of character codes.

    One join and one frombuffer: no per-row Python work beyond materialising the strings.
    """
    if len(strings) == 0:
        return np.empty((0, width), dtype=np.uint8)
    joined = "".join(strings.to_numpy(dtype=object).tolist()).encode("ascii")
    return np.frombuffer(joined, dtype=np.uint8).reshape(-1, width).copy()


def _check_bytes(matrix: np.ndarray) -> np.ndarray:
    """The expected check character (as an ASCII code) for each row's first 17 digits."""
    # A float32 matrix-vector product goes through BLAS; every partial sum is an
    # integer far below 2**24, so it is exact. The ASCII offset comes off afterwards.
    weighted = matrix[:, :17].astype(np.float32) @ ID_WEIGHTS.astype(np.float32)
    total = weighted.astype(np.int64) - ord("0") * int(ID_WEIGHTS.sum())
    return _CHECK_BYTES[total % 11]


def _digits_value(matrix: np.ndarray, start: int, stop: int) -> np.ndarray:
    """The decimal number spelled by columns start..stop-1 of an ASCII digit matrix."""
    digits = matrix[:, start:stop].astype(np.int64) - ord("0")
    powers = 10 ** np.arange(stop - start - 1, -1, -1, dtype=np.int64)
    return digits @ powers


def _is_real_date(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Whether (year, month, day) is a date of the proleptic Gregorian calendar."""
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    month_days = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)
    valid_month = (month >= 1) & (month <= 12)
    last_day = month_days[np.where(valid_month, month, 0)] + (leap & (month == 2))
    return valid_month & (day >= 1) & (day <= last_day)


def _yyyymmdd_bound(
    report_month_end: pd.Series | pd.Timestamp | None, index: pd.Index
) -> np.ndarray:
    """The latest acceptable birth date per row as yyyymmdd (int64; no bound: 99991231)."""
    unbounded = 99991231  # exact in a float, unlike int64's max, and above every real date
    if report_month_end is None:
        return np.full(len(index), unbounded, dtype=np.int64)
    if isinstance(report_month_end, pd.Series):
        ends = pd.to_datetime(report_month_end.reindex(index), errors="coerce")
        number = ends.dt.year * 10000 + ends.dt.month * 100 + ends.dt.day
        return np.asarray(number.astype("Float64").fillna(unbounded), dtype=np.int64)
    end = pd.Timestamp(report_month_end)
    if pd.isna(end):
        return np.full(len(index), unbounded, dtype=np.int64)
    return np.full(len(index), end.year * 10000 + end.month * 100 + end.day, dtype=np.int64)


def normalise_ids(
    values: pd.Series, report_month_end: pd.Series | pd.Timestamp | None
) -> tuple[pd.Series, pd.Series]:
    """Normalise and validate ID numbers.

    Returns `(ids, codes)`, both `string` dtype on `values`' index: the canonical
    18-character ID (legacy 15-digit numbers upgraded: `19` inserted after the
    6-digit region and the check digit computed) or NA, and the error code or NA.
    Codes, first failing wins: `id_scientific` (Excel destroyed the number),
    `id_format`, `id_checksum`, `id_region`, `id_birth_date`. Blank input gives NA
    and no code: whether blank is `missing` depends on the column, which the frame
    normaliser knows.

    `report_month_end`: the latest acceptable birth date — one timestamp for all rows,
    a Series aligned with `values` (one batch holds many report months; NaT means no
    upper bound for that row), or None for no upper bound.
    """
    index = values.index
    cleaned = clean_id_text(values)
    present = _true(cleaned.notna())

    scientific = _true(cleaned.str.fullmatch(_SCIENTIFIC_RE))
    is18 = _true(cleaned.str.fullmatch(ID18_RE))
    is15 = _true(cleaned.str.fullmatch(_ID15_RE))
    bad_format = present & ~scientific & ~is18 & ~is15

    # One 18-wide matrix for all well-formed IDs; legacy rows get "19" spliced in and
    # their check character filled in from the computed one, so they pass the checksum
    # by construction and go through the same region and date checks.
    pos18 = np.flatnonzero(is18)
    pos15 = np.flatnonzero(is15)
    m18 = _ascii_matrix(cleaned.iloc[pos18], 18)
    m15 = _ascii_matrix(cleaned.iloc[pos15], 15)
    century = np.tile(np.frombuffer(b"19", dtype=np.uint8), (len(pos15), 1))
    m15 = np.hstack([m15[:, :6], century, m15[:, 6:], np.zeros((len(pos15), 1), np.uint8)])
    matrix = np.vstack([m18, m15])
    positions = np.concatenate([pos18, pos15])

    expected = _check_bytes(matrix)
    legacy = np.arange(len(positions)) >= len(pos18)
    matrix[legacy, 17] = expected[legacy]
    checksum_ok = matrix[:, 17] == expected

    region_ok = _PROVINCE_TABLE[_digits_value(matrix, 0, 2)]

    year = _digits_value(matrix, 6, 10)
    month = _digits_value(matrix, 10, 12)
    day = _digits_value(matrix, 12, 14)
    birth = year * 10000 + month * 100 + day
    bound = _yyyymmdd_bound(report_month_end, index)[positions]
    date_ok = _is_real_date(year, month, day) & (birth >= EARLIEST_BIRTH) & (birth <= bound)

    sub_codes = np.select(
        [~checksum_ok, ~region_ok, ~date_ok],
        ["id_checksum", "id_region", "id_birth_date"],
        default="",
    )
    codes = np.full(len(index), None, dtype=object)
    codes[scientific] = "id_scientific"
    codes[bad_format] = "id_format"
    checked = sub_codes.astype(object)
    checked[sub_codes == ""] = None
    codes[positions] = checked

    # An 18-character value that passed is already canonical as cleaned; only legacy
    # numbers need building, from their slices and the computed check character.
    good = np.zeros(len(index), dtype=bool)
    good[positions[sub_codes == ""]] = True
    ids = cleaned.where(good)
    upgrade = np.zeros(len(index), dtype=bool)
    upgrade[positions[legacy & (sub_codes == "")]] = True
    if upgrade.any():
        old = cleaned[upgrade]
        check = expected[legacy][sub_codes[legacy] == ""].view("S1").astype("U1")
        ids[upgrade] = (old.str.slice(0, 6) + "19" + old.str.slice(6) + check).to_numpy()
    return ids, pd.Series(codes, index=index, dtype="string")


def birth_date_from_id(ids: pd.Series) -> pd.Series:
    """The birth date encoded in normalised 18-character IDs (`datetime64[s]`; NaT if none)."""
    s = as_text(ids)
    shaped = s.where(_true(s.str.fullmatch(ID18_RE)))
    dates = pd.to_datetime(shaped.str.slice(6, 14), format="%Y%m%d", errors="coerce")
    return dates.astype("datetime64[s]")


_KEY_MEMO_LIMIT = 250_000
"""Keys remembered per process (~50 MB): a landing worker sees the same women on every
month's rosters of its villages, and a keyed hash costs ~2 µs where a lookup costs ~0.1."""
_key_memo: dict[bytes, dict[str, str]] = {}


def person_key(ids: pd.Series, secret: bytes) -> pd.Series:
    """HMAC-SHA256 (hex) of each normalised ID under the run's secret; NA stays NA.

    A keyed hash, not a plain one: the ID space is small enough (regions x dates x
    1000) to brute-force an unkeyed SHA-256. Each distinct ID is hashed once, and once
    per process while it is remembered (`_KEY_MEMO_LIMIT`).
    """
    s = as_text(ids)
    memo = _key_memo.setdefault(secret, {})
    if len(memo) > _KEY_MEMO_LIMIT:
        memo.clear()
    # Positions into the distinct IDs (NA: -1), then one take: `Series.map(dict)` over a
    # batch's rows cost four times the hashing.
    positions, distinct = pd.factorize(s)
    keys: list[str] = []
    for value in distinct.tolist():
        key = memo.get(value)
        if key is None:
            # hmac.digest: the one-shot C path, several times faster than hmac.new(...).
            key = memo[value] = hmac.digest(secret, value.encode("utf-8"), "sha256").hex()
        keys.append(key)
    hashed = pd.array(keys, dtype="string").take(positions, allow_fill=True)
    return pd.Series(hashed, index=s.index)


def mask_id_value(s: str | None) -> str | None:
    """Mask one ID for display: `654226********002X`.

    An 18-character value keeps its first 6 (region) and last 4 characters. Anything
    else keeps at most its first 3 and last 2, fewer when short, so that a mask never
    reveals more than 10 characters nor most of a short value. Spaces and full-width
    forms are cleaned first (so a pasted ID still masks as an ID); blank gives None.
    """
    if s is None or (not isinstance(s, str) and pd.isna(s)):
        return None
    masked = mask_id(pd.Series([s], dtype="string")).iloc[0]
    return None if pd.isna(masked) else str(masked)


def _mask_lengths(length: int) -> tuple[int, int]:
    """How many leading and trailing characters a value of this length may show."""
    if length == 18:
        return 6, 4
    # Reveal at most about a third of a short value, never more than 3 + 2.
    return min(3, length // 4), min(2, length // 6)


def mask_id(ids: pd.Series) -> pd.Series:
    """Vectorised `mask_id_value`; returns the `string` dtype, NA for blank."""
    s = clean_id_text(ids)
    lengths = s.str.len()
    out = pd.Series(pd.NA, index=s.index, dtype="string")
    # Few distinct lengths occur, so loop over lengths and slice each group at once.
    for length in lengths.dropna().unique().tolist():
        rows = _true(lengths == length)
        head, tail = _mask_lengths(int(length))
        group = s[rows]
        stars = "*" * (int(length) - head - tail)
        masked = group.str.slice(0, head) + stars + group.str.slice(int(length) - tail)
        # Positional assignment: an index with repeated labels must not realign.
        out[rows] = masked.to_numpy()
    return out
