"""The simulation's months: births, procedures, checks, exams and police events, month by month."""

from __future__ import annotations

from typing import Any

import numpy as np

from synthetic.population import _Population
from synthetic.reference import _EXAM_RATE, SEX_RATIO
from synthetic.spec import (
    IMPLANT,
    IUD,
    NONE,
    OTHER,
    PILLS,
    STERIL,
    Arr,
    _day_in,
    _mi_of,
    _mstart,
    _ymd,
)


class _Sim(_Population):
    """The county's women and what happens to them, month by month."""

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
