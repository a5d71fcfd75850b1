"""The rows of every upload file, per template, from the simulated world."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from synthetic.files import _Files
from synthetic.population import _cat, _names
from synthetic.simulation import _Sim
from synthetic.spec import _ETH_P, ETHNICITIES, METHODS, RESIDENCES, Arr, _day_in, _mi_of, _mstart

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
