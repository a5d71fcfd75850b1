"""Publishing: unchanged rows keep their run, history records restatements, dashboards read marts only."""

from __future__ import annotations

import uuid
from pathlib import Path

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


def _months(values: dict[str, float], unit: str = "%") -> pd.DataFrame:
    """One county row per month `2026-MM` of `values` (month → value), in the given order."""
    months = list(values)
    n = len(months)
    return pd.DataFrame(
        {
            "area_code": ["654226"] * n,
            "area_name": ["县"] * n,
            "area_level": ["county"] * n,
            "parent_code": [None] * n,
            "period": [f"2026-{m}" for m in months],
            "period_start": pd.to_datetime([f"2026-{m}-01" for m in months]),
            "period_end": pd.to_datetime([f"2026-{m}-28" for m in months]),
            "indicator": ["policy_compliance_rate"] * n,
            "indicator_name": ["政策符合率"] * n,
            "numerator": [values[m] for m in months],
            "denominator": [100.0] * n,
            "value": [values[m] for m in months],
            "unit": [unit] * n,
            "target_op": [">="] * n,
            "target": [87.0] * n,
            "target_hi": [None] * n,
            "status": ["met" if values[m] >= 87 else "not_met" for m in months],
            "rank": [1] * n,
            "period_complete": [True] * n,
            "signed_off_share": [0.5] * n,
        }
    )


def _row_versions(engine: Engine) -> dict[str, str]:
    """period → the physical version of its mart row: PostgreSQL's xmin, SQLite's rowid.

    A row that is rewritten (deleted and inserted, or updated) gets a new one.
    """
    version = "xmin::text" if engine.dialect.name == "postgresql" else "rowid"
    with engine.connect() as conn:
        rows = conn.execute(text(f"select period, {version} from mart_target_achievement"))
        return {period: str(v) for period, v in rows}


def _history(engine: Engine) -> list[tuple[str, str]]:
    """(period, run_id) of every history row, in the order they were added."""
    with engine.connect() as conn:
        rows = conn.execute(
            text("select period, run_id from mart_target_achievement_history order by history_id")
        )
        return [(period, run) for period, run in rows]


def test_publish_writes_only_the_rows_that_changed(engine: Engine) -> None:
    first = publish.publish(engine, {}, _months({"01": 90, "02": 91, "03": 92, "04": 93}), "r1")
    assert (first.rows, first.new, first.changed, first.removed) == (4, 4, 0, 0)
    before = _row_versions(engine)
    # Given in another order than published: a whole-table rewrite would renumber every row.
    second = publish.publish(engine, {}, _months({"05": 80, "04": 93, "02": 85, "01": 90}), "r2")
    assert (second.rows, second.new, second.changed, second.removed) == (4, 1, 1, 1)
    after = _row_versions(engine)
    assert set(after) == {"2026-01", "2026-02", "2026-04", "2026-05"}
    assert {p: after[p] for p in ("2026-01", "2026-04")} == {
        p: before[p] for p in ("2026-01", "2026-04")
    }, "an unchanged row was rewritten"
    if engine.dialect.name == "postgresql":  # xmin is the writing transaction's: always new
        assert after["2026-02"] != before["2026-02"]
    with engine.connect() as conn:
        mart = publish.current_mart(conn).set_index("period")
    assert mart["run_id"].to_dict() == {
        "2026-01": "r1",
        "2026-02": "r2",
        "2026-04": "r1",
        "2026-05": "r2",
    }
    assert mart.loc["2026-02", "value"] == 85 and mart.loc["2026-02", "status"] == "not_met"
    history = _history(engine)
    assert len(history) == 6 and sorted(history[4:]) == [("2026-02", "r2"), ("2026-05", "r2")]


def test_a_change_in_any_published_column_is_published(engine: Engine) -> None:
    publish.publish(engine, {}, _months({"01": 90, "02": 91}), "r1")
    moved = _months({"01": 90, "02": 91}, unit="ratio")
    moved.loc[0, "parent_code"] = "6542"
    summary = publish.publish(engine, {}, moved, "r2")
    assert (summary.new, summary.changed, summary.removed) == (0, 2, 0)
    with engine.connect() as conn:
        mart = publish.current_mart(conn).set_index("period")
    assert set(mart["unit"]) == {"ratio"} and mart.loc["2026-01", "parent_code"] == "6542"
    assert set(mart["run_id"]) == {"r2"}


def test_a_publish_that_fails_before_its_commit_leaves_the_published_mart(engine: Engine) -> None:
    publish.publish(engine, {}, _months({"01": 90, "02": 91, "03": 92}), "r1")
    before_versions, before_history = _row_versions(engine), _history(engine)
    with engine.connect() as conn:
        before = publish.current_mart(conn)

    def crash() -> None:
        raise RuntimeError("killed before the commit")

    with pytest.raises(RuntimeError, match="killed"):
        publish.publish(engine, {}, _months({"02": 50, "04": 60}), "r2", before_commit=crash)
    with engine.connect() as conn:
        after = publish.current_mart(conn)
    pd.testing.assert_frame_equal(after, before)
    assert _row_versions(engine) == before_versions
    assert _history(engine) == before_history
    # and the next publish still works (no key table left behind on the connection)
    again = publish.publish(engine, {}, _months({"02": 50, "04": 60}), "r3")
    assert (again.new, again.changed, again.removed) == (1, 1, 2)


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


# ------------------------------------------------------------- the published mart's copy


def _copies(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _named_token(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return conn.execute(select(schema.published_copies.c.token)).scalar_one_or_none()


def test_a_publish_keeps_a_copy_the_next_one_diffs_against(engine: Engine, tmp_path: Path) -> None:
    copies = tmp_path / "copies"
    publish.publish(engine, {}, _months({"01": 90, "02": 91, "03": 92}), "r1", copies=copies)
    first = _named_token(engine)
    assert first is not None and _copies(copies) == [f"{first}.parquet"]
    # The copy is what the diff reads: a copy that says month 02 was 50 makes 91 a change.
    copied = pd.read_parquet(copies / f"{first}.parquet")
    copied.loc[copied["period"] == "2026-02", "value"] = 50.0
    copied.to_parquet(copies / f"{first}.parquet", index=False)
    second = publish.publish(
        engine, {}, _months({"01": 90, "02": 91, "04": 93}), "r2", copies=copies
    )
    assert (second.new, second.changed, second.removed) == (1, 1, 1)
    latest = _named_token(engine)
    assert latest != first and _copies(copies) == [f"{latest}.parquet"]  # the old one gone
    with engine.connect() as conn:
        mart = publish.current_mart(conn).set_index("period")
    assert mart["run_id"].to_dict() == {"2026-01": "r1", "2026-02": "r2", "2026-04": "r2"}


def _published_with_a_copy(engine: Engine, folder: Path) -> Path:
    """Months 01 and 02 published by r1, keeping a copy: the copies' folder."""
    copies = folder / "copies"
    publish.publish(engine, {}, _months({"01": 90, "02": 91}), "r1", copies=copies)
    return copies


def test_a_publish_without_copies_unnames_the_copy_so_the_next_diffs_the_warehouse(
    engine: Engine, tmp_path: Path
) -> None:
    copies = _published_with_a_copy(engine, tmp_path)
    stale = _copies(copies)
    # A publish that keeps no copy (the figures change): the copy left behind no longer holds.
    publish.publish(engine, {}, _months({"01": 80, "02": 81}), "r2")
    assert _named_token(engine) is None and _copies(copies) == stale
    # The same figures again: nothing changed against the warehouse (the stale copy says 90).
    again = publish.publish(engine, {}, _months({"01": 80, "02": 81}), "r3", copies=copies)
    assert (again.new, again.changed, again.removed) == (0, 0, 0)
    with engine.connect() as conn:
        assert set(publish.current_mart(conn)["run_id"]) == {"r2"}


def test_a_failed_publish_leaves_the_named_copy_and_a_missing_copy_reads_the_warehouse(
    engine: Engine, tmp_path: Path
) -> None:
    copies = _published_with_a_copy(engine, tmp_path)
    named = _named_token(engine)

    def crash() -> None:
        raise RuntimeError("killed before the commit")

    with pytest.raises(RuntimeError, match="killed"):
        publish.publish(engine, {}, _months({"01": 50}), "r2", copies=copies, before_commit=crash)
    assert _named_token(engine) == named  # its own copy is on disk, unnamed: never read
    after_crash = publish.publish(engine, {}, _months({"01": 90, "02": 91}), "r3", copies=copies)
    assert (after_crash.new, after_crash.changed, after_crash.removed) == (0, 0, 0)
    assert _copies(copies) == [f"{_named_token(engine)}.parquet"]
    for path in copies.iterdir():  # the folder lost (another machine's home): the warehouse
        path.unlink()
    lost = publish.publish(engine, {}, _months({"01": 90, "02": 70}), "r4", copies=copies)
    assert (lost.new, lost.changed, lost.removed) == (0, 1, 0)
