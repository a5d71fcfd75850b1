"""A generated two-county province through the nightly tasks (SQLite), checked against
the counties' own answer keys and the sums of their figures.

One run (`world`): land → validate → reconcile → compute → audit → publish over the
province's inbox (a folder per county) and reference (province and prefecture rows
above the counties). Each county's manifest rows and birth figures must be what its
answer key says; every province and prefecture row must be the sum of its counties'.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine

from flows.cli import main
from flows.settings import Settings
from synthetic.province import PROVINCE, PROVINCE_TARGETS, GeneratedProvince, generate_province
from tests.e2e._ops import SMALL_COUNTY
from tests.e2e._pipeline import (
    NIGHTLY,
    RAW_ID_RE,
    RunResult,
    county_settings,
    read_table,
    run_tasks,
    warehouse_url,
)
from tests.e2e.test_answer_key import _BIRTH_FIGURES, _months
from warehouse.db import make_engine
from warehouse.inbox import write_files

SPEC = {
    "townships": SMALL_COUNTY.townships,
    "villages_per_township": SMALL_COUNTY.villages_per_township,
    "women_per_village": SMALL_COUNTY.women_per_village,
    "last_month": SMALL_COUNTY.last_month,
}


@dataclass
class World:
    province: GeneratedProvince
    url: str
    root: Path
    reference: Path
    first: RunResult
    mart: pd.DataFrame
    uploads: pd.DataFrame
    issues: pd.DataFrame


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    province = generate_province(2, SMALL_COUNTY.seed, **SPEC)
    root = tmp_path_factory.mktemp("e2e_province")
    zone = Settings().time_zone
    inbox, reference = root / "inbox", root / "reference"
    write_files(inbox, ((f.path, f.data, f.arrived_at) for f in province.files), zone)
    write_files(reference, ((n, d, None) for n, d in province.reference.items()), zone)
    urls = warehouse_url("sqlite", tmp_path_factory)
    url = next(urls)
    settings = county_settings(province.counties[0], root, inbox, reference, url)
    first = run_tasks(settings, "province-run-1", NIGHTLY)
    engine: Engine = make_engine(url)
    yield World(
        province,
        url,
        root,
        reference,
        first,
        read_table(engine, "mart_target_achievement"),
        read_table(engine, "uploads"),
        read_table(engine, "dq_issues"),
    )
    engine.dispose()
    next(urls, None)


def _areas(world: World) -> pd.DataFrame:
    data = world.province.reference["areas.csv"]
    return pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)


def _same(a: object, b: object) -> bool:
    if pd.isna(a) and pd.isna(b):
        return True
    return a == b


def test_the_nightly_tasks_complete_and_the_audit_passes(world: World) -> None:
    assert world.first.failure is None, world.first.failure
    assert world.first.returned["audit"] == []


def test_every_countys_files_are_in_the_manifest_as_its_key_says(world: World) -> None:
    world.first.require("land")
    got = world.uploads.set_index("path")
    assert got.index.is_unique
    want_paths: set[str] = set()
    problems = []
    for folder, county in zip(world.province.folders, world.province.counties, strict=True):
        for row in county.answer_key.uploads.itertuples():
            path = f"{folder}/{row.path}"
            want_paths.add(path)
            if path not in got.index:
                problems.append(f"{path}: generated, not in uploads")
                continue
            for column in ("status", "rows", "late", "reason_code", "unit", "report_month"):
                if not _same(getattr(row, column), got.loc[path, column]):
                    problems.append(
                        f"{path}: {column} {got.loc[path, column]!r}, key {getattr(row, column)!r}"
                    )
    assert set(got.index) == want_paths
    assert not problems, "\n".join(problems[:20])


def test_each_countys_birth_figures_are_its_answer_keys(world: World) -> None:
    world.first.require(*NIGHTLY)
    problems = []
    for county in world.province.counties:
        months = _months(county.spec)
        code = county.spec.county_code
        mine = world.mart.loc[
            world.mart["area_code"].str.startswith(code) & world.mart["period"].isin(months)
        ]
        figures = county.answer_key.birth_figures.set_index(["area_code", "month"])
        assert figures["births"].sum() > 0
        for indicator, column, counted in _BIRTH_FIGURES:
            rows = mine.loc[mine["indicator"] == indicator]
            areas = _areas(world)
            assert len(rows) == areas["code"].str.startswith(code).sum() * len(months)
            for r in rows.itertuples():
                want = int(figures[counted].get((str(r.area_code), str(r.period)), 0))
                have = getattr(r, column)
                if pd.isna(have) or float(have) != want:
                    problems.append(
                        f"{indicator} {column} {r.area_code} {r.period}: {have}, key {want}"
                    )
    assert not problems, "\n".join(problems[:20])


def test_province_and_prefecture_rows_are_the_sums_of_their_counties(world: World) -> None:
    world.first.require(*NIGHTLY)
    mart = world.mart
    counties = [c.spec.county_code for c in world.province.counties]
    levels = mart.drop_duplicates("area_code").set_index("area_code")
    assert levels.loc[PROVINCE[0], "area_level"] == "province"
    assert pd.isna(levels.loc[PROVINCE[0], "parent_code"])
    prefecture = world.province.prefecture_of[0]
    assert levels.loc[prefecture, "area_level"] == "prefecture"
    assert levels.loc[prefecture, "parent_code"] == PROVINCE[0]
    assert set(levels.loc[counties, "parent_code"]) == {prefecture}

    key = ["period", "indicator"]
    summed = (
        mart.loc[mart["area_code"].isin(counties)]
        .assign(
            numerator=lambda f: pd.to_numeric(f["numerator"]).astype("float64"),
            denominator=lambda f: pd.to_numeric(f["denominator"]).astype("float64"),
        )
        .groupby(key)[["numerator", "denominator"]]
        .sum(min_count=1)
    )
    assert len(summed) > 100
    problems = []
    for top in (PROVINCE[0], prefecture):
        rows = mart.loc[mart["area_code"] == top].set_index(key)
        assert len(rows) == len(summed)
        for k, want in summed.iterrows():
            for column in ("numerator", "denominator"):
                have = rows.loc[k, column]
                if pd.isna(want[column]):
                    if not pd.isna(have):
                        problems.append(f"{top} {k} {column}: {have}, counties have none")
                elif pd.isna(have) or not math.isclose(float(have), want[column], abs_tol=0.005):
                    problems.append(f"{top} {k} {column}: {have}, counties sum {want[column]}")
    assert not problems, "\n".join(problems[:20])
    # the births of the province are every birth of both answer keys
    year = str(world.province.counties[0].spec.year)
    births = mart.loc[
        (mart["area_code"] == PROVINCE[0])
        & (mart["indicator"] == "births")
        & (mart["period"] == year)
    ]
    in_keys = sum(
        int(c.answer_key.birth_figures.query("area_level == 'county'")["births"].sum())
        for c in world.province.counties
    )
    assert float(births["numerator"].iloc[0]) == in_keys > 0


def test_targets_and_ranks_follow_the_tree(world: World) -> None:
    world.first.require(*NIGHTLY)
    mart = world.mart
    year = str(world.province.counties[0].spec.year)
    policy = mart.loc[(mart["indicator"] == "policy_compliance_rate") & (mart["period"] == year)]
    by_area = policy.set_index("area_code")
    province_target = float(dict((t[0], t[2]) for t in PROVINCE_TARGETS)["policy_compliance_rate"])
    prefecture = world.province.prefecture_of[0]
    # the province's target is its own and its prefecture's; the counties keep theirs (87)
    assert float(by_area.loc[PROVINCE[0], "target"]) == province_target
    assert float(by_area.loc[prefecture, "target"]) == province_target
    for county in world.province.counties:
        assert float(by_area.loc[county.spec.county_code, "target"]) == 87.0
    # two counties ranked within their prefecture; the province alone
    counties = by_area.loc[[c.spec.county_code for c in world.province.counties]]
    judged = counties.loc[counties["status"].isin(["met", "not_met"])]
    assert len(judged) == 2, counties[["status", "value"]]
    by_value = judged["value"].astype(float).rank(ascending=False, method="min").astype(int)
    assert (judged["rank"].astype(int) == by_value).all()
    if by_area.loc[PROVINCE[0], "status"] in ("met", "not_met"):
        assert int(by_area.loc[PROVINCE[0], "rank"]) == 1


def test_bad_target_rows_are_issues_at_their_row_of_the_provinces_file(world: World) -> None:
    world.first.require("validate")
    found = world.issues.loc[world.issues["rule"] == "target_row_invalid"]
    want = world.province.target_faults
    assert len(want) == 8
    assert sorted(found["row_number"].astype(int)) == sorted(want["row_number"].astype(int))


# ------------------------------------------------------- the officer's commands on it


def _officer(world: World, *words: str) -> list[str]:
    return [*words, "--warehouse", world.url, "--home", str(world.root / "officer")]


def test_explain_at_the_province_adds_up_to_its_figure(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.first.require(*NIGHTLY)
    mart = world.mart
    for indicator in ("births", "policy_compliance_rate"):
        figure = mart.loc[
            (mart["area_code"] == PROVINCE[0])
            & (mart["period"] == "2026-H1")
            & (mart["indicator"] == indicator)
        ].iloc[0]
        argv = _officer(
            world, "explain", "--area", PROVINCE[0], "--period", "2026-H1", "--indicator", indicator
        )
        assert main([*argv, "--format", "csv"]) == 0
        out = capsys.readouterr().out
        assert not RAW_ID_RE.search(out)
        found = pd.read_csv(io.StringIO(out), dtype={"area_code": str})
        counted = found.loc[found["included"]]
        assert float(figure["numerator"]) > 0
        assert counted["numerator"].sum() == pytest.approx(float(figure["numerator"]))
        # the records come from both counties' villages
        codes = {str(a)[:6] for a in counted["area_code"].dropna()}
        assert codes == {c.spec.county_code for c in world.province.counties}, indicator


def test_the_bulletin_ranks_counties_in_their_prefecture_under_the_provinces_title(
    world: World,
) -> None:
    world.first.require(*NIGHTLY)
    out = world.root / "bulletin"
    assert main([*_officer(world, "bulletin", "--period", "2026-Q2"), "--out", str(out)]) == 0
    html = next(out.glob("*.html")).read_text("utf-8")
    assert f"<h1>{PROVINCE[1]}2026" in html  # the top area's name, not a county's
    prefecture_name = _areas(world).set_index("code").loc[world.province.prefecture_of[0], "name"]
    assert prefecture_name in html
    assert list(out.glob("*.xlsx"))


def test_the_report_is_the_provinces_with_a_page_per_township(world: World) -> None:
    world.first.require(*NIGHTLY)
    home = world.root / "report_home"
    argv = ["report", "--warehouse", world.url, "--home", str(home)]
    assert main([*argv, "--reference", str(world.reference)]) == 0
    files = sorted((home / "reports").iterdir())
    report = next(p for p in files if p.name.startswith("dq-report-"))
    assert PROVINCE[1] in report.read_text("utf-8")
    pages = [p for p in files if p.name.startswith("dq-explain-")]
    areas = _areas(world)
    assert len(pages) == (areas["level"] == "township").sum() == 4
