"""The published birth figures of the example county, recomputed independently.

`independent_births` reads the raw upload files with plain pandas and applies the
contract's rules itself; this test runs the nightly tasks on the same county and
compares every mart row of the birth indicators: numerator, denominator, value and
status. It shares no code with `transforms/` (the generator only writes the files).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from flows.settings import Settings
from synthetic.county import generate_county
from synthetic.spec import CountySpec, GeneratedCounty
from tests.e2e import independent_births as ind
from tests.e2e._pipeline import (
    NIGHTLY,
    county_settings,
    read_table,
    run_tasks,
    warehouse_url,
    write_county,
)
from warehouse.db import make_engine

KEY = ["area_code", "period", "indicator"]


@dataclass
class Published:
    county: GeneratedCounty
    inbox: Path
    reference: Path
    mart: pd.DataFrame


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Published]:
    """The example county (`make example`: seed 7) after one nightly run on SQLite."""
    county = generate_county(CountySpec())
    root = tmp_path_factory.mktemp("independent")
    inbox, reference = write_county(county, root, Settings().time_zone)
    for url in warehouse_url("sqlite", tmp_path_factory):
        settings = county_settings(county, root, inbox, reference, url)
        run_tasks(settings, "independent-1", NIGHTLY).require("publish")
        engine = make_engine(url)
        mart = read_table(engine, "mart_target_achievement")
        engine.dispose()
        yield Published(county, inbox, reference, mart)


@pytest.fixture(scope="module")
def recomputed(published: Published) -> pd.DataFrame:
    births = ind.births(published.inbox, published.county.spec.effective_as_of)
    mart = published.mart
    months = sorted(p for p in mart["period"].unique() if re.fullmatch(r"\d{4}-\d{2}", p))
    return ind.figures(births, published.reference, months)


def _birth_rows(mart: pd.DataFrame) -> pd.DataFrame:
    return mart[mart["indicator"].isin(ind.INDICATORS)].copy()


def test_the_independent_recomputation_sees_the_planted_births(published: Published) -> None:
    """Guard the guard: the recomputation finds every birth the generator made visible."""
    births = ind.births(published.inbox, published.county.spec.effective_as_of)
    key = published.county.answer_key.births
    visible = key[key["status"].notna()]
    assert len(births) == len(visible)


def test_every_birth_figure_of_the_mart_is_recomputed_exactly(
    published: Published, recomputed: pd.DataFrame
) -> None:
    mart = _birth_rows(published.mart)
    merged = mart.merge(recomputed, on=KEY, how="outer", suffixes=("", "_ind"), indicator=True)
    only = merged[merged["_merge"] != "both"]
    assert only.empty, f"rows on one side only:\n{only[[*KEY, '_merge']].head(20)}"
    differs = merged[
        ~np.isclose(merged["numerator"].astype(float), merged["numerator_ind"].astype(float))
        | ~(
            np.isclose(
                merged["denominator"].astype(float).fillna(-1),
                merged["denominator_ind"].astype(float).fillna(-1),
            )
        )
        | ~np.isclose(
            merged["value"].astype(float).fillna(-1), merged["value_ind"].astype(float).fillna(-1)
        )
    ]
    cols = [*KEY, "numerator", "numerator_ind", "denominator", "denominator_ind"]
    shown = differs[cols].head(30).to_string()
    assert differs.empty, f"{len(differs)} of {len(merged)} rows differ:\n{shown}"


def test_every_birth_status_of_the_mart_is_judged_as_recomputed(
    published: Published, recomputed: pd.DataFrame
) -> None:
    targets = pd.read_csv(published.reference / "targets.csv", dtype=str, keep_default_na=False)
    expected = ind.statuses(recomputed, targets, published.reference)
    merged = _birth_rows(published.mart).merge(expected, on=KEY, suffixes=("", "_ind"))
    assert len(merged) == len(expected)
    differs = merged[merged["status"] != merged["status_ind"]]
    cols = [*KEY, "numerator", "denominator", "value", "status", "status_ind"]
    shown = differs[cols].head(30).to_string()
    assert differs.empty, f"{len(differs)} of {len(merged)} statuses differ:\n{shown}"
