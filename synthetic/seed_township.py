"""The seed township's fixed figures and facts: codes, names, months, the worked example's targets, its people's shapes."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

import numpy as np

from synthetic.reference import Geography
from synthetic.spec import CountySpec

YEAR: Final = 2026
MONTHS: Final = tuple(range(1, 10))  # January..September
COUNTY_CODE: Final = "654226"
COUNTY_NAME: Final = "和布克赛尔蒙古自治县"
TOWNSHIP_CODE: Final = "654226100"
TOWNSHIP_NAME: Final = "和什托洛盖镇"
VILLAGES: Final[tuple[tuple[str, str], ...]] = (
    ("654226100001", "阳光社区"),
    ("654226100201", "查斯托洛盖村"),
    ("654226100202", "和什托洛盖村"),
    ("654226100203", "巴音布拉格村"),
    ("654226100204", "乌兰布拉格村"),
    ("654226100205", "阿克乔克村"),
    ("654226100206", "塔斯特村"),
    ("654226100207", "哈拉苏村"),
)
SEED: Final = 20260930
AS_OF: Final = date(2026, 10, 6)


@dataclass(frozen=True)
class SeedFigure:
    """One row of the worked example, as mart_target_achievement should publish it."""

    indicator: str
    period: str
    numerator: float
    denominator: float
    target_op: str
    target: float
    status: str

    @property
    def value(self) -> float:
        """The unrounded value, computed as the pipeline does (numerator × 100 / denominator)."""
        return self.numerator * 100 / self.denominator


YTD: Final = f"{YEAR}-01..{YEAR}-09"
H2: Final = f"{YEAR}-H2"
SEED_FIGURES: Final[tuple[SeedFigure, ...]] = (
    SeedFigure("policy_compliance_rate", YTD, 178, 199, ">=", 87, "met"),
    SeedFigure("multi_child_rate", YTD, 2, 199, "<=", 1.0, "not_met"),
    SeedFigure("fee_collection_rate", YTD, 754_178, 1_041_428, ">=", 70, "met"),
    SeedFigure("fee_arrears_collection_rate", YTD, 336_070, 621_317, ">=", 40, "met"),
    SeedFigure("three_checks_rate", H2, 1_815, 1_891, ">=", 95, "met"),
    SeedFigure("three_checks_rate_2plus", H2, 763, 794, ">=", 96, "met"),
)
_FIG: Final = {f.indicator: f for f in SEED_FIGURES}

# The world's shape (the figures above follow from these and are checked).
BIRTHS_PER_MONTH: Final = (21, 20, 23, 22, 24, 22, 23, 22, 22)  # 199
THIRD_CHILD_BIRTHS: Final = (60, 150)  # birth numbers (in date order) of the 多孩 births
SECOND_CHILD_BIRTHS: Final = 85
OUT_OF_POLICY: Final = 21
STERILISED_IN_SEPTEMBER: Final = 452
PRIOR_CASES_PER_VILLAGE: Final = 2
LATE_2025_CASES: Final = 2


def seed_spec() -> CountySpec:
    """The CountySpec the files are rendered with (file styles, arrival days, as-of)."""
    return CountySpec(
        seed=SEED,
        county_code=COUNTY_CODE,
        county_name=COUNTY_NAME,
        townships=1,
        villages_per_township=len(VILLAGES),
        women_per_village=290,
        year=YEAR,
        first_month=MONTHS[0],
        last_month=MONTHS[-1],
        faults=False,
        as_of=AS_OF,
        late_share=0.0,
    )


def seed_geography() -> Geography:
    """The township, its villages (阳光社区 is a community: code 001) and institutions."""
    return Geography(
        county_code=COUNTY_CODE,
        county_name=COUNTY_NAME,
        township_codes=(TOWNSHIP_CODE,),
        township_names=(TOWNSHIP_NAME,),
        village_codes=tuple(c for c, _ in VILLAGES),
        village_names=tuple(n for _, n in VILLAGES),
        village_township=tuple(0 for _ in VILLAGES),
        institution_codes=(f"H{TOWNSHIP_CODE}", f"H{COUNTY_CODE}001", f"H{COUNTY_CODE}002"),
        institution_names=(
            f"{TOWNSHIP_NAME}卫生院",
            f"{COUNTY_NAME}人民医院",
            f"{COUNTY_NAME}妇幼保健院",
        ),
        institution_township=(0, 0, 0),
    )


# -------------------------------------------------------------------------- dates


def _month_end(month: int, year: int = YEAR) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _day(month: int, day: int, year: int = YEAR) -> date:
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _add_days(d: date, days: int) -> date:
    return date.fromordinal(d.toordinal() + days)


def _d64(values: list[date | None]) -> Any:
    return np.array(
        [np.datetime64("NaT") if v is None else np.datetime64(v, "D") for v in values],
        dtype="datetime64[D]",
    )


# -------------------------------------------------------------------------- world


@dataclass
class _Woman:
    """A married woman of the township and her year (months are 1..9 of YEAR)."""

    idx: int
    village: int
    residence: str
    eth: int
    bdate: date
    children0: int
    method0: str
    method_date0: date | None
    kind: str = "static"  # static, mother, bride, moved_out, died
    id: str = ""
    name: str = ""
    legacy: bool = False
    husband_id: str = ""
    husband_name: str = ""
    husband_surname: str = ""
    flags: tuple[int, int, int, int] = (-1, -1, -1, -1)  # 婚育证明, 建档, 验证, 通报 (流入)
    entry: int = 1
    exit: int = 9  # last month on the village's roster
    event_date: date | None = None  # 迁入 / 迁出 / 死亡注销
    birth: int | None = None  # index into births
    changes: list[tuple[int, str, date]] = field(default_factory=list)  # (month, method, date)
    checks: list[date] = field(default_factory=list)
    q3_unchecked: bool = False

    def listed(self, m: int) -> bool:
        return self.entry <= m <= self.exit

    def state(self, m: int, births: list[_Birth]) -> tuple[int, str, date | None, date | None]:
        """(children, method, method_date, last_check_date) on the roster of month m."""
        children = self.children0
        if self.birth is not None and births[self.birth].born.month <= m:
            children += 1
        method, mdate = self.method0, self.method_date0
        for month, meth, d in self.changes:
            if month <= m:
                method, mdate = meth, d
        end = _month_end(m)
        past = [c for c in self.checks if c <= end]
        return children, method, mdate, (max(past) if past else None)


@dataclass
class _Birth:
    n: int
    born: date
    village: int
    order: int
    policy: str
    sex: str
    mother: int = -1
    inst: int = 0
    report_month: int = 0
    report_date: date | None = None
    police_date: date | None = None
    child_name: str = ""
    child_id: str = ""
    weight: int = 3300


@dataclass
class _Case:
    village: int
    party_id: str
    party_name: str
    decision: date
    assessed: int = 0  # cents
    prior_paid: int = 0  # before the year (cents)
    payments: dict[int, int] = field(default_factory=dict)  # month -> cents

    @property
    def first_month(self) -> int:
        return 1 if self.decision.year < YEAR else self.decision.month

    def paid_to(self, m: int) -> int:
        return self.prior_paid + sum(v for k, v in self.payments.items() if k <= m)
