"""The seed's figures (篇五): a clean township whose reconciled figures are the worked example.

`generate_seed_county()` returns upload files (bytes, like `synthetic.generate_county`) for
和什托洛盖镇 (654226100) and its eight villages, January to September 2026, whose figures
are exactly those of indicators.md, "A worked example from the seed":

| indicator | period | numerator | denominator | target |
| --- | --- | --- | --- | --- |
| policy_compliance_rate | 2026-01..2026-09 | 178 | 199 | >= 87 (met) |
| multi_child_rate | 2026-01..2026-09 | 2 | 199 | <= 1.0 (1.005 %: not met) |
| fee_collection_rate | 2026-01..2026-09 | 754,178 | 1,041,428 | >= 70 (met) |
| fee_arrears_collection_rate | 2026-01..2026-09 | 336,070 | 621,317 | >= 40 (met) |
| three_checks_rate | 2026-H2 | 1,815 | 1,891 | >= 95 (met) |
| three_checks_rate_2plus | 2026-H2 | 763 | 794 | >= 96 (met) |

The township is the county's only one, so the county (654226) has the same figures.

How the figures are made (pure and deterministic: no I/O, fixed seeds):

- Births: 199 deliveries (no twins), 20-24 a month, spread evenly over the villages. Each
  is reported by the village (its birth month's upload, or the next month's for a birth
  late in a month), certified by a hospital of the county and registered by the police
  (出生登记, guardian = the mother) by the end of September: all `matched`. Birth orders:
  112 first, 85 second, 2 third children (多孩); 21 births 政策外 (one of the third
  children among them), so 178 政策内. Every mother is a 常住 woman on her village's
  roster all year; her `children` goes up by one in the birth month's roster.
- Roster: ~2,300 married women. Besides the mothers, the population stays put; the police
  hukou events that touch it are accounted for: two women move out (迁出) and one dies
  (死亡注销) — each is listed in her village's roster of the event month and gone from the
  next — and two brides move in (迁入) and are listed from their month on. Other police
  events concern people not on any roster (men, the elderly).
- Methods: postpartum 放环 / 皮埋 / 结扎 at a hospital two months after the birth, recorded
  by the village in the same month (method and date agree), or pills recorded by the
  village alone. Everybody else keeps her method.
- 三查: every woman due (method not 结扎) is checked once a quarter (a few miss the first
  or second quarter), in a random month of the quarter; each check of a 常住/流入 woman
  is in the hospital's 三查 records of its month with the date on the roster (流出 women
  are checked where they work: roster only).
  The September roster has 1,891 women due, 794 of them with two or more children; 76 of
  them (31 with 2+ children) had no check in July-September.
- Fees: 16 cases decided in 2022-2025 with an amount outstanding on 1 January and 21
  decided in 2026 (one for each 政策外 birth decided by September, one or two months after
  the birth: 19; and two for births late in 2025); amounts in yuan with cents, their sums exactly the
  seed's; paid to date is continuous from month to month and never above the amount
  assessed.
- Uploads: every village × 3 kinds, the police station and the three institutions × 4
  kinds, every month, all on time (by the 5th of the next month), in the generator's mix
  of CSV encodings, XLSX layouts, header spellings and value formats. No faults.

The generator checks its own world against `SEED_FIGURES` before rendering (RuntimeError
otherwise); whether the pipeline finds the same is tests/e2e/test_seed_figures.py.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

import numpy as np
import pandas as pd

from transforms.synthetic import (
    ETHNICITIES,
    OTHER_REGIONS,
    RESIDENCES,
    AnswerKey,
    CountySpec,
    GeneratedCounty,
    GeneratedFile,
    Geography,
    _births_key,
    _csv_bytes,
    _faults_key,
    _Files,
    _Ids,
    _mi,
    _names,
    _render_all,
    _Sim,
    _uploads_key,
)

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


class _World:
    """Everybody and everything of the township's year, built to the seed's figures."""

    def __init__(self) -> None:
        self.rng = np.random.default_rng([SEED, 1])
        self.ids = _Ids(np.random.default_rng([SEED, 2]))
        self.geo = seed_geography()
        self.nv = len(VILLAGES)
        self.women: list[_Woman] = []
        self.births: list[_Birth] = []
        self.procedures: list[tuple[int, str, date, int]] = []  # woman, procedure, date, inst
        self.exams: list[tuple[int, date, int]] = []  # woman, date, inst
        self.cases: list[_Case] = []
        self.police_other: list[dict[str, Any]] = []
        self.sex_acc = 0.5

    # ---- people

    def _person(
        self,
        village: int,
        residence: str,
        age_lo: int,
        age_hi: int,
        children: int,
        method: str,
        kind: str,
    ) -> _Woman:
        rng = self.rng
        age = int(rng.integers(age_lo, age_hi + 1))
        # `age` or `age` - 1 on 1 January (born October to September), under 50 all year.
        bdate = _add_days(date(YEAR - age - 1, 10, 1), int(rng.integers(0, 365)))
        eth = int(rng.choice(len(ETHNICITIES), p=(0.45, 0.28, 0.20, 0.04, 0.03)))
        mdate = None
        if method != "无":
            latest = date(YEAR - 1, 12, 20)
            earliest = max(_add_days(bdate, 18 * 365 + 5), date(YEAR - 12, 1, 1))
            earliest = min(earliest, _add_days(latest, -30))
            span = latest.toordinal() - earliest.toordinal()
            mdate = _add_days(earliest, int(rng.integers(0, span + 1)))
        w = _Woman(
            idx=len(self.women),
            village=village,
            residence=residence,
            eth=eth,
            bdate=bdate,
            children0=children,
            method0=method,
            method_date0=mdate,
            kind=kind,
        )
        if residence == "流入":
            u = rng.random(4)
            w.flags = (int(u[0] < 0.96), int(u[1] < 0.97), int(u[2] < 0.94), int(u[3] < 0.93))
        self.women.append(w)
        return w

    def _identities(self) -> None:
        """ID numbers and names of the women and their husbands (one pass, vectorised)."""
        rng = self.rng
        W = self.women
        n = len(W)
        local = np.array([w.residence != "流入" and w.kind != "bride" for w in W])
        local &= rng.random(n) < 0.8
        region = np.where(
            local,
            COUNTY_CODE,
            np.asarray(OTHER_REGIONS, object)[rng.integers(0, len(OTHER_REGIONS), n)],
        )
        bdate = _d64([w.bdate for w in W])
        ids = self.ids.make(region, bdate, np.ones(n, bool))
        eth = np.array([w.eth for w in W])
        names, _ = _names(rng, eth, True)
        h_eth = np.where(rng.random(n) < 0.9, eth, 0)
        h_names, h_surname = _names(rng, h_eth, False)
        h_birth = bdate - rng.integers(-365, 5 * 365, n).astype("timedelta64[D]")
        h_birth = np.minimum(h_birth, np.datetime64(f"{YEAR - 21}-01-01"))
        h_region = np.where(rng.random(n) < 0.8, COUNTY_CODE, region)
        h_ids = self.ids.make(h_region, h_birth, np.zeros(n, bool))
        legacy = (bdate < np.datetime64("1984-01-01")) & (rng.random(n) < 0.35)
        for k, w in enumerate(W):
            w.id, w.name, w.legacy = str(ids[k]), str(names[k]), bool(legacy[k])
            w.husband_id, w.husband_name = str(h_ids[k]), str(h_names[k])
            w.husband_surname = str(h_surname[k])

    # ---- births

    def plan_births(self) -> None:
        rng = self.rng
        n_total = sum(BIRTHS_PER_MONTH)
        orders = np.ones(n_total, np.int64)
        second = rng.choice(
            [i for i in range(n_total) if i not in THIRD_CHILD_BIRTHS],
            SECOND_CHILD_BIRTHS,
            replace=False,
        )
        orders[second] = 2
        orders[list(THIRD_CHILD_BIRTHS)] = 3
        # 政策外: one of the third children, and births decided by September (fee cases).
        out = {THIRD_CHILD_BIRTHS[0]}
        early = [i for i in range(sum(BIRTHS_PER_MONTH[:7])) if i not in THIRD_CHILD_BIRTHS]
        out |= {int(i) for i in rng.choice(early, OUT_OF_POLICY - 3, replace=False)}
        late = [i for i in range(sum(BIRTHS_PER_MONTH[:7]), n_total) if i not in THIRD_CHILD_BIRTHS]
        out |= {int(i) for i in rng.choice(late, 2, replace=False)}
        assert len(out) == OUT_OF_POLICY
        n = 0
        for month, count in zip(MONTHS, BIRTHS_PER_MONTH, strict=True):
            last_day = 18 if month == MONTHS[-1] else 27
            days = np.sort(rng.integers(1, last_day + 1, count))
            start = int(rng.integers(0, self.nv))
            villages = [(start + j * 3) % self.nv for j in range(count)]
            for day, v in zip(days, villages, strict=True):
                self.sex_acc += 106 / 206
                boy = self.sex_acc >= 1
                self.sex_acc -= float(boy)
                self.births.append(
                    _Birth(
                        n=n,
                        born=date(YEAR, month, int(day)),
                        village=v,
                        order=int(orders[n]),
                        policy="政策外" if n in out else "政策内",
                        sex="M" if boy else "F",
                    )
                )
                n += 1
        for b in self.births:
            self._mother(b)

    def _mother(self, b: _Birth) -> None:
        rng = self.rng
        lo, hi = {1: (21, 30), 2: (25, 36), 3: (29, 40)}[b.order]
        w = self._person(b.village, "常住", lo, hi, b.order - 1, "无", "mother")
        w.birth = b.n
        b.mother = w.idx
        m = b.born.month
        u = rng.random()
        b.inst = 0 if u < 0.6 else (1 if u < 0.9 else 2)
        # The village: this month's report, or next month's for a birth late in the month.
        if b.born.day <= 20 or m == MONTHS[-1]:
            b.report_month = m
            b.report_date = min(_add_days(b.born, int(rng.integers(1, 6))), _month_end(m))
        else:
            b.report_month = m + 1
            b.report_date = _day(m + 1, int(rng.integers(1, 5)))
        # The police: 出生登记 within weeks, by the end of September.
        b.police_date = min(_add_days(b.born, int(rng.integers(6, 31))), _day(9, 28))
        b.weight = int(np.clip(round(rng.normal(3300, 420)), 2100, 4600))
        # Postpartum method two months after the birth.
        pm = m + 2
        if pm > MONTHS[-1]:
            return
        u = rng.random()
        d = _day(pm, int(rng.integers(3, 21)))
        if b.order == 1:
            choice = "放环" if u < 0.60 else "皮埋" if u < 0.68 else "药具" if u < 0.93 else ""
        else:
            choice = "结扎" if u < 0.40 else "放环" if u < 0.85 else "皮埋" if u < 0.90 else "药具"
        if choice in ("放环", "皮埋", "结扎"):
            inst = 0 if rng.random() < 0.85 else 1
            self.procedures.append((w.idx, choice, d, inst))
            w.changes.append((pm, {"放环": "上环"}.get(choice, choice), d))
        elif choice == "药具":
            w.changes.append((pm, "药具", d))

    # ---- moves and deaths of roster women

    def plan_moves(self) -> None:
        rng = self.rng
        for month, day, kind in ((4, 16, "moved_out"), (7, 9, "moved_out"), (2, 11, "died")):
            age = (30, 38) if kind == "moved_out" else (42, 47)
            w = self._person(int(rng.integers(0, self.nv)), "常住", *age, 2, "上环", kind)
            w.exit, w.event_date = month, _day(month, day)
        for month, day in ((3, 8), (6, 14)):
            w = self._person(int(rng.integers(0, self.nv)), "常住", 21, 27, 0, "无", "bride")
            w.entry, w.event_date = month, _day(month, day)

    # ---- everybody else

    def fill(self) -> None:
        """The women who only keep their method, sized so September has the seed's counts."""
        d2, d1, st = self._september_counts()
        due, due2 = (
            _FIG["three_checks_rate"].denominator,
            _FIG["three_checks_rate_2plus"].denominator,
        )
        need_d2, need_d1, need_st = due2 - d2, due - due2 - d1, STERILISED_IN_SEPTEMBER - st
        rng = self.rng
        weights = np.array([1.15, 0.95, 1.0, 1.1, 0.85, 1.05, 0.9, 1.0])
        plan = [("d2", int(need_d2)), ("d1", int(need_d1)), ("st", int(need_st))]
        for group, count in plan:
            villages = rng.choice(self.nv, count, p=weights / weights.sum())
            for v in villages:
                if group == "st":
                    res = str(rng.choice(RESIDENCES, p=(0.90, 0.06, 0.04)))
                    kids = int(rng.choice((1, 2, 3), p=(0.05, 0.70, 0.25)))
                    self._person(int(v), res, 32, 48, kids, "结扎", "static")
                    continue
                res = str(rng.choice(RESIDENCES, p=(0.80, 0.14, 0.06)))
                if group == "d2":
                    kids = int(rng.choice((2, 3, 4), p=(0.85, 0.12, 0.03)))
                    method = str(
                        rng.choice(
                            ("上环", "皮埋", "药具", "其他", "无"), p=(0.80, 0.08, 0.08, 0.02, 0.02)
                        )
                    )
                    self._person(int(v), res, 27, 48, kids, method, "static")
                elif rng.random() < 0.25:
                    method = str(rng.choice(("药具", "无", "其他"), p=(0.5, 0.4, 0.1)))
                    self._person(int(v), res, 20, 30, 0, method, "static")
                else:
                    method = str(
                        rng.choice(
                            ("上环", "皮埋", "药具", "其他", "无"), p=(0.60, 0.07, 0.20, 0.05, 0.08)
                        )
                    )
                    self._person(int(v), res, 22, 45, 1, method, "static")

    def _september_counts(self) -> tuple[int, int, int]:
        """(due with 2+ children, due with fewer, sterilised) on the September rosters."""
        d2 = d1 = st = 0
        for w in self.women:
            if not w.listed(9):
                continue
            children, method, _, _ = w.state(9, self.births)
            if method == "结扎":
                st += 1
            elif children >= 2:
                d2 += 1
            else:
                d1 += 1
        return d2, d1, st

    # ---- checks

    def plan_checks(self) -> None:
        """One check a quarter for every woman due, in a random month of it; 76 miss Q3."""
        rng = self.rng
        due9 = [w for w in self.women if w.listed(9) and w.state(9, self.births)[1] != "结扎"]
        fig, fig2 = _FIG["three_checks_rate"], _FIG["three_checks_rate_2plus"]
        two = [w for w in due9 if w.state(9, self.births)[0] >= 2]
        one = [w for w in due9 if w.state(9, self.births)[0] < 2]
        miss2 = int(fig2.denominator - fig2.numerator)
        miss1 = int(fig.denominator - fig.numerator) - miss2
        for group, k in ((two, miss2), (one, miss1)):
            pool = [w for w in group if w.kind == "static"]
            for i in rng.choice(len(pool), k, replace=False):
                pool[int(i)].q3_unchecked = True
        for w in self.women:
            steril0 = w.method0 == "结扎"
            # Before the year: the last check of autumn 2025 (or an old one).
            if steril0:
                if rng.random() < 0.4:
                    w.checks.append(_add_days(date(YEAR - 1, 1, 1), int(rng.integers(0, 540))))
            elif w.entry == 1 and rng.random() < 0.93:
                w.checks.append(_day(int(rng.integers(10, 13)), int(rng.integers(1, 29)), YEAR - 1))
            if steril0:
                continue
            for q in (1, 2, 3):
                month = 3 * q - 2 + int(rng.integers(0, 3))
                if not w.listed(month):
                    month = max(month, w.entry + 1)
                    if month > 3 * q or not w.listed(month):
                        continue
                if w.state(month, self.births)[1] == "结扎":
                    continue
                if q == 3 and w.q3_unchecked:
                    continue
                if q < 3 and w.kind == "static" and rng.random() < 0.03:
                    continue
                d = _day(month, int(rng.integers(1, 29)))
                if (
                    w.event_date is not None
                    and w.kind in ("moved_out", "died")
                    and d >= w.event_date
                ):
                    continue
                if w.event_date is not None and w.kind == "bride" and d <= w.event_date:
                    continue
                w.checks.append(d)

    # ---- exams, police noise, fees

    def plan_exams(self) -> None:
        """孕前优生: 64 couples (the seed's 篇二), 7 or so a month."""
        rng = self.rng
        pool = [
            w
            for w in self.women
            if w.kind == "static"
            and w.children0 <= 1
            and w.method0 in ("无", "药具")
            and w.residence != "流出"
            and YEAR - w.bdate.year < 40
        ]
        chosen = rng.choice(len(pool), 64, replace=False)
        for k, i in enumerate(chosen):
            month = MONTHS[k % len(MONTHS)]
            inst = 0 if rng.random() < 0.8 else 2
            self.exams.append((pool[int(i)].idx, _day(month, int(rng.integers(1, 29))), inst))

    def plan_police_other(self) -> None:
        """Deaths of the elderly and moves of men: hukou events about nobody on a roster."""
        rng = self.rng
        for month in MONTHS:
            for _ in range(int(rng.integers(2, 5))):
                old = rng.random() < 0.6
                female = old and rng.random() < 0.5
                if old:
                    bd = _add_days(date(1930, 1, 1), int(rng.integers(0, 25 * 365)))
                    kind = "死亡注销"
                else:
                    bd = _add_days(date(1976, 1, 1), int(rng.integers(0, 28 * 365)))
                    kind = "迁出" if rng.random() < 0.5 else "迁入"
                self.police_other.append(
                    {
                        "event_type": kind,
                        "bdate": bd,
                        "female": female,
                        "eth": int(rng.choice(len(ETHNICITIES), p=(0.45, 0.28, 0.20, 0.04, 0.03))),
                        "event_date": _day(month, int(rng.integers(1, 29))),
                        "village": int(rng.integers(0, self.nv)),
                    }
                )

    def plan_fees(self) -> None:
        rng = self.rng
        W = self.women
        elders = [w for w in W if w.kind == "static" and w.children0 >= 2 and w.residence == "常住"]
        for v in range(self.nv):
            here = [w for w in elders if w.village == v]
            for i in rng.choice(len(here), PRIOR_CASES_PER_VILLAGE, replace=False):
                w = here[int(i)]
                pid, pname = (
                    (w.id, w.name) if rng.random() < 0.6 else (w.husband_id, w.husband_name)
                )
                year = YEAR - int(rng.integers(1, 5))
                self.cases.append(
                    _Case(v, pid, pname, _add_days(date(year, 1, 1), int(rng.integers(0, 360))))
                )
        prior = list(self.cases)
        current: list[_Case] = []
        for b in self.births:
            if b.policy != "政策外":
                continue
            dm = b.born.month + int(rng.integers(1, 3))
            if dm > MONTHS[-1]:
                continue
            w = W[b.mother]
            pid, pname = (w.id, w.name) if rng.random() < 0.7 else (w.husband_id, w.husband_name)
            current.append(_Case(b.village, pid, pname, _day(dm, int(rng.integers(1, 28)))))
        ones = [w for w in W if w.kind == "static" and w.children0 >= 1 and w.residence == "常住"]
        for k, i in enumerate(rng.choice(len(ones), LATE_2025_CASES, replace=False)):
            w = ones[int(i)]
            current.append(_Case(w.village, w.id, w.name, _day(k + 1, int(rng.integers(5, 25)))))
        self.cases.extend(current)
        fc, fa = _FIG["fee_collection_rate"], _FIG["fee_arrears_collection_rate"]
        self._amounts(current, int(fc.denominator * 100), int(fc.numerator * 100), prior=False)
        self._amounts(prior, int(fa.denominator * 100), int(fa.numerator * 100), prior=True)

    def _amounts(
        self, cases: list[_Case], assessed_total: int, paid_total: int, *, prior: bool
    ) -> None:
        """Assessed and paid (cents) of `cases`, summing exactly to the totals."""
        rng = self.rng
        n = len(cases)
        raw = rng.uniform(0.55, 1.6, n)
        # Whole yuan mostly; some decisions carry cents (a fee worked out from an income).
        assessed = np.floor(raw / raw.sum() * assessed_total / 100).astype(np.int64) * 100
        cents = rng.random(n) < 0.3
        assessed[cents] += rng.integers(1, 100, int(cents.sum()))
        assessed[-1] += assessed_total - int(assessed.sum())
        frac = rng.uniform(0.35, 0.95, n) if prior else rng.uniform(0.5, 1.0, n)
        frac[rng.random(n) < 0.15] = 1.0
        paid = np.minimum(np.floor(assessed * frac / 100).astype(np.int64) * 100, assessed)
        paid = np.where(frac == 1.0, assessed, paid)  # paid in full, cents and all
        # Top up (or trim) case by case until the total is exact.
        gap = paid_total - int(paid.sum())
        order = rng.permutation(n)
        while gap != 0:
            for i in order:
                room = (assessed[i] - paid[i]) if gap > 0 else paid[i]
                step = min(abs(gap), int(room), 500_000)
                paid[i] += step if gap > 0 else -step
                gap -= step if gap > 0 else -step
                if gap == 0:
                    break
        for c, a, p in zip(cases, assessed, paid, strict=True):
            c.assessed = int(a)
            p = int(p)
            if prior:
                # Outstanding on 1 January: part paid in earlier years, the rest this year.
                before = int(p * rng.uniform(0.3, 0.8)) // 100 * 100
                before = min(before, c.assessed - 100)
                c.prior_paid = max(0, before)
                p -= c.prior_paid
            months = list(range(c.first_month, MONTHS[-1] + 1))
            if p <= 0:
                continue
            k = min(len(months), int(rng.integers(1, 4)))
            when = sorted(int(x) for x in rng.choice(months, k, replace=False))
            if not prior and c.first_month not in when:
                when = [c.first_month, *when[1:]] if k > 1 else [c.first_month]
            shares = rng.dirichlet(np.ones(len(when)))
            parts = [int(p * s) // 100 * 100 for s in shares]
            parts[0] += p - sum(parts)
            for m, part in zip(when, parts, strict=True):
                c.payments[m] = c.payments.get(m, 0) + part

    # ---- children's names and IDs

    def name_children(self) -> None:
        rng = self.rng
        B = self.births
        mothers = [self.women[b.mother] for b in B]
        eth = np.array([w.eth for w in mothers])
        sex = np.array([b.sex for b in B])
        names = np.empty(len(B), object)
        for s in ("M", "F"):
            sel = sex == s
            dad = np.array(
                [w.husband_name.split("·")[0][-3:] for w, x in zip(mothers, sel, strict=True) if x],
                object,
            )
            surname = np.array(
                [w.husband_surname for w, x in zip(mothers, sel, strict=True) if x], object
            )
            names[sel], _ = _names(rng, eth[sel], s == "F", surname, dad)
        ids = self.ids.make(np.full(len(B), COUNTY_CODE), _d64([b.born for b in B]), sex == "F")
        for b, nm, i in zip(B, names, ids, strict=True):
            b.child_name, b.child_id = str(nm), str(i)

    def build(self) -> None:
        self.plan_births()
        self.plan_moves()
        self.fill()
        self._identities()
        self.name_children()
        self.plan_checks()
        self.plan_exams()
        self.plan_police_other()
        self.plan_fees()
        self.check()

    # ---- the figures, straight from the world

    def figures(self) -> dict[str, tuple[float, float]]:
        """The six figures as the world has them (numerator, denominator)."""
        B = self.births
        out: dict[str, tuple[float, float]] = {
            "policy_compliance_rate": (sum(b.policy == "政策内" for b in B), len(B)),
            "multi_child_rate": (sum(b.order >= 3 for b in B), len(B)),
        }
        done = due = done2 = due2 = 0
        h2 = date(YEAR, 7, 1)
        for w in self.women:
            if not w.listed(9):
                continue
            children, method, _, last = w.state(9, B)
            if method == "结扎":
                continue
            checked = last is not None and h2 <= last <= _month_end(9)
            due += 1
            done += checked
            if children >= 2:
                due2 += 1
                done2 += checked
        out["three_checks_rate"] = (done, due)
        out["three_checks_rate_2plus"] = (done2, due2)
        cur = [c for c in self.cases if c.decision.year == YEAR]
        old = [c for c in self.cases if c.decision.year < YEAR]
        out["fee_collection_rate"] = (
            sum(c.paid_to(9) for c in cur) / 100,
            sum(c.assessed for c in cur) / 100,
        )
        out["fee_arrears_collection_rate"] = (
            sum(c.paid_to(9) for c in old) / 100,
            sum(c.assessed for c in old) / 100,
        )
        return out

    def check(self) -> None:
        got = self.figures()
        wrong = {
            f.indicator: got[f.indicator]
            for f in SEED_FIGURES
            if got[f.indicator] != (f.numerator, f.denominator)
        }
        if wrong:
            raise RuntimeError(f"the seed world does not have the seed's figures: {wrong}")
        for c in self.cases:
            paid = [c.paid_to(m) for m in range(c.first_month, MONTHS[-1] + 1)]
            outstanding = c.decision.year == YEAR or c.prior_paid < c.assessed
            if min(paid) < 0 or max(paid) > c.assessed or not outstanding:
                raise RuntimeError(f"fee case out of bounds: {c}")


# ------------------------------------------------------------------------ records


def _records(world: _World, files: _Files) -> dict[str, pd.DataFrame]:
    """Rows of every template (canonical values, `_file`, `_order`, `_tag`, `_legacy`,
    `_birth`, `_woman`), as synthetic._render_all wants them."""
    W, B, geo = world.women, world.births, world.geo
    vcodes = geo.village_codes
    out: dict[str, pd.DataFrame] = {}

    def fi(tpl: str, unit: int, month: int) -> int:
        return files.index[(tpl, unit, _mi(YEAR, month))]

    # village_women
    rows: list[dict[str, Any]] = []
    for m in MONTHS:
        for w in W:
            if not w.listed(m):
                continue
            children, method, mdate, last = w.state(m, B)
            mig = w.residence == "流入"
            rows.append(
                {
                    "name": w.name,
                    "id_number": w.id,
                    "ethnicity": ETHNICITIES[w.eth],
                    "residence": w.residence,
                    "children": children,
                    "method": method,
                    "method_date": mdate,
                    "last_check_date": last,
                    "marriage_certificate": w.flags[0] if mig else -1,
                    "file_created": w.flags[1] if mig else -1,
                    "verified": w.flags[2] if mig else -1,
                    "notified": w.flags[3] if mig else -1,
                    "_file": fi("village_women", w.village, m),
                    "_order": float(w.idx),
                    "_legacy": w.legacy,
                    "_woman": w.idx,
                }
            )
    out["village_women"] = _frame(rows, dates=("method_date", "last_check_date"))

    # village_births
    rows = []
    for b in B:
        mother = W[b.mother]
        assert b.report_date is not None and b.police_date is not None
        remark = "上月出生" if b.report_month > b.born.month else ""
        rows.append(
            {
                "mother_name": mother.name,
                "mother_id": mother.id,
                "father_id": mother.husband_id,
                "child_name": b.child_name,
                "child_id": b.child_id if b.police_date <= b.report_date else "",
                "child_sex": b.sex,
                "birth_date": b.born,
                "birth_order": b.order,
                "policy_status": b.policy,
                "report_date": b.report_date,
                "remarks": remark,
                "_file": fi("village_births", b.village, b.report_month),
                "_order": float(b.report_date.toordinal() * 1_000 + b.n),
                "_legacy": False,
                "_birth": b.n,
                "_woman": b.mother,
            }
        )
    out["village_births"] = _frame(rows, dates=("birth_date", "report_date"))

    # village_fees
    rows = []
    seq: dict[int, int] = {}
    for k, c in enumerate(world.cases):
        seq[c.village] = seq.get(c.village, 0) + 1
        case_no = f"和什社抚〔{c.decision.year}〕{vcodes[c.village][-3:]}{seq[c.village]:02d}号"
        for m in range(c.first_month, MONTHS[-1] + 1):
            rows.append(
                {
                    "case_no": case_no,
                    "party_id": c.party_id,
                    "party_name": c.party_name,
                    "decision_date": c.decision,
                    "assessed": c.assessed,
                    "paid_this_month": c.payments.get(m, 0),
                    "paid_to_date": c.paid_to(m),
                    "_file": fi("village_fees", c.village, m),
                    "_order": float(k),
                    "_legacy": False,
                }
            )
    out["village_fees"] = _frame(rows, dates=("decision_date",))

    # police_hukou
    rows = []
    for b in B:
        assert b.police_date is not None
        rows.append(
            {
                "event_type": "出生登记",
                "name": b.child_name,
                "id_number": b.child_id,
                "sex": b.sex,
                "birth_date": b.born,
                "event_date": b.police_date,
                "village_code": vcodes[b.village],
                "guardian_id": W[b.mother].id,
                "_birth": b.n,
                "_woman": b.mother,
                "_month": b.police_date.month,
            }
        )
    for w in W:
        if w.event_date is None:
            continue
        kind = {"moved_out": "迁出", "died": "死亡注销", "bride": "迁入"}[w.kind]
        rows.append(
            {
                "event_type": kind,
                "name": w.name,
                "id_number": w.id,
                "sex": "F",
                "birth_date": w.bdate,
                "event_date": w.event_date,
                "village_code": vcodes[w.village],
                "guardian_id": "",
                "_woman": w.idx,
                "_month": w.event_date.month,
            }
        )
    others = world.police_other
    if others:
        rng = np.random.default_rng([SEED, 9])
        female = np.array([o["female"] for o in others])
        eth = np.array([o["eth"] for o in others])
        names_f, _ = _names(rng, eth, True)
        names_m, _ = _names(rng, eth, False)
        ids = world.ids.make(
            np.full(len(others), COUNTY_CODE), _d64([o["bdate"] for o in others]), female
        )
        for k, o in enumerate(others):
            rows.append(
                {
                    "event_type": o["event_type"],
                    "name": str(names_f[k] if o["female"] else names_m[k]),
                    "id_number": str(ids[k]),
                    "sex": "F" if o["female"] else "M",
                    "birth_date": o["bdate"],
                    "event_date": o["event_date"],
                    "village_code": vcodes[o["village"]],
                    "guardian_id": "",
                    "_month": o["event_date"].month,
                }
            )
    rows.sort(key=lambda r: (r["event_date"], r["id_number"]))
    for k, r in enumerate(rows):
        r["_file"] = fi("police_hukou", 0, r.pop("_month"))
        r["_order"] = float(k)
        r["_legacy"] = False
    out["police_hukou"] = _frame(rows, dates=("birth_date", "event_date"))

    # hospital_births: certificate numbers in date order across the institutions.
    rows = []
    for k, b in enumerate(sorted(B, key=lambda x: (x.born, x.n))):
        mother = W[b.mother]
        rows.append(
            {
                "cert_no": f"Q65{YEAR % 100:02d}{k + 1:05d}",
                "child_sex": b.sex,
                "birth_date": b.born,
                "birth_weight": b.weight,
                "mother_name": mother.name,
                "mother_id": mother.id,
                "father_id": mother.husband_id,
                "village_code": vcodes[b.village],
                "_file": fi("hospital_births", b.inst, b.born.month),
                "_order": float(k),
                "_legacy": False,
                "_birth": b.n,
                "_woman": b.mother,
            }
        )
    out["hospital_births"] = _frame(rows, dates=("birth_date",))

    # hospital_procedures
    rows = []
    for k, (wi, proc, d, inst) in enumerate(sorted(world.procedures, key=lambda p: (p[2], p[0]))):
        w = W[wi]
        rows.append(
            {
                "id_number": w.id,
                "name": w.name,
                "procedure": proc,
                "procedure_date": d,
                "village_code": vcodes[w.village],
                "_file": fi("hospital_procedures", inst, d.month),
                "_order": float(k),
                "_legacy": False,
                "_woman": wi,
            }
        )
    out["hospital_procedures"] = _frame(rows, dates=("procedure_date",))

    # hospital_checkups: every check of the year of a woman who lives here.
    rows = []
    inst_rng = np.random.default_rng([SEED, 8])
    checks = sorted(
        (d, w.idx) for w in W if w.residence != "流出" for d in w.checks if d.year == YEAR
    )
    for k, (d, wi) in enumerate(checks):
        w = W[wi]
        inst = 0 if inst_rng.random() < 0.88 else 2
        rows.append(
            {
                "id_number": w.id,
                "name": w.name,
                "check_date": d,
                "village_code": vcodes[w.village],
                "_file": fi("hospital_checkups", inst, d.month),
                "_order": float(k),
                "_legacy": False,
                "_woman": wi,
            }
        )
    out["hospital_checkups"] = _frame(rows, dates=("check_date",))

    # hospital_prepregnancy
    rows = []
    for k, (wi, d, inst) in enumerate(sorted(world.exams, key=lambda e: (e[1], e[0]))):
        w = W[wi]
        rows.append(
            {
                "wife_id": w.id,
                "husband_id": w.husband_id,
                "exam_date": d,
                "village_code": vcodes[w.village],
                "_file": fi("hospital_prepregnancy", inst, d.month),
                "_order": float(k),
                "_legacy": False,
                "_woman": wi,
            }
        )
    out["hospital_prepregnancy"] = _frame(rows, dates=("exam_date",))
    for name, frame in out.items():
        frame["_template"] = name
    return out


def _frame(rows: list[dict[str, Any]], dates: tuple[str, ...]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    for column in dates:
        frame[column] = _d64(list(frame[column]))
    defaults: dict[str, Any] = {"_tag": "", "_birth": -1, "_woman": -1, "_legacy": False}
    for column, value in defaults.items():
        if column not in frame.columns:
            frame[column] = value
        frame[column] = frame[column].fillna(value)
    frame["_birth"] = frame["_birth"].astype(np.int64)
    frame["_woman"] = frame["_woman"].astype(np.int64)
    frame["_legacy"] = frame["_legacy"].astype(bool)
    return frame


# ------------------------------------------------------------------------ answer key


def _births_frame(world: _World) -> pd.DataFrame:
    """The births as synthetic._births_key reads them (one row per child)."""
    B = world.births
    return pd.DataFrame(
        {
            "birth_id": np.array([b.n for b in B], np.int64),
            "woman": np.array([b.mother for b in B], np.int64),
            "birth_date": _d64([b.born for b in B]),
            "sex": np.array([b.sex for b in B], object),
            "village_sex": np.array([b.sex for b in B], object),
            "birth_order": np.array([b.order for b in B], np.int64),
            "policy_status": np.array([b.policy for b in B], object),
            "twin": np.zeros(len(B), bool),
            "month": np.array([_mi(YEAR, b.born.month) for b in B], np.int64),
            "village": np.array([b.village for b in B], np.int64),
            "case": np.array(["" for _ in B], object),
            "mistyped": np.zeros(len(B), bool),
        }
    )


_WOMEN_NOTES: Final = {
    "moved_out": ("迁出", "police 迁出; on her village's roster of that month, gone the next"),
    "died": ("死亡注销", "police 死亡注销; on her village's roster of that month, gone the next"),
    "bride": ("迁入", "police 迁入 (a bride); on her village's roster from that month"),
}


def _women_key(world: _World) -> pd.DataFrame:
    rows = []
    for w in world.women:
        if w.kind not in _WOMEN_NOTES:
            continue
        assert w.event_date is not None
        rows.append(
            {
                "case": w.kind,
                "id_number": w.id,
                "name": w.name,
                "village_code": world.geo.village_codes[w.village],
                "other_village_code": None,
                "report_month": f"{YEAR}-{w.event_date.month:02d}",
                "event_date": w.event_date,
                "note": _WOMEN_NOTES[w.kind][1],
            }
        )
    frame = pd.DataFrame(
        rows,
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
        frame[c] = frame[c].astype("string")
    return frame


# ------------------------------------------------------------------------ reference


def reference_files() -> dict[str, bytes]:
    """areas.csv, institutions.csv and targets.csv (the district's six targets, county level)."""
    geo = seed_geography()
    areas = [
        (COUNTY_CODE, COUNTY_NAME, "county", ""),
        (TOWNSHIP_CODE, TOWNSHIP_NAME, "township", COUNTY_CODE),
    ]
    areas += [(c, n, "village", TOWNSHIP_CODE) for c, n in VILLAGES]
    institutions = [
        (c, n, TOWNSHIP_CODE)
        for c, n in zip(geo.institution_codes, geo.institution_names, strict=True)
    ]

    def num(x: float) -> str:
        return f"{x:g}" if x != int(x) or x >= 10 else f"{x:.1f}"

    targets = [
        (YEAR, COUNTY_CODE, f.indicator, f.target_op, num(f.target), "") for f in SEED_FIGURES
    ]
    return {
        "areas.csv": _csv_bytes(
            pd.DataFrame(areas, columns=["code", "name", "level", "parent_code"])
        ),
        "institutions.csv": _csv_bytes(
            pd.DataFrame(institutions, columns=["code", "name", "township_code"])
        ),
        "targets.csv": _csv_bytes(
            pd.DataFrame(
                targets, columns=["year", "area_code", "indicator", "op", "target", "target_hi"]
            )
        ),
    }


# ------------------------------------------------------------------------ public


def generate_seed_county() -> GeneratedCounty:
    """The seed township's upload files, reference data and answer key (deterministic)."""
    spec = seed_spec()
    world = _World()
    world.build()
    sim = _Sim(spec, world.geo)  # for the file plan and the answer key: styles, arrivals
    sim.P = {
        "id": np.array([w.id for w in world.women], object),
        "name": np.array([w.name for w in world.women], object),
    }
    files = _Files(sim)
    records = _records(world, files)
    numbered: dict[str, pd.DataFrame] = {}
    blobs = _render_all(spec, files, records, numbered)
    out = [GeneratedFile(f["path"], blobs[i], f["arrived_at"]) for i, f in enumerate(files.rows)]
    out.sort(key=lambda g: (g.arrived_at, g.path))
    births_key = _births_key(sim, files, _births_frame(world), numbered)
    key = AnswerKey(
        uploads=_uploads_key(spec, files, numbered),
        births=births_key,
        women=_women_key(world),
        faults=_faults_key(sim, files, births_key, numbered),
    )
    return GeneratedCounty(spec, tuple(out), reference_files(), key)


__all__ = [
    "H2",
    "SEED_FIGURES",
    "YTD",
    "SeedFigure",
    "generate_seed_county",
    "reference_files",
    "seed_geography",
    "seed_spec",
]
