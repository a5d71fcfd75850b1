"""The seed's figures (篇五) end to end: files → land → … → publish → the worked example.

synthetic/seed.py writes, for 和什托洛盖镇 and its eight villages, January to
September 2026, the uploads whose reconciled figures are docs/indicators.md's worked example.
Here they go through the six nightly tasks (each task's undecorated function, on an
SQLite warehouse, no Prefect server) and mart_target_achievement must publish exactly
the seed's numerators, denominators, unrounded values and statuses — 2 multi-child
births of 199 is 1.005 %, which does NOT meet `<= 1.0` — for the township and the county.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd
import pytest
from prefect.logging import disable_run_logger
from sqlalchemy import Engine, text

from flows import nightly
from flows.settings import Settings
from synthetic.seed import generate_seed_county
from synthetic.seed_township import H2, SEED_FIGURES, TOWNSHIP_CODE, YTD
from synthetic.spec import GeneratedCounty
from warehouse.db import make_engine, migrate
from warehouse.inbox import write_files

COUNTY = "654226"
TIME_ZONE = "Asia/Shanghai"
AS_OF = date(2026, 10, 6)
RUN_ID = "seed-run"

# docs/indicators.md, "A worked example from the seed (篇五, 1—9月 and 下半年)", as written there.
WORKED_EXAMPLE: dict[str, tuple[str, int, int, str, float, str]] = {
    "policy_compliance_rate": (YTD, 178, 199, ">=", 87, "met"),
    "multi_child_rate": (YTD, 2, 199, "<=", 1.0, "not_met"),
    "fee_collection_rate": (YTD, 754_178, 1_041_428, ">=", 70, "met"),
    "fee_arrears_collection_rate": (YTD, 336_070, 621_317, ">=", 40, "met"),
    "three_checks_rate": (H2, 1_815, 1_891, ">=", 95, "met"),
    "three_checks_rate_2plus": (H2, 763, 794, ">=", 96, "met"),
}


@dataclass(frozen=True)
class SeedRun:
    county: GeneratedCounty
    engine: Engine
    tasks: dict[str, Any]


@pytest.fixture(scope="module")
def seed_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeedRun]:
    """The seed county's files through land → validate → reconcile → compute → audit →
    publish, once for the module."""
    root = tmp_path_factory.mktemp("seed")
    county = generate_seed_county()
    inbox, reference, home = root / "inbox", root / "reference", root / "home"
    write_files(inbox, [(f.path, f.data, f.arrived_at) for f in county.files], TIME_ZONE)
    reference.mkdir()
    for name, data in county.reference.items():
        (reference / name).write_bytes(data)
    url = f"sqlite:///{(root / 'warehouse.db').as_posix()}"
    engine = make_engine(url)
    migrate(engine)
    settings = Settings(
        home=home,
        inbox=inbox,
        reference=reference,
        warehouse_url=url,
        as_of=AS_OF,
        secret_key="test",
        time_zone=TIME_ZONE,
    )
    tasks: dict[str, Any] = {}
    with disable_run_logger():  # the tasks log through Prefect; no flow run here
        tasks["land"] = nightly.land.fn(settings, RUN_ID)
        tasks["validate"] = nightly.validate.fn(settings, RUN_ID)
        recon_paths = nightly.reconcile_sources(settings, RUN_ID)
        mart_path = nightly.compute.fn(settings, RUN_ID, recon_paths)
        tasks["audit"] = nightly.audit.fn(settings, RUN_ID, mart_path)
        tasks["publish"] = nightly.publish.fn(settings, RUN_ID, recon_paths, mart_path)
    yield SeedRun(county, engine, tasks)
    engine.dispose()


def _query(engine: Engine, sql: str, **params: Any) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql(text(sql), conn, params=params)


def test_the_generator_states_the_worked_example() -> None:
    assert {
        f.indicator: (f.period, f.numerator, f.denominator, f.target_op, f.target, f.status)
        for f in SEED_FIGURES
    } == WORKED_EXAMPLE


def test_the_seed_county_is_deterministic_clean_and_on_time(seed_run: SeedRun) -> None:
    county = seed_run.county
    again = generate_seed_county()
    assert [(f.path, f.data, f.arrived_at) for f in again.files] == [
        (f.path, f.data, f.arrived_at) for f in county.files
    ]
    assert again.reference == county.reference
    uploads = county.answer_key.uploads
    # 8 villages × 3 kinds + 1 police station + 3 institutions × 4 kinds, 9 months.
    assert len(county.files) == (8 * 3 + 1 + 3 * 4) * 9
    assert (uploads["status"] == "loaded").all()
    assert not uploads["late"].astype(bool).any()
    births = county.answer_key.births
    assert len(births) == 199
    assert (births["status"] == "matched").all()
    assert births[["in_village", "in_hospital", "in_police"]].all().all()
    assert county.answer_key.faults.empty
    targets = pd.read_csv(io.BytesIO(county.reference["targets.csv"]), dtype=str)
    assert set(targets["area_code"]) == {COUNTY}
    assert {(r.indicator, r.op, float(r.target)) for r in targets.itertuples()} == {
        (k, v[3], float(v[4])) for k, v in WORKED_EXAMPLE.items()
    }


@pytest.mark.parametrize("area", [TOWNSHIP_CODE, COUNTY])
@pytest.mark.parametrize("indicator", list(WORKED_EXAMPLE))
def test_the_published_figures_are_the_seeds(seed_run: SeedRun, area: str, indicator: str) -> None:
    period, numerator, denominator, op, target, status = WORKED_EXAMPLE[indicator]
    rows = _query(
        seed_run.engine,
        "select * from mart_target_achievement"
        " where area_code = :area and period = :period and indicator = :indicator",
        area=area,
        period=period,
        indicator=indicator,
    )
    assert len(rows) == 1, rows
    row = rows.iloc[0]
    # Numerators and denominators exact (money to the cent: the seed's sums are whole yuan).
    assert float(row["numerator"]) == numerator
    assert float(row["denominator"]) == denominator
    assert float(row["value"]) == pytest.approx(numerator * 100 / denominator, rel=1e-12, abs=0)
    assert row["unit"] == "%"
    assert row["target_op"] == op
    assert float(row["target"]) == target
    assert row["status"] == status
    if indicator == "multi_child_rate":
        # The decisive case: 1.005 % rounds to 1.0 at one decimal, yet does not meet <= 1.0.
        assert float(row["value"]) > 1.0
        assert round(float(row["value"]), 1) == 1.0


def test_the_data_is_clean(seed_run: SeedRun) -> None:
    assert seed_run.tasks["audit"] == []
    issues = _query(seed_run.engine, "select rule, severity, file_name, row_number from dq_issues")
    errors = issues[issues["severity"] == "error"]
    assert errors.empty, errors.to_string()
    births = _query(seed_run.engine, "select status, area_code from recon_births")
    assert len(births) == 199
    assert (births["status"] == "matched").all()
    assert births["area_code"].str.startswith(TOWNSHIP_CODE).all()
    reporting = _query(seed_run.engine, "select received, on_time from dq_reporting")
    assert len(reporting) == (8 * 3 + 1 + 3 * 4) * 9
    assert reporting["received"].astype(bool).all()
    assert reporting["on_time"].astype(bool).all()
