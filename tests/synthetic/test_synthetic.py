"""The synthetic county: deterministic, well-formed, varied, and its answer key is true.

Files are read back here with a deliberately small reader of our own (csv module and
python-calamine), so that these tests do not depend on the pipeline's readers.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from datetime import date, datetime
from functools import cache

import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from synthetic.county import generate_county
from synthetic.reference import build_geography
from synthetic.spec import (
    CHECK_CHARS,
    CountySpec,
    GeneratedCounty,
    check_digits,
    id_check_digit,
    upgrade_id15,
)
from transforms.templates import load_contract

SMALL = CountySpec(seed=3, townships=2, villages_per_township=3, women_per_village=30, last_month=5)
NAME_RE = re.compile(
    r"^(?P<source>village|police|hospital)_(?P<kind>[a-z]+)_(?P<unit>[0-9A-Za-z]+)_"
    r"(?P<month>\d{6})(?P<suffix>[_(][^.]*)?\.(?P<ext>csv|xlsx)$"
)
WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


@pytest.fixture(scope="module")
def county() -> GeneratedCounty:
    return generate_county(SMALL)


# ----------------------------------------------------------------- a small reader


def _valid_id(value: str) -> bool:
    """MOD 11-2 (GB 11643-1999), written out again here on purpose."""
    s = unicodedata.normalize("NFKC", value).strip().lstrip("'").upper()
    if re.fullmatch(r"\d{15}", s):
        s = s[:6] + "19" + s[6:] + "?"
        s = (
            s[:17]
            + "10X98765432"[sum(int(c) * w for c, w in zip(s[:17], WEIGHTS, strict=True)) % 11]
        )
    if not re.fullmatch(r"\d{17}[\dX]", s):
        return False
    return (
        s[17] == "10X98765432"[sum(int(c) * w for c, w in zip(s[:17], WEIGHTS, strict=True)) % 11]
    )


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("gb18030"), "gb18030"


@cache
def _grid(path: str, data: bytes) -> tuple[list[list[object]], str]:
    if path.endswith(".csv"):
        text, encoding = _decode(data)
        return [list(r) for r in csv.reader(io.StringIO(text, newline=""))], encoding
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0)
    return [list(r) for r in sheet.to_python(skip_empty_area=False)], "xlsx"


def _table(path: str, data: bytes) -> tuple[list[str], list[list[object]]]:
    """(header, data rows): the header is the first row with three filled cells."""
    grid, _ = _grid(path, data)
    filled = [sum(1 for c in row if str(c).strip()) for row in grid]
    h = next(i for i, n in enumerate(filled) if n >= 3)
    rows = [r for r in grid[h + 1 :] if any(str(c).strip() for c in r)]
    if rows and str(next(c for c in rows[-1] if str(c).strip())) == "合计":
        rows = rows[:-1]
    return [str(c) for c in grid[h]], rows


def _fold(header: str) -> str:
    return "".join(
        ch for ch in unicodedata.normalize("NFKC", header) if not ch.isspace() and ch != "*"
    ).casefold()


def _column(header: list[str], name: str, template: str) -> int:
    col = load_contract().templates[template].column(name)
    spellings = {_fold(s) for s in col.spellings}
    return next(i for i, h in enumerate(header) if _fold(h) in spellings)


def _by_path(county: GeneratedCounty) -> dict[str, bytes]:
    return {f.path: f.data for f in county.files}


# --------------------------------------------------------------------------- tests


def test_id_check_digit() -> None:
    assert id_check_digit("11010519491231002") == "X"
    assert list(check_digits(["11010519491231002", "65422619900101123"])) == [
        "X",
        id_check_digit("65422619900101123"),
    ]
    assert upgrade_id15("654226790411018") == "65422619790411018" + id_check_digit(
        "65422619790411018"
    )
    assert CHECK_CHARS == "10X98765432"


def test_identity_module_agrees_when_present() -> None:
    identity = pytest.importorskip("transforms.landing.identity")
    for first17 in ("11010519491231002", "65422619900101123", "65422620260301007"):
        assert identity.id_check_digit(first17) == id_check_digit(first17)


def test_same_seed_same_bytes_other_seed_other_bytes(county: GeneratedCounty) -> None:
    again = generate_county(SMALL)
    assert [(f.path, f.data, f.arrived_at) for f in again.files] == [
        (f.path, f.data, f.arrived_at) for f in county.files
    ]
    assert again.reference == county.reference
    for name in ("uploads", "births", "women", "faults"):
        pd.testing.assert_frame_equal(
            getattr(again.answer_key, name), getattr(county.answer_key, name)
        )
    other = generate_county(
        CountySpec(seed=4, townships=2, villages_per_township=3, women_per_village=30, last_month=5)
    )
    rosters = {f.data for f in county.files if f.name.startswith("village_women")}
    assert rosters.isdisjoint({f.data for f in other.files})


def test_every_file_name_parses_except_the_bad_ones(county: GeneratedCounty) -> None:
    geo = build_geography(SMALL)
    units = {
        "village": set(geo.village_codes),
        "police": set(geo.township_codes),
        "hospital": set(geo.institution_codes),
    }
    kinds = {s: set(load_contract().kinds_of(s)) for s in units}
    bad = set(county.answer_key.faults.query("fault in ['lock_file', 'unrecognised_name']")["path"])
    assert len(bad) == 2
    paths = [f.path for f in county.files]
    assert len(paths) == len(set(paths))
    for f in county.files:
        m = NAME_RE.match(f.name)
        if f.path in bad:
            assert m is None
            continue
        assert m is not None, f.path
        assert m["kind"] in kinds[m["source"]] and m["unit"] in units[m["source"]]
        month = f"{m['month'][:4]}-{m['month'][4:]}"
        assert f.path.startswith(month + "/")
        assert m["suffix"] in (None, "_更正", "_v2", "(1)")


def test_every_expected_upload_is_there_but_the_missing_one(county: GeneratedCounty) -> None:
    geo = build_geography(SMALL)
    months = range(SMALL.first_month, SMALL.last_month + 1)
    expected = {
        (f"village_{k}_{v}_2026{m:02d}")
        for v in geo.village_codes
        for k in ("births", "women", "fees")
        for m in months
    }
    expected |= {f"police_hukou_{t}_2026{m:02d}" for t in geo.township_codes for m in months}
    expected |= {
        f"hospital_{k}_{i}_2026{m:02d}"
        for i in geo.institution_codes
        for k in ("births", "procedures", "checkups", "prepregnancy")
        for m in months
    }
    got = {f.name.rsplit(".", 1)[0] for f in county.files}
    missing = county.answer_key.faults.query("fault == 'missing_upload'")
    absent = {
        f"village_{k}_{u}_{m.replace('-', '')}"
        for k, u, m in zip(missing["kind"], missing["unit"], missing["report_month"], strict=True)
    }
    assert len(absent) == 3
    assert expected - got == absent


def test_uploads_key_matches_the_files(county: GeneratedCounty) -> None:
    up = county.answer_key.uploads
    data = _by_path(county)
    assert set(up["path"]) == set(data)
    assert up["status"].value_counts().to_dict() == {
        "loaded": len(up) - 6,
        "quarantined": 3,
        "duplicate": 2,
        "superseded": 1,
    }
    as_of = datetime.combine(SMALL.effective_as_of, datetime.min.time())
    assert SMALL.effective_as_of == date(2026, 6, 6)
    for row in up.itertuples():
        f = county.file(row.path)
        assert f.arrived_at == row.arrived_at < as_of
        if row.report_month is not None and row.report_month is not pd.NA:
            y, m = (int(x) for x in str(row.report_month).split("-"))
            deadline = datetime(y + m // 12, m % 12 + 1, 6)
            assert bool(row.late) == (f.arrived_at >= deadline)
        if row.status in ("loaded", "superseded"):
            _, rows = _table(row.path, f.data)
            assert len(rows) == row.rows, row.path
    # Same bytes as an earlier upload; every other file's bytes are its own.
    for row in up[up["status"] == "duplicate"].itertuples():
        same = [p for p in up["path"] if p != row.path and data[p] == data[row.path]]
        assert len(same) == 1
        assert up.set_index("path").loc[same[0], "arrived_at"] < row.arrived_at
    distinct = {data[p] for p in up.loc[up["status"] != "duplicate", "path"]}
    assert len(distinct) == (up["status"] != "duplicate").sum()
    superseded = up[up["status"] == "superseded"].iloc[0]
    correction = up[up["path"] == superseded["path"].replace(".", "_更正.")].iloc[0]
    assert correction["arrived_at"] > superseded["arrived_at"]
    assert correction["status"] == "loaded"


def test_each_recon_status_and_twins(county: GeneratedCounty) -> None:
    b = county.answer_key.births
    assert set(b["status"].dropna()) == {
        "matched",
        "missing_in_village",
        "pending",
        "village_only",
        "conflict",
    }
    twins = b[b["twin"]]
    assert len(twins) == 2 and twins["mother_id"].nunique() == 1
    assert twins["birth_date"].nunique() == 1 and set(twins["child_sex"]) == {"M", "F"}
    assert twins[["in_village", "in_hospital", "in_police"]].all(axis=None)
    assert (twins["status"] == "matched").all()
    last = pd.Timestamp(2026, SMALL.last_month, 1)
    pending = b[b["status"] == "pending"]
    assert (pending["birth_date"] >= last).all() and not pending["in_village"].any()
    missing = b[b["status"] == "missing_in_village"]
    assert (missing["birth_date"] < last).all() and not missing["in_village"].any()
    conflict = b[b["status"] == "conflict"].iloc[0]
    assert conflict["village_sex"] != conflict["child_sex"]
    assert (b.loc[b["status"] == "village_only", ["in_hospital", "in_police"]] == False).all(  # noqa: E712
        axis=None
    )
    # an error row (invalid mother ID) reports nothing: the birth stays 漏报
    mistyped = b.loc[b["case"] == "mistyped_mother_id"].iloc[0]
    assert (mistyped["status"], mistyped["in_village"]) == ("missing_in_village", False)
    assert pd.isna(mistyped["matched_by"]) and not mistyped["reported_on_time"]
    late = b.loc[b["case"] == "late_report"].iloc[0]
    assert (late["status"], late["reported_on_time"]) == ("matched", False)
    month = late["birth_date"].month
    assert late["village_report_month"] == f"2026-{month + 3:02d}"
    assert (
        b["status"].isna().sum()
        == (~b[["in_village", "in_hospital", "in_police"]].any(axis=1)).sum()
    )


def test_births_key_points_at_real_rows(county: GeneratedCounty) -> None:
    data = _by_path(county)
    b = county.answer_key.births
    for source, template, column in (
        ("village", "village_births", "mother_id"),
        ("hospital", "hospital_births", "mother_id"),
        ("police", "police_hukou", "guardian_id"),
    ):
        held = b[b[f"{source}_path"].notna()]
        for row in held.itertuples():
            path = getattr(row, f"{source}_path")
            header, rows = _table(path, data[path])
            cell = str(rows[getattr(row, f"{source}_row") - 1][_column(header, column, template)])
            if row.case is not pd.NA and row.case == "mistyped_mother_id" and (source == "village"):
                assert not _valid_id(cell)
            else:
                got = unicodedata.normalize("NFKC", cell).lstrip("'").upper()
                if len(got) == 15:
                    got = upgrade_id15(got)
                assert got == row.mother_id, (path, row)


def test_faults_point_at_real_rows(county: GeneratedCounty) -> None:
    data = _by_path(county)
    faults = county.answer_key.faults
    assert set(faults["fault"]) >= {
        "bad_check_digit",
        "id_scientific",
        "duplicate_in_file",
        "missing_required_column",
        "unrecognised_name",
        "lock_file",
        "duplicate_upload",
        "correction",
        "late_upload",
        "missing_upload",
        "birth_missing_in_village",
        "twins",
        "mistyped_mother_id",
        "sex_conflict",
        "dead_on_roster",
        "moved_out",
        "stale_method",
        "hospital_only_check",
        "two_villages",
        "fee_jump",
        "fee_overpaid",
        "village_only_birth",
    }
    women = county.answer_key.women.set_index("case")
    for f in faults[faults["row_number"].notna()].itertuples():
        header, rows = _table(f.path, data[f.path])
        assert 1 <= f.row_number <= len(rows), f
        row = rows[f.row_number - 1]
        if f.kind == "women":
            cell = str(row[_column(header, "id_number", "village_women")])
            if f.fault == "bad_check_digit":
                assert not _valid_id(cell)
            elif f.fault == "id_scientific":
                assert cell == cell.upper() and "E+17" in cell
            elif f.fault == "duplicate_in_file":
                ids = [r[_column(header, "id_number", "village_women")] for r in rows]
                assert ids.index(row[_column(header, "id_number", "village_women")]) < (
                    f.row_number - 1
                )
            else:
                assert _valid_id(cell)
                assert women.loc[f.fault, "id_number"] in {
                    unicodedata.normalize("NFKC", cell).lstrip("'").upper()
                }
        if f.kind == "fees":
            paid = str(row[_column(header, "paid_to_date", "village_fees")])
            assert paid
    for f in faults[faults["path"].notna() & faults["row_number"].isna()].itertuples():
        assert f.path in data
    quarantined = county.answer_key.uploads.query("status == 'quarantined'")
    assert set(quarantined["reason_code"]) == {
        "lock_file",
        "unrecognised_name",
        "missing_required_columns",
    }
    v2 = quarantined[quarantined["reason_code"] == "missing_required_columns"].iloc[0]
    header, _ = _table(v2["path"], data[v2["path"]])
    with pytest.raises(StopIteration):
        _column(header, "check_date", "hospital_checkups")


def test_planted_roster_stories(county: GeneratedCounty) -> None:
    """The dead woman stays listed, the moved-out one goes next month, the stale method."""
    data = _by_path(county)
    women = county.answer_key.women.set_index("case")
    faults = county.answer_key.faults

    def listed(case: str, month: int, village: str | None = None) -> bool:
        code = village or women.loc[case, "village_code"]
        path = f"2026-{month:02d}/village/village_women_{code}_2026{month:02d}"
        path = next(p for p in data if p.startswith(path) and "更正" not in p)
        header, rows = _table(path, data[path])
        col = _column(header, "id_number", "village_women")
        ids = {unicodedata.normalize("NFKC", str(r[col])).lstrip("'").upper() for r in rows}
        return women.loc[case, "id_number"] in ids

    dead = int(women.loc["dead_on_roster", "report_month"][-2:])
    assert all(listed("dead_on_roster", m) for m in range(dead, SMALL.last_month + 1))
    assert (faults["fault"] == "dead_on_roster").sum() == SMALL.last_month - dead
    moved = int(women.loc["moved_out", "report_month"][-2:])
    assert listed("moved_out", moved) and not listed("moved_out", moved + 1)
    two = int(women.loc["two_villages", "report_month"][-2:])
    assert listed("two_villages", two)
    assert listed("two_villages", two, women.loc["two_villages", "other_village_code"])


def test_variety(county: GeneratedCounty) -> None:
    encodings, title_rows, date_cells, totals, serials = set(), 0, 0, 0, 0
    texts = []
    for f in county.files:
        if f.path.endswith(".csv"):
            text, encoding = _decode(f.data)
            encodings.add(encoding)
            if encoding == "gb18030":
                f.data.decode("gbk")  # GBK proper, not just GB18030
            texts.append(text)
        elif not f.name.startswith("~$"):
            grid, _ = _grid(f.path, f.data)
            first = str(grid[0][0]) if grid and grid[0] else ""
            if re.search(r"\d{4}年\d{1,2}月", first) and str(grid[1][0]).startswith("填报单位："):
                title_rows += 1
                totals += str(grid[-1][0]) == "合计"
            date_cells += sum(isinstance(c, date) for row in grid for c in row)
            serials += sum(isinstance(c, float) and 40000 < c < 50000 for row in grid for c in row)
            texts.append("\n".join(",".join(str(c) for c in row) for row in grid))
    assert {"utf-8", "utf-8-sig", "gb18030"} <= encodings
    assert title_rows and totals and date_cells and serials
    blob = "\n".join(texts)
    for pattern in (
        r"\b2026-\d\d-\d\d\b",
        r"\b2026/\d{1,2}/\d{1,2}\b",
        r"\b2026\.\d{1,2}\.\d{1,2}\b",
        r"\b2026[01]\d[0-3]\d\b",
        r"2026年\d{1,2}月\d{1,2}日",
        r"[０-９]{6}",
        r"\d{17}x",
        r"\d,\d{3}\.\d\d",
        r"\d元",
        r",√,|,√\r?$",
        r"\*",
        "\u3000",
        r",'\d{17}",
        ",M,",
        ",2,",
    ):
        assert re.search(pattern, blob, re.M), pattern
    legacy = county.answer_key.women.set_index("case").loc["legacy_id", "id_number"]
    assert legacy[:6] + legacy[8:17] in blob or any(
        (legacy[:6] + legacy[8:17]).encode() in f.data for f in county.files
    )


def test_ids_are_valid_except_the_planted_ones(county: GeneratedCounty) -> None:
    faults = county.answer_key.faults
    broken = {
        (p, r) for p, r in zip(faults["path"], faults["row_number"], strict=True) if pd.notna(r)
    }
    contract = load_contract()
    checked = fifteen = 0
    for row in county.answer_key.uploads.query("status == 'loaded'").itertuples():
        tpl = contract.templates[f"{row.source}_{row.kind}"]
        header, rows = _table(row.path, county.file(row.path).data)
        cols = [
            _column(header, c.name, tpl.name)
            for c in tpl.columns
            if c.type == "id" and any(_fold(h) in {_fold(s) for s in c.spellings} for h in header)
        ]
        for n, r in enumerate(rows, start=1):
            for col in cols:
                cell = str(r[col]).strip()
                if not cell:
                    continue
                if (row.path, n) in broken:
                    continue
                assert _valid_id(cell), (row.path, n, cell)
                checked += 1
                fifteen += len(cell.lstrip("'")) == 15
                born = unicodedata.normalize("NFKC", cell).lstrip("'")
                year = int("19" + born[6:8]) if len(born) == 15 else int(born[6:10])
                assert 1900 < year <= 2026
    assert checked > 1000 and fifteen > 0


def test_reference_files(county: GeneratedCounty) -> None:
    ref = {
        k: pd.read_csv(io.BytesIO(v), dtype=str, keep_default_na=False)
        for k, v in county.reference.items()
    }
    areas, inst, targets = ref["areas.csv"], ref["institutions.csv"], ref["targets.csv"]
    assert list(areas.columns) == ["code", "name", "level", "parent_code"]
    assert areas["level"].value_counts().to_dict() == {"county": 1, "township": 2, "village": 6}
    assert areas.loc[areas["level"] == "county", "name"].item() == "和布克赛尔蒙古自治县"
    villages = areas[areas["level"] == "village"]
    assert (villages["code"].str.len() == 12).all()
    assert (villages["code"].str[:9] == villages["parent_code"]).all()
    assert list(inst.columns) == ["code", "name", "township_code"]
    assert set(inst["township_code"]) <= set(areas["code"])
    assert {"H654226100", "H654226101"} <= set(inst["code"])
    assert list(targets.columns) == ["year", "area_code", "indicator", "op", "target", "target_hi"]
    planted = county.answer_key.target_faults["row_number"].astype(int) - 1
    assert len(planted) == 4  # bad op, non-numeric target and year, unknown indicator
    targets = targets.drop(index=list(planted))
    county_rows = targets[targets["area_code"] == "654226"].set_index("indicator")
    assert county_rows.loc["policy_compliance_rate", ["op", "target"]].tolist() == [">=", "87"]
    assert county_rows.loc["multi_child_rate", "target"] == "1.0"
    assert county_rows.loc["sex_ratio_at_birth", ["op", "target", "target_hi"]].tolist() == [
        "between",
        "103",
        "107",
    ]
    assert len(county_rows) == 18
    townships = targets[targets["area_code"].str.len() == 9]
    assert (townships["indicator"] == "prepregnancy_exams").sum() == 2
    assert (townships["indicator"] == "contraceptive_prevalence").sum() == 1


def test_without_faults_everything_is_clean() -> None:
    clean = generate_county(
        CountySpec(
            seed=5,
            townships=1,
            villages_per_township=2,
            women_per_village=20,
            last_month=3,
            faults=False,
        )
    )
    key = clean.answer_key
    assert (key.uploads["status"] == "loaded").all()
    assert set(key.faults["fault"]) <= {"late_upload"}
    assert len(clean.files) == 3 * (2 * 3 + 1 + 3 * 4)
    assert key.women.empty


def test_spec_is_checked() -> None:
    with pytest.raises(ValueError):
        CountySpec(first_month=5, last_month=4)
    with pytest.raises(ValueError):
        CountySpec(last_month=3)  # faults need four months
    with pytest.raises(ValueError):
        CountySpec(county_code="65422")
    assert CountySpec(as_of=date(2026, 12, 1)).effective_as_of == date(2026, 12, 1)
    assert CountySpec(last_month=12).effective_as_of == date(2027, 1, 6)
