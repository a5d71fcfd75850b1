"""The fee ledger (社会抚养费): cases of the year, earlier cases with arrears, cumulative payments."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from synthetic.simulation import _Sim
from synthetic.spec import _day_in, _mi

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
