"""Benchmark of transforms.reconcile on a synthetic county.

    .venv/bin/python benchmarks/bench_reconcile.py [--villages 300] [--months 12]
        [--women 280] [--births 100000] [--seed 1]

Defaults: 300 villages × 12 monthly rosters × ~280 women ≈ 1 M roster rows, and
100 k births seen by the village (95 %), the hospital (90 %) and the police (70 %),
with date jitter, sex conflicts, twins and invalid mother IDs; plus police deaths
and moves, hospital procedures and checks, fee ledgers and pre-pregnancy exams.
Prints the seconds reconcile() takes and the process's peak RSS (target: < 60 s,
< 2 GB on 2 cores). Not a test: timings belong here, not in the test suite.
"""

from __future__ import annotations

import argparse
import resource
import time
from datetime import date

import numpy as np
import pandas as pd

from transforms.reconcile import ReconInputs, reconcile
from transforms.reconcile_common import conform

START = np.datetime64("2026-01-01", "D")


def _keys(rng: np.random.Generator, n: int) -> np.ndarray:
    """n distinct 64-character hex strings (stand-ins for HMAC person keys)."""
    raw = rng.integers(0, 2**63, size=(n, 4), dtype=np.int64).view(np.uint64)
    return np.array([f"{a:016x}{b:016x}{c:016x}{d:016x}" for a, b, c, d in raw], dtype=object)


def _dates(days: np.ndarray) -> pd.Series:
    return pd.Series((START + days.astype("timedelta64[D]")).astype("datetime64[s]"))


def _months(days: np.ndarray) -> pd.Series:
    values = (START + days.astype("timedelta64[D]")).astype("datetime64[M]")
    return pd.Series(np.datetime_as_string(values, unit="M"), dtype="string")


def _frame(template: str, columns: dict[str, object]) -> pd.DataFrame:
    return conform(pd.DataFrame(columns), template)


def synthesise(villages: int, months: int, women: int, births: int, seed: int) -> ReconInputs:
    """A synthetic county as ReconInputs (staged-frame shapes of design.md)."""
    rng = np.random.default_rng(seed)
    codes = np.array(
        [f"654226{t:03d}{v:03d}" for t in range(1, 11) for v in range(1, villages // 10 + 1)],
        dtype=object,
    )[:villages]
    n_women = villages * women
    woman_keys = _keys(rng, n_women)
    home = np.repeat(codes, women)
    names = np.array(["古丽", "阿依", "帕提", "玛丽", "努尔", "热依", "米娜", "沙拉"], dtype=object)
    woman_name = names[rng.integers(0, len(names), n_women)] + rng.integers(
        0, 10_000, n_women
    ).astype(str).astype(object)

    # --- rosters: every woman in every month, ~1 % churn dropped
    month_idx = np.repeat(np.arange(months), n_women)
    who = np.tile(np.arange(n_women), months)
    keep = rng.random(len(who)) > 0.01
    month_idx, who = month_idx[keep], who[keep]
    n = len(who)
    month_label = pd.Series(
        [f"2026-{m + 1:02d}" if m < 12 else f"2027-{m - 11:02d}" for m in range(months)],
        dtype="string",
    )
    methods = np.array(["上环", "结扎", "皮埋", "药具", "无"], dtype=object)
    method = methods[rng.choice(5, n_women, p=[0.45, 0.25, 0.05, 0.15, 0.10])][who]
    upload = (np.searchsorted(codes, home[who]) * 100 + month_idx).astype(np.int64)
    roster = _frame(
        "village_women",
        {
            "upload_id": pd.array(upload, dtype="Int64"),
            "row_number": pd.array(np.arange(n) % 400 + 1, dtype="Int64"),
            "unit": pd.array(home[who], dtype="string"),
            "report_month": month_label.to_numpy()[month_idx],
            "name": pd.array(woman_name[who], dtype="string"),
            "id_number_key": pd.array(woman_keys[who], dtype="string"),
            "residence": pd.array(np.where(rng.random(n) < 0.9, "常住", "流入"), dtype="string"),
            "children": pd.array(rng.integers(0, 4, n), dtype="Int64"),
            "method": pd.array(method, dtype="string"),
            "method_date": _dates(rng.integers(-2000, -30, n_women)[who]),
            "last_check_date": _dates(rng.integers(-200, 0, n_women)[who]),
        },
    )

    # --- births: distinct mothers (roster women and others), 1 % twins
    pool = np.concatenate([woman_keys, _keys(rng, births * 2)])
    mothers = pool[rng.choice(len(pool), births, replace=False)]
    twins = rng.random(births) < 0.01
    mothers = np.concatenate([mothers, mothers[twins]])
    nb = len(mothers)
    day = rng.integers(0, months * 30 - 10, births)
    day = np.concatenate([day, day[twins]])
    sex = np.where(rng.random(nb) < 0.52, "M", "F").astype(object)
    mother_village = codes[rng.integers(0, villages, nb)]
    mother_name = names[rng.integers(0, len(names), nb)] + rng.integers(0, 10_000, nb).astype(
        str
    ).astype(object)

    in_h, in_p, in_v = (rng.random(nb) < 0.90), (rng.random(nb) < 0.70), (rng.random(nb) < 0.95)
    h = np.flatnonzero(in_h)
    hospital = _frame(
        "hospital_births",
        {
            "upload_id": pd.array(10_000_000 + day[h] // 30, dtype="Int64"),
            "row_number": pd.array(np.arange(len(h)) + 1, dtype="Int64"),
            "unit": pd.array(np.full(len(h), "H001"), dtype="string"),
            "report_month": _months(day[h]),
            "cert_no": pd.array([f"N{i:09d}" for i in h], dtype="string"),
            "child_sex": pd.array(sex[h], dtype="string"),
            "birth_date": _dates(day[h]),
            "mother_name": pd.array(mother_name[h], dtype="string"),
            "mother_id_key": pd.array(mothers[h], dtype="string"),
            "village_code": pd.array(mother_village[h], dtype="string"),
        },
    )
    v = np.flatnonzero(in_v)
    v_sex = sex[v].copy()
    flip = rng.random(len(v)) < 0.01
    v_sex[flip] = np.where(v_sex[flip] == "M", "F", "M")
    v_day = day[v] + rng.integers(-2, 3, len(v)) * (rng.random(len(v)) < 0.1)
    report = day[v] + rng.integers(0, 60, len(v))
    v_key = mothers[v].copy()
    v_key[rng.random(len(v)) < 0.005] = None
    village_births = _frame(
        "village_births",
        {
            "upload_id": pd.array(20_000_000 + report // 30, dtype="Int64"),
            "row_number": pd.array(np.arange(len(v)) + 1, dtype="Int64"),
            "unit": pd.array(mother_village[v], dtype="string"),
            "report_month": _months(np.maximum(report, v_day)),
            "mother_name": pd.array(mother_name[v], dtype="string"),
            "mother_id_key": pd.array(v_key, dtype="string"),
            "child_sex": pd.array(v_sex, dtype="string"),
            "birth_date": _dates(v_day),
            "birth_order": pd.array(rng.integers(1, 4, len(v)), dtype="Int64"),
            "policy_status": pd.array(
                np.where(rng.random(len(v)) < 0.9, "政策内", "政策外"), dtype="string"
            ),
            "report_date": _dates(report),
        },
    )

    # --- police: births, deaths (0.3 %), moves (2 %)
    p = np.flatnonzero(in_p)
    gone = rng.choice(n_women, n_women // 40, replace=False)
    gone_day = rng.integers(0, months * 30, len(gone))
    gone_type = np.where(rng.random(len(gone)) < 0.15, "死亡注销", "迁出")
    police = _frame(
        "police_hukou",
        {
            "upload_id": pd.array(
                np.concatenate([30_000_000 + day[p] // 30, 30_000_000 + gone_day // 30]),
                dtype="Int64",
            ),
            "row_number": pd.array(np.arange(len(p) + len(gone)) + 1, dtype="Int64"),
            "unit": pd.array(np.full(len(p) + len(gone), "654226001"), dtype="string"),
            "report_month": pd.concat([_months(day[p]), _months(gone_day)], ignore_index=True),
            "event_type": pd.array(
                np.concatenate([np.full(len(p), "出生登记"), gone_type]), dtype="string"
            ),
            "name": pd.array(np.full(len(p) + len(gone), "某"), dtype="string"),
            "id_number_key": pd.array(
                np.concatenate([_keys(rng, len(p)), woman_keys[gone]]), dtype="string"
            ),
            "sex": pd.array(np.concatenate([sex[p], np.full(len(gone), "F")]), dtype="string"),
            "birth_date": pd.concat(
                [_dates(day[p]), _dates(np.full(len(gone), -12000))], ignore_index=True
            ),
            "event_date": pd.concat([_dates(day[p] + 5), _dates(gone_day)], ignore_index=True),
            "village_code": pd.array(
                np.concatenate([mother_village[p], home[gone]]), dtype="string"
            ),
            "guardian_id_key": pd.array(
                np.concatenate([mothers[p], np.full(len(gone), None)]), dtype="string"
            ),
        },
    )

    # --- hospital procedures (~6 % of women) and checks (~2 per woman-year... sampled)
    pw = rng.choice(n_women, n_women * 6 // 100, replace=False)
    proc_day = rng.integers(0, months * 30, len(pw))
    procedures = _frame(
        "hospital_procedures",
        {
            "upload_id": pd.array(40_000_000 + proc_day // 30, dtype="Int64"),
            "row_number": pd.array(np.arange(len(pw)) + 1, dtype="Int64"),
            "unit": pd.array(np.full(len(pw), "H001"), dtype="string"),
            "report_month": _months(proc_day),
            "id_number_key": pd.array(woman_keys[pw], dtype="string"),
            "name": pd.array(woman_name[pw], dtype="string"),
            "procedure": pd.array(
                np.array(["放环", "取环", "结扎", "皮埋", "人流"], dtype=object)[
                    rng.integers(0, 5, len(pw))
                ],
                dtype="string",
            ),
            "procedure_date": _dates(proc_day),
            "village_code": pd.array(home[pw], dtype="string"),
        },
    )
    cw = rng.integers(0, n_women, n_women * 2)
    check_day = rng.integers(0, months * 30, len(cw))
    checkups = _frame(
        "hospital_checkups",
        {
            "upload_id": pd.array(50_000_000 + check_day // 30, dtype="Int64"),
            "row_number": pd.array(np.arange(len(cw)) + 1, dtype="Int64"),
            "unit": pd.array(np.full(len(cw), "H001"), dtype="string"),
            "report_month": _months(check_day),
            "id_number_key": pd.array(woman_keys[cw], dtype="string"),
            "name": pd.array(woman_name[cw], dtype="string"),
            "check_date": _dates(check_day),
            "village_code": pd.array(home[cw], dtype="string"),
        },
    )

    # --- fees and pre-pregnancy exams
    nf = villages * 20 * months
    fees = _frame(
        "village_fees",
        {
            "upload_id": pd.array(np.arange(nf) // 20, dtype="Int64"),
            "row_number": pd.array(np.arange(nf) % 20 + 1, dtype="Int64"),
            "unit": pd.array(np.repeat(codes, 20 * months), dtype="string"),
            "report_month": month_label.to_numpy()[
                np.tile(np.repeat(np.arange(months), 20), villages)
            ],
            "case_no": pd.array([f"C{i % 20:03d}" for i in range(nf)], dtype="string"),
            "party_id_key": pd.array(np.full(nf, "x"), dtype="string"),
            "decision_date": _dates(rng.integers(-700, 0, nf)),
            "assessed": pd.array(np.full(nf, 12000.0), dtype="Float64"),
            "paid_this_month": pd.array(np.zeros(nf), dtype="Float64"),
            "paid_to_date": pd.array(np.full(nf, 3000.0), dtype="Float64"),
        },
    )
    ne = villages * 30
    exam_day = rng.integers(0, months * 30, ne)
    exams = _frame(
        "hospital_prepregnancy",
        {
            "upload_id": pd.array(60_000_000 + exam_day // 30, dtype="Int64"),
            "row_number": pd.array(np.arange(ne) + 1, dtype="Int64"),
            "unit": pd.array(np.full(ne, "H001"), dtype="string"),
            "report_month": _months(exam_day),
            "wife_id_key": pd.array(woman_keys[rng.integers(0, n_women, ne)], dtype="string"),
            "husband_id_key": pd.array(_keys(rng, ne), dtype="string"),
            "exam_date": _dates(exam_day),
            "village_code": pd.array(codes[rng.integers(0, villages, ne)], dtype="string"),
        },
    )
    areas = pd.DataFrame(
        {"code": codes, "name": codes, "level": "village", "parent_code": [c[:9] for c in codes]}
    )
    return ReconInputs(
        village_births=village_births,
        village_women=roster,
        village_fees=fees,
        police_hukou=police,
        hospital_births=hospital,
        hospital_procedures=procedures,
        hospital_checkups=checkups,
        hospital_prepregnancy=exams,
        uploads=pd.DataFrame(),
        areas=areas,
    )


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--villages", type=int, default=300)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--women", type=int, default=280)
    parser.add_argument("--births", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    t0 = time.perf_counter()
    inputs = synthesise(args.villages, args.months, args.women, args.births, args.seed)
    built = time.perf_counter() - t0
    before = _peak_mb()
    print(
        f"synthesised in {built:.1f} s: roster {len(inputs.village_women):,} rows, "
        f"village births {len(inputs.village_births):,}, hospital births "
        f"{len(inputs.hospital_births):,}, police events {len(inputs.police_hukou):,}, "
        f"procedures {len(inputs.hospital_procedures):,}, checks "
        f"{len(inputs.hospital_checkups):,}; peak RSS so far {before:,.0f} MB"
    )

    t0 = time.perf_counter()
    result = reconcile(inputs, as_of=date(2027, 1, 20))
    seconds = time.perf_counter() - t0
    peak = _peak_mb()
    statuses = result.recon_births["status"].value_counts().to_dict()
    print(f"recon_births {len(result.recon_births):,} {statuses}")
    print(
        f"recon_women {len(result.recon_women):,}, recon_changes "
        f"{len(result.recon_changes):,}, recon_accuracy {len(result.recon_accuracy):,}, "
        f"findings {len(result.findings):,}"
    )
    print(f"reconcile: {seconds:.1f} s, peak RSS {peak:,.0f} MB (inputs alone: {before:,.0f} MB)")


if __name__ == "__main__":
    main()
