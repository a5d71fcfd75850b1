"""A seeded, realistic synthetic county: upload files as bytes, plus an answer key.

The example inbox of the README and the fixtures of every end-to-end test come from
here. Pure: `generate_county(spec)` returns file contents and arrival times; nothing
is written to disk and no environment is read. The same spec gives the same bytes.

World model (per village, month by month, vectorised over women with numpy):
a roster of married women 15-49 (常住/流入/流出 about 80/15/5 %, children,
contraceptive method and its date, the last 三查 check), births (about
`monthly_birth_rate` of the women a month, sex ratio about 106, birth order mostly
1-2), the postpartum method (放环/结扎/皮埋 at the hospital two months later),
other procedures, check campaigns (March-May, July-September), pre-pregnancy exams,
police events (出生登记, 迁入 by marriage, 迁出, deaths of older people), and a fee
ledger (cases of the year, earlier cases with arrears, cumulative payments).

Files (`GeneratedFile.path` = `YYYY-MM/<source>/[<institution>/]<name>`): every
village x (births, women, fees), every police station (township) x hukou, every
institution x (births, procedures, checkups, prepregnancy), every month; empty months
get a header-only file. Arrival: mostly day 1-5 of the next month, `late_share` of the
files of earlier months after the deadline. Styles vary by reporting unit (a clerk
keeps her habits; a few change clerks mid-year): CSV in UTF-8, UTF-8 with BOM, GBK or
GB18030, or XLSX (title row, 填报单位 line, a blank row, a trailing 合计 row, real date
cells or serial numbers); headers by Chinese name, alias, English name, with `*`
markers or full-width spaces; every date, sex, yes/no and money spelling of
uploads.md; full-width digits, lower-case `x`, legacy 15-digit IDs of older women,
leading `'` in CSV IDs, a 序号 column, optional columns left out. No two uploads share
their bytes unless planted as a duplicate (uploads.md treats same bytes as one upload):
a CSV that would repeat another's bytes (an empty month) gets a title line naming unit and
month, and every XLSX carries its export time.

Faults (`spec.faults`, the default) are planted in fixed places: villages 0..n-2 in
turn, months relative to `first_month`/`last_month`; the last village misses its
uploads of the second month. `faults=False` gives a clean county (natural late uploads
aside). Planted women and mothers are extra roster members kept out of the random
dynamics, so no fault disturbs another.

The answer key (`AnswerKey`, pandas frames):

- `uploads`: one row per generated file — path, file_name, source, kind, unit,
  report_month (`YYYY-MM`, null for a bad name), arrived_at, rows (data rows; null when
  quarantined or a duplicate, as they are not read), late, status (`loaded`,
  `superseded`, `duplicate`, `quarantined`) and
  reason_code (quarantines: `lock_file`, `unrecognised_name`,
  `missing_required_columns`).
- `births`: one row per generated birth — birth_id, mother_id, mother_name,
  village_code, birth_date, child_sex (the truth: hospital and police), village_sex
  (what the village wrote), birth_order, policy_status, twin, in_village, in_hospital,
  in_police (as the reconciliation can see them within the generated months),
  status (`matched`, `missing_in_village`, `pending`, `village_only`, `conflict`; null
  when no generated file holds the birth), matched_by (`id`, `name`, null),
  village_report_month (the earliest upload month of a valid village row for it, null
  if none; the mistyped mother ID is an error row and reports nothing),
  reported_on_time (that month is the birth month or the next, whenever the upload
  arrived; false when no valid row is there and that upload is due; null while
  pending), village_path/village_row,
  hospital_path/hospital_row, police_path/police_row, case (the planted fault, or
  `missing_upload` for a birth lost with the missing upload, or null).
- `women`: one row per planted woman and case — case, id_number, name, village_code,
  other_village_code, report_month, event_date, note.
- `birth_figures`: the generator's own birth counts per (area_code, area_level, month)
  for every village, township and county with a birth: births, policy_known,
  policy_in, order_known, order_3plus, not_on_time (漏报), male, female
  (`birth_figures()`; the end-to-end test compares the mart with it).
- `target_faults`: the planted bad rows of targets.csv (row_number, indicator, check,
  rule `target_row_invalid`, severity).
- `faults`: one row per place a planted fault (and every natural late upload) shows —
  fault, path, row_number (1 = first row under the header; null for file-level),
  source, kind, unit, report_month, expect_in (`dq_issues`, `uploads`,
  `recon_births`, `recon_women`), rule (the dq rule or quarantine reason code), dimension,
  severity, planted, note. A null `rule` marks a trap that must *not* raise an issue
  (twins, a correction, a move-out handled next month, a check only the hospital saw).
"""

from __future__ import annotations

import pandas as pd

from synthetic.answer_key import _answer_key
from synthetic.births import _births_table
from synthetic.faults import _apply_row_faults, _duplicates, _plant_files
from synthetic.fees import _fees
from synthetic.files import _Files
from synthetic.records import _records
from synthetic.reference import build_geography, reference_files
from synthetic.rendering import _render_all
from synthetic.simulation import _Sim
from synthetic.spec import CountySpec, GeneratedCounty, GeneratedFile, Taken


def generate_county(
    spec: CountySpec | None = None, *, taken: Taken | None = None
) -> GeneratedCounty:
    """The county's upload files, reference data and answer key (deterministic in `spec`).

    `taken`: what other counties of a province already hold (synthetic.province): no ID
    number is issued again and no upload repeats another's bytes; this county's join it.
    """
    spec = spec or CountySpec()
    geo = build_geography(spec)
    sim = _Sim(spec, geo, None if taken is None else taken.ids)
    sim.init_pool()
    if spec.faults:
        sim.plant()
    sim.finish_pool()
    sim.run()
    births = _births_table(sim)
    fees = _fees(sim, births)
    files = _Files(sim)
    records = _records(sim, files, births, fees)
    if spec.faults:
        _apply_row_faults(records)
        _plant_files(sim, files, records)
        _duplicates(sim, files)
    numbered: dict[str, pd.DataFrame] = {}
    blobs = _render_all(spec, files, records, numbered, None if taken is None else taken.contents)
    out: list[GeneratedFile] = []
    for i, f in enumerate(files.rows):
        if f["status"] == "missing":
            continue
        data = f.get("raw")
        if data is None:
            data = blobs[f["copy_of"]] if f.get("copy_of") is not None else blobs[i]
        out.append(GeneratedFile(f["path"], data, f["arrived_at"]))
    out.sort(key=lambda g: (g.arrived_at, g.path))
    key = _answer_key(sim, files, births, numbered)
    return GeneratedCounty(spec, tuple(out), reference_files(spec), key)
