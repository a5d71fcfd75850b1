"""The seed township's year, built person by person to the worked example's figures."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np

from synthetic.population import _Ids, _names
from synthetic.seed_township import (
    _FIG,
    BIRTHS_PER_MONTH,
    COUNTY_CODE,
    LATE_2025_CASES,
    MONTHS,
    OUT_OF_POLICY,
    PRIOR_CASES_PER_VILLAGE,
    SECOND_CHILD_BIRTHS,
    SEED,
    SEED_FIGURES,
    STERILISED_IN_SEPTEMBER,
    THIRD_CHILD_BIRTHS,
    VILLAGES,
    YEAR,
    _add_days,
    _Birth,
    _Case,
    _d64,
    _day,
    _month_end,
    _Woman,
    seed_geography,
)
from synthetic.spec import ETHNICITIES, OTHER_REGIONS, RESIDENCES


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
