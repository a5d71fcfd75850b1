"""The county's women: the initial pool, planted people and planned births (the simulation's state)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from synthetic.reference import Geography
from synthetic.spec import (
    _ETH_P,
    _HAN_FEMALE,
    _HAN_MALE,
    _HAN_SURNAMES,
    _KAZAKH_FEMALE,
    _KAZAKH_MALE,
    _MONGOL_FEMALE,
    _MONGOL_MALE,
    _S,
    BIG,
    ETHNICITIES,
    IUD,
    NONE,
    OTHER_REGIONS,
    PILLS,
    RESIDENCES,
    STERIL,
    Arr,
    CountySpec,
    _day_in,
    _days_in,
    _mi,
    _mstart,
    _to_date,
    _ym,
    _ymd,
    check_digits,
)

# ------------------------------------------------------------------------ people


class _Ids:
    """Issues unique, valid ID numbers (and keeps them unique across the county).

    `issued`: the numbers already given to people elsewhere (a province's other
    counties); the set is shared, not copied, and every number issued here joins it.
    """

    def __init__(self, rng: np.random.Generator, issued: set[str] | None = None) -> None:
        self.rng = rng
        self.issued: set[str] = set() if issued is None else issued

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


class _Population:
    """The county's women and what happens to them, month by month."""

    def __init__(
        self, spec: CountySpec, geo: Geography, issued_ids: set[str] | None = None
    ) -> None:
        self.spec, self.geo = spec, geo
        self.rng = np.random.default_rng([spec.seed, 1])
        self.ids = _Ids(np.random.default_rng([spec.seed, 2]), issued_ids)
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
