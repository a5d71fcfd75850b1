"""The whole nightly pipeline on the generated default county, checked against its answer key.

Per warehouse kind (SQLite file, PostgreSQL schema) the county is landed, validated,
reconciled, computed, audited and published ONCE (`world`); the state after that run
is kept as frames, so the assertions on it do not depend on test order. The steps that
change the warehouse are module fixtures chained in a fixed order, each snapshotting
what it needs:

    world (run 1) → second_run (run 2, no new file) → review (officer review, rerun
    of validate + reconcile) → correction (a new `_更正` file landed)

Tests follow the "Done when" lists: foundation (manifest, idempotent rerun,
corrections), quality (planted faults, traps, legacy IDs, reporting, masking), the
review workflow, reconciliation and publishing.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest
from sqlalchemy import Engine

import warehouse.inbox
import warehouse.landing
from flows.settings import Settings
from synthetic.county import generate_county
from synthetic.spec import AnswerKey, CountySpec, GeneratedCounty, upgrade_id15
from tests.e2e._pipeline import (
    MASKED_ID_RE,
    NIGHTLY,
    SECRET_KEY,
    RunResult,
    county_settings,
    names_in,
    nfkc,
    raw_ids_in,
    read_table,
    run_tasks,
    snapshot,
    sorted_frame,
    warehouse_url,
    write_county,
)
from transforms.indicators.catalog import load_catalog
from transforms.landing.identity import person_key
from transforms.periods import periods_for
from transforms.templates import load_contract
from warehouse import issues, schema
from warehouse.db import make_engine
from warehouse.inbox import write_files

STAGING = {name: t.name for name, t in schema.staging_tables.items()}
MART_KEY = ["area_code", "period", "indicator"]


# --------------------------------------------------------------------------- fixtures


@dataclass
class World:
    """The generated county, its settings and warehouse, and the state after run 1."""

    county: GeneratedCounty
    settings: Settings
    engine: Engine
    first: RunResult
    state: dict[str, pd.DataFrame]
    """Tables after run 1 (SNAPSHOT_TABLES and every stg_* table)."""

    @property
    def key(self) -> AnswerKey:
        return self.county.answer_key

    def upload_id(self, path: str) -> int:
        u = self.state["uploads"]
        hit = u.loc[u["path"] == path, "upload_id"]
        assert len(hit) == 1, f"{path}: {len(hit)} uploads rows"
        return int(hit.iloc[0])


@pytest.fixture(scope="module")
def county() -> GeneratedCounty:
    return generate_county(CountySpec())


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def e2e_warehouse_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    yield from warehouse_url(request.param, tmp_path_factory)


@pytest.fixture(scope="module")
def world(
    county: GeneratedCounty, e2e_warehouse_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    root = tmp_path_factory.mktemp("e2e_county")
    inbox, reference = write_county(county, root, Settings().time_zone)
    settings = county_settings(county, root, inbox, reference, e2e_warehouse_url)
    engine = make_engine(e2e_warehouse_url)
    first = run_tasks(settings, "e2e-run-1", NIGHTLY)
    state = snapshot(engine)
    state.update(snapshot(engine, STAGING.values()))
    yield World(county, settings, engine, first, state)
    engine.dispose()


@dataclass
class SecondRun:
    result: RunResult
    reads: dict[str, int]
    before: dict[str, pd.DataFrame]
    after: dict[str, pd.DataFrame]


def _counting(calls: dict[str, int], name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls[name] += 1
        return fn(*args, **kwargs)

    return wrapper


@pytest.fixture(scope="module")
def second_run(world: World) -> SecondRun:
    """The nightly run again with no new file; every read of an inbox file is counted."""
    tables = ["uploads", "dq_issues", "mart_target_achievement", "mart_target_achievement_history"]
    before = snapshot(world.engine, tables)
    reads = {"sha256_of": 0, "read_file": 0}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(
            warehouse.inbox, "sha256_of", _counting(reads, "sha256_of", warehouse.inbox.sha256_of)
        )
        mp.setattr(
            warehouse.landing,
            "read_file",
            _counting(reads, "read_file", warehouse.landing.read_file),
        )
        result = run_tasks(world.settings, "e2e-run-2", NIGHTLY)
    return SecondRun(result, reads, before, snapshot(world.engine, tables))


@dataclass
class Review:
    resolved_id: str
    waived_id: str
    result: RunResult
    before: pd.DataFrame
    after: pd.DataFrame
    events: dict[str, pd.DataFrame]


@pytest.fixture(scope="module")
def review(world: World, second_run: SecondRun) -> Review:
    """An officer resolves one reconciliation issue and waives another; validate and
    reconcile run again (they find both problems again: the data has not changed)."""
    found = world.state["dq_issues"]
    missing = found.loc[found["rule"] == "birth_missing_in_village"].sort_values("unit")
    assert len(missing) >= 2, "need two birth_missing_in_village issues to review"
    resolved_id, waived_id = str(missing["issue_id"].iloc[0]), str(missing["issue_id"].iloc[1])
    with world.engine.begin() as conn:
        issues.set_status(
            conn, issues.IssueFilter(issue_ids=(resolved_id,)), "resolved", "已补报", "e2e-officer"
        )
        issues.set_status(
            conn, issues.IssueFilter(issue_ids=(waived_id,)), "waived", "外地分娩", "e2e-officer"
        )
    before = read_table(world.engine, "dq_issues")
    result = run_tasks(world.settings, "e2e-review", ("validate", "reconcile"))
    after = read_table(world.engine, "dq_issues")
    with world.engine.connect() as conn:
        events = {i: issues.issue_events(conn, i) for i in (resolved_id, waived_id)}
    return Review(resolved_id, waived_id, result, before, after, events)


@dataclass
class Correction:
    original_path: str
    corrected_path: str
    changed: tuple[int, int]
    """(old, new) children of the changed row."""
    result: RunResult
    uploads: pd.DataFrame
    staged: pd.DataFrame


def _normal_header(cell: str) -> str:
    return re.sub(r"[\s*]", "", nfkc(cell))


def _corrected_roster(data: bytes) -> tuple[bytes, tuple[int, int]]:
    """The CSV roster with the 现有子女数 of its last data row changed (old, new)."""
    column = load_contract().templates["village_women"].column("children")
    spellings = {_normal_header(s) for s in (column.header, column.name, *column.aliases)}
    bom = data.startswith(codecs.BOM_UTF8)
    body = data.decode("utf-8-sig")
    eol = "\r\n" if "\r\n" in body else "\n"
    lines = body.split(eol)
    cells = [next(csv.reader([line])) if line else [] for line in lines]
    header = next(
        i for i, row in enumerate(cells) if any(_normal_header(c) in spellings for c in row)
    )
    at = next(j for j, c in enumerate(cells[header]) if _normal_header(c) in spellings)
    last = max(i for i in range(header + 1, len(lines)) if lines[i].strip())
    row = cells[last]
    old = int(nfkc(row[at]).strip())
    new = old + 1 if old < 9 else old - 1
    row[at] = str(new)
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(row)
    lines[last] = out.getvalue()
    text = eol.join(lines)
    return (text.encode("utf-8-sig") if bom else text.encode("utf-8")), (old, new)


@pytest.fixture(scope="module")
def correction(world: World, review: Review) -> Correction:
    """A `_更正` copy of one loaded CSV roster (one cell changed, a later mtime) is landed."""
    key = world.key
    fault_paths = set(key.faults["path"].dropna())
    candidates = key.uploads.loc[
        (key.uploads["source"] == "village")
        & (key.uploads["kind"] == "women")
        & (key.uploads["status"] == "loaded")
        & key.uploads["path"].str.endswith(".csv")
        & ~key.uploads["path"].isin(fault_paths)
    ].sort_values("path", ascending=False)
    for row in candidates.itertuples():
        original = world.county.file(str(row.path))
        try:
            data, changed = _corrected_roster(original.data)
        except (UnicodeDecodeError, StopIteration, ValueError):
            continue  # a GBK file, or no readable 子女数: take the next one
        break
    else:
        raise AssertionError("no UTF-8 CSV roster to correct")
    folder, name = original.path.rsplit("/", 1)
    stem, ext = name.rsplit(".", 1)
    corrected_path = f"{folder}/{stem}_更正.{ext}"
    arrived: datetime = original.arrived_at + timedelta(days=1, hours=2)
    write_files(world.settings.inbox, [(corrected_path, data, arrived)], world.settings.time_zone)
    result = run_tasks(world.settings, "e2e-run-3", ("land",))
    uploads = read_table(world.engine, "uploads")
    ids = uploads.loc[uploads["path"].isin([original.path, corrected_path]), "upload_id"]
    stg = read_table(world.engine, STAGING["village_women"])
    staged = stg.loc[stg["upload_id"].isin(ids.astype(int).tolist())]
    return Correction(original.path, corrected_path, changed, result, uploads, staged)


# ---------------------------------------------------------------------------- helpers


def _problems(problems: list[str], what: str) -> str:
    shown = "\n  ".join(problems[:40])
    more = f"\n  … and {len(problems) - 40} more" if len(problems) > 40 else ""
    return f"{len(problems)} {what}:\n  {shown}{more}"


def _same(a: Any, b: Any) -> bool:
    if pd.isna(a) and pd.isna(b):
        return True
    if pd.isna(a) or pd.isna(b):
        return False
    return bool(a == b)


def _at(frame: pd.DataFrame, upload_id: int, row_number: int | None) -> pd.DataFrame:
    sel = frame["upload_id"].eq(upload_id).fillna(False)
    if row_number is None:
        sel &= frame["row_number"].isna()
    else:
        sel &= frame["row_number"].eq(row_number).fillna(False)
    return frame.loc[sel]


def _issue_summary(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "nothing"
    return ", ".join(
        f"{r.rule}/{r.dimension}/{r.severity} (row {r.row_number})" for r in frame.itertuples()
    )


def _mother_keys(ids: pd.Series) -> pd.Series:
    return person_key(ids.astype("string"), SECRET_KEY.encode())


def _reference(county: GeneratedCounty, name: str) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(county.reference[name]), dtype=str, keep_default_na=False)


def _months(spec: CountySpec) -> list[str]:
    return [f"{spec.year:04d}-{m:02d}" for m in range(spec.first_month, spec.last_month + 1)]


def _planted_places(world: World) -> set[tuple[int, int]]:
    f = world.key.faults
    rows = f.loc[f["path"].notna() & f["row_number"].notna()]
    return {
        (world.upload_id(str(p)), int(r))
        for p, r in zip(rows["path"], rows["row_number"], strict=True)
    }


def _differing_cells(old: pd.DataFrame, new: pd.DataFrame) -> list[tuple[int, str]]:
    """(row_number, column) of every template cell in which two staged rosters differ."""
    assert list(old.index) == list(new.index), "the two rosters have different rows"
    columns = [c.name for c in load_contract().templates["village_women"].columns]
    differs = (new[columns].astype("string") != old[columns].astype("string")).fillna(True)
    differs &= ~(new[columns].isna() & old[columns].isna())
    return [
        (int(new.index[r]), columns[c]) for r, c in zip(*differs.to_numpy().nonzero(), strict=True)
    ]


# ------------------------------------------------------------------------- foundation


def test_the_nightly_tasks_complete(world: World) -> None:
    """land → validate → reconcile → compute → audit → publish, each without an error."""
    assert world.first.failure is None, (
        f"{world.first.failure[0]} failed: {world.first.failure[1]}"
        f" (completed: {list(world.first.returned)})"
    )
    assert world.first.returned["audit"] == []


def test_every_generated_file_is_in_the_manifest_as_the_key_says(world: World) -> None:
    world.first.require("land")
    key = world.key.uploads
    got = world.state["uploads"].set_index("path")
    problems = []
    extra = sorted(set(got.index) - set(key["path"]))
    problems += [f"{p}: in uploads, not generated" for p in extra]
    for row in key.itertuples():
        if row.path not in got.index:
            problems.append(f"{row.path}: generated, not in uploads")
            continue
        have = got.loc[row.path]
        for column in (
            "file_name",
            "status",
            "rows",
            "late",
            "reason_code",
            "source",
            "kind",
            "unit",
            "report_month",
        ):
            want = getattr(row, column)
            if not _same(want, have[column]):
                problems.append(f"{row.path}: {column} {have[column]!r}, key says {want!r}")
        if pd.Timestamp(have["arrived_at"]) != pd.Timestamp(row.arrived_at):
            problems.append(f"{row.path}: arrived_at {have['arrived_at']}, key {row.arrived_at}")
    assert not problems, _problems(problems, "manifest disagreements")
    # the landing summary counts what the key holds (superseded files count as landed)
    landed = world.first.returned["land"]["files"]
    statuses = key["status"].replace({"superseded": "loaded"}).value_counts().to_dict()
    assert landed == statuses


def test_the_planted_correction_supersedes_its_original_and_is_staged(world: World) -> None:
    world.first.require("land")
    f = world.key.faults
    fault = f.loc[f["fault"] == "correction"].iloc[0]
    corrected = str(fault["path"])
    original = corrected.replace("_更正", "")
    uploads = world.state["uploads"].set_index("path")
    assert uploads.loc[original, "status"] == "superseded"
    assert uploads.loc[corrected, "status"] == "loaded"
    stg = world.state[STAGING["village_women"]]
    new = (
        stg.loc[stg["upload_id"] == world.upload_id(corrected)].set_index("row_number").sort_index()
    )
    old = (
        stg.loc[stg["upload_id"] == world.upload_id(original)].set_index("row_number").sort_index()
    )
    assert len(new) == uploads.loc[corrected, "rows"] == len(old)
    row = int(fault["row_number"])
    cells = _differing_cells(old, new)
    assert cells == [(row, "children")], f"cells that differ: {cells}"
    # "the original roster said one child more"
    assert int(old.loc[row, "children"]) == int(new.loc[row, "children"]) + 1
    # the reconciled roster uses the correction
    world.first.require(*NIGHTLY)
    woman = world.key.women.loc[world.key.women["case"] == "correction"].iloc[0]
    wkey = _mother_keys(pd.Series([woman["id_number"]])).iloc[0]
    rw = world.state["recon_women"]
    snap = rw.loc[(rw["woman_key"] == wkey) & (rw["snapshot_month"] == woman["report_month"])]
    assert snap["children"].tolist() == [int(new.loc[row, "children"])]


def test_a_second_landing_reads_no_file_and_publish_changes_nothing(
    world: World, second_run: SecondRun
) -> None:
    world.first.require(*NIGHTLY)
    second_run.result.require("land")
    assert second_run.reads == {"sha256_of": 0, "read_file": 0}
    assert second_run.result.returned["land"]["files"] == {}
    before, after = second_run.before, second_run.after
    assert len(after["uploads"]) == len(before["uploads"])
    pd.testing.assert_frame_equal(
        sorted_frame(after["uploads"], ["upload_id"]),
        sorted_frame(before["uploads"], ["upload_id"]),
    )
    second_run.result.require(*NIGHTLY)
    assert second_run.result.returned["publish"]["new"] == 0
    assert second_run.result.returned["publish"]["changed"] == 0
    assert second_run.result.returned["publish"]["removed"] == 0
    mart_before = sorted_frame(before["mart_target_achievement"], MART_KEY)
    mart_after = sorted_frame(after["mart_target_achievement"], MART_KEY)
    assert set(mart_before["run_id"]) == {"e2e-run-1"}
    pd.testing.assert_frame_equal(mart_after, mart_before)  # run_id included
    assert len(after["mart_target_achievement_history"]) == len(
        before["mart_target_achievement_history"]
    )


def test_a_correction_file_supersedes_its_original_and_is_staged(correction: Correction) -> None:
    correction.result.require("land")
    assert correction.result.returned["land"]["files"] == {"loaded": 1}
    u = correction.uploads.set_index("path")
    assert u.loc[correction.original_path, "status"] == "superseded"
    assert u.loc[correction.corrected_path, "status"] == "loaded"
    assert u.loc[correction.corrected_path, "run_id"] == "e2e-run-3"
    old_id = int(u.loc[correction.original_path, "upload_id"])
    new_id = int(u.loc[correction.corrected_path, "upload_id"])
    staged = correction.staged
    old = staged.loc[staged["upload_id"] == old_id].set_index("row_number").sort_index()
    new = staged.loc[staged["upload_id"] == new_id].set_index("row_number").sort_index()
    assert len(new) == len(old) == u.loc[correction.corrected_path, "rows"] > 0
    cells = _differing_cells(old, new)
    assert len(cells) == 1 and cells[0][1] == "children", f"cells that differ: {cells}"
    row = cells[0][0]
    assert (int(old.loc[row, "children"]), int(new.loc[row, "children"])) == correction.changed


# ---------------------------------------------------------------------------- quality


def test_every_planted_fault_is_an_issue_at_its_place(world: World) -> None:
    world.first.require("land", "validate", "reconcile")
    f = world.key.faults
    planted = f.loc[f["rule"].notna() & (f["expect_in"] == "dq_issues")]
    found = world.state["dq_issues"]
    problems = []
    for fault in planted.itertuples():
        want = (fault.rule, fault.dimension, fault.severity)
        if pd.notna(fault.path):
            uid = world.upload_id(str(fault.path))
            row = None if pd.isna(fault.row_number) else int(fault.row_number)
            here = _at(found, uid, row)
            where = f"{fault.path} row {row}"
        else:
            here = found.loc[
                (found["source"] == fault.source)
                & (found["kind"] == fault.kind)
                & (found["unit"] == fault.unit)
                & (found["report_month"] == fault.report_month)
            ]
            where = f"{fault.source}/{fault.kind}/{fault.unit}/{fault.report_month}"
        hit = here.loc[
            (here["rule"] == fault.rule)
            & (here["dimension"] == fault.dimension)
            & (here["severity"] == fault.severity)
        ]
        if len(hit) != 1:
            problems.append(
                f"{fault.fault} at {where}: want {'/'.join(map(str, want))}, "
                f"warehouse holds {_issue_summary(here)}"
            )
            continue
        if pd.notna(fault.path) and hit["file_name"].iloc[0] != str(fault.path).rsplit("/", 1)[-1]:
            problems.append(f"{fault.fault} at {where}: file_name {hit['file_name'].iloc[0]!r}")
    assert not problems, _problems(problems, "planted faults not found as issues")


def test_quarantined_files_are_in_uploads_and_issues(world: World) -> None:
    world.first.require("land")
    f = world.key.faults
    quarantines = f.loc[f["rule"].notna() & (f["expect_in"] == "uploads")]
    assert set(quarantines["fault"]) == {
        "lock_file",
        "unrecognised_name",
        "missing_required_column",
    }
    uploads = world.state["uploads"].set_index("path")
    found = world.state["dq_issues"]
    for fault in quarantines.itertuples():
        assert uploads.loc[fault.path, "status"] == "quarantined", fault.path
        assert uploads.loc[fault.path, "reason_code"] == fault.rule, fault.path
        here = _at(found, world.upload_id(str(fault.path)), None)
        # quarantine issues are named file_<reason_code> (warehouse/staged.py)
        assert here[["rule", "dimension", "severity"]].values.tolist() == [
            [f"file_{fault.rule}", "validity", "error"]
        ], f"{fault.path}: {_issue_summary(here)}"


def test_traps_raise_no_issue_at_their_place(world: World) -> None:
    world.first.require("land", "validate", "reconcile")
    f = world.key.faults
    traps = f.loc[f["rule"].isna() & f["path"].notna()]
    assert set(traps["fault"]) >= {
        "twins",
        "correction",
        "moved_out",
        "hospital_only_check",
        "village_only_birth",
        "duplicate_upload",
    }
    found = world.state["dq_issues"]
    problems = []
    for trap in traps.itertuples():
        uid = world.upload_id(str(trap.path))
        if pd.isna(trap.row_number):  # a file-level trap: nothing about the whole file
            here = found.loc[found["upload_id"].eq(uid).fillna(False)]
        else:
            here = _at(found, uid, int(trap.row_number))
        if len(here):
            problems.append(
                f"{trap.fault} at {trap.path} row {trap.row_number}: {_issue_summary(here)}"
            )
    assert not problems, _problems(problems, "traps that raised an issue")


def _legacy_cells(world: World) -> pd.DataFrame:
    """Every as-read cell of run 1 that is a 15-digit ID: upload_id, row_number, value."""
    first_ids = set(world.state["uploads"]["upload_id"].astype(int))
    out = []
    for path in sorted((world.settings.raw_dir / "as_read").rglob("*.parquet")):
        cells = pq.read_table(path).to_pydict()  # one batch per template and month
        uploads = cells.pop("upload_id")
        rows = cells.pop("row_number")
        for column, values in cells.items():
            for upload_id, row, value in zip(uploads, rows, values, strict=True):
                if upload_id not in first_ids or value is None or len(value) < 15:
                    continue
                cleaned = re.sub(r"\s+", "", nfkc(str(value))).lstrip("'‘’`")
                cleaned = re.sub(r"^([0-9]+)\.0+$", r"\1", cleaned)
                if re.fullmatch(r"[0-9]{15}", cleaned):
                    out.append((int(upload_id), int(row), column, cleaned))
    return pd.DataFrame(out, columns=["upload_id", "row_number", "column", "value"])


def test_valid_legacy_15_digit_ids_raise_no_issue(world: World) -> None:
    world.first.require("land", "validate", "reconcile")
    legacy = _legacy_cells(world)
    assert len(legacy) > 0, "the county has legacy 15-digit IDs in its uploads"
    legacy["id18"] = legacy["value"].map(upgrade_id15)
    women = world.key.women
    assert set(women.loc[women["case"] == "legacy_id", "id_number"]) <= set(legacy["id18"])
    place = ["upload_id", "row_number"]
    legacy[place] = legacy[place].astype("Int64")
    found = world.state["dq_issues"]
    flagged = legacy.merge(found[[*place, "rule"]], on=place)
    planted = _planted_places(world)
    flagged = flagged.loc[
        [
            (int(u), int(r)) not in planted
            for u, r in zip(flagged["upload_id"], flagged["row_number"], strict=True)
        ]
    ]
    problems = [
        f"upload {r.upload_id} row {r.row_number} ({r.value}): {r.rule}"
        for r in flagged.itertuples()
    ]
    # ... and each is staged as its 18-digit upgrade, without an error code
    uploads = world.state["uploads"][["upload_id", "source", "kind"]]
    legacy = legacy.merge(uploads.astype({"upload_id": "Int64"}), on="upload_id")
    for template in load_contract().templates.values():
        cells = legacy.loc[
            (legacy["source"] == template.source) & (legacy["kind"] == template.kind)
        ]
        if cells.empty:
            continue
        ids = [c.name for c in template.columns if c.type == "id"]
        stg = world.state[template.staging_table]
        stg = stg[[*place, *ids, *(f"err_{c}" for c in ids)]].astype({c: "Int64" for c in place})
        both = cells.merge(stg, on=place, how="left")
        ok = pd.Series(False, index=both.index)
        for c in ids:
            ok |= (both[c] == both["id18"]).fillna(False) & both[f"err_{c}"].isna()
        problems += [
            f"upload {r.upload_id} row {r.row_number}: {r.value} not staged as {r.id18}"
            for r in both.loc[~ok].itertuples()
        ]
    assert not problems, _problems(problems, "legacy IDs with an issue or not staged")


def _expected_uploads(world: World) -> pd.DataFrame:
    """Every expected upload (unit × kind × due month) with its area, from the reference."""
    areas = _reference(world.county, "areas.csv")
    institutions = _reference(world.county, "institutions.csv")
    units = {
        "village": [(c, c) for c in areas.loc[areas["level"] == "village", "code"]],
        "police": [(c, c) for c in areas.loc[areas["level"] == "township", "code"]],
        "hospital": list(zip(institutions["code"], institutions["township_code"], strict=True)),
    }
    rows = [
        (unit, t.source, t.kind, month, area)
        for t in load_contract().templates.values()
        for unit, area in units[t.source]
        for month in _months(world.county.spec)
    ]
    return pd.DataFrame(rows, columns=["unit", "source", "kind", "report_month", "area_code"])


def test_missing_and_late_uploads_are_issues_and_in_dq_reporting(world: World) -> None:
    world.first.require(*NIGHTLY)
    f = world.key.faults
    ident = ["source", "kind", "unit", "report_month"]
    missing = f.loc[f["fault"] == "missing_upload", ident]
    late = f.loc[f["fault"] == "late_upload", ident]
    assert len(missing) == 3 and len(late) > 0
    found = world.state["dq_issues"]
    for rule, want in (("upload_missing", missing), ("upload_late", late)):
        have = found.loc[found["rule"] == rule, ident].astype(str)
        assert sorted(map(tuple, have.values.tolist())) == sorted(
            map(tuple, want.astype(str).values.tolist())
        ), rule
    reporting = world.state["dq_reporting"]
    expected = _expected_uploads(world)
    got = reporting.merge(expected, on=ident, how="outer", suffixes=("", "_ref"), indicator=True)
    assert (got["_merge"] == "both").all(), got.loc[got["_merge"] != "both", [*ident, "_merge"]]
    assert (got["area_code"] == got["area_code_ref"]).all()
    keyed = got.set_index(ident)
    missing_ix = pd.MultiIndex.from_frame(missing.astype(str))
    late_ix = pd.MultiIndex.from_frame(late.astype(str))
    not_received = keyed.index[~keyed["received"].astype(bool)]
    not_on_time = keyed.index[~keyed["on_time"].astype(bool)]
    assert sorted(not_received) == sorted(missing_ix)
    assert sorted(not_on_time) == sorted(missing_ix.append(late_ix))


def test_reporting_rates_count_missing_and_late_uploads(world: World) -> None:
    """The mart's reporting numerators and denominators, from the key and the reference."""
    world.first.require(*NIGHTLY)
    f = world.key.faults
    ident = ["source", "kind", "unit", "report_month"]
    expected = _expected_uploads(world)
    marks = expected.set_index(ident).index
    missing = marks.isin(pd.MultiIndex.from_frame(f.loc[f["fault"] == "missing_upload", ident]))
    late = marks.isin(pd.MultiIndex.from_frame(f.loc[f["fault"] == "late_upload", ident]))
    expected["received"] = ~missing
    expected["on_time"] = ~missing & ~late
    areas = _reference(world.county, "areas.csv")
    parent = dict(zip(areas["code"], areas["parent_code"], strict=True))
    rolled = []
    for row in expected.itertuples():
        area = row.area_code
        while area:
            rolled.append((area, row.report_month, row.received, row.on_time))
            area = parent.get(area, "")
    per_month = pd.DataFrame(rolled, columns=["area_code", "month", "received", "on_time"])
    per_month = per_month.groupby(["area_code", "month"]).agg(
        expected=("received", "size"), received=("received", "sum"), on_time=("on_time", "sum")
    )
    mart = world.state["mart_target_achievement"]
    problems = []
    for period in periods_for(_months(world.county.spec)):
        sums = per_month.loc[per_month.index.get_level_values("month").isin(period.months)]
        sums = sums.groupby(level="area_code").sum()
        for indicator, numerator in (
            ("reporting_rate", "received"),
            ("reporting_rate_on_time", "on_time"),
        ):
            rows = mart.loc[(mart["period"] == period.label) & (mart["indicator"] == indicator)]
            rows = rows.set_index("area_code")
            for area, want in sums.iterrows():
                have = rows.loc[area]
                if (have["numerator"], have["denominator"]) != (want[numerator], want["expected"]):
                    problems.append(
                        f"{indicator} {area} {period.label}: {have['numerator']}/"
                        f"{have['denominator']}, want {want[numerator]}/{want['expected']}"
                    )
    assert not problems, _problems(problems, "reporting-rate disagreements")


def test_no_issue_holds_a_raw_id_and_record_keys_are_masked(world: World) -> None:
    world.first.require("land", "validate", "reconcile", "compute", "audit")
    found = world.state["dq_issues"]
    assert not raw_ids_in(found, "dq_issues")
    keys = found["record_key"].dropna().astype(str)
    assert len(keys) > 0
    bad = [k for k in keys if not MASKED_ID_RE.fullmatch(k)]
    assert not bad, f"record_key not masked as 654226********002X: {bad}"
    id_columns = {
        c.name for t in load_contract().templates.values() for c in t.columns if c.type == "id"
    }
    values = found.loc[found["column_name"].isin(id_columns), "value"].dropna().astype(str)
    assert all("*" in v for v in values), f"ID values shown unmasked: {values.tolist()}"


# --------------------------------------------------------------------- review workflow


def test_a_resolved_issue_found_again_is_reopened(review: Review) -> None:
    review.result.require("validate", "reconcile")
    before = review.before.set_index("issue_id")
    after = review.after.set_index("issue_id")
    assert before.loc[review.resolved_id, "status"] == "resolved"
    assert after.loc[review.resolved_id, "status"] == "open"
    assert after.loc[review.resolved_id, "last_seen_run"] == "e2e-review"
    assert bool(after.loc[review.resolved_id, "active"])
    events = review.events[review.resolved_id]
    steps = list(zip(events["from_status"], events["to_status"], events["run_id"], strict=True))
    assert [(None if pd.isna(a) else a, b) for a, b, _ in steps] == [
        (None, "open"),
        ("open", "resolved"),
        ("resolved", "open"),
    ]
    assert steps[0][2] == "e2e-run-1" and steps[-1][2] == "e2e-review"
    assert events["by"].iloc[1] == "e2e-officer"


def test_a_waived_issue_stays_waived(review: Review) -> None:
    review.result.require("validate", "reconcile")
    after = review.after.set_index("issue_id")
    assert after.loc[review.waived_id, "status"] == "waived"
    assert after.loc[review.waived_id, "status_by"] == "e2e-officer"
    assert after.loc[review.waived_id, "last_seen_run"] == "e2e-review"
    events = review.events[review.waived_id]
    assert events["to_status"].tolist() == ["open", "waived"]


def test_issue_ids_are_stable_across_runs(
    world: World, second_run: SecondRun, review: Review
) -> None:
    world.first.require("land", "validate", "reconcile")
    second_run.result.require("land", "validate", "reconcile")
    review.result.require("validate", "reconcile")
    first = world.state["dq_issues"].set_index("issue_id")
    for name, later in (("run 2", second_run.after["dq_issues"]), ("review rerun", review.after)):
        later = later.set_index("issue_id")
        assert set(later.index) == set(first.index), name
        assert (later.loc[first.index, "first_seen_run"] == "e2e-run-1").all(), name
        assert (
            later.loc[first.index, "active"].astype(bool).tolist()
            == first["active"].astype(bool).tolist()
        ), name
    rerun = second_run.after["dq_issues"].set_index("issue_id")
    origins = ("reconciliation", "completeness", "consistency", "outliers")
    seen = rerun.loc[rerun["origin"].isin(origins), "last_seen_run"]
    assert len(seen) > 0 and (seen == "e2e-run-2").all()  # found again by run 2


# ---------------------------------------------------------------------- reconciliation


def test_every_birth_of_the_key_is_reconciled_once_with_its_status(world: World) -> None:
    world.first.require(*NIGHTLY)
    key = world.key.births.loc[world.key.births["status"].notna()].copy()
    key["mother_key"] = _mother_keys(key["mother_id"])
    key["day"] = pd.to_datetime(key["birth_date"]).dt.strftime("%Y-%m-%d")
    rb = world.state["recon_births"].copy()
    rb["day"] = pd.to_datetime(rb["birth_date"]).dt.strftime("%Y-%m-%d")
    assert len(rb) == len(key), f"recon_births has {len(rb)} rows, the key {len(key)} births"
    problems = []
    columns = [
        "status",
        "matched_by",
        "in_village",
        "in_hospital",
        "in_police",
        "village_report_month",
        "reported_on_time",
    ]
    for (mother, day), births in key.groupby(["mother_key", "day"]):
        got = rb.loc[(rb["mother_key"] == mother) & (rb["day"] == day)]
        label = f"birth(s) {births['birth_id'].tolist()} ({births['case'].iloc[0]}) {day}"
        if len(got) != len(births):
            problems.append(f"{label}: {len(got)} rows in recon_births, key {len(births)}")
            continue
        for column in columns:
            want = sorted(births[column].astype("string").fillna("-"))
            have = sorted(got[column].astype("string").fillna("-").str.lower())
            want = [w.lower() for w in want]
            if column == "matched_by" and births[column].isna().all():
                continue  # the key has no match method here
            if want != have:
                problems.append(f"{label}: {column} {have}, key {want}")
    assert not problems, _problems(problems, "reconciled births that disagree with the key")


def test_recon_women_drops_the_dead_and_the_moved_out(world: World) -> None:
    world.first.require(*NIGHTLY)
    women = world.key.women
    rw = world.state["recon_women"]
    problems = []
    for case in ("dead_on_roster", "moved_out"):
        for w in women.loc[women["case"] == case].itertuples():
            wkey = _mother_keys(pd.Series([w.id_number])).iloc[0]
            event_month = pd.Timestamp(w.event_date).strftime("%Y-%m")
            months = sorted(rw.loc[rw["woman_key"] == wkey, "snapshot_month"])
            after = [m for m in months if m >= event_month]
            if after:
                problems.append(f"{case} ({w.event_date}): still in recon_women {after}")
            if not [m for m in months if m < event_month]:
                problems.append(f"{case}: not in recon_women before the event")
    assert not problems, _problems(problems, "roster women who should be gone")


def test_a_woman_on_two_rosters_counts_once_where_she_lives(world: World) -> None:
    world.first.require(*NIGHTLY)
    w = world.key.women.loc[world.key.women["case"] == "two_villages"].iloc[0]
    wkey = _mother_keys(pd.Series([w.id_number])).iloc[0]
    rw = world.state["recon_women"]
    mine = rw.loc[(rw["woman_key"] == wkey) & (rw["snapshot_month"] == w.report_month)]
    assert mine["area_code"].tolist() == [w.other_village_code]
    found = world.state["dq_issues"]
    found = found.loc[
        (found["rule"] == "roster_duplicate_person") & (found["report_month"] == w.report_month)
    ]
    assert {w.village_code, w.other_village_code} <= set(found["unit"])
    assert set(found["dimension"]) == {"uniqueness"}


def test_recon_women_takes_the_hospital_check_and_procedure(world: World) -> None:
    world.first.require(*NIGHTLY)
    women = world.key.women
    rw = world.state["recon_women"]
    check = women.loc[women["case"] == "hospital_only_check"].iloc[0]
    key = _mother_keys(pd.Series([check["id_number"]])).iloc[0]
    row = rw.loc[(rw["woman_key"] == key) & (rw["snapshot_month"] == check["report_month"])]
    assert len(row) == 1
    assert pd.Timestamp(row["last_check_date"].iloc[0]) == pd.Timestamp(check["event_date"])
    stale = women.loc[women["case"] == "stale_method"].iloc[0]
    key = _mother_keys(pd.Series([stale["id_number"]])).iloc[0]
    f = world.key.faults
    stale_months = sorted(f.loc[f["fault"] == "stale_method", "report_month"])
    rows = rw.loc[(rw["woman_key"] == key) & rw["snapshot_month"].isin(stale_months)]
    assert rows[["method", "method_source"]].values.tolist() == [["结扎", "hospital"]] * len(
        stale_months
    )


def _names(world: World) -> set[str]:
    names = set(world.key.births["mother_name"].dropna()) | set(world.key.women["name"].dropna())
    for template in load_contract().templates.values():
        stg = world.state[template.staging_table]
        for column in (c.name for c in template.columns if c.name.endswith("name")):
            names |= set(stg[column].dropna().astype(str))
    return {n for n in names if n}


def _harmless(world: World) -> set[str]:
    areas = _reference(world.county, "areas.csv")
    institutions = _reference(world.county, "institutions.csv")
    return set(areas["name"]) | set(institutions["name"]) | {i.name_zh for i in load_catalog()}


def test_recon_and_mart_tables_hold_no_raw_id_and_no_name(world: World) -> None:
    world.first.require(*NIGHTLY)
    names, harmless = _names(world), _harmless(world)
    assert len(names) > 300
    problems = []
    tables = [t for t in world.state if t.startswith(("recon_", "mart_")) or t == "dq_reporting"]
    assert len(tables) == 9
    for table in tables:
        frame = world.state[table]
        problems += raw_ids_in(frame, table)
        problems += names_in(frame, table, names, harmless)
    assert not problems, _problems(problems, "raw IDs or names in published tables")


# -------------------------------------------------------------------------- publishing


def test_the_mart_has_one_row_per_indicator_area_and_period(world: World) -> None:
    world.first.require(*NIGHTLY)
    mart = world.state["mart_target_achievement"]
    areas = _reference(world.county, "areas.csv")
    periods = periods_for(_months(world.county.spec))
    assert {p.kind for p in periods} == {"month", "ytd", "quarter", "half", "year"}
    want = {
        (a, p.label, i.code)
        for i in load_catalog()
        for a in areas["code"]
        for p in periods
        if p.kind in i.periods
    }
    have = list(mart[MART_KEY].itertuples(index=False, name=None))
    assert len(have) == len(set(have)), "duplicate mart keys"
    assert set(have) == want, (
        f"missing {sorted(want - set(have))[:10]}, unexpected {sorted(set(have) - want)[:10]}"
    )
    info = areas.set_index("code")
    by_area = mart.drop_duplicates("area_code").set_index("area_code")
    assert (by_area["area_name"] == info.loc[by_area.index, "name"]).all()
    assert (by_area["area_level"] == info.loc[by_area.index, "level"]).all()
    assert set(mart["run_id"]) == {"e2e-run-1"}


def test_mart_values_are_numerator_over_denominator_times_factor(world: World) -> None:
    world.first.require(*NIGHTLY)
    mart = world.state["mart_target_achievement"]
    catalog = {i.code: i for i in load_catalog()}
    problems = []
    for row in mart.itertuples():
        indicator = catalog[row.indicator]
        label = f"{row.indicator} {row.area_code} {row.period}"
        if indicator.denominator is None:
            want: float | None = float(row.numerator) * indicator.factor
        elif pd.isna(row.denominator) or float(row.denominator) == 0:
            want = None
        else:
            want = float(row.numerator) / float(row.denominator) * indicator.factor
        if want is None:
            if not (pd.isna(row.value) and row.status == "no_data"):
                problems.append(
                    f"{label}: denominator {row.denominator}, value {row.value}, "
                    f"status {row.status}"
                )
        elif pd.isna(row.value) or not math.isclose(
            float(row.value), want, rel_tol=1e-9, abs_tol=1e-9
        ):
            problems.append(f"{label}: value {row.value}, want {want}")
    assert not problems, _problems(problems, "mart values that are not numerator/denominator")


# The mart's birth figures, and the key's counts (synthetic.answer_key.birth_figures) they
# must equal: (indicator, mart column, key column).
_BIRTH_FIGURES = (
    ("births", "numerator", "births"),
    ("policy_compliance_rate", "numerator", "policy_in"),
    ("policy_compliance_rate", "denominator", "policy_known"),
    ("multi_child_rate", "numerator", "order_3plus"),
    ("multi_child_rate", "denominator", "order_known"),
    ("birth_underreport_rate", "numerator", "not_on_time"),
    ("birth_underreport_rate", "denominator", "births"),
    ("sex_ratio_at_birth", "numerator", "male"),
    ("sex_ratio_at_birth", "denominator", "female"),
)


def test_every_birth_figure_per_area_and_month_is_the_generators_count(world: World) -> None:
    world.first.require(*NIGHTLY)
    mart = world.state["mart_target_achievement"]
    months = _months(world.county.spec)
    monthly = mart.loc[mart["period"].isin(months)]
    figures = world.key.birth_figures.set_index(["area_code", "month"])
    problems = []
    for indicator, column, counted in _BIRTH_FIGURES:
        rows = monthly.loc[monthly["indicator"] == indicator]
        assert len(rows) == len(_reference(world.county, "areas.csv")) * len(months)
        for row in rows.itertuples():
            key = (str(row.area_code), str(row.period))
            want = int(figures[counted].get(key, 0))
            have = getattr(row, column)
            if pd.isna(have) or float(have) != want:
                problems.append(f"{indicator} {column} {key}: mart {have}, key {want}")
    assert not problems, _problems(problems, "birth figures that differ from the generator's")
    # the planted cases are in these counts: a late report and an error row stay 漏报
    births = world.key.births
    for case in ("late_report", "mistyped_mother_id"):
        assert births.loc[births["case"] == case, "reported_on_time"].eq(False).all(), case
    assert births.loc[births["case"] == "pending_birth", "reported_on_time"].isna().all()


def test_count_targets_stay_with_their_township_and_three_checks_are_half_years(
    world: World,
) -> None:
    world.first.require(*NIGHTLY)
    mart = world.state["mart_target_achievement"]
    exams = mart.loc[mart["indicator"] == "prepregnancy_exams"]
    judged = exams.loc[exams["target_op"].notna()]
    assert set(judged["area_level"]) == {"township"}
    assert set(judged["period"]) == {str(world.county.spec.year)}
    three = mart.loc[mart["indicator"].str.startswith("three_checks")]
    assert set(three["period"]) <= {f"{world.county.spec.year}-H1", f"{world.county.spec.year}-H2"}
    # as of the day after September's deadline: H2 and the year are not complete
    complete = mart.drop_duplicates("period").set_index("period")["period_complete"]
    year = str(world.county.spec.year)
    assert not complete[year] and not complete[f"{year}-H2"] and complete[f"{year}-H1"]


def test_bad_target_rows_are_issues_with_file_and_row(world: World) -> None:
    world.first.require(*NIGHTLY)
    found = world.state["dq_issues"]
    found = found.loc[found["rule"] == "target_row_invalid"]
    want = world.key.target_faults
    assert sorted(found["row_number"].astype(int)) == sorted(want["row_number"].astype(int))
    assert set(found["file_name"]) == {"targets.csv"}
    assert set(found["severity"]) == {"error"}


def test_the_personal_data_scan_finds_an_id() -> None:
    """The scan itself finds an ID when there is one (guards the regex and the hex skip)."""
    probe = pd.DataFrame(
        {
            "x": pd.array(
                [
                    "母亲 654226199912097803 已登记",
                    "654226********002X",
                    "a" * 64,
                    "６５４２２６７９０９２８５２４",
                ],
                dtype="string",
            )
        }
    )
    assert raw_ids_in(probe, "probe") == [
        "probe.x: '母亲 654226199912097803 已登记'",
        "probe.x: '６５４２２６７９０９２８５２４'",
    ]
