"""The generator's vocabulary and shapes: names, codes, the spec, the generated county and its answer key, ID check digits, month arithmetic of the simulation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

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
    names_from: int = 0
    """Where the township and village names start in the name lists: a province's
    counties start further along, so no two of its counties share a place name."""

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
        if self.names_from < 0:
            raise ValueError("names_from must not be negative")

    @property
    def effective_as_of(self) -> date:
        """`as_of`, by default the day after the deadline of the last month's uploads."""
        if self.as_of is not None:
            return self.as_of
        y, m = divmod(_mi(self.year, self.last_month) + 1, 12)
        return date(y, m + 1, self.deadline_day + 1)


@dataclass
class Taken:
    """What a province's earlier counties already hold, so that a county repeats none
    of it: the ID numbers issued, and the upload contents (two uploads with the same
    bytes are one upload, uploads.md). A county adds its own to both."""

    ids: set[str] = field(default_factory=set)
    contents: set[bytes] = field(default_factory=set)


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


def _next_month(m: int) -> tuple[int, int]:
    y, mm = divmod(m + 1, 12)
    return y, mm + 1
