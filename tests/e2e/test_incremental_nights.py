"""Incremental nights equal full runs: a county's uploads arrive night by night.

A small generated county's files are sorted by arrival and cut into nights: January's
on-time uploads; the late January village with February's first uploads (among them the
roster that a `_更正` file will correct, and a byte copy); the correction with the rest of
February; March, with its late village, lock file, quarantined v2 and unrecognised name;
then one village's February roster corrected, which only its township recomputes.
Each night the files that have arrived by then are in one inbox (their arrival as
modification time) and the nightly tasks run, as of that night, on one persistent
warehouse; then a fresh warehouse runs once over the same inbox and as-of date. The
published mart (run ids aside), the reconciled tables and the open issues must be the same.

The test can fail: the nights must differ from each other, and the persistent warehouse must
have landed each file on the night it arrived (a rerun that re-lands old files, or a publish
that ignores them, is caught).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from flows.settings import Settings
from synthetic.county import generate_county
from synthetic.spec import CountySpec, GeneratedCounty, GeneratedFile
from tests.e2e._ops import TIME_ZONE
from tests.e2e._pipeline import NIGHTLY, SECRET_KEY, read_table, run_tasks, warehouse_url
from warehouse.db import make_engine
from warehouse.inbox import write_files
from warehouse.publish import MART_KEY, RECON_TABLES

# The smallest county with every planted fault: two townships of three villages, four months.
COUNTY = CountySpec(
    seed=11, townships=2, villages_per_township=3, women_per_village=30, last_month=4
)
# Each night's as-of date; a night takes the files that arrived before that day.
NIGHTS = (date(2026, 2, 6), date(2026, 3, 3), date(2026, 3, 5), date(2026, 4, 8))
# Numbered 1..n in the order of a frame: row identities only, not compared.
_SURROGATES = ("exam_id", "change_id")


@dataclass(frozen=True)
class Night:
    as_of: date
    files: list[GeneratedFile]
    """The files that arrived since the night before."""


@pytest.fixture(scope="module")
def county() -> GeneratedCounty:
    return generate_county(COUNTY)


def _nights(county: GeneratedCounty) -> list[Night]:
    ordered = sorted(county.files, key=lambda f: (f.arrived_at, f.path))
    nights, start = [], datetime.min
    for as_of in NIGHTS:
        cut = datetime(as_of.year, as_of.month, as_of.day)
        nights.append(Night(as_of, [f for f in ordered if start <= f.arrived_at < cut]))
        start = cut
    return nights


def _one_village_corrected(county: GeneratedCounty, after: Night) -> Night:
    """A night with one new file: a February roster of a village of the second township,
    re-sent with its last woman left out (`_更正`) a minute after the original, run as of
    the same day as `after` (the same months due). Not the last month's: its staged file
    comes before March's, which every township's routed rows hold too."""
    prefix = f"village_women_{county.spec.county_code}101"
    original = next(
        f for f in reversed(county.files) if prefix in f.path and f.path.endswith("_202602.csv")
    )
    lines = original.data.rstrip(b"\r\n").split(b"\n")
    corrected = GeneratedFile(
        original.path.replace(".csv", "_更正.csv"),
        b"\n".join(lines[:-1]) + b"\n",
        original.arrived_at + timedelta(minutes=1),
    )
    return Night(after.as_of, [corrected])


def _night_of(nights: list[Night], name_part: str) -> int:
    """The night (0-based) the one file whose path contains `name_part` arrives."""
    found = [i for i, n in enumerate(nights) for f in n.files if name_part in f.path]
    assert len(found) == 1, f"{name_part}: {found}"
    return found[0]


def _settings(
    root: Path, inbox: Path, reference: Path, url: str, as_of: date, batch_rows: int = 250_000
) -> Settings:
    return Settings(
        validate_batch_rows=batch_rows,
        home=root,
        inbox=inbox,
        reference=reference,
        warehouse_url=url,
        as_of=as_of,
        secret_key=SECRET_KEY,
        time_zone=TIME_ZONE,
    )


def _run(settings: Settings, run_id: str) -> tuple[int, int]:
    """Run the nightly tasks; (partitions, partitions recomputed rather than taken from the
    partition cache)."""
    result = run_tasks(settings, run_id, NIGHTLY)
    result.require(*NIGHTLY)
    parts = pd.read_parquet(result.returned["reconcile"]["partitions"])
    return len(parts), int((~parts["cached"]).sum())


def _sorted(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return frame.sort_values(keys, kind="stable").reset_index(drop=True)


def _state(url: str) -> dict[str, pd.DataFrame]:
    """What the warehouse publishes, free of what only names a run or a row of this warehouse.

    Run ids go; upload ids become the uploaded file's path; surrogate row numbers go.
    """
    engine = make_engine(url)
    try:
        uploads = read_table(engine, "uploads")
        path_of = dict(zip(uploads["upload_id"], uploads["path"], strict=True))
        state = {"mart": _sorted(read_table(engine, "mart_target_achievement"), MART_KEY)}
        state["mart"] = state["mart"].drop(columns=["run_id"])
        for name in RECON_TABLES:
            frame = read_table(engine, name).drop(columns=list(_SURROGATES), errors="ignore")
            if "upload_id" in frame.columns:
                frame["upload_id"] = frame["upload_id"].map(path_of).astype("string")
            state[name] = _sorted(frame, list(frame.columns))
        issues = read_table(engine, "dq_issues")
        is_open = issues["active"].astype(bool) & (issues["status"] == "open")
        state["open_issues"] = _sorted(issues.loc[is_open, ["issue_id", "rule"]], ["issue_id"])
        manifest = uploads.assign(
            duplicate_of=uploads["duplicate_of"].map(path_of).astype("string")
        )
        columns = ["path", "status", "late", "report_month", "rows", "reason_code", "duplicate_of"]
        state["uploads"] = _sorted(manifest[columns], ["path"])
    finally:
        engine.dispose()
    return state


def _landed_on(url: str) -> dict[str, str]:
    """path → the run that landed it."""
    engine = make_engine(url)
    try:
        uploads = read_table(engine, "uploads")
    finally:
        engine.dispose()
    assert not uploads["path"].duplicated().any(), "a file was landed twice"
    return dict(zip(uploads["path"], uploads["run_id"], strict=True))


def _assert_same(incremental: dict[str, pd.DataFrame], full: dict[str, pd.DataFrame]) -> None:
    for name, frame in full.items():
        try:
            pd.testing.assert_frame_equal(incremental[name], frame, check_dtype=False)
        except AssertionError as error:
            raise AssertionError(f"{name}: incremental and full runs differ\n{error}") from None


def _check_nights(
    county: GeneratedCounty,
    nights: list[Night],
    kind: str,
    factory: pytest.TempPathFactory,
    recomputed: list[tuple[int, int]] | None = None,
) -> dict[str, pd.DataFrame]:
    """Run the nights on one warehouse of `kind`, each against a full run; the last state.
    `recomputed` gets each night's (partitions, recomputed) of the incremental runs."""
    root = factory.mktemp("nights")
    inbox, reference = root / "inbox", root / "reference"
    write_files(reference, ((n, d, None) for n, d in county.reference.items()), TIME_ZONE)
    warehouses = [warehouse_url(kind, factory)]
    persistent = next(warehouses[0])
    landed_by: dict[str, str] = {}
    previous: dict[str, pd.DataFrame] = {}
    try:
        for k, night in enumerate(nights, start=1):
            write_files(inbox, ((f.path, f.data, f.arrived_at) for f in night.files), TIME_ZONE)
            landed_by |= {f.path: f"night-{k}" for f in night.files}
            home = root / "home"
            done = _run(_settings(home, inbox, reference, persistent, night.as_of), f"night-{k}")
            if recomputed is not None:
                recomputed.append(done)
            warehouses.append(warehouse_url(kind, factory))
            fresh = next(warehouses[-1])
            # The full run also validates in small GX batches: the batches must not matter.
            full = _run(
                _settings(root / f"full-{k}", inbox, reference, fresh, night.as_of, 100),
                f"full-{k}",
            )
            assert full[1] == full[0], "a from-scratch run found something in a cache"

            incremental = _state(persistent)
            assert len(incremental["mart"]) and len(incremental["open_issues"])
            _assert_same(incremental, _state(fresh))
            # Each file was landed once, by the night it arrived: earlier nights' not again.
            assert _landed_on(persistent) == landed_by
            if previous:
                assert not incremental["mart"].equals(previous["mart"]), f"night {k}: no change"
            previous = incremental
    finally:
        for generator in warehouses:  # drops the PostgreSQL schemas
            next(generator, None)
    return previous


def test_night_by_night_runs_publish_what_a_full_run_over_the_same_files_publishes(
    county: GeneratedCounty, tmp_path_factory: pytest.TempPathFactory
) -> None:
    nights = _nights(county)
    # The planted late upload, the corrected roster and its correction arrive on later nights.
    correction = next(f.path for f in county.files if "_更正" in f.path)
    original = correction.replace("_更正", "")
    assert _night_of(nights, original) == 1 and _night_of(nights, correction) == 2
    assert _night_of(nights, "village_women_654226100201_202601") == 1  # late January
    assert _night_of(nights, "village_women_654226100203_202603") == 3  # late March
    assert all(n.files for n in nights)

    recomputed: list[tuple[int, int]] = []
    nights.append(_one_village_corrected(county, nights[-1]))
    last = _check_nights(county, nights, "sqlite", tmp_path_factory, recomputed)
    manifest = last["uploads"].set_index("path")["status"]
    assert (manifest[original], manifest[correction]) == ("superseded", "loaded")
    # The first night computed every township; the last (one village's roster of an earlier
    # month corrected, the same months due) only that village's, and still equals a full run.
    townships = county.spec.townships
    assert recomputed[0] == (townships, townships)
    assert recomputed[-1] == (townships, 1)


@pytest.mark.postgres
def test_the_correction_night_on_postgresql_equals_a_full_run(
    county: GeneratedCounty, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """One pair of nights on PostgreSQL: up to the corrected roster, then its correction."""
    first, second, third, _ = _nights(county)
    up_to_original = Night(second.as_of, first.files + second.files)
    last = _check_nights(county, [up_to_original, third], "postgresql", tmp_path_factory)
    assert "superseded" in set(last["uploads"]["status"])
