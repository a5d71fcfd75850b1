"""The births table: every simulated birth with its hospital, police and village records."""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthetic.population import _cat, _names
from synthetic.simulation import _Sim
from synthetic.spec import Arr, _day_in, _mi_of, _mstart, _ymd

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
