"""A seeded, realistic synthetic county: upload files as bytes, plus an answer key.

The example inbox of the README and the fixtures of every end-to-end test come from
here. Pure: `generate_county(spec)` returns file contents and arrival times; nothing
is written to disk and no environment is read. The same spec gives the same bytes.

World model (per village, month by month, vectorised over women with numpy):
a roster of married women 15-49 (常住/流入/流出 about 80/15/5 %, children,
contraceptive method and its date, the last 三查 check), births (about
`monthly_birth_rate` of the women a month, sex ratio about 106, birth order mostly
1-2), the postpartum method (放环/结扎/皮埋 at the hospital two months later),
other procedures, check campaigns (March-May, July-September), pre-pregnancy exams,
police events (出生登记, 迁入 by marriage, 迁出, deaths of older people), and a fee
ledger (cases of the year, earlier cases with arrears, cumulative payments).

Files (`GeneratedFile.path` = `YYYY-MM/<source>/[<institution>/]<name>`): every
village x (births, women, fees), every police station (township) x hukou, every
institution x (births, procedures, checkups, prepregnancy), every month; empty months
get a header-only file. Arrival: mostly day 1-5 of the next month, `late_share` of the
files of earlier months after the deadline. Styles vary by reporting unit (a clerk
keeps her habits; a few change clerks mid-year): CSV in UTF-8, UTF-8 with BOM, GBK or
GB18030, or XLSX (title row, 填报单位 line, a blank row, a trailing 合计 row, real date
cells or serial numbers); headers by Chinese name, alias, English name, with `*`
markers or full-width spaces; every date, sex, yes/no and money spelling of
uploads.md; full-width digits, lower-case `x`, legacy 15-digit IDs of older women,
leading `'` in CSV IDs, a 序号 column, optional columns left out. No two uploads share
their bytes unless planted as a duplicate (uploads.md treats same bytes as one upload):
a CSV that would repeat another's bytes (an empty month) gets a title line naming unit and
month, and every XLSX carries its export time.

Faults (`spec.faults`, the default) are planted in fixed places: villages 0..n-2 in
turn, months relative to `first_month`/`last_month`; the last village misses its
uploads of the second month. `faults=False` gives a clean county (natural late uploads
aside). Planted women and mothers are extra roster members kept out of the random
dynamics, so no fault disturbs another.

The answer key (`AnswerKey`, pandas frames):

- `uploads`: one row per generated file — path, file_name, source, kind, unit,
  report_month (`YYYY-MM`, null for a bad name), arrived_at, rows (data rows; null when
  quarantined or a duplicate, as they are not read), late, status (`loaded`,
  `superseded`, `duplicate`, `quarantined`) and
  reason_code (quarantines: `lock_file`, `unrecognised_name`,
  `missing_required_columns`).
- `births`: one row per generated birth — birth_id, mother_id, mother_name,
  village_code, birth_date, child_sex (the truth: hospital and police), village_sex
  (what the village wrote), birth_order, policy_status, twin, in_village, in_hospital,
  in_police (as the reconciliation can see them within the generated months),
  status (`matched`, `missing_in_village`, `pending`, `village_only`, `conflict`; null
  when no generated file holds the birth), matched_by (`id`, `name`, null),
  village_report_month (the earliest upload month of a valid village row for it, null
  if none; the mistyped mother ID is an error row and reports nothing),
  reported_on_time (that month is the birth month or the next, whenever the upload
  arrived; false when no valid row is there and that upload is due; null while
  pending), village_path/village_row,
  hospital_path/hospital_row, police_path/police_row, case (the planted fault, or
  `missing_upload` for a birth lost with the missing upload, or null).
- `women`: one row per planted woman and case — case, id_number, name, village_code,
  other_village_code, report_month, event_date, note.
- `birth_figures`: the generator's own birth counts per (area_code, area_level, month)
  for every village, township and county with a birth: births, policy_known,
  policy_in, order_known, order_3plus, not_on_time (漏报), male, female
  (`birth_figures()`; the end-to-end test compares the mart with it).
- `target_faults`: the planted bad rows of targets.csv (row_number, indicator, check,
  rule `target_row_invalid`, severity).
- `faults`: one row per place a planted fault (and every natural late upload) shows —
  fault, path, row_number (1 = first row under the header; null for file-level),
  source, kind, unit, report_month, expect_in (`dq_issues`, `uploads`,
  `recon_births`, `recon_women`), rule (the dq rule or quarantine reason code), dimension,
  severity, planted, note. A null `rule` marks a trap that must *not* raise an issue
  (twins, a correction, a move-out handled next month, a check only the hospital saw).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd
import xlsxwriter

from transforms.templates import Column, Template, load_contract

Arr = npt.NDArray[Any]
_S: Final = np.dtypes.StringDType()
BIG: Final = 10**6  # "never" as a month index

# ----------------------------------------------------------------------------- places

TOWNSHIP_NAMES: Final = (
    "和什托洛盖镇",
    "查干库勒乡",
    "和布克赛尔镇",
    "夏孜盖乡",
    "铁布肯乌散乡",
    "巴音傲瓦乡",
    "莫特格乡",
    "伊克乌图布拉格牧场",
)
_TOWNSHIP_PREFIX: Final = ("乌兰", "巴嘎", "哈拉", "阿克", "萨尔", "布尔", "吉尔", "额尔")
_TOWNSHIP_SUFFIX: Final = ("布拉格乡", "托洛盖乡", "乌苏乡", "郭勒乡", "陶勒盖乡")
VILLAGE_NAMES: Final = (
    "查干托洛盖村",
    "和什托洛盖村",
    "巴音布拉格村",
    "乌兰布拉格村",
    "查干库勒村",
    "阿克乔克村",
    "塔斯特村",
    "哈拉苏村",
    "江格斯村",
    "布尔干村",
    "萨尔托海村",
    "阔克托别村",
    "莫特格村",
    "夏孜盖村",
    "铁布肯村",
    "伊克乌图村",
    "那仁和布克村",
    "哈吉尔特村",
    "吉尔格勒特村",
    "乌兰托洛盖村",
    "巴音傲瓦村",
    "察和特村",
    "白杨河村",
    "红山村",
)
_VILLAGE_PREFIX: Final = (
    "查干",
    "乌兰",
    "巴音",
    "哈拉",
    "阿克",
    "萨尔",
    "布尔",
    "吉尔",
    "额尔",
    "赛尔",
    "乌图",
    "莫特",
    "巴嘎",
    "伊克",
    "那仁",
    "阿尔",
)
_VILLAGE_SUFFIX: Final = (
    "托洛盖",
    "布拉格",
    "乌苏",
    "陶勒盖",
    "库勒",
    "敖包",
    "塔拉",
    "郭勒",
    "浩特",
    "恩格",
    "淖尔",
    "陶海",
)
# Birthplaces of women whose ID was issued elsewhere (in-migrants, brides from afar).
OTHER_REGIONS: Final = (
    "654201",
    "654202",
    "654221",
    "654223",
    "654224",
    "650102",
    "650104",
    "652301",
    "620102",
    "620502",
    "410102",
    "411321",
    "510104",
    "511602",
    "370102",
    "130104",
    "622421",
    "640104",
)

# ------------------------------------------------------------------------------ names

_HAN_SURNAMES: Final = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
    "苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史"
)
_HAN_FEMALE: Final = (
    "丽娟芳燕霞梅红玲静敏婷雪莉慧琴艳萍秀英华兰凤洁佳欣悦怡晶瑶娜丹倩颖蕾月琳露云春桂淑珍翠荣美"
)
_HAN_MALE: Final = (
    "伟强军勇杰涛明超刚斌辉鹏磊峰龙海波建国东新平文江鑫宇浩然轩志俊飞林成力永立亮晨阳博凯"
)
_MONGOL_FEMALE: Final = (
    "其其格",
    "乌兰",
    "萨仁",
    "娜仁",
    "高娃",
    "图雅",
    "斯琴",
    "琪琪格",
    "乌云",
    "托娅",
    "萨日娜",
    "阿拉坦其其格",
    "乌日娜",
    "斯琴高娃",
    "塔娜",
    "敖登",
    "格日勒",
    "苏日娜",
    "吉雅",
)
_MONGOL_MALE: Final = (
    "巴特尔",
    "巴图",
    "朝鲁",
    "苏和",
    "额尔敦",
    "孟和",
    "宝音",
    "那顺",
    "毕力格",
    "吉日格勒",
    "哈斯",
    "阿拉腾",
    "布和",
    "特木尔",
    "宝力道",
)
_KAZAKH_FEMALE: Final = (
    "古丽娜尔",
    "阿依古丽",
    "加娜尔",
    "阿依努尔",
    "古丽米拉",
    "玛依拉",
    "阿依达娜",
    "萨吾列",
    "热依汗",
    "巴合提古丽",
    "古丽扎达",
    "帕提古丽",
    "米日古丽",
)
_KAZAKH_MALE: Final = (
    "努尔兰",
    "叶尔兰",
    "别克",
    "江布尔",
    "阿斯哈尔",
    "哈那提",
    "巴合提",
    "吐尔逊",
    "赛力克",
    "达吾列提",
    "叶尔肯",
    "加尔肯",
    "艾力",
    "买买提",
    "热合曼",
)
ETHNICITIES: Final = ("汉族", "蒙古族", "哈萨克族", "维吾尔族", "回族")
_ETH_P: Final = (0.45, 0.28, 0.20, 0.04, 0.03)

# ----------------------------------------------------------------------------- codes

RESIDENCES: Final = ("常住", "流入", "流出")
METHODS: Final = ("上环", "结扎", "皮埋", "药具", "其他", "无")
IUD, STERIL, IMPLANT, PILLS, OTHER, NONE = range(6)
_PROC_METHOD: Final = {"放环": IUD, "取环": NONE, "结扎": STERIL, "皮埋": IMPLANT}
ID_WEIGHTS: Final = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], np.int64)
CHECK_CHARS: Final = "10X98765432"
_FULLWIDTH: Final = str.maketrans("0123456789Xx", "０１２３４５６７８９Ｘｘ")

# The dq rule each planted fault raises: (expect_in, rule, dimension, severity).
FAULT_RULES: Final[dict[str, tuple[str, str | None, str | None, str | None]]] = {
    "bad_check_digit": ("dq_issues", "id_checksum", "validity", "error"),
    "id_scientific": ("dq_issues", "id_scientific", "validity", "error"),
    "duplicate_in_file": ("dq_issues", "duplicate_in_file", "uniqueness", "error"),
    "missing_required_column": ("uploads", "missing_required_columns", None, None),
    "unrecognised_name": ("uploads", "unrecognised_name", None, None),
    "lock_file": ("uploads", "lock_file", None, None),
    "duplicate_upload": ("uploads", None, None, None),
    "correction": ("uploads", None, None, None),
    "late_upload": ("dq_issues", "upload_late", "timeliness", "warning"),
    "missing_upload": ("dq_issues", "upload_missing", "completeness", "warning"),
    "birth_missing_in_village": (
        "dq_issues",
        "birth_missing_in_village",
        "completeness",
        "warning",
    ),
    "twins": ("recon_births", None, None, None),
    "mistyped_mother_id": ("dq_issues", "id_checksum", "validity", "error"),
    "sex_conflict": ("dq_issues", "birth_sex_conflict", "consistency", "warning"),
    "dead_on_roster": ("dq_issues", "roster_dead_or_moved_out", "accuracy", "warning"),
    "moved_out": ("recon_women", None, None, None),
    "stale_method": ("dq_issues", "roster_stale_method", "accuracy", "warning"),
    "hospital_only_check": ("recon_women", None, None, None),
    "two_villages": ("dq_issues", "roster_duplicate_person", "uniqueness", "warning"),
    "fee_jump": ("dq_issues", "fee_paid_to_date_continuity", "consistency", "warning"),
    "fee_overpaid": ("dq_issues", "exceeds_column", "consistency", "error"),
    "pending_birth": ("recon_births", None, None, None),
    "village_only_birth": ("recon_births", None, None, None),
    "late_report": ("recon_births", None, None, None),
}


# ------------------------------------------------------------------------- public API


@dataclass(frozen=True)
class CountySpec:
    """What to generate. Months are `first_month..last_month` of `year`."""

    seed: int = 7
    county_code: str = "654226"
    county_name: str = "和布克赛尔蒙古自治县"
    townships: int = 3
    villages_per_township: int = 4
    women_per_village: int = 60
    year: int = 2026
    first_month: int = 1
    last_month: int = 9
    faults: bool = True
    as_of: date | None = None
    monthly_birth_rate: float = 0.008
    late_share: float = 0.03
    xlsx_share: float = 0.3
    deadline_day: int = 5

    def __post_init__(self) -> None:
        if not (len(self.county_code) == 6 and self.county_code.isdigit()):
            raise ValueError("county_code must have 6 digits")
        if not 1 <= self.first_month <= self.last_month <= 12:
            raise ValueError("need 1 <= first_month <= last_month <= 12")
        if self.townships < 1 or self.villages_per_township < 1 or self.women_per_village < 5:
            raise ValueError("need at least one township, one village and five women")
        if self.villages_per_township > 799:
            raise ValueError("at most 799 villages per township (codes 201-999)")
        if self.faults and self.townships * self.villages_per_township < 2:
            raise ValueError("planted faults need at least two villages")
        if self.faults and self.last_month - self.first_month < 3:
            raise ValueError("planted faults need at least four months")

    @property
    def effective_as_of(self) -> date:
        """`as_of`, by default the day after the deadline of the last month's uploads."""
        if self.as_of is not None:
            return self.as_of
        y, m = divmod(_mi(self.year, self.last_month) + 1, 12)
        return date(y, m + 1, self.deadline_day + 1)


@dataclass(frozen=True)
class GeneratedFile:
    """One upload: path relative to the inbox, its bytes, its arrival (naive local time)."""

    path: str
    data: bytes
    arrived_at: datetime

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


@dataclass(frozen=True, eq=False)
class AnswerKey:
    """What the pipeline should find; see the module docstring for the columns."""

    uploads: pd.DataFrame
    births: pd.DataFrame
    women: pd.DataFrame
    faults: pd.DataFrame
    birth_figures: pd.DataFrame = field(default_factory=pd.DataFrame)
    target_faults: pd.DataFrame = field(default_factory=pd.DataFrame)


@dataclass(frozen=True, eq=False)
class GeneratedCounty:
    """The inbox files, the reference folder (name -> bytes) and the answer key."""

    spec: CountySpec
    files: tuple[GeneratedFile, ...]
    reference: dict[str, bytes]
    answer_key: AnswerKey

    def file(self, path: str) -> GeneratedFile:
        for f in self.files:
            if f.path == path:
                return f
        raise KeyError(path)


# ------------------------------------------------------------------------- ID numbers


def id_check_digit(first17: str) -> str:
    """GB 11643-1999 check character (ISO 7064 MOD 11-2) of 17 ASCII digits."""
    if len(first17) != 17 or not first17.isdigit() or not first17.isascii():
        raise ValueError(f"need 17 digits, got {first17!r}")
    return CHECK_CHARS[sum(int(c) * int(w) for c, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def check_digits(first17: Sequence[str] | Arr) -> Arr:
    """Vectorised `id_check_digit` (object array of one-character strings)."""
    raw = np.asarray([s.encode("ascii") for s in first17], dtype="S17")
    if raw.size == 0:
        return np.array([], dtype=object)
    digits = raw.view(np.uint8).reshape(-1, 17).astype(np.int64) - 48
    return np.array(list(CHECK_CHARS), dtype=object)[(digits * ID_WEIGHTS).sum(axis=1) % 11]


def upgrade_id15(id15: str) -> str:
    """A legacy 15-digit number as 18 digits (century 19 inserted, check digit computed)."""
    first17 = id15[:6] + "19" + id15[6:]
    return first17 + id_check_digit(first17)


# ------------------------------------------------------------------------ month maths


def _mi(year: int, month: int) -> int:
    return year * 12 + month - 1


def _ym(mi: int) -> str:
    y, m = divmod(mi, 12)
    return f"{y:04d}-{m + 1:02d}"


def _yyyymm(mi: int) -> str:
    y, m = divmod(mi, 12)
    return f"{y:04d}{m + 1:02d}"


def _mstart(mi: Arr | int) -> Arr:
    """First day of month index `mi` as datetime64[D]."""
    return (
        (np.asarray(mi, dtype=np.int64) - 1970 * 12).astype("datetime64[M]").astype("datetime64[D]")
    )


def _mi_of(d: Arr) -> Arr:
    return np.asarray(d).astype("datetime64[M]").astype(np.int64) + 1970 * 12


def _days_in(mi: Arr | int) -> Arr:
    return (_mstart(np.asarray(mi) + 1) - _mstart(mi)).astype(np.int64)


def _day_in(rng: np.random.Generator, mi: Arr | int, lo: int = 1, hi: int = 31) -> Arr:
    """A random day `lo..hi` (clipped to the month) of month `mi`, as datetime64[D]."""
    mi = np.asarray(mi, dtype=np.int64)
    days = _days_in(mi)
    top = np.minimum(days, hi)
    low = np.minimum(lo, top)
    offset = low + (rng.random(mi.shape) * (top - low + 1)).astype(np.int64) - 1
    return _mstart(mi) + offset.astype("timedelta64[D]")


def _to_date(d: Any) -> date:
    return date.fromisoformat(str(np.asarray(d).astype("datetime64[D]")))


def _ymd(d: Arr) -> tuple[Arr, Arr, Arr]:
    d = np.asarray(d, dtype="datetime64[D]")
    y = d.astype("datetime64[Y]").astype(np.int64) + 1970
    m = d.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day = (d - d.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1
    return y, m, day


# -------------------------------------------------------------------------- geography


@dataclass(frozen=True)
class Geography:
    """Codes and names of the county's townships, villages and institutions."""

    county_code: str
    county_name: str
    township_codes: tuple[str, ...]
    township_names: tuple[str, ...]
    village_codes: tuple[str, ...]
    village_names: tuple[str, ...]
    village_township: tuple[int, ...]
    institution_codes: tuple[str, ...]
    institution_names: tuple[str, ...]
    institution_township: tuple[int, ...]

    @property
    def county_hospital(self) -> int:
        return len(self.township_codes)

    @property
    def mch(self) -> int:
        """The county 妇幼保健院."""
        return len(self.township_codes) + 1


def _name_list(
    base: Sequence[str], prefixes: Sequence[str], suffixes: Sequence[str], tail: str, n: int
) -> list[str]:
    names = list(dict.fromkeys(base))
    for p in prefixes:
        for s in suffixes:
            if len(names) >= n:
                return names[:n]
            name = p + s + tail
            if name not in names:
                names.append(name)
    first = list(names)
    for prefix in "新东西南北前后上下中":
        names.extend(prefix + x for x in first)
        if len(names) >= n:
            break
    return names[:n]


def build_geography(spec: CountySpec) -> Geography:
    """The areas and institutions of `spec` (deterministic, no randomness)."""
    n_t, per = spec.townships, spec.villages_per_township
    t_names = _name_list(TOWNSHIP_NAMES, _TOWNSHIP_PREFIX, _TOWNSHIP_SUFFIX, "", n_t)
    t_codes = [f"{spec.county_code}{100 + i:03d}" for i in range(n_t)]
    v_names = _name_list(VILLAGE_NAMES, _VILLAGE_PREFIX, _VILLAGE_SUFFIX, "村", n_t * per)
    v_codes = [f"{t_codes[t]}{201 + j:03d}" for t in range(n_t) for j in range(per)]
    v_town = [t for t in range(n_t) for _ in range(per)]
    i_codes = [f"H{c}" for c in t_codes] + [f"H{spec.county_code}001", f"H{spec.county_code}002"]
    i_names = [f"{n}卫生院" for n in t_names] + [
        f"{spec.county_name}人民医院",
        f"{spec.county_name}妇幼保健院",
    ]
    i_town = [*range(n_t), 0, 0]
    return Geography(
        spec.county_code,
        spec.county_name,
        tuple(t_codes),
        tuple(t_names),
        tuple(v_codes),
        tuple(v_names),
        tuple(v_town),
        tuple(i_codes),
        tuple(i_names),
        tuple(i_town),
    )


# ------------------------------------------------------------------- reference files


def _csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")


def areas_csv(spec: CountySpec) -> bytes:
    """reference/areas.csv: `code,name,level,parent_code`."""
    g = build_geography(spec)
    rows = [(g.county_code, g.county_name, "county", "")]
    rows += [
        (c, n, "township", g.county_code)
        for c, n in zip(g.township_codes, g.township_names, strict=True)
    ]
    rows += [
        (c, n, "village", g.township_codes[t])
        for c, n, t in zip(g.village_codes, g.village_names, g.village_township, strict=True)
    ]
    return _csv_bytes(pd.DataFrame(rows, columns=["code", "name", "level", "parent_code"]))


def institutions_csv(spec: CountySpec) -> bytes:
    """reference/institutions.csv: `code,name,township_code`."""
    g = build_geography(spec)
    rows = [
        (c, n, g.township_codes[t])
        for c, n, t in zip(
            g.institution_codes, g.institution_names, g.institution_township, strict=True
        )
    ]
    return _csv_bytes(pd.DataFrame(rows, columns=["code", "name", "township_code"]))


COUNTY_TARGETS: Final[tuple[tuple[str, str, float, float | None], ...]] = (
    ("policy_compliance_rate", ">=", 87, None),
    ("multi_child_rate", "<=", 1.0, None),
    ("fee_collection_rate", ">=", 70, None),
    ("fee_arrears_collection_rate", ">=", 40, None),
    ("three_checks_rate", ">=", 95, None),
    ("three_checks_rate_2plus", ">=", 96, None),
    ("sex_ratio_at_birth", "between", 103, 107),
    ("contraceptive_prevalence", ">=", 85, None),
    ("long_acting_rate", ">=", 70, None),
    ("data_accuracy_rate", ">=", 99, None),
    ("change_timeliness_rate", ">=", 99, None),
    ("reporting_rate", ">=", 100, None),
    ("reporting_rate_on_time", ">=", 95, None),
    ("birth_underreport_rate", "<=", 1, None),
    ("migrant_certificate_rate", ">=", 90, None),
    ("migrant_file_rate", ">=", 90, None),
    ("migrant_verified_rate", ">=", 90, None),
    ("migrant_notified_rate", ">=", 90, None),
)
_EXAM_RATE: Final = 0.12  # monthly probability for an eligible woman (see _Sim.run)
SEX_RATIO: Final = 106  # boys per 100 girls


def prepregnancy_task(spec: CountySpec) -> int:
    """A township's annual 孕前优生 task (about what its couples do in a year)."""
    return max(1, round(spec.villages_per_township * spec.women_per_village * 0.12))


def targets_csv(spec: CountySpec) -> bytes:
    """reference/targets.csv: county targets of indicators.md, township exam tasks and one
    township override (the second township's pastoral contraceptive target)."""
    g = build_geography(spec)

    def num(x: float | None) -> str:
        return "" if x is None else (f"{x:g}" if x != int(x) or x >= 10 else f"{x:.1f}")

    rows = [
        (spec.year, g.county_code, ind, op, num(t), num(hi)) for ind, op, t, hi in COUNTY_TARGETS
    ]
    rows += [
        (spec.year, c, "prepregnancy_exams", ">=", str(prepregnancy_task(spec)), "")
        for c in g.township_codes
    ]
    rows.append(
        (
            spec.year,
            g.township_codes[min(1, len(g.township_codes) - 1)],
            "contraceptive_prevalence",
            ">=",
            "80",
            "",
        )
    )
    if spec.faults:
        rows += [tuple(r[:6]) for r in _bad_target_rows(spec)]
    frame = pd.DataFrame(
        rows, columns=["year", "area_code", "indicator", "op", "target", "target_hi"]
    )
    return _csv_bytes(frame)


def _bad_target_rows(spec: CountySpec) -> list[tuple[Any, ...]]:
    """Planted bad rows of targets.csv: (year, area_code, indicator, op, target, target_hi,
    what is wrong). Each is a `target_row_invalid` issue and sets no target."""
    g = build_geography(spec)
    return [
        (spec.year, g.county_code, "births", "=>", "100", "", "op"),
        (spec.year, g.township_codes[0], "migrant_file_rate", ">=", "九十", "", "target"),
        ("二〇二六", g.county_code, "data_accuracy_rate", ">=", "99", "", "year"),
        (spec.year, g.county_code, "birth_rate", ">=", "1", "", "indicator"),
    ]


def target_faults_key(spec: CountySpec) -> pd.DataFrame:
    """Where the planted bad rows sit in targets.csv (row 1 = first row under the header)."""
    if not spec.faults:
        return pd.DataFrame(columns=["row_number", "indicator", "check", "rule", "severity"])
    first = len(COUNTY_TARGETS) + len(build_geography(spec).township_codes) + 2
    bad = _bad_target_rows(spec)
    return pd.DataFrame(
        {
            "row_number": pd.array(range(first, first + len(bad)), dtype="Int64"),
            "indicator": pd.array([r[2] for r in bad], dtype="string"),
            "check": pd.array([r[6] for r in bad], dtype="string"),
            "rule": pd.array(["target_row_invalid"] * len(bad), dtype="string"),
            "severity": pd.array(["error"] * len(bad), dtype="string"),
        }
    )


BIRTH_FIGURE_COLUMNS: Final = (
    "births",
    "policy_known",
    "policy_in",
    "order_known",
    "order_3plus",
    "not_on_time",
    "male",
    "female",
)


def birth_figures(births_key: pd.DataFrame, spec: CountySpec) -> pd.DataFrame:
    """The generator's own birth counts per (area_code, month), for every village, township
    and county (codes follow the 统计用区划代码 layout: the township is the village code's
    first 9 digits, the county its first 6), from what it planted — not from popstat.

    births: every birth some generated file holds; policy_known / order_known: births a
    valid village row reported; policy_in: of those, 政策内; order_3plus: of those, birth
    order ≥ 3; not_on_time: reported_on_time false (漏报 for good); male / female: the
    true sex. Rows only where the area has a birth in the month.
    """
    b = births_key[births_key["status"].notna()]
    known = b["in_village"].to_numpy(bool)
    base = pd.DataFrame(
        {
            "village": b["village_code"].astype(str).to_numpy(),
            "month": b["birth_date"].dt.strftime("%Y-%m").to_numpy(),
            "births": 1,
            "policy_known": known.astype(int),
            "policy_in": (known & (b["policy_status"] == "政策内").to_numpy(bool)).astype(int),
            "order_known": known.astype(int),
            "order_3plus": (known & (b["birth_order"] >= 3).fillna(False).to_numpy(bool)).astype(
                int
            ),
            "not_on_time": b["reported_on_time"].eq(False).fillna(False).to_numpy(bool).astype(int),
            "male": (b["child_sex"] == "M").to_numpy(bool).astype(int),
            "female": (b["child_sex"] == "F").to_numpy(bool).astype(int),
        }
    )
    parts = []
    for level, width in (("village", 12), ("township", 9), ("county", 6)):
        part = base.assign(area_code=base["village"].str.slice(0, width), area_level=level)
        parts.append(
            part.groupby(["area_code", "area_level", "month"], as_index=False)[
                list(BIRTH_FIGURE_COLUMNS)
            ].sum()
        )
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["area_code", "month"]).reset_index(drop=True)


def reference_files(spec: CountySpec) -> dict[str, bytes]:
    """The reference folder: areas.csv, institutions.csv, targets.csv (UTF-8, LF)."""
    return {
        "areas.csv": areas_csv(spec),
        "institutions.csv": institutions_csv(spec),
        "targets.csv": targets_csv(spec),
    }


# ------------------------------------------------------------------------ people


class _Ids:
    """Issues unique, valid ID numbers (and keeps them unique across the county)."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.issued: set[str] = set()

    def make(self, region: Arr, birth: Arr, female: Arr) -> Arr:
        n = len(region)
        out = np.empty(n, dtype=object)
        todo = np.arange(n)
        ymd = np.strings.replace(
            np.datetime_as_string(np.asarray(birth, "datetime64[D]")).astype(_S), "-", ""
        )
        while len(todo):
            first2 = self.rng.integers(0, 100, len(todo))
            last = self.rng.integers(0, 5, len(todo)) * 2 + np.where(np.asarray(female)[todo], 0, 1)
            seq = np.strings.zfill((first2 * 10 + last).astype(_S), 3)
            first17 = np.strings.add(
                np.strings.add(np.asarray(region)[todo].astype(_S), ymd[todo]), seq
            ).astype(object)
            full = first17 + check_digits(first17)
            again = []
            for j, (k, s) in enumerate(zip(todo, full, strict=True)):
                if s in self.issued:
                    again.append(j)
                else:
                    self.issued.add(s)
                    out[k] = s
            todo = todo[again]
        return out


def _pick(rng: np.random.Generator, options: Sequence[str], n: int) -> Arr:
    return np.asarray(options, dtype=object)[rng.integers(0, len(options), n)]


def _names(
    rng: np.random.Generator,
    eth: Arr,
    female: bool,
    surname: Arr | None = None,
    father: Arr | None = None,
) -> tuple[Arr, Arr]:
    """(full names, Han surnames or '') by ethnicity; children take the father's names."""
    n = len(eth)
    given_chars = _HAN_FEMALE if female else _HAN_MALE
    s = np.asarray(list(_HAN_SURNAMES), dtype=object)
    weights = np.linspace(3.0, 0.5, len(s))
    drawn = s[rng.choice(len(s), n, p=weights / weights.sum())]
    surname = drawn if surname is None else np.where(surname == "", drawn, surname)
    g1 = _pick(rng, list(given_chars), n)
    g2 = np.where(rng.random(n) < 0.6, _pick(rng, list(given_chars), n), "")
    han = surname + g1 + g2
    mongol = _pick(rng, _MONGOL_FEMALE if female else _MONGOL_MALE, n)
    dad = father if father is not None else _pick(rng, _KAZAKH_MALE, n)
    kazakh = _pick(rng, _KAZAKH_FEMALE if female else _KAZAKH_MALE, n) + "·" + dad
    names = np.select([np.isin(eth, (0, 4)), eth == 1], [han, mongol], kazakh)
    return names.astype(object), np.where(np.isin(eth, (0, 4)), surname, "").astype(object)


# ------------------------------------------------------------------------- the world


@dataclass
class _Tables:
    """Event tables the simulation produces (dicts of equal-length arrays)."""

    roster: list[dict[str, Arr]] = field(default_factory=list)
    births: list[dict[str, Any]] = field(default_factory=list)
    procedures: list[dict[str, Arr]] = field(default_factory=list)
    checks: list[dict[str, Arr]] = field(default_factory=list)
    exams: list[dict[str, Arr]] = field(default_factory=list)


def _cat(chunks: Sequence[dict[str, Arr]], keys: Sequence[str]) -> dict[str, Arr]:
    if not chunks:
        return {k: np.array([], dtype=object) for k in keys}
    return {k: np.concatenate([np.asarray(c[k]) for c in chunks]) for k in keys}


class _Sim:
    """The county's women and what happens to them, month by month."""

    def __init__(self, spec: CountySpec, geo: Geography) -> None:
        self.spec, self.geo = spec, geo
        self.rng = np.random.default_rng([spec.seed, 1])
        self.ids = _Ids(np.random.default_rng([spec.seed, 2]))
        self.F = _mi(spec.year, spec.first_month)
        self.L = _mi(spec.year, spec.last_month)
        self.start = _mstart(self.F)
        self.nv = len(geo.village_codes)
        self.vt = np.asarray(geo.village_township, dtype=np.int64)
        self.P: dict[str, Arr] = {}
        self.t = _Tables()
        self.script: list[tuple[int, int, str, Any]] = []  # (month, woman, field, value)
        self.planned_births: list[dict[str, Any]] = []
        self.roster_tags: dict[tuple[int, int], str] = {}  # (woman, month) -> fault
        self.extra_procedures: list[dict[str, Any]] = []
        self.extra_checks: list[dict[str, Any]] = []
        self.fee_plants: list[dict[str, Any]] = []
        self.women_key: list[dict[str, Any]] = []
        self.missing: tuple[int, int] | None = None  # (village, month)
        self.sex_acc = float(self.rng.random())

    # ---- pool

    def _women(
        self, village: Arr, residence: Arr, age: Arr, ref: Any, children: Arr | None = None
    ) -> dict[str, Arr]:
        rng, n = self.rng, len(village)
        eth = rng.choice(len(ETHNICITIES), n, p=_ETH_P)
        bdate = ref - (age * 365 + age // 4 + rng.integers(0, 365, n)).astype("timedelta64[D]")
        local = (residence != 1) & (rng.random(n) < 0.75)
        region = np.where(local, self.spec.county_code, _pick(rng, OTHER_REGIONS, n))
        ids = self.ids.make(region, bdate, np.ones(n, bool))
        names, _ = _names(rng, eth, True)
        h_eth = np.where(rng.random(n) < 0.9, eth, 0)
        h_names, h_surname = _names(rng, h_eth, False)
        h_birth = bdate - rng.integers(-365, 5 * 365, n).astype("timedelta64[D]")
        h_birth = np.minimum(h_birth, ref - np.timedelta64(20 * 366, "D"))
        h_region = np.where(rng.random(n) < 0.8, self.spec.county_code, region)
        h_ids = self.ids.make(h_region, h_birth, np.zeros(n, bool))
        if children is None:
            children = np.empty(n, np.int64)
            for lo, hi, p in (
                (0, 25, (0.45, 0.45, 0.10, 0, 0)),
                (25, 35, (0.12, 0.48, 0.37, 0.03, 0)),
                (35, 99, (0.05, 0.45, 0.44, 0.05, 0.01)),
            ):
                sel = (age >= lo) & (age < hi)
                children[sel] = rng.choice(5, int(sel.sum()), p=p)
        method = self._method_for(np.asarray(children))
        span = np.clip(((ref - bdate).astype(np.int64) - 20 * 365), 30, 3650)
        mdate = ref - (1 + (rng.random(n) * span).astype(np.int64)).astype("timedelta64[D]")
        mdate = np.where(method == NONE, np.datetime64("NaT"), mdate)
        mig = residence == 1
        return {
            "id": ids,
            "name": names,
            "eth": eth,
            "bdate": bdate,
            "village": np.asarray(village, np.int64),
            "residence": np.asarray(residence, np.int64),
            "children": np.asarray(children, np.int64),
            "method": method,
            "method_date": mdate.astype("datetime64[D]"),
            "check_date": np.full(n, np.datetime64("NaT"), "datetime64[D]"),
            "last_birth": np.where(
                np.asarray(children) > 0, self.F - rng.integers(6, 120, n), -BIG
            ),
            "husband_id": h_ids,
            "husband_name": h_names,
            "husband_surname": h_surname,
            "legacy": (bdate < np.datetime64("1984-01-01")) & (rng.random(n) < 0.35),
            "reserved": np.zeros(n, bool),
            "case": np.full(n, "", object),
            "entry": np.full(n, self.F, np.int64),
            "exit": np.full(n, BIG, np.int64),
            "rexit": np.full(n, BIG, np.int64),
            "exit_kind": np.full(n, "", object),
            "exit_date": np.full(n, np.datetime64("NaT"), "datetime64[D]"),
            "enter_kind": np.full(n, "", object),
            "enter_date": np.full(n, np.datetime64("NaT"), "datetime64[D]"),
            "cert": mig & (rng.random(n) < 0.96),
            "filed": mig & (rng.random(n) < 0.97),
            "verified": mig & (rng.random(n) < 0.94),
            "notified": mig & (rng.random(n) < 0.93),
            "examined": np.zeros(n, bool),
            "hosp_only": np.zeros(n, bool),
            "chk0": np.full(n, np.datetime64("NaT"), "datetime64[D]"),
            "chk1": np.full(n, np.datetime64("NaT"), "datetime64[D]"),
            "chk2": np.full(n, np.datetime64("NaT"), "datetime64[D]"),
        }

    def _method_for(self, children: Arr) -> Arr:
        rng, n = self.rng, len(children)
        out = np.empty(n, np.int64)
        table = {
            0: (0.05, 0, 0, 0.45, 0.05, 0.45),
            1: (0.62, 0.04, 0.06, 0.16, 0.03, 0.09),
            2: (0.42, 0.44, 0.05, 0.05, 0.02, 0.02),
        }
        for k, p in table.items():
            sel = np.minimum(children, 2) == k
            out[sel] = rng.choice(6, int(sel.sum()), p=np.asarray(p) / sum(p))
        return out

    def _append(self, new: dict[str, Arr]) -> Arr:
        start = len(self.P["id"]) if self.P else 0
        if not self.P:
            self.P = {k: np.asarray(v).copy() for k, v in new.items()}
        else:
            self.P = {k: np.concatenate([self.P[k], np.asarray(new[k])]) for k in self.P}
        return np.arange(start, len(self.P["id"]))

    def init_pool(self) -> None:
        rng, spec = self.rng, self.spec
        wpv = spec.women_per_village
        sizes = wpv + rng.integers(-(wpv // 10), wpv // 10 + 1, self.nv)
        village = np.repeat(np.arange(self.nv), sizes)
        n = len(village)
        residence = rng.choice(3, n, p=(0.80, 0.15, 0.05))
        ages = np.arange(20, 50)
        w = np.where(ages < 23, 0.4, np.where(ages > 45, 0.8, 1.0))
        age = rng.choice(ages, n, p=w / w.sum())
        self._append(self._women(village, residence, age, self.start))
        # Newcomers: brides registered by 迁入, and in-migrants who simply arrive.
        months = np.arange(self.F + 1, self.L + 1)
        if len(months):
            for kind, rate, res in (("迁入", 0.003, 0), ("", 0.004, 1)):
                counts = rng.poisson(sizes[:, None] * rate, (self.nv, len(months)))
                v = np.repeat(np.repeat(np.arange(self.nv), len(months)), counts.ravel())
                m = np.repeat(np.tile(months, self.nv), counts.ravel())
                k = len(v)
                if not k:
                    continue
                age_new = rng.integers(21, 31, k) if res == 0 else rng.integers(22, 43, k)
                kids = np.zeros(k, np.int64) if res == 0 else rng.choice(3, k, p=(0.3, 0.45, 0.25))
                new = self._women(v, np.full(k, res), age_new, _mstart(m), kids)
                new["entry"] = m
                new["enter_kind"] = np.full(k, kind, object)
                new["enter_date"] = _day_in(rng, m, 1, 25)
                if res == 0:
                    new["method"] = np.where(rng.random(k) < 0.6, NONE, PILLS)
                    new["method_date"] = np.where(
                        new["method"] == NONE, np.datetime64("NaT"), new["enter_date"]
                    ).astype("datetime64[D]")
                self._append(new)

    def finish_pool(self) -> None:
        """Aging out at 50, and the check schedule (H2 last year, H1, H2 of the year)."""
        P, rng = self.P, self.rng
        n = len(P["id"])
        y, m, _ = _ymd(P["bdate"])
        fifty = (y + 50) * 12 + m - 1
        aged = fifty < P["exit"]
        P["exit"] = np.where(aged, fifty, P["exit"])
        P["rexit"] = np.minimum(P["rexit"], fifty)
        P["exit_kind"] = np.where(aged & (P["exit"] < BIG), "age", P["exit_kind"])
        year = self.spec.year
        for k, (yy, months, p) in enumerate(
            (
                (year - 1, (9, 10, 11), (0.4, 0.4, 0.2)),
                (year, (3, 4, 5), (0.3, 0.45, 0.25)),
                (year, (7, 8, 9), (0.45, 0.4, 0.15)),
            )
        ):
            mm = np.asarray(months)[rng.choice(3, n, p=p)]
            mi = yy * 12 + mm - 1
            date_ = _day_in(rng, mi, 1, 28)
            keep = (rng.random(n) < 0.965) & ~P["hosp_only"]
            P[f"chk{k}"] = np.where(keep, date_, np.datetime64("NaT")).astype("datetime64[D]")
        # Checks before the first month are already on the roster.
        before = np.full(n, np.datetime64("NaT"), "datetime64[D]")
        for k in range(3):
            c = P[f"chk{k}"]
            ok = (c < self.start) & (P["method"] != STERIL)
            before = np.where(ok & ((before < c) | np.isnat(before)), c, before)
        older = self.start - rng.integers(200, 560, n).astype("timedelta64[D]")
        older_ok = rng.random(n) < np.where(P["method"] == STERIL, 0.4, 0.7)
        base = np.where(older_ok, older, np.datetime64("NaT"))
        before = np.where(np.isnat(before), base, before)
        new = P["entry"] > self.F
        P["check_date"] = np.where(new | P["hosp_only"], P["check_date"], before).astype(
            "datetime64[D]"
        )

    # ---- planted faults

    def _plant_woman(
        self,
        v: int,
        case: str,
        *,
        age: int = 28,
        children: int = 1,
        method: int = IUD,
        residence: int = 0,
        legacy: bool = False,
        entry: int | None = None,
    ) -> int:
        new = self._women(
            np.array([v]), np.array([residence]), np.array([age]), self.start, np.array([children])
        )
        new["method"] = np.array([method])
        new["method_date"] = np.array(
            [np.datetime64("NaT") if method == NONE else self.start - np.timedelta64(400, "D")],
            "datetime64[D]",
        )
        new["reserved"] = np.array([True])
        new["case"] = np.array([case], object)
        new["legacy"] = np.array([legacy])
        new["last_birth"] = np.array([self.F - 30 if children else -BIG])
        if entry is not None:
            new["entry"] = np.array([entry])
        return int(self._append(new)[0])

    def _key(
        self,
        case: str,
        w: int,
        month: int | None,
        note: str,
        *,
        event_date: np.datetime64 | None = None,
        other: int | None = None,
    ) -> None:
        self.women_key.append(
            {
                "case": case,
                "id_number": self.P["id"][w],
                "name": self.P["name"][w],
                "village_code": self.geo.village_codes[int(self.P["village"][w])],
                "other_village_code": None if other is None else self.geo.village_codes[other],
                "report_month": None if month is None else _ym(month),
                "event_date": None if event_date is None else _to_date(event_date),
                "note": note,
            }
        )

    def plant(self) -> None:
        F, L, nv = self.F, self.L, self.nv
        day = self._fixed_day

        def pv(i: int) -> int:
            return i % max(1, nv - 1)

        self.missing = (nv - 1, F + 1)
        # Roster row faults.
        w = self._plant_woman(pv(0), "bad_check_digit")
        self.roster_tags[(w, F + 1)] = "bad_check_digit"
        self._key("bad_check_digit", w, F + 1, "roster row with a wrong check digit")
        w = self._plant_woman(pv(1), "id_scientific")
        self.roster_tags[(w, F + 2)] = "id_scientific"
        self._key("id_scientific", w, F + 2, "ID written as 6.54226E+17 (CSV saved by Excel)")
        w = self._plant_woman(pv(2), "duplicate_in_file")
        self.roster_tags[(w, L - 1)] = "duplicate_in_file"
        self._key(
            "duplicate_in_file",
            w,
            L - 1,
            "listed twice in one roster; the second row is the duplicate",
        )
        w = self._plant_woman(pv(3), "correction", children=1)
        self.roster_tags[(w, F + 1)] = "correction"
        self._key(
            "correction",
            w,
            F + 1,
            "the original roster said one child more; the _更正 file corrects it",
        )
        w = self._plant_woman(pv(0), "legacy_id", age=46, children=2, method=STERIL, legacy=True)
        self._key("legacy_id", w, None, "written as a legacy 15-digit number by the village")
        # Deaths and moves.
        w = self._plant_woman(pv(4), "dead_on_roster", age=41, children=2)
        d = day(F + 1, 10)
        self.P["exit"][w], self.P["exit_kind"][w], self.P["exit_date"][w] = F + 1, "死亡注销", d
        for m in range(F + 2, L + 1):
            self.roster_tags[(w, m)] = "dead_on_roster"
        self._key(
            "dead_on_roster",
            w,
            F + 1,
            "police 死亡注销; the village keeps listing her",
            event_date=d,
        )
        w = self._plant_woman(pv(5), "moved_out", age=30)
        d = day(F + 2, 16)
        self.P["exit"][w], self.P["exit_kind"][w], self.P["exit_date"][w] = F + 2, "迁出", d
        self.P["rexit"][w] = F + 3
        self.roster_tags[(w, F + 2)] = "moved_out"
        self._key(
            "moved_out",
            w,
            F + 2,
            "police 迁出; on the roster of that month, gone the next",
            event_date=d,
        )
        # Stale method: 结扎 at the hospital, the roster catches up three months later.
        w = self._plant_woman(pv(6), "stale_method", age=33, children=2, method=IUD)
        d = day(F + 1, 8)
        self.extra_procedures.append(
            {"woman": w, "date": d, "procedure": "结扎", "inst": int(self.vt[pv(6)])}
        )
        for m in (F + 2, F + 3):
            self.roster_tags[(w, m)] = "stale_method"
        self.script.append((F + 4, w, "method", STERIL))
        self.script.append((F + 4, w, "method_date", d))
        self._key(
            "stale_method",
            w,
            F + 1,
            "hospital 结扎; the roster says 上环 until the fourth month after",
            event_date=d,
        )
        # A check that only the hospital knows.
        w = self._plant_woman(pv(7), "hospital_only_check", age=35, children=1, method=IUD)
        self.P["hosp_only"][w] = True
        self.P["check_date"][w] = self.start - np.timedelta64(260, "D")
        d = day(F + 1, 12)
        self.extra_checks.append({"woman": w, "date": d, "inst": int(self.vt[pv(7)])})
        self.roster_tags[(w, F + 1)] = "hospital_only_check"
        self._key(
            "hospital_only_check",
            w,
            F + 1,
            "checked at the hospital; the roster's last_check_date stays old",
            event_date=d,
        )
        # The same woman on two villages' rosters.
        va, vb = pv(8), pv(9) if pv(9) != pv(8) else (pv(8) + 1) % nv
        w = self._plant_woman(va, "two_villages", age=27, children=1)
        self.P["rexit"][w] = F + 3
        clone = {k: v[[w]].copy() for k, v in self.P.items()}
        clone["village"] = np.array([vb])
        clone["entry"] = np.array([F + 2])
        w2 = int(self._append(clone)[0])
        self.roster_tags[(w, F + 2)] = "two_villages"
        self.roster_tags[(w2, F + 2)] = "two_villages"
        # The village she left lists her as 流出 that month: she counts once, where she lives.
        self.script.append((F + 2, w, "residence", RESIDENCES.index("流出")))
        self._key(
            "two_villages",
            w,
            F + 2,
            "moved; both villages list her that month, the "
            "first as 流出: she counts once, in the other village",
            other=vb,
        )
        # Births.
        self._plan_birth(pv(9), F + 1, "birth_missing_in_village", village=None)
        self._plan_birth(pv(10), L - 1, "birth_missing_in_village", village=None)
        self._plan_birth(pv(11), F + 2, "twins", twins=True)
        self._plan_birth(pv(1), L - 1, "mistyped_mother_id", mistype=True)
        self._plan_birth(pv(2), F + 1, "sex_conflict", sex="F", village_sex="M")
        self._plan_birth(pv(3), L, "pending_birth", village=L + 1, day_=6, police_day=20)
        self._plan_birth(pv(4), F + 1, "village_only_birth", hospital=False, police=False)
        self._plan_birth(pv(5), F, "late_report", village=F + 3)
        # Fee ledger.
        self.fee_plants.append({"village": pv(8), "case": "fee_jump", "month": F + 2})
        self.fee_plants.append({"village": pv(9), "case": "fee_overpaid", "month": L})

    def _fixed_day(self, mi: int, d: int) -> Any:
        """Day `d` (clipped to the month) of month `mi`, a datetime64[D] scalar."""
        return (_mstart(mi) + np.timedelta64(min(d, int(_days_in(mi))) - 1, "D"))[()]

    def _plan_birth(
        self,
        v: int,
        month: int,
        case: str,
        *,
        village: int | bool | None = True,
        twins: bool = False,
        mistype: bool = False,
        sex: str | None = None,
        village_sex: str | None = None,
        hospital: bool = True,
        police: bool = True,
        day_: int = 9,
        police_day: int | None = None,
    ) -> None:
        w = self._plant_woman(v, case, age=26, children=0, method=NONE)
        d = self._fixed_day(month, day_)
        report = month if village is True else (None if village in (None, False) else village)
        pdate = (
            (
                self._fixed_day(month, police_day)
                if police_day is not None
                else d + np.timedelta64(12, "D")
            )
            if police
            else None
        )
        self.planned_births.append(
            {
                "woman": w,
                "date": d,
                "case": case,
                "twins": twins,
                "mistype": mistype,
                "sex": sex,
                "village_sex": village_sex,
                "report_month": report,
                "report_date": None
                if report is None
                else (
                    d + np.timedelta64(5, "D") if report == month else self._fixed_day(report, 3)
                ),
                "hospital": hospital,
                "police_date": pdate,
            }
        )

    # ---- the months

    def run(self) -> None:
        P, rng = self.P, self.rng
        n = len(P["id"])
        exam_done = P["examined"]
        sched = np.stack([_mi_of(P[f"chk{k}"]) for k in range(3)], axis=1)
        sched_ok = ~np.isnat(np.stack([P[f"chk{k}"] for k in range(3)], axis=1))
        planned: dict[int, list[dict[str, Any]]] = {}
        for b in self.planned_births:
            planned.setdefault(_mi_of(np.asarray(b["date"])).item(), []).append(b)
        pending_update: dict[int, list[tuple[int, int, np.datetime64]]] = {}
        for m in range(self.F, self.L + 1):
            month_end = _mstart(m + 1) - np.timedelta64(1, "D")
            active = (P["entry"] <= m) & (P["exit"] > m)
            natural = active & ~P["reserved"]
            r = rng.random(n)
            # Exits: move-outs (police 迁出) and in-migrants who leave.
            out = natural & (P["residence"] != 1) & (r < 0.0012)
            leave = natural & (P["residence"] == 1) & (r < 0.012)
            for sel, kind in ((out, "迁出"), (leave, "离开")):
                idx = np.flatnonzero(sel)
                P["exit"][idx] = m
                P["rexit"][idx] = m
                P["exit_kind"][idx] = kind
                P["exit_date"][idx] = _day_in(rng, np.full(len(idx), m), 1, 28)
            active &= ~(out | leave)
            natural &= ~(out | leave)
            # Residence changes (going away to work, coming back).
            r = rng.random(n)
            away = natural & (P["residence"] == 0) & (r < 0.002)
            back = natural & (P["residence"] == 2) & (r < 0.03)
            P["residence"][away] = 2
            P["residence"][back] = 0
            age = (m - _mi_of(P["bdate"])) / 12
            # Births.
            self._births(m, natural, age)
            for b in planned.get(m, []):
                self._planned_birth(m, b)
            # Postpartum methods, two months after a birth.
            self._procedures(m, natural, age, pending_update)
            for w, meth, d in pending_update.pop(m, []):
                if P["exit"][w] > m:
                    P["method"][w], P["method_date"][w] = meth, d
            # Checks.
            due = active & (P["method"] != STERIL) & ~P["hosp_only"]
            hit = (sched == m) & sched_ok & due[:, None]
            idx, k = np.nonzero(hit)
            if len(idx):
                dates = np.stack([P[f"chk{j}"] for j in range(3)], axis=1)[idx, k]
                P["check_date"][idx] = dates
                self._hospital_checks(idx, dates)
            # Pre-pregnancy exams.
            elig = (
                natural
                & np.isin(P["method"], (NONE, PILLS))
                & (P["children"] <= 1)
                & (age >= 20)
                & (age < 40)
                & (P["residence"] != 2)
                & ~exam_done
                & (m - P["last_birth"] >= 3)
            )
            idx = np.flatnonzero(elig & (rng.random(n) < _EXAM_RATE))
            if len(idx):
                exam_done[idx] = True
                inst = np.where(
                    rng.random(len(idx)) < 0.8, self.vt[P["village"][idx]], self.geo.mch
                )
                self.t.exams.append(
                    {"woman": idx, "date": _day_in(rng, np.full(len(idx), m)), "inst": inst}
                )
            # Scripted changes.
            for sm, w, fld, val in self.script:
                if sm == m:
                    P[fld][w] = val
            # The snapshot at the end of the month.
            listed = np.flatnonzero((P["entry"] <= m) & (P["rexit"] > m))
            self.t.roster.append(
                {
                    "woman": listed,
                    "month": np.full(len(listed), m),
                    "village": P["village"][listed],
                    "residence": P["residence"][listed].copy(),
                    "children": P["children"][listed].copy(),
                    "method": P["method"][listed].copy(),
                    "method_date": P["method_date"][listed].copy(),
                    "check_date": np.where(
                        P["check_date"][listed] <= month_end,
                        P["check_date"][listed],
                        np.datetime64("NaT"),
                    ),
                }
            )
        for e in self.extra_procedures:
            self.t.procedures.append(
                {
                    "woman": np.array([e["woman"]]),
                    "date": np.array([e["date"]], "datetime64[D]"),
                    "procedure": np.array([e["procedure"]], object),
                    "inst": np.array([e["inst"]]),
                }
            )
        for e in self.extra_checks:
            self._hospital_checks(
                np.array([e["woman"]]),
                np.array([e["date"]], "datetime64[D]"),
                np.array([e["inst"]]),
            )

    def _hospital_checks(self, idx: Arr, dates: Arr, inst: Arr | None = None) -> None:
        P, rng = self.P, self.rng
        if inst is None:
            u = rng.random(len(idx))
            inst = np.where(
                u < 0.88, self.vt[P["village"][idx]], np.where(u < 0.96, self.geo.mch, -1)
            )
            inst = np.where(P["residence"][idx] == 2, -1, inst)
        keep = inst >= 0
        self.t.checks.append({"woman": idx[keep], "date": dates[keep], "inst": inst[keep]})

    def _births(self, m: int, natural: Arr, age: Arr) -> None:
        P, rng = self.P, self.rng
        w_age = np.select(
            [age < 20, age < 30, age < 35, age < 40, age < 45], [0.0, 1.0, 0.8, 0.4, 0.1], 0.0
        )
        w_method = np.asarray([0.01, 0.0, 0.005, 0.12, 0.12, 1.0])[P["method"]]
        w_kids = np.asarray([1.0, 0.8, 0.15, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05])[
            np.minimum(P["children"], 9)
        ]
        weight = w_age * w_method * w_kids * natural * (m - P["last_birth"] >= 12)
        total = weight.sum()
        if total <= 0:
            return
        expected = self.spec.monthly_birth_rate * natural.sum()
        p = np.minimum(0.6, expected * weight / total)
        idx = np.flatnonzero(rng.random(len(p)) < p)
        if not len(idx):
            return
        dates = _day_in(rng, np.full(len(idx), m))
        # Sexes from a running quota (106 boys per 100 girls): a small county's sex
        # ratio is then near the norm instead of wandering by chance.
        sex = []
        for _ in idx:
            self.sex_acc += SEX_RATIO / (SEX_RATIO + 100)
            boy = self.sex_acc >= 1
            self.sex_acc -= float(boy)
            sex.append("M" if boy else "F")
        for w, d, s in zip(idx, dates, sex, strict=True):
            self.t.births.append(
                {
                    "woman": int(w),
                    "date": d,
                    "sex": str(s),
                    "case": "",
                    "twin": False,
                    "planned": None,
                }
            )
        self._after_birth(idx, m, dates, 1)

    def _after_birth(self, idx: Arr, m: int, dates: Arr, count: int) -> None:
        P = self.P
        P["children"][idx] += count
        P["last_birth"][idx] = m
        P["method"][idx] = NONE
        P["method_date"][idx] = dates

    def _planned_birth(self, m: int, b: dict[str, Any]) -> None:
        w = b["woman"]
        if b["twins"]:
            sexes = ["M", "F"]
        elif b["sex"]:
            sexes = [b["sex"]]
        else:
            self.sex_acc += SEX_RATIO / (SEX_RATIO + 100)
            boy = self.sex_acc >= 1
            self.sex_acc -= float(boy)
            sexes = ["M" if boy else "F"]
        for s in sexes:
            self.t.births.append(
                {
                    "woman": w,
                    "date": b["date"],
                    "sex": s,
                    "case": b["case"],
                    "twin": b["twins"],
                    "planned": b,
                }
            )
        self._after_birth(np.array([w]), m, np.array([b["date"]], "datetime64[D]"), len(sexes))

    def _procedures(
        self,
        m: int,
        natural: Arr,
        age: Arr,
        pending_update: dict[int, list[tuple[int, int, np.datetime64]]],
    ) -> None:
        P, rng = self.P, self.rng
        n = len(P["id"])
        kids, meth = P["children"], P["method"]
        post = natural & (P["last_birth"] == m - 2)
        r = rng.random(n)
        free = natural & ~post & (m - P["last_birth"] > 2)
        on_iud = free & (meth == IUD)
        off = free & np.isin(meth, (PILLS, NONE, OTHER))
        events: list[tuple[Arr, str, int]] = [
            (on_iud & (age < 42) & (r < 0.003), "取环", NONE),
            (on_iud & (kids >= 2) & (age < 45) & (r >= 0.003) & (r < 0.005), "结扎", STERIL),
            (off & (kids >= 1) & (r < 0.004), "放环", IUD),
            (off & (kids >= 2) & (age < 45) & (r >= 0.004) & (r < 0.0055), "结扎", STERIL),
            (off & (kids >= 1) & (r >= 0.0055) & (r < 0.0065), "皮埋", IMPLANT),
            (off & (age < 45) & (r >= 0.0065) & (r < 0.0075), "人流", -1),
        ]
        # Postpartum: 放环 / 结扎 / 皮埋 at the hospital, or pills, or nothing yet.
        pidx = np.flatnonzero(post)
        if len(pidx):
            u = rng.random(len(pidx))
            two = kids[pidx] >= 2
            choice = np.where(
                two,
                np.select(
                    [u < 0.45, u < 0.85, u < 0.90, u < 0.98], [STERIL, IUD, IMPLANT, PILLS], NONE
                ),
                np.select([u < 0.60, u < 0.65, u < 0.90], [IUD, IMPLANT, PILLS], NONE),
            )
            for code, proc in ((IUD, "放环"), (STERIL, "结扎"), (IMPLANT, "皮埋")):
                mask = np.zeros(n, bool)
                mask[pidx[choice == code]] = True
                events.append((mask, proc, code))
            pills = pidx[choice == PILLS]
            P["method"][pills] = PILLS
            P["method_date"][pills] = _day_in(rng, np.full(len(pills), m))
        # Methods switched without the hospital.
        r2 = rng.random(n)
        stop = free & (meth == PILLS) & (r2 < 0.003)
        start = free & (meth == NONE) & (kids >= 1) & (r2 < 0.01)
        for sel, code in ((stop, NONE), (start, PILLS)):
            idx = np.flatnonzero(sel)
            P["method"][idx] = code
            P["method_date"][idx] = _day_in(rng, np.full(len(idx), m))
        for mask, proc, code in events:
            idx = np.flatnonzero(mask)
            if not len(idx):
                continue
            dates = _day_in(rng, np.full(len(idx), m))
            hosp = P["residence"][idx] != 2
            inst = np.where(
                rng.random(len(idx)) < 0.85, self.vt[P["village"][idx]], self.geo.county_hospital
            )
            self.t.procedures.append(
                {
                    "woman": idx[hosp],
                    "date": dates[hosp],
                    "procedure": np.full(int(hosp.sum()), proc, object),
                    "inst": inst[hosp],
                }
            )
            if code < 0:
                continue
            # The village records it this month; late in the month, next month.
            late = (_ymd(dates)[2] >= 25) & (m < self.L)
            now = idx[~late]
            P["method"][now] = code
            P["method_date"][now] = dates[~late]
            for w, d in zip(idx[late], dates[late], strict=True):
                pending_update.setdefault(m + 1, []).append((int(w), code, d))


# ----------------------------------------------------------------------- births table


def _births_table(sim: _Sim) -> pd.DataFrame:
    """Every birth with its sources decided (hospital, police, village report)."""
    P, rng, geo = sim.P, np.random.default_rng([sim.spec.seed, 3]), sim.geo
    rows = sim.t.births
    n = len(rows)
    B = pd.DataFrame(
        {
            "woman": np.array([r["woman"] for r in rows], np.int64),
            "birth_date": np.array([r["date"] for r in rows], "datetime64[D]"),
            "sex": np.array([r["sex"] for r in rows], object),
            "case": np.array([r["case"] for r in rows], object),
            "twin": np.array([r["twin"] for r in rows], bool),
        }
    )
    B = B.sort_values(["birth_date", "woman", "sex"], kind="stable").reset_index(drop=True)
    # Planned births are found again by their mother (each has her own).
    plans = {r["woman"]: r["planned"] for r in rows if r["planned"] is not None}
    w = B["woman"].to_numpy()
    d = B["birth_date"].to_numpy()
    m = _mi_of(d)
    B["month"] = m
    B["village"] = P["village"][w]
    res = P["residence"][w]
    # Children before this delivery = roster count after it minus this delivery's size.
    size = B.groupby(["woman", "month"])["sex"].transform("size").to_numpy()
    rank = B.groupby(["woman", "month"]).cumcount().to_numpy()
    after = _children_after(sim, w, m)
    B["birth_order"] = after - size + rank + 1
    pol_p = np.select([B["birth_order"] <= 1, B["birth_order"] == 2], [0.95, 0.88], 0.45)
    B["policy_status"] = np.where(rng.random(n) < pol_p, "政策内", "政策外")
    # Hospital: most births in a hospital of the county; out-migrants give birth elsewhere.
    u = rng.random(n)
    in_h = u < np.select([res == 0, res == 1], [0.96, 0.98], 0.0)
    v = rng.random(n)
    inst = np.where(v < 0.6, sim.vt[B["village"]], np.where(v < 0.9, geo.county_hospital, geo.mch))
    B["inst"] = np.where(in_h, inst, -1)
    # Police: 出生登记 within weeks, for children whose hukou is here.
    u = rng.random(n)
    reg = (res != 1) & (u < 0.92)
    # ... in the birth month or the next (uploads of the police hold events of the month).
    pdate = np.minimum(
        d + rng.integers(5, 46, n).astype("timedelta64[D]"), _mstart(m + 2) - np.timedelta64(1, "D")
    )
    B["police_date"] = np.where(reg, pdate, np.datetime64("NaT")).astype("datetime64[D]")
    # Village: this month's report, or next month's.
    day = _ymd(d)[2]
    same = rng.random(n) < np.where(day <= 20, 0.85, 0.35)
    B["report_month"] = np.where(same, m, m + 1)
    last_day = _mstart(m + 1) - np.timedelta64(1, "D")
    gap = (last_day - d).astype(np.int64)
    rd_same = d + (rng.random(n) * (np.minimum(gap, 10) + 1)).astype("timedelta64[D]")
    rd_next = _day_in(rng, m + 1, 1, 25)
    B["report_date"] = np.where(same, rd_same, rd_next).astype("datetime64[D]")
    B["village_sex"] = B["sex"]
    B["mother_id_written"] = P["id"][w]
    B["mistyped"] = False
    # Twins are reported the same way by each source.
    tw = B.groupby(["woman", "month"])
    for col in ("inst", "police_date", "report_month", "report_date", "policy_status"):
        B[col] = tw[col].transform("first")
    # Planted births: their sources are scripted.
    for i in np.flatnonzero(B["case"].to_numpy() != ""):
        plan = plans[int(B.at[i, "woman"])]
        B.at[i, "inst"] = int(sim.vt[B.at[i, "village"]]) if plan["hospital"] else -1
        B.at[i, "police_date"] = (
            np.datetime64("NaT") if plan["police_date"] is None else plan["police_date"]
        )
        B.at[i, "report_month"] = -1 if plan["report_month"] is None else plan["report_month"]
        B.at[i, "report_date"] = (
            np.datetime64("NaT") if plan["report_date"] is None else plan["report_date"]
        )
        B.at[i, "policy_status"] = "政策内"
        if plan["village_sex"]:
            B.at[i, "village_sex"] = plan["village_sex"]
        if plan["mistype"]:
            B.at[i, "mistyped"] = True
            B.at[i, "mother_id_written"] = _swap_digits(P["id"][int(B.at[i, "woman"])])
    # The missing upload: that month's own births move to the next report; last month's
    # are never reported (漏报).
    if sim.missing is not None:
        mv, mm = sim.missing
        hit = (B["village"] == mv) & (B["report_month"] == mm)
        own = hit & (B["month"] == mm)
        B.loc[own, "report_month"] = mm + 1
        B.loc[own, "report_date"] = sim._fixed_day(mm + 1, 4)
        lost = hit & ~own
        B.loc[lost, "report_month"] = -1
        B.loc[lost & (B["case"] == ""), "case"] = "missing_upload"
    # Children: names at birth, ID numbers at registration.
    eth = P["eth"][w]
    kid_names = np.empty(n, object)
    for sex in ("M", "F"):
        sel = B["sex"].to_numpy() == sex
        dad = np.array([s.split("·")[0][-3:] for s in P["husband_name"][w[sel]]], object)
        kid_names[sel], _ = _names(rng, eth[sel], sex == "F", P["husband_surname"][w[sel]], dad)
    B["child_name"] = kid_names
    B["child_id"] = sim.ids.make(np.full(n, sim.spec.county_code), d, B["sex"].to_numpy() == "F")
    B["weight"] = np.clip(np.round(rng.normal(3300, 430, n) - 600 * B["twin"]), 1500, 4900).astype(
        np.int64
    )
    B["birth_id"] = np.arange(n)
    return B


def _children_after(sim: _Sim, w: Arr, m: Arr) -> Arr:
    """Children of each woman at the end of month m (from the roster snapshots)."""
    R = _cat(sim.t.roster, ["woman", "month", "children"])
    key = pd.Series(R["children"], index=pd.MultiIndex.from_arrays([R["woman"], R["month"]]))
    key = key[~key.index.duplicated()]
    got = key.reindex(pd.MultiIndex.from_arrays([w, m])).to_numpy()
    return np.where(np.isnan(got.astype(float)), 1, got).astype(np.int64)


def _swap_digits(id18: str) -> str:
    """Two adjacent digits of the sequence part swapped: the check digit no longer fits
    (MOD 11-2 catches every adjacent transposition); region and birth date stay valid."""
    s = list(id18)
    for i in (14, 15):
        if s[i] != s[i + 1]:
            s[i], s[i + 1] = s[i + 1], s[i]
            return "".join(s)
    s[15] = str((int(s[15]) + 1) % 10)  # "222": a single-digit slip, caught as well
    return "".join(s)


# ------------------------------------------------------------------------- fee ledger


def _fees(sim: _Sim, births: pd.DataFrame) -> pd.DataFrame:
    """Ledger rows (one per case per month) with `_tag` for planted faults."""
    spec, P, geo = sim.spec, sim.P, sim.geo
    rng = np.random.default_rng([spec.seed, 4])
    Y0 = _mi(spec.year, 1)
    months = np.arange(Y0, sim.L + 1)
    cases: list[dict[str, Any]] = []
    initial = np.flatnonzero(P["entry"] == sim.F)
    by_village = pd.Series(initial).groupby(P["village"][initial]).apply(list).to_dict()

    def party(v: int) -> tuple[str, str]:
        pool = by_village.get(v, [int(initial[0])])
        w = int(pool[int(rng.integers(0, len(pool)))])
        return (
            (P["id"][w], P["name"][w])
            if rng.random() < 0.7
            else (P["husband_id"][w], P["husband_name"][w])
        )

    for v in range(sim.nv):
        for _ in range(int(rng.poisson(1.3))):  # earlier years, with arrears
            pid, pname = party(v)
            dd = np.datetime64(f"{spec.year - int(rng.integers(1, 5))}-01-01") + np.timedelta64(
                int(rng.integers(0, 365)), "D"
            )
            cases.append(
                {
                    "village": v,
                    "party_id": pid,
                    "party_name": pname,
                    "decision": dd,
                    "month": -1,
                    "arrears": True,
                    "tag": "",
                }
            )
        for _ in range(int(rng.poisson(1.5))):  # this year
            pid, pname = party(v)
            mm = int(rng.integers(Y0, sim.L + 1))
            cases.append(
                {
                    "village": v,
                    "party_id": pid,
                    "party_name": pname,
                    "decision": _day_in(rng, mm, 1, 28).item(),
                    "month": mm,
                    "arrears": False,
                    "tag": "",
                }
            )
    out_policy = births[
        (births["policy_status"] == "政策外") & (births["month"] + 2 <= sim.L)
    ].drop_duplicates("woman")
    for _, b in out_policy.iterrows():
        w = int(b["woman"])
        mm = int(b["month"]) + int(rng.integers(1, 3))
        cases.append(
            {
                "village": int(b["village"]),
                "party_id": P["id"][w],
                "party_name": P["name"][w],
                "decision": _day_in(rng, mm, 1, 28).item(),
                "month": mm,
                "arrears": False,
                "tag": "",
            }
        )
    for plant in sim.fee_plants:
        w = sim._plant_woman(plant["village"], plant["case"], age=38, children=3)
        pid, pname = sim.P["id"][w], sim.P["name"][w]
        cases.append(
            {
                "village": plant["village"],
                "party_id": pid,
                "party_name": pname,
                "decision": np.datetime64(f"{spec.year - 2}-06-18"),
                "month": -1,
                "arrears": True,
                "tag": plant["case"],
                "at": plant["month"],
            }
        )
        sim._key(
            plant["case"],
            w,
            plant["month"],
            "paid_to_date jumps by 1000 元 that month"
            if plant["case"] == "fee_jump"
            else "paid_to_date above assessed",
        )
    k = len(cases)
    if not k:
        return pd.DataFrame()
    C = pd.DataFrame(cases)
    assessed = (rng.integers(80, 600, k) * 10000 + np.where(rng.random(k) < 0.06, 50, 0)).astype(
        np.int64
    )  # cents
    arrears = C["arrears"].to_numpy()
    prior = np.where(
        arrears, (assessed * rng.uniform(0, 0.6, k)).astype(np.int64) // 10000 * 10000, 0
    )
    pay = np.zeros((k, len(months)), np.int64)
    paid = prior.copy()
    dec_m = C["month"].to_numpy()
    for j, month in enumerate(months):
        outstanding = assessed - paid
        first = ~arrears & (dec_m == month)
        later = (arrears | (dec_m < month)) & (dec_m != month)
        u = rng.random(k)
        frac = np.where(
            first & (u < 0.85),
            rng.uniform(0.5, 0.9, k),
            np.where(later & (u < np.where(arrears, 0.12, 0.35)), rng.uniform(0.1, 0.35, k), 0.0),
        )
        amount = np.minimum((assessed * frac).astype(np.int64) // 10000 * 10000, outstanding)
        pay[:, j] = amount
        paid += amount
    tags = C["tag"].to_numpy()
    for i in (int(x) for x in np.flatnonzero(tags != "")):
        j_at = int(C.at[i, "at"]) - Y0
        if tags[i] == "fee_jump":
            assessed[i] = 4_000_000
            prior[i] = 1_000_000
            pay[i, :] = 0
            pay[i, j_at - 1] = 200_000
        else:  # overpaid: the last payment exceeds what was outstanding
            assessed[i] = 2_000_000
            prior[i] = 1_800_000
            pay[i, :] = 0
            pay[i, j_at] = 500_000
    cum = prior[:, None] + np.cumsum(pay, axis=1)
    rows = []
    seq = C.groupby("village").cumcount().to_numpy() + 1
    for i in range(k):
        v = int(C.at[i, "village"])
        dyear = int(str(np.datetime64(C.at[i, "decision"], "Y")))
        abbr = geo.township_names[int(sim.vt[v])][:2]
        case_no = f"{abbr}社抚〔{dyear}〕{geo.village_codes[v][-3:]}{int(seq[i]):02d}号"
        first_m = Y0 if arrears[i] else int(dec_m[i])
        for mm in range(max(first_m, sim.F), sim.L + 1):
            col = mm - Y0
            to_date = int(cum[i, col])
            tag = ""
            if tags[i] == "fee_jump" and mm >= int(C.at[i, "at"]):
                to_date += 100_000
                tag = "fee_jump" if mm == int(C.at[i, "at"]) else ""
            if tags[i] == "fee_overpaid" and mm == int(C.at[i, "at"]):
                tag = "fee_overpaid"
            rows.append(
                {
                    "village": v,
                    "month": mm,
                    "case_no": case_no,
                    "party_id": C.at[i, "party_id"],
                    "party_name": C.at[i, "party_name"],
                    "decision_date": np.datetime64(C.at[i, "decision"], "D"),
                    "assessed": int(assessed[i]),
                    "paid_this_month": int(pay[i, col]),
                    "paid_to_date": to_date,
                    "tag": tag,
                }
            )
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------ styles

_ENCODINGS: Final = ("utf-8", "utf-8-sig", "gbk", "gb18030")
_CSV_DATES: Final = ("iso", "slash", "dot", "compact", "zh")
_XLSX_DATES: Final = ("excel", "excel", "serial", "iso", "zh", "slash")
_HEADER_STYLES: Final = ("header", "header", "alias", "star", "space", "english", "header")


def _cycle(rng: np.random.Generator, options: Sequence[Any], n: int) -> list[Any]:
    """Every option appears once n >= len(options); the order is shuffled."""
    perm = rng.permutation(n)
    return [options[int(p) % len(options)] for p in perm]


def _formats(rng: np.random.Generator, n: int, xlsx_share: float) -> list[str]:
    """`xlsx` for about `xlsx_share` of n units (at least one of two or more), else `csv`."""
    n_x = round(n * xlsx_share)
    if n >= 2 and xlsx_share > 0:
        n_x = max(1, n_x)
    return _cycle(rng, ["xlsx"] * n_x + ["csv"] * (n - n_x), n)


def _unit_styles(
    rng: np.random.Generator, fmt: list[str], sources: list[str]
) -> list[dict[str, Any]]:
    """One clerk's habits per unit; every option of every habit is used once there are
    enough units (the options are dealt out, not drawn). Habits that only show in village
    templates (money, ticks, legacy IDs) are dealt among the villages."""
    n = len(fmt)
    csv_units = [i for i in range(n) if fmt[i] == "csv"]
    xl_units = [i for i in range(n) if fmt[i] == "xlsx"]
    villages = [i for i in range(n) if sources[i] == "village"]
    styles: list[dict[str, Any]] = [
        {"fmt": f, "money_fmt": "plain", "yesno_fmt": "zh", "legacy": False} for f in fmt
    ]
    by_format: tuple[tuple[list[int], str, Sequence[Any]], ...] = (
        (villages, "money_fmt", ("plain", "comma", "yuan", "plain")),
        (villages, "yesno_fmt", ("zh", "yn", "tick", "num")),
        (villages, "legacy", (True, True, False)),
        (csv_units, "enc", _ENCODINGS),
        (csv_units, "date_fmt", _CSV_DATES),
        (csv_units, "id_quote", (False, False, True)),
        (csv_units, "title", (False, False, True)),
        (xl_units, "date_fmt", _XLSX_DATES),
        (xl_units, "title", (True, True, True, False)),
        (xl_units, "codes_as_numbers", (False, True)),
    )
    for units, key, options in by_format:
        for u, val in zip(units, _cycle(rng, options, len(units)), strict=True):
            styles[u][key] = val
    every: tuple[tuple[str, Sequence[Any]], ...] = (
        ("sex_fmt", ("zh", "zh", "num", "mf")),
        ("header", _HEADER_STYLES),
        ("enum_alias", (False, False, True)),
        ("seq_col", (False, True, False)),
        ("fullwidth", (False, False, False, True)),
        ("lower_x", (True, False)),
        ("omit", (False, False, False, True)),
        ("eol", ("\r\n", "\n")),
    )
    for key, options in every:
        for u, val in enumerate(_cycle(rng, options, n)):
            styles[u][key] = val
    for s in styles:
        s.setdefault("enc", "utf-8")
        s.setdefault("id_quote", False)
        s.setdefault("title", False)
        s.setdefault("codes_as_numbers", False)
        if s["fmt"] == "xlsx" and s["money_fmt"] == "plain":
            s["money_fmt"] = "number"
    return styles


# ------------------------------------------------------------------------------- files

_KIND_TITLES: Final = {
    "village_births": "出生登记表",
    "village_women": "已婚育龄妇女花名册",
    "village_fees": "社会抚养费征收台账",
    "police_hukou": "户籍变动登记表",
    "hospital_births": "出生医学证明登记表",
    "hospital_procedures": "计划生育手术登记表",
    "hospital_checkups": "三查记录表",
    "hospital_prepregnancy": "免费孕前优生健康检查登记表",
}
_OPTIONAL_OMIT: Final = {
    "village_births": ("remarks", "child_id"),
    "village_women": ("ethnicity",),
    "village_fees": ("party_name",),
    "hospital_births": ("birth_weight", "father_id"),
}


class _Files:
    """The planned files: identity, path, arrival, style and fate, one dict each."""

    def __init__(self, sim: _Sim) -> None:
        self.sim, self.spec, self.geo = sim, sim.spec, sim.geo
        self.rows: list[dict[str, Any]] = []
        self.index: dict[tuple[str, int, int], int] = {}  # (template, unit, month) -> file
        rng = np.random.default_rng([self.spec.seed, 5])
        g = self.geo
        units = (
            [
                ("village", i, c, n)
                for i, (c, n) in enumerate(zip(g.village_codes, g.village_names, strict=True))
            ]
            + [
                ("police", i, c, f"{n}派出所")
                for i, (c, n) in enumerate(zip(g.township_codes, g.township_names, strict=True))
            ]
            + [
                ("hospital", i, c, n)
                for i, (c, n) in enumerate(
                    zip(g.institution_codes, g.institution_names, strict=True)
                )
            ]
        )
        fmt: list[str] = []
        for source, share in (
            ("village", self.spec.xlsx_share),
            ("police", 0.3),
            ("hospital", max(self.spec.xlsx_share, 0.4)),
        ):
            fmt += _formats(rng, sum(u[0] == source for u in units), share)
        unit_styles = _unit_styles(rng, fmt, [u[0] for u in units])
        styles: dict[tuple[str, int], list[dict[str, Any]]] = {}
        for k, (source, i, _, _) in enumerate(units):
            styles[(source, i)] = [unit_styles[k]]
            # A new clerk: some units take another unit's habits from some month on.
            if rng.random() < 0.1:
                other = next(
                    (u for u in range(k + 1, k + len(units)) if units[u % len(units)][0] == source),
                    None,
                )
                if other is not None:
                    styles[(source, i)].append(
                        {
                            **unit_styles[other % len(units)],
                            "_from": int(rng.integers(sim.F, sim.L + 1)),
                        }
                    )
        contract = load_contract()
        for m in range(sim.F, sim.L + 1):
            for source, i, code, uname in units:
                day, hour = self._arrival(rng, m)
                st = styles[(source, i)]
                style = st[-1] if len(st) > 1 and m >= st[-1]["_from"] else st[0]
                for j, kind in enumerate(contract.kinds_of(source)):
                    tpl = f"{source}_{kind}"
                    name = f"{tpl}_{code}_{_yyyymm(m)}.{style['fmt']}"
                    folder = (
                        f"{_ym(m)}/hospital/{uname}"
                        if source == "hospital"
                        else f"{_ym(m)}/{source}"
                    )
                    t = (
                        self.geo.village_township[i]
                        if source == "village"
                        else (i if source == "police" else self.geo.institution_township[i])
                    )
                    self.index[(tpl, i, m)] = len(self.rows)
                    self.rows.append(
                        {
                            "template": tpl,
                            "source": source,
                            "kind": kind,
                            "unit": code,
                            "unit_idx": i,
                            "unit_name": uname,
                            "township_name": self.geo.township_names[t],
                            "month": m,
                            "path": f"{folder}/{name}",
                            "name": name,
                            "arrived_at": datetime(*_next_month(m), day, hour, 0)
                            + timedelta(
                                minutes=int(rng.integers(0, 60)) + 3 * j,
                                seconds=int(rng.integers(0, 60)),
                            ),
                            "status": "loaded",
                            "reason_code": None,
                            "fault": None,
                            "note": "",
                            "drop": (),
                            **style,
                        }
                    )

    def _arrival(self, rng: np.random.Generator, m: int) -> tuple[int, int]:
        late = m < self.sim.L and rng.random() < self.spec.late_share
        on_time = np.arange(1, self.spec.deadline_day + 1)
        weights = 1.0 / on_time  # most arrive in the first days; few on the deadline day
        day = (
            int(rng.integers(self.spec.deadline_day + 1, 21))
            if late
            else int(rng.choice(on_time, p=weights / weights.sum()))
        )
        return day, int(rng.integers(8, 20))

    def get(self, template: str, unit: int, month: int) -> dict[str, Any]:
        return self.rows[self.index[(template, unit, month)]]

    def add(self, base: dict[str, Any], **changes: Any) -> int:
        self.rows.append({**base, **changes})
        return len(self.rows) - 1


# --------------------------------------------------------------------------- records


def _records(
    sim: _Sim, files: _Files, births: pd.DataFrame, fees: pd.DataFrame
) -> dict[str, pd.DataFrame]:
    """Rows of every template, canonical values, with `_file`, `_order`, `_tag`,
    `_legacy` (render the ID as 15 digits when the style allows) and `_birth`."""
    P, geo, spec = sim.P, sim.geo, sim.spec
    rng = np.random.default_rng([spec.seed, 6])
    vcodes = np.asarray(geo.village_codes, dtype=object)
    out: dict[str, pd.DataFrame] = {}

    def fidx(tpl: str, unit: Arr, month: Arr) -> Arr:
        return np.array(
            [files.index.get((tpl, int(u), int(m)), -1) for u, m in zip(unit, month, strict=True)],
            np.int64,
        )

    # village_women
    R = _cat(
        sim.t.roster,
        [
            "woman",
            "month",
            "village",
            "residence",
            "children",
            "method",
            "method_date",
            "check_date",
        ],
    )
    w = R["woman"].astype(np.int64)
    mig = R["residence"] == 1

    def yn(x: Arr) -> Arr:
        return np.where(mig, np.asarray(x, np.int8), -1)

    women = pd.DataFrame(
        {
            "name": P["name"][w],
            "id_number": P["id"][w],
            "ethnicity": np.asarray(ETHNICITIES, object)[P["eth"][w]],
            "residence": np.asarray(RESIDENCES, object)[R["residence"]],
            "children": R["children"],
            "method": np.asarray(METHODS, object)[R["method"]],
            "method_date": R["method_date"],
            "last_check_date": R["check_date"],
            "marriage_certificate": yn(P["cert"][w]),
            "file_created": yn(P["filed"][w]),
            "verified": yn(P["verified"][w]),
            "notified": yn(P["notified"][w]),
            "_file": fidx("village_women", R["village"], R["month"]),
            "_order": w.astype(float),
            "_tag": [
                sim.roster_tags.get((int(a), int(b)), "")
                for a, b in zip(w, R["month"], strict=True)
            ],
            "_legacy": P["legacy"][w],
            "_birth": -1,
            "_woman": w,
        }
    )
    out["village_women"] = women

    # village_births
    B = births
    rep = B[(B["report_month"] >= sim.F) & (B["report_month"] <= sim.L)]
    bw = rep["woman"].to_numpy()
    fill_father = rng.random(len(rep)) < 0.8
    has_kid_id = (
        rep["police_date"].notna()
        & (rep["police_date"] <= rep["report_date"])
        & (rng.random(len(rep)) < 0.8)
    ).to_numpy()
    out["village_births"] = pd.DataFrame(
        {
            "mother_name": P["name"][bw],
            "mother_id": rep["mother_id_written"].to_numpy(),
            "father_id": np.where(fill_father, P["husband_id"][bw], ""),
            "child_name": np.where(rng.random(len(rep)) < 0.85, rep["child_name"], ""),
            "child_id": np.where(has_kid_id, rep["child_id"], ""),
            "child_sex": rep["village_sex"].to_numpy(),
            "birth_date": rep["birth_date"].to_numpy(),
            "birth_order": rep["birth_order"].to_numpy(),
            "policy_status": rep["policy_status"].to_numpy(),
            "report_date": rep["report_date"].to_numpy(),
            "remarks": np.where(
                rep["twin"], "双胞胎", np.where(rep["report_month"] > rep["month"], "上月出生", "")
            ),
            "_file": fidx(
                "village_births", rep["village"].to_numpy(), rep["report_month"].to_numpy()
            ),
            "_order": (
                rep["report_date"].to_numpy().astype("datetime64[D]").astype(np.int64) * 1e6
                + rep["birth_id"].to_numpy()
            ),
            "_tag": rep["case"].to_numpy(),
            "_legacy": P["legacy"][bw],
            "_birth": rep["birth_id"].to_numpy(),
            "_woman": bw,
        }
    )

    # village_fees
    if len(fees):
        out["village_fees"] = pd.DataFrame(
            {
                "case_no": fees["case_no"],
                "party_id": fees["party_id"],
                "party_name": fees["party_name"],
                "decision_date": fees["decision_date"],
                "assessed": fees["assessed"],
                "paid_this_month": fees["paid_this_month"],
                "paid_to_date": fees["paid_to_date"],
                "_file": fidx("village_fees", fees["village"].to_numpy(), fees["month"].to_numpy()),
                "_order": np.arange(len(fees), dtype=float),
                "_tag": fees["tag"],
                "_legacy": False,
                "_birth": -1,
                "_woman": -1,
            }
        )

    # police_hukou: births, women's moves and deaths, and noise (older people, men).
    parts = []
    pb = B[B["police_date"].notna() & (_mi_of(B["police_date"].to_numpy()) <= sim.L)]
    pw = pb["woman"].to_numpy()
    parts.append(
        pd.DataFrame(
            {
                "event_type": "出生登记",
                "name": pb["child_name"].to_numpy(),
                "id_number": pb["child_id"].to_numpy(),
                "sex": pb["sex"].to_numpy(),
                "birth_date": pb["birth_date"].to_numpy(),
                "event_date": pb["police_date"].to_numpy(),
                "village_code": vcodes[pb["village"].to_numpy()],
                "guardian_id": P["id"][pw],
                "_village": pb["village"].to_numpy(),
                "_tag": pb["case"].to_numpy(),
                "_birth": pb["birth_id"].to_numpy(),
                "_woman": pw,
            }
        )
    )
    for kind, col_date, col_kind in (
        ("迁出", "exit_date", "exit_kind"),
        ("死亡注销", "exit_date", "exit_kind"),
        ("迁入", "enter_date", "enter_kind"),
    ):
        sel = np.flatnonzero(
            (P[col_kind] == kind)
            & ~np.isnat(P[col_date])
            & (P[col_date] < _mstart(sim.L + 1))
            & (P[col_date] >= sim.start)
        )
        parts.append(
            pd.DataFrame(
                {
                    "event_type": kind,
                    "name": P["name"][sel],
                    "id_number": P["id"][sel],
                    "sex": "F",
                    "birth_date": P["bdate"][sel],
                    "event_date": P[col_date][sel],
                    "village_code": vcodes[P["village"][sel]],
                    "guardian_id": "",
                    "_village": P["village"][sel],
                    "_tag": "",
                    "_birth": -1,
                    "_woman": sel,
                }
            )
        )
    n_t = len(geo.township_codes)
    months = np.arange(sim.F, sim.L + 1)
    counts = rng.poisson(0.8 * spec.villages_per_township / 4, (n_t, len(months)))
    k = int(counts.sum())
    if k:
        t = np.repeat(np.repeat(np.arange(n_t), len(months)), counts.ravel())
        mm = np.repeat(np.tile(months, n_t), counts.ravel())
        v = t * spec.villages_per_township + rng.integers(0, spec.villages_per_township, k)
        old = rng.random(k) < 0.7
        female = rng.random(k) < np.where(old, 0.5, 0.1)
        bd = np.where(
            old,
            np.datetime64("1928-01-01") + rng.integers(0, 30 * 365, k).astype("timedelta64[D]"),
            np.datetime64("1966-01-01") + rng.integers(0, 35 * 365, k).astype("timedelta64[D]"),
        ).astype("datetime64[D]")
        eth = rng.choice(len(ETHNICITIES), k, p=_ETH_P)
        names_f, _ = _names(rng, eth, True)
        names_m, _ = _names(rng, eth, False)
        parts.append(
            pd.DataFrame(
                {
                    "event_type": np.where(
                        old, "死亡注销", np.where(rng.random(k) < 0.5, "迁出", "迁入")
                    ),
                    "name": np.where(female, names_f, names_m),
                    "id_number": sim.ids.make(np.full(k, spec.county_code), bd, female),
                    "sex": np.where(female, "F", "M"),
                    "birth_date": bd,
                    "event_date": _day_in(rng, mm),
                    "village_code": vcodes[v],
                    "guardian_id": "",
                    "_village": v,
                    "_tag": "",
                    "_birth": -1,
                    "_woman": -1,
                }
            )
        )
    hk = pd.concat(parts, ignore_index=True)
    hk["event_date"] = hk["event_date"].astype("datetime64[s]")
    ed = hk["event_date"].to_numpy().astype("datetime64[D]")
    hk["_file"] = fidx("police_hukou", sim.vt[hk["_village"].to_numpy()], _mi_of(ed))
    hk["_order"] = ed.astype(np.int64) * 1e6 + np.arange(len(hk))
    hk["_legacy"] = False
    out["police_hukou"] = hk.drop(columns="_village")

    # hospital_births
    hb = B[B["inst"] >= 0].sort_values(["birth_date", "birth_id"])
    hw = hb["woman"].to_numpy()
    cert = [f"Q{spec.county_code[:2]}{spec.year % 100:02d}{i + 1:05d}" for i in range(len(hb))]
    out["hospital_births"] = pd.DataFrame(
        {
            "cert_no": cert,
            "child_sex": hb["sex"].to_numpy(),
            "birth_date": hb["birth_date"].to_numpy(),
            "birth_weight": hb["weight"].to_numpy(),
            "mother_name": P["name"][hw],
            "mother_id": P["id"][hw],
            "father_id": np.where(rng.random(len(hb)) < 0.7, P["husband_id"][hw], ""),
            "village_code": vcodes[hb["village"].to_numpy()],
            "_file": fidx("hospital_births", hb["inst"].to_numpy(), hb["month"].to_numpy()),
            "_order": np.arange(len(hb), dtype=float),
            "_tag": hb["case"].to_numpy(),
            "_legacy": False,
            "_birth": hb["birth_id"].to_numpy(),
            "_woman": hw,
        }
    )

    def hospital(tpl: str, rows: dict[str, Arr], extra: dict[str, Any]) -> pd.DataFrame:
        ww = rows["woman"].astype(np.int64)
        d = rows["date"].astype("datetime64[D]")
        frame = pd.DataFrame(
            {
                **extra,
                "village_code": vcodes[P["village"][ww]],
                "_file": fidx(tpl, rows["inst"], _mi_of(d)),
                "_order": d.astype(np.int64) * 1e6 + np.arange(len(ww)),
                "_tag": "",
                "_legacy": False,
                "_birth": -1,
                "_woman": ww,
            }
        )
        return frame

    pr = _cat(sim.t.procedures, ["woman", "date", "procedure", "inst"])
    pw = pr["woman"].astype(np.int64)
    out["hospital_procedures"] = hospital(
        "hospital_procedures",
        pr,
        {
            "id_number": P["id"][pw],
            "name": P["name"][pw],
            "procedure": pr["procedure"],
            "procedure_date": pr["date"].astype("datetime64[D]"),
        },
    )
    ck = _cat(sim.t.checks, ["woman", "date", "inst"])
    cw = ck["woman"].astype(np.int64)
    out["hospital_checkups"] = hospital(
        "hospital_checkups",
        ck,
        {
            "id_number": P["id"][cw],
            "name": P["name"][cw],
            "check_date": ck["date"].astype("datetime64[D]"),
        },
    )
    ex = _cat(sim.t.exams, ["woman", "date", "inst"])
    xw = ex["woman"].astype(np.int64)
    out["hospital_prepregnancy"] = hospital(
        "hospital_prepregnancy",
        ex,
        {
            "wife_id": P["id"][xw],
            "husband_id": P["husband_id"][xw],
            "exam_date": ex["date"].astype("datetime64[D]"),
        },
    )
    for k_, frame in out.items():
        frame["_template"] = k_
        frame.drop(frame.index[frame["_file"].to_numpy() < 0], inplace=True)
    return out


# ------------------------------------------------------------------------- rendering


def _fw(values: Arr, mask: Arr) -> Arr:
    """Full-width digits where `mask`."""
    out = values.copy()
    out[mask] = [str(v).translate(_FULLWIDTH) for v in values[mask]]
    return out


def _date_text(d: Arr, code: str) -> Arr:
    y, m, day = (x.astype(_S) for x in _ymd(d))
    add = np.strings.add
    if code == "iso":
        return add(add(add(add(y, "-"), np.strings.zfill(m, 2)), "-"), np.strings.zfill(day, 2))
    if code == "compact":
        return add(add(y, np.strings.zfill(m, 2)), np.strings.zfill(day, 2))
    if code == "zh":
        return add(add(add(add(add(y, "年"), m), "月"), day), "日")
    sep = {"slash": "/", "dot": "."}.get(code, "-")
    return add(add(add(add(y, sep), m), sep), day)


class _Renderer:
    """Turns canonical records into cells (strings, or typed XLSX values) per file style."""

    def __init__(self, spec: CountySpec, files: list[dict[str, Any]]) -> None:
        self.spec = spec
        self.files = files
        self.contract = load_contract()
        self.rng = np.random.default_rng([spec.seed, 7])
        self._styles: dict[str, Arr] = {}

    def style(self, fidx: Arr, key: str) -> Arr:
        if key not in self._styles:
            self._styles[key] = np.asarray([f[key] for f in self.files], dtype=object)
        return self._styles[key][fidx]

    def cells(self, tpl: Template, R: pd.DataFrame) -> dict[str, Arr]:
        fidx = R["_file"].to_numpy()
        n = len(R)
        xlsx = self.style(fidx, "fmt") == "xlsx"
        out: dict[str, Arr] = {}
        for col in tpl.columns:
            raw = R[col.name].to_numpy()
            out[col.name] = self._column(col, raw, R, fidx, xlsx, n)
        return out

    def _column(self, col: Column, raw: Arr, R: pd.DataFrame, fidx: Arr, xlsx: Arr, n: int) -> Arr:
        rng = self.rng
        fullwidth = self.style(fidx, "fullwidth").astype(bool) & (rng.random(n) < 0.2)
        if col.type == "id":
            ids = np.asarray(raw, dtype=object)
            ok = np.array([isinstance(s, str) and len(s) == 18 for s in ids])
            legacy = ok & R["_legacy"].to_numpy(bool) & self.style(fidx, "legacy").astype(bool)
            ids = np.where(legacy, [s[:6] + s[8:17] if len(s) == 18 else s for s in ids], ids)
            lower = ok & self.style(fidx, "lower_x").astype(bool)
            ids = np.where(lower, [s.replace("X", "x") for s in ids], ids)
            ids = _fw(ids.astype(object), (ok | legacy) & fullwidth)
            quote = (ok | legacy) & self.style(fidx, "id_quote").astype(bool) & (ids != "")
            ids = np.where(quote, ["'" + s for s in ids], ids).astype(object)
            num15 = legacy & xlsx & self.style(fidx, "codes_as_numbers").astype(bool)
            if num15.any():
                ids[num15] = [int(s) for s in ids[num15]]
            return ids
        if col.type == "date":
            d = np.asarray(raw, dtype="datetime64[D]")
            text = np.full(n, "", dtype=object)
            codes = self.style(fidx, "date_fmt")
            nat = np.isnat(d)
            for code in np.unique(codes):
                sel = (codes == code) & ~nat
                if not sel.any():
                    continue
                if code == "excel":
                    text[sel] = d[sel].astype(object)
                elif code == "serial":
                    text[sel] = (d[sel] - np.datetime64("1899-12-30")).astype(np.int64).tolist()
                else:
                    text[sel] = _date_text(d[sel], str(code)).astype(object)
            return text
        if col.type == "sex":
            fmt = self.style(fidx, "sex_fmt")
            zh = np.where(raw == "M", "男", "女")
            num = np.where(raw == "M", "1", "2")
            return np.select([fmt == "zh", fmt == "num"], [zh, num], raw).astype(object)
        if col.type == "yesno":
            fmt = self.style(fidx, "yesno_fmt")
            v = np.asarray(raw, np.int8)
            table = {"zh": ("否", "是"), "yn": ("N", "Y"), "tick": ("", "√"), "num": ("0", "1")}
            text = np.full(n, "", dtype=object)
            for code, (no, yes) in table.items():
                sel = fmt == code
                text[sel & (v == 1)] = yes
                text[sel & (v == 0)] = no
            return text
        if col.type == "money":
            cents = np.asarray(raw, np.int64)
            fmt = self.style(fidx, "money_fmt")
            whole, frac = cents // 100, cents % 100
            plain = np.where(
                frac == 0,
                whole.astype(str).astype(object),
                [f"{a}.{b:02d}" for a, b in zip(whole, frac, strict=True)],
            ).astype(object)
            text = plain.copy()
            comma = fmt == "comma"
            text[comma] = [f"{c / 100:,.2f}" for c in cents[comma]]
            yuan = fmt == "yuan"
            text[yuan] = plain[yuan] + "元"
            text = _fw(text, fullwidth & (fmt != "comma"))
            number = fmt == "number"
            text[number] = (cents[number] / 100).tolist()
            return text
        if col.type == "integer":
            vals = np.asarray(raw, np.int64)
            text = _fw(vals.astype(str).astype(object), fullwidth)
            typed = xlsx & ~fullwidth
            text[typed] = vals[typed].tolist()
            return text
        if col.type == "enum":
            values = np.asarray(raw, dtype=object)
            alias = self.style(fidx, "enum_alias").astype(bool)
            assert col.enum is not None
            alt = {c: (s[1] if len(s) > 1 else c) for c, s in self.contract.enums[col.enum].items()}
            return np.where(alias, [alt.get(v, v) for v in values], values).astype(object)
        if col.type == "area_code":
            codes = np.asarray(raw, dtype=object).copy()
            num = xlsx & self.style(fidx, "codes_as_numbers").astype(bool)
            codes[num] = [int(c) for c in codes[num]]
            return codes
        return np.asarray(raw, dtype=object)

    def header(self, col: Column, style: str) -> str:
        if style == "alias" and col.aliases:
            return col.aliases[0]
        if style == "star" and (col.required or col.required_unless is not None):
            return "*" + col.header
        if style == "space" and len(col.header) >= 2:
            return col.header[:2] + "\u3000" + col.header[2:] + " "
        if style == "english":
            return col.name
        return col.header


def _quote(values: Arr) -> Arr:
    s = values.astype(_S)
    need = (np.strings.find(s, ",") >= 0) | (np.strings.find(s, '"') >= 0)
    if need.any():
        q = np.strings.add(np.strings.add('"', np.strings.replace(s[need], '"', '""')), '"')
        s[need] = q
    return s


def _render_all(
    spec: CountySpec,
    files: _Files,
    records: dict[str, pd.DataFrame],
    row_numbers: dict[str, pd.DataFrame],
) -> dict[int, bytes]:
    """Bytes of every file that has a template (records sorted, row numbers assigned)."""
    contract = load_contract()
    r = _Renderer(spec, files.rows)
    blobs: dict[int, bytes] = {}
    csv_parts: dict[int, tuple[list[str], list[str], str]] = {}
    by_template: dict[str, list[int]] = {}
    for i, f in enumerate(files.rows):
        if f["status"] != "missing" and f.get("copy_of") is None and f.get("raw") is None:
            by_template.setdefault(f["template"], []).append(i)
    for name, file_ids in by_template.items():
        tpl = contract.templates[name]
        R = records.get(name)
        if R is None:
            R = pd.DataFrame(
                {c.name: [] for c in tpl.columns}
                | {"_file": [], "_order": [], "_tag": [], "_birth": [], "_woman": [], "_legacy": []}
            )
        R = R.sort_values(["_file", "_order"], kind="stable").reset_index(drop=True)
        fidx = R["_file"].to_numpy().astype(np.int64)
        R["_row"] = np.arange(len(R)) - np.searchsorted(fidx, fidx, side="left") + 1
        row_numbers[name] = R
        cells = r.cells(tpl, R) if len(R) else {c.name: np.array([], object) for c in tpl.columns}
        rownum = R["_row"].to_numpy()
        starts = np.searchsorted(fidx, np.asarray(file_ids), side="left")
        ends = np.searchsorted(fidx, np.asarray(file_ids), side="right")
        # CSV lines, built once per layout (the columns a file shows).
        layouts: dict[tuple[str, ...], list[int]] = {}
        for fi in file_ids:
            layouts.setdefault(_layout(tpl, files.rows[fi]), []).append(fi)
        lines = np.full(len(R), "", dtype=object)
        for layout, fis in layouts.items():
            rows_mask = np.isin(fidx, fis) & (r.style(fidx, "fmt") == "csv") if len(R) else None
            if rows_mask is None or not rows_mask.any():
                continue
            parts = []
            for c in layout:
                if c == "_seq":
                    parts.append(R["_row"].to_numpy()[rows_mask].astype(_S))
                else:
                    parts.append(_quote(cells[c][rows_mask]))
            joined = parts[0]
            for p in parts[1:]:
                joined = np.strings.add(np.strings.add(joined, ","), p)
            lines[rows_mask] = joined.astype(object)
        for fi, a, b in zip(file_ids, starts, ends, strict=True):
            f = files.rows[fi]
            layout = _layout(tpl, f)
            head = [
                ("序号" if c == "_seq" else r.header(tpl.column(c), f["header"])) for c in layout
            ]
            if f["fmt"] == "csv":
                csv_parts[fi] = (head, lines[a:b].tolist(), tpl.name)
                blobs[fi] = _csv_file(f, *csv_parts[fi])
            else:
                rows = [
                    [(int(rownum[k]) if c == "_seq" else cells[c][k]) for c in layout]
                    for k in range(a, b)
                ]
                blobs[fi] = _xlsx(spec, f, tpl, head, rows)
    # Two different uploads with the same bytes would be taken for one (uploads.md): an
    # empty file, or a ledger that did not change, repeats last month's bytes. Such CSV
    # files carry a title line naming unit and month, as an Excel export of the sheet would.
    seen: dict[bytes, list[int]] = {}
    for fi, data in blobs.items():
        seen.setdefault(data, []).append(fi)
    for group in seen.values():
        for fi in group[1:] if len(group) > 1 else ():
            f = files.rows[fi]
            if f["fmt"] == "csv" and not f["title"]:
                f["title"] = True
                blobs[fi] = _csv_file(f, *csv_parts[fi])
    return blobs


def _csv_file(f: dict[str, Any], head: list[str], lines: list[str], template: str) -> bytes:
    body = [",".join(head), *lines]
    if f["title"]:
        y, m = divmod(f["month"], 12)
        title = (f["township_name"] if f["source"] == "village" else "") + f["unit_name"]
        body.insert(0, f"{title}{y}年{m + 1}月{_KIND_TITLES[template]}" + "," * (len(head) - 1))
    return (f["eol"].join(body) + f["eol"]).encode(f["enc"])


def _layout(tpl: Template, f: dict[str, Any]) -> tuple[str, ...]:
    omit = set(_OPTIONAL_OMIT.get(tpl.name, ())) if f["omit"] else set()
    cols = [c.name for c in tpl.columns if c.name not in omit and c.name not in f["drop"]]
    return (("_seq",) if f["seq_col"] else ()) + tuple(cols)


def _xlsx(
    spec: CountySpec, f: dict[str, Any], tpl: Template, head: list[str], rows: list[list[Any]]
) -> bytes:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(
        buf,
        {
            "in_memory": True,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )
    # Exported when it was sent: the timestamp also keeps two months' empty files apart.
    wb.set_properties({"created": f["arrived_at"] - timedelta(minutes=7), "author": f["unit_name"]})
    ws = wb.add_worksheet("Sheet1")
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    bold = wb.add_format({"bold": True})
    r0 = 0
    if f["title"]:
        y, m = divmod(f["month"], 12)
        ws.write_string(0, 0, f"{f['township_name']}{y}年{m + 1}月{_KIND_TITLES[tpl.name]}", bold)
        del y, m
        ws.write_string(1, 0, f"填报单位：{f['unit_name']}")
        r0 = 3
    ws.write_row(r0, 0, head, bold)
    for i, row in enumerate(rows, start=r0 + 1):
        for j, v in enumerate(row):
            if isinstance(v, str):
                if v:
                    ws.write_string(i, j, v)
            elif isinstance(v, date):
                ws.write_datetime(i, j, datetime(v.year, v.month, v.day), date_fmt)
            elif isinstance(v, (int, float, np.integer, np.floating)):
                ws.write_number(i, j, float(v))
    if f["title"]:
        ws.write_string(r0 + len(rows) + 1, 0, "合计")
        ws.write_string(r0 + len(rows) + 1, 1, f"共{len(rows)}条")
    wb.close()
    return buf.getvalue()


def _lock_file_bytes(owner: str) -> bytes:
    """What Excel leaves beside an open workbook (`~$name.xlsx`): the owner's name."""
    raw = owner.encode("gbk")[:53]
    wide = owner.encode("utf-16-le")
    return (
        bytes([len(raw)])
        + raw.ljust(53, b" ")
        + len(owner).to_bytes(2, "little")
        + wide.ljust(108, b"\x00")
    )


# ------------------------------------------------------------------------- assembly


def _apply_row_faults(records: dict[str, pd.DataFrame]) -> None:
    """Damage the rows the plan marks (bad check digit, scientific notation, duplicates)."""
    W = records["village_women"]
    tag = W["_tag"].to_numpy()
    for i in np.flatnonzero(tag == "bad_check_digit"):
        s = W.at[W.index[i], "id_number"]
        wrong = CHECK_CHARS[(CHECK_CHARS.index(s[-1]) + 3) % 11]
        W.at[W.index[i], "id_number"] = s[:-1] + wrong
    for i in np.flatnonzero(tag == "id_scientific"):
        s = W.at[W.index[i], "id_number"]
        W.at[W.index[i], "id_number"] = f"{s[0]}.{s[1:6]}E+17"
    dup = W[tag == "duplicate_in_file"].copy()
    dup["_order"] = 1e12
    W.loc[W["_tag"] == "duplicate_in_file", "_tag"] = ""
    records["village_women"] = pd.concat([W, dup], ignore_index=True)


def _plant_files(sim: _Sim, files: _Files, records: dict[str, pd.DataFrame]) -> None:
    """File-level faults: forced formats, the correction, the missing upload, late files,
    the bad-name copy and the quarantined v2."""
    F, L, nv = sim.F, sim.L, sim.nv

    def pv(i: int) -> int:
        return i % max(1, nv - 1)

    W = records["village_women"]
    # The scientific-notation row needs a CSV saved by Excel.
    for i in np.flatnonzero(W["_tag"].to_numpy() == "id_scientific"):
        f = files.rows[int(W["_file"].iat[i])]
        f.update(
            fmt="csv",
            enc="gbk",
            eol="\r\n",
            id_quote=False,
            legacy=False,
            date_fmt="slash",
            money_fmt="plain",
            codes_as_numbers=False,
            name=f["name"].rsplit(".", 1)[0] + ".csv",
        )
        f["path"] = f["path"].rsplit("/", 1)[0] + "/" + f["name"]
    # Missing upload: the village's three files of that month.
    assert sim.missing is not None
    mv, mm = sim.missing
    for tpl in ("village_births", "village_women", "village_fees"):
        f = files.get(tpl, mv, mm)
        f.update(status="missing", fault="missing_upload")
    for name, R in records.items():
        if name.startswith("village_"):
            bad = R["_file"].isin(
                [
                    files.index[(t, mv, mm)]
                    for t in ("village_births", "village_women", "village_fees")
                ]
            )
            records[name] = R[~bad.to_numpy()]
    # Late: the whole village month.
    late_v = pv(5)
    for tpl in ("village_births", "village_women", "village_fees"):
        f = files.get(tpl, late_v, F)
        f["arrived_at"] = f["arrived_at"].replace(day=12)
        f["planted_late"] = True
    # The first village writes legacy 15-digit numbers for its older women.
    for m in range(F, L + 1):
        for tpl in ("village_births", "village_women", "village_fees"):
            files.get(tpl, 0, m)["legacy"] = True
    # Correction: original (one row wrong) then `_更正`.
    W = records["village_women"]
    corr = np.flatnonzero(W["_tag"].to_numpy() == "correction")
    for i in corr:
        fi = int(W["_file"].iat[i])
        orig = files.rows[fi]
        orig["arrived_at"] = orig["arrived_at"].replace(day=2)
        stem, ext = orig["name"].rsplit(".", 1)
        new_name = f"{stem}_更正.{ext}"
        nf = files.add(
            orig,
            name=new_name,
            path=orig["path"].rsplit("/", 1)[0] + "/" + new_name,
            arrived_at=orig["arrived_at"].replace(day=4, hour=9),
            fault="correction",
        )
        orig["status"] = "superseded"
        copy = W[W["_file"] == fi].copy()
        copy["_file"] = nf
        W.loc[W["_tag"] == "correction", "_tag"] = ""
        W.loc[W.index[i], "children"] = int(W["children"].iat[i]) + 1
        records["village_women"] = pd.concat([W, copy], ignore_index=True)
        W = records["village_women"]
    # Lock file beside an XLSX roster (the roster is forced to XLSX).
    f = files.get("village_women", pv(6), F + 2)
    if f["fmt"] != "xlsx":
        f.update(
            fmt="xlsx",
            title=True,
            date_fmt="excel",
            money_fmt="number",
            codes_as_numbers=False,
            id_quote=False,
            name=f["name"].rsplit(".", 1)[0] + ".xlsx",
        )
        f["path"] = f["path"].rsplit("/", 1)[0] + "/" + f["name"]
    files.add(
        f,
        name="~$" + f["name"],
        path=f["path"].rsplit("/", 1)[0] + "/~$" + f["name"],
        arrived_at=f["arrived_at"] + timedelta(seconds=5),
        fault="lock_file",
        status="quarantined",
        reason_code="lock_file",
        raw=_lock_file_bytes("Administrator"),
    )
    # Unrecognised name: the same roster saved once more in another format and name.
    f = files.get("village_women", pv(7), F + 2)
    y, m0 = divmod(F + 2, 12)
    other = "csv" if f["fmt"] == "xlsx" else "xlsx"
    bad_name = f"{f['unit_name']}{y}年{m0 + 1}月花名册.{other}"
    nf = files.add(
        f,
        name=bad_name,
        path=f["path"].rsplit("/", 1)[0] + "/" + bad_name,
        fmt=other,
        enc="utf-8-sig",
        title=True,
        date_fmt="iso",
        money_fmt="plain",
        codes_as_numbers=False,
        arrived_at=f["arrived_at"] + timedelta(hours=1),
        fault="unrecognised_name",
        status="quarantined",
        reason_code="unrecognised_name",
    )
    W = records["village_women"]
    src = W[W["_file"] == files.index[("village_women", pv(7), F + 2)]].copy()
    src["_file"] = nf
    src["_tag"] = ""
    records["village_women"] = pd.concat([W, src], ignore_index=True)
    # A v2 without a required column: quarantined, the original stays current.
    inst = 1 % len(sim.geo.institution_codes)
    f = files.get("hospital_checkups", inst, F + 2)
    stem, ext = f["name"].rsplit(".", 1)
    name = f"{stem}_v2.{ext}"
    nf = files.add(
        f,
        name=name,
        path=f["path"].rsplit("/", 1)[0] + "/" + name,
        arrived_at=f["arrived_at"] + timedelta(days=3),
        drop=("check_date",),
        fault="missing_required_column",
        status="quarantined",
        reason_code="missing_required_columns",
    )
    C = records["hospital_checkups"]
    src = C[C["_file"] == files.index[("hospital_checkups", inst, F + 2)]].copy()
    src["_file"] = nf
    records["hospital_checkups"] = pd.concat([C, src], ignore_index=True)
    # Byte copies (duplicates) are added after rendering: see _duplicates.


def _duplicates(sim: _Sim, files: _Files) -> None:
    F, nv = sim.F, sim.nv
    v = 8 % max(1, nv - 1)
    f = files.get("village_births", v, F + 1)
    fi = files.index[("village_births", v, F + 1)]
    files.add(
        f,
        path=f"{_ym(F + 1)}/重发/{f['name']}",
        arrived_at=f["arrived_at"] + timedelta(days=1),
        fault="duplicate_upload",
        status="duplicate",
        copy_of=fi,
        note="same bytes, another folder",
    )
    fi = files.index[("hospital_births", 0, F + 2)]
    f = files.rows[fi]
    stem, ext = f["name"].rsplit(".", 1)
    name = f"{stem}(1).{ext}"
    files.add(
        f,
        name=name,
        path=f["path"].rsplit("/", 1)[0] + "/" + name,
        arrived_at=f["arrived_at"] + timedelta(hours=2),
        fault="duplicate_upload",
        status="duplicate",
        copy_of=fi,
        note="same bytes, a browser's (1) copy",
    )


def generate_county(spec: CountySpec | None = None) -> GeneratedCounty:
    """The county's upload files, reference data and answer key (deterministic in `spec`)."""
    spec = spec or CountySpec()
    geo = build_geography(spec)
    sim = _Sim(spec, geo)
    sim.init_pool()
    if spec.faults:
        sim.plant()
    sim.finish_pool()
    sim.run()
    births = _births_table(sim)
    fees = _fees(sim, births)
    files = _Files(sim)
    records = _records(sim, files, births, fees)
    if spec.faults:
        _apply_row_faults(records)
        _plant_files(sim, files, records)
        _duplicates(sim, files)
    numbered: dict[str, pd.DataFrame] = {}
    blobs = _render_all(spec, files, records, numbered)
    out: list[GeneratedFile] = []
    for i, f in enumerate(files.rows):
        if f["status"] == "missing":
            continue
        data = f.get("raw")
        if data is None:
            data = blobs[f["copy_of"]] if f.get("copy_of") is not None else blobs[i]
        out.append(GeneratedFile(f["path"], data, f["arrived_at"]))
    out.sort(key=lambda g: (g.arrived_at, g.path))
    key = _answer_key(sim, files, births, numbered)
    return GeneratedCounty(spec, tuple(out), reference_files(spec), key)


# ------------------------------------------------------------------------- answer key


_NOTES: Final = {
    "bad_check_digit": "roster ID with a wrong check digit",
    "id_scientific": "ID as 6.54226E+17 in a CSV saved by Excel",
    "duplicate_in_file": "the same woman twice in one roster; this row is the repeat",
    "correction": "the _更正 file; this row differs from the superseded original",
    "dead_on_roster": "police 死亡注销 in an earlier month; still on this roster",
    "moved_out": "police 迁出 this month; gone from next month's roster (no issue)",
    "stale_method": "hospital 结扎 in an earlier month; the roster still says 上环",
    "hospital_only_check": "hospital check this month; the roster's last_check_date is old",
    "two_villages": "the same woman on two villages' rosters this month",
    "fee_jump": "paid_to_date is 1000 元 above last month's plus this month's",
    "fee_overpaid": "paid_to_date above assessed",
    "twins": "twins: one delivery, two children, in all three sources",
    "mistyped_mother_id": "mother ID with two digits swapped (bad checksum): an error row, so "
    "the birth the hospital saw stays 漏报 (missing_in_village)",
    "late_report": "a birth the village reports three months late: matched, but 漏报 for its "
    "month for good (reported_on_time false)",
    "sex_conflict": "the village says 男, the hospital and the police say 女",
    "village_only_birth": "home birth, not registered: only the village reports it",
    "missing_upload": "no file for this village month",
    "lock_file": "Excel lock file beside the workbook",
    "unrecognised_name": "a roster saved under a name that is not an upload name",
    "missing_required_column": "a _v2 without 检查日期; the original stays current",
}
_FAULT_COLUMNS: Final = (
    "fault",
    "path",
    "row_number",
    "source",
    "kind",
    "unit",
    "report_month",
    "expect_in",
    "rule",
    "dimension",
    "severity",
    "planted",
    "note",
)


def _deadline(spec: CountySpec, m: int) -> datetime:
    """The last moment an upload of month index `m` is on time."""
    return datetime(*_next_month(m), spec.deadline_day, 23, 59, 59)


def _uploads_key(
    spec: CountySpec, files: _Files, numbered: dict[str, pd.DataFrame]
) -> pd.DataFrame:
    counts = {name: R["_file"].value_counts() for name, R in numbered.items()}
    rows = []
    for i, f in enumerate(files.rows):
        if f["status"] == "missing":
            continue
        src = i
        good_name = f["fault"] not in ("unrecognised_name", "lock_file")
        n = counts.get(f["template"], pd.Series(dtype=int)).get(src, 0)
        rows.append(
            {
                "path": f["path"],
                "file_name": f["name"],
                "source": f["source"] if good_name else None,
                "kind": f["kind"] if good_name else None,
                "unit": f["unit"] if good_name else None,
                "report_month": _ym(f["month"]) if good_name else None,
                "arrived_at": f["arrived_at"],
                "rows": None if f["status"] in ("quarantined", "duplicate") else int(n),
                "late": (f["arrived_at"] > _deadline(spec, f["month"])) if good_name else None,
                "status": f["status"],
                "reason_code": f["reason_code"],
            }
        )
    out = pd.DataFrame(rows).sort_values(["arrived_at", "path"]).reset_index(drop=True)
    out["rows"] = out["rows"].astype("Int64")
    out["late"] = out["late"].astype("boolean")
    for c in (
        "path",
        "file_name",
        "source",
        "kind",
        "unit",
        "report_month",
        "status",
        "reason_code",
    ):
        out[c] = out[c].astype("string")
    return out


def _births_key(
    sim: _Sim, files: _Files, births: pd.DataFrame, numbered: dict[str, pd.DataFrame]
) -> pd.DataFrame:
    spec, F, P = sim.spec, files.rows, sim.P
    B = births.copy()
    for name, short in (
        ("village_births", "village"),
        ("hospital_births", "hospital"),
        ("police_hukou", "police"),
    ):
        R = numbered[name]
        R = R[
            (R["_birth"].to_numpy() >= 0)
            & np.array([F[int(fi)]["status"] == "loaded" for fi in R["_file"]], bool)
        ]
        if short == "village":
            # The earliest upload that holds the birth is the one that reported it.
            R = R.assign(_month=[F[int(fi)]["month"] for fi in R["_file"]])
            R = R.sort_values(["_month", "_file", "_row"], kind="stable")
        first = R.drop_duplicates("_birth").set_index("_birth")
        B[f"{short}_path"] = (
            B["birth_id"].map(first["_file"].map(lambda fi: F[int(fi)]["path"])).astype("string")
        )
        B[f"{short}_row"] = B["birth_id"].map(first["_row"]).astype("Int64")
        B[f"in_{short}"] = B[f"{short}_path"].notna().to_numpy()
        if short == "village":
            B["_report_m"] = B["birth_id"].map(first["_month"])
    # An error row (the mistyped mother ID) never reports a birth (indicators.md).
    B["in_village"] = B["in_village"] & ~B["mistyped"].to_numpy(bool)
    seen = (B["in_hospital"] | B["in_police"]).to_numpy()
    inv = B["in_village"].to_numpy()
    as_of = spec.effective_as_of
    months = B["month"].to_numpy()
    due = np.array([as_of > _deadline(spec, int(m) + 1).date() for m in months], bool)
    conflict = inv & seen & (B["village_sex"] != B["sex"]).to_numpy()
    status = np.select(
        [conflict, inv & seen, inv, seen & due, seen],
        ["conflict", "matched", "village_only", "missing_in_village", "pending"],
        "",
    )
    # 漏报: reported on time when the village's upload of the birth month or the next holds
    # it, whenever that upload arrived; decided once that upload is due.
    on_time: list[bool | None] = []
    report_month: list[str | None] = []
    for v, rm, m, st, d in zip(inv, B["_report_m"], months, status, due, strict=True):
        if v:
            on_time.append(bool(int(rm) <= int(m) + 1))
            report_month.append(_ym(int(rm)))
        else:
            on_time.append(False if st and d else None)
            report_month.append(None)
    w = B["woman"].to_numpy()
    key = pd.DataFrame(
        {
            "birth_id": B["birth_id"].astype(np.int64),
            "mother_id": pd.array(P["id"][w], dtype="string"),
            "mother_name": pd.array(P["name"][w], dtype="string"),
            "village_code": pd.array(
                np.asarray(sim.geo.village_codes, object)[B["village"]], dtype="string"
            ),
            "birth_date": B["birth_date"].astype("datetime64[s]"),
            "child_sex": B["sex"].astype("string"),
            "village_sex": B["village_sex"].where(B["in_village"]).astype("string"),
            "birth_order": B["birth_order"].astype("Int64"),
            "policy_status": B["policy_status"].astype("string"),
            "twin": B["twin"].astype(bool),
            "in_village": B["in_village"].astype(bool),
            "in_hospital": B["in_hospital"].astype(bool),
            "in_police": B["in_police"].astype(bool),
            "status": pd.array([x or None for x in status], dtype="string"),
            "matched_by": pd.array(
                [
                    ("name" if mt else "id") if v and s_ else None
                    for v, s_, mt in zip(inv, seen, B["mistyped"], strict=True)
                ],
                dtype="string",
            ),
            "village_report_month": pd.array(report_month, dtype="string"),
            "reported_on_time": pd.array(on_time, dtype="boolean"),
            "village_path": B["village_path"],
            "village_row": B["village_row"],
            "hospital_path": B["hospital_path"],
            "hospital_row": B["hospital_row"],
            "police_path": B["police_path"],
            "police_row": B["police_row"],
            "case": pd.array([c or None for c in B["case"]], dtype="string"),
        }
    )
    return key.reset_index(drop=True)


def _faults_key(
    sim: _Sim, files: _Files, births_key: pd.DataFrame, numbered: dict[str, pd.DataFrame]
) -> pd.DataFrame:
    spec, F = sim.spec, files.rows
    rows: list[dict[str, Any]] = []

    def add(
        fault: str, f: dict[str, Any], row: int | None, note: str, *, planted: bool = True
    ) -> None:
        expect, rule, dim, sev = FAULT_RULES[fault]
        rows.append(
            {
                "fault": fault,
                "path": None if f["status"] == "missing" else f["path"],
                "row_number": row,
                "source": f["source"],
                "kind": f["kind"],
                "unit": f["unit"],
                "report_month": _ym(f["month"]),
                "expect_in": expect,
                "rule": rule,
                "dimension": dim,
                "severity": sev,
                "planted": planted,
                "note": note,
            }
        )

    # Rows in village files (the hospital's and police's copies of planted births are in
    # the births key).
    for name in ("village_women", "village_births", "village_fees"):
        R = numbered.get(name)
        if R is None:
            continue
        tagged = R[R["_tag"].astype(str) != ""]
        for tag, fi, row in zip(tagged["_tag"], tagged["_file"], tagged["_row"], strict=True):
            f = F[int(fi)]
            if tag not in FAULT_RULES or f["status"] != "loaded":
                continue
            add(tag, f, int(row), _NOTES.get(tag, ""))
    # Births the village never reported although its upload is due.
    missing = births_key[births_key["status"] == "missing_in_village"]
    for b in missing.itertuples():
        m = int(_mi_of(np.asarray(b.birth_date, "datetime64[D]"))) + 1
        rows.append(
            {
                "fault": "birth_missing_in_village",
                "path": None,
                "row_number": None,
                "source": "village",
                "kind": "births",
                "unit": b.village_code,
                "report_month": _ym(m),
                "expect_in": "dq_issues",
                "rule": "birth_missing_in_village",
                "dimension": "completeness",
                "severity": "warning",
                "planted": True,
                "note": (
                    "lost with the missing upload"
                    if b.case == "missing_upload"
                    else "in hospital/police, never in the village's reports"
                )
                + f"; hospital {b.hospital_path} row {b.hospital_row}",
            }
        )
    # File-level faults and late uploads.
    for f in F:
        if f["fault"] in (
            "missing_upload",
            "duplicate_upload",
            "lock_file",
            "unrecognised_name",
            "missing_required_column",
        ):
            add(f["fault"], f, None, f["note"] or _NOTES.get(f["fault"], ""))
        counted = f["status"] in ("loaded", "superseded") and f["fault"] in (None, "correction")
        if counted and f["arrived_at"] > _deadline(spec, f["month"]):
            add(
                "late_upload",
                f,
                None,
                "arrived after the deadline",
                planted=bool(f.get("planted_late")),
            )
    out = pd.DataFrame(rows, columns=list(_FAULT_COLUMNS))
    out["row_number"] = out["row_number"].astype("Int64")
    out["planted"] = out["planted"].astype(bool)
    for c in _FAULT_COLUMNS:
        if c not in ("row_number", "planted"):
            out[c] = out[c].astype("string")
    return out.sort_values(
        ["fault", "path", "row_number"], na_position="last", kind="stable"
    ).reset_index(drop=True)


def _answer_key(
    sim: _Sim, files: _Files, births: pd.DataFrame, numbered: dict[str, pd.DataFrame]
) -> AnswerKey:
    births_key = _births_key(sim, files, births, numbered)
    women = pd.DataFrame(
        sim.women_key,
        columns=[
            "case",
            "id_number",
            "name",
            "village_code",
            "other_village_code",
            "report_month",
            "event_date",
            "note",
        ],
    )
    for c in (
        "case",
        "id_number",
        "name",
        "village_code",
        "other_village_code",
        "report_month",
        "note",
    ):
        women[c] = women[c].astype("string")
    return AnswerKey(
        uploads=_uploads_key(sim.spec, files, numbered),
        births=births_key,
        women=women,
        faults=_faults_key(sim, files, births_key, numbered),
        birth_figures=birth_figures(births_key, sim.spec),
        target_faults=target_faults_key(sim.spec),
    )


def _next_month(m: int) -> tuple[int, int]:
    y, mm = divmod(m + 1, 12)
    return y, mm + 1
