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

from typing import Any, Final

import numpy as np
import pandas as pd

from synthetic.answer_key import _births_key, _faults_key, _uploads_key, women_key_frame
from synthetic.files import _Files
from synthetic.population import _names
from synthetic.reference import _csv_bytes
from synthetic.rendering import _render_all
from synthetic.seed_township import (
    COUNTY_CODE,
    COUNTY_NAME,
    H2,
    MONTHS,
    SEED,
    SEED_FIGURES,
    TOWNSHIP_CODE,
    TOWNSHIP_NAME,
    VILLAGES,
    YEAR,
    YTD,
    SeedFigure,
    _d64,
    seed_geography,
    seed_spec,
)
from synthetic.seed_world import _World
from synthetic.simulation import _Sim
from synthetic.spec import ETHNICITIES, AnswerKey, GeneratedCounty, GeneratedFile, _mi

# ------------------------------------------------------------------------ records


def _records(world: _World, files: _Files) -> dict[str, pd.DataFrame]:
    """Rows of every template (canonical values, `_file`, `_order`, `_tag`, `_legacy`,
    `_birth`, `_woman`), as synthetic.rendering._render_all wants them."""
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
    return women_key_frame(rows)


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
