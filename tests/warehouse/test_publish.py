"""Publishing: unchanged rows keep their run, history records restatements, dashboards read marts only."""

from __future__ import annotations

import uuid

import pandas as pd
import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import ProgrammingError

from warehouse import publish, schema
from warehouse.db import make_engine
from warehouse.load import read_frame


def _mart(value: float, numerator: float = 178) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "area_code": ["654226", "654226"],
            "area_name": ["县", "县"],
            "area_level": ["county", "county"],
            "parent_code": [None, None],
            "period": ["2026-01..2026-09", "2026-09"],
            "period_start": pd.to_datetime(["2026-01-01", "2026-09-01"]),
            "period_end": pd.to_datetime(["2026-09-30", "2026-09-30"]),
            "indicator": ["policy_compliance_rate"] * 2,
            "indicator_name": ["政策符合率"] * 2,
            "numerator": [numerator, 10.0],
            "denominator": [199.0, 11.0],
            "value": [value, 10 / 11 * 100],
            "unit": ["%", "%"],
            "target_op": [">=", ">="],
            "target": [87.0, 87.0],
            "target_hi": [None, None],
            "status": ["met", "met"],
            "rank": [1, 1],
            "period_complete": [True, True],
            "run_id": [None, None],
        }
    )


def test_rerun_with_same_figures_changes_no_row_and_restatement_is_kept(engine: Engine) -> None:
    first = publish.publish(engine, {}, _mart(178 / 199 * 100), "r1")
    assert (first.new, first.changed) == (2, 0)
    again = publish.publish(engine, {}, _mart(178 / 199 * 100), "r2")
    assert (again.new, again.changed, again.removed) == (0, 0, 0)
    with engine.connect() as conn:
        assert set(publish.current_mart(conn)["run_id"]) == {"r1"}
    restated = publish.publish(engine, {}, _mart(177 / 199 * 100, 177), "r3")
    assert restated.changed == 1
    with engine.connect() as conn:
        mart = publish.current_mart(conn).set_index("period")
        # as a dashboard reads the restatements: the history table, by SQL
        h = schema.mart_target_achievement_history.c
        history = read_frame(
            conn,
            select(schema.mart_target_achievement_history)
            .where(h.area_code == "654226", h.indicator == "policy_compliance_rate")
            .order_by(h.period, h.history_id),
        )
    assert mart.loc["2026-01..2026-09", "run_id"] == "r3"
    assert mart.loc["2026-09", "run_id"] == "r1"
    ytd = history.loc[history["period"] == "2026-01..2026-09"]
    assert list(ytd["numerator"]) == [178, 177] and list(ytd["run_id"]) == ["r1", "r3"]


@pytest.mark.postgres
def test_dashboard_role_reads_marts_and_nothing_else(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    role = f"dash_{uuid.uuid4().hex[:8]}"
    publish.publish(engine, {}, _mart(90.0), "r1")
    try:
        publish.grant_dashboard(engine, role)
        with engine.connect() as conn:
            conn.execute(text(f'set role "{role}"'))
            assert conn.execute(text("select count(*) from mart_target_achievement")).scalar() == 2
            for forbidden in ("stg_village_women", "dq_issues", "uploads", "recon_births"):
                with pytest.raises(ProgrammingError, match="permission denied"):
                    conn.execute(text(f"select * from {forbidden}"))
                conn.rollback()
                conn.execute(text(f'set role "{role}"'))
    finally:
        with engine.begin() as conn:
            conn.execute(text("reset role"))
            conn.execute(text(f'drop owned by "{role}"'))
            conn.execute(text(f'drop role "{role}"'))
