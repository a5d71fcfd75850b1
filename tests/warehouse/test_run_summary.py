"""What a run did, read back from the warehouse; abandoned runs; the input state digest."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
from sqlalchemy import Engine, select

from warehouse import issues, run_summary, runs, schema
from warehouse.load import bulk_insert


def _upload(upload_id: int, status: str, run_id: str, sha: str = "a") -> dict[str, object]:
    return {
        "upload_id": upload_id,
        "file_name": f"f{upload_id}.csv",
        "path": f"2026-09/f{upload_id}.csv",
        "sha256": sha * 64,
        "size_bytes": 10,
        "arrived_at": datetime(2026, 10, 1, 9),
        "status": status,
        "run_id": run_id,
    }


def _finding(row: int, severity: str = "error") -> dict[str, object]:
    return {
        "rule": "id_checksum" if severity == "error" else "upload_late",
        "severity": severity,
        "dimension": "validity",
        "source": "village",
        "kind": "women",
        "unit": "654226100201",
        "report_month": "2026-09",
        "upload_id": None,
        "row_number": row,
        "record_key": None,
        "value": "x",
        "message_zh": "错",
        "message_en": "bad",
    }


def test_files_and_issue_counts_of_a_run(engine: Engine) -> None:
    with engine.begin() as conn:
        bulk_insert(
            conn,
            schema.uploads,
            pd.DataFrame(
                [
                    _upload(1, "superseded", "r1"),
                    _upload(2, "loaded", "r1"),
                    _upload(3, "duplicate", "r1"),
                    _upload(4, "loaded", "r0"),
                ]
            ),
        )
        issues.record_findings(
            conn, pd.DataFrame([_finding(1), _finding(2, "warning")]), "r0", "validation"
        )
        issues.set_status(conn, issues.IssueFilter(rule="id_checksum"), "resolved", None, "o")
        issues.record_findings(
            conn,
            pd.DataFrame([_finding(1), _finding(2, "warning"), _finding(3)]),
            "r1",
            "validation",
        )
    with engine.connect() as conn:
        assert run_summary.files_of_run(conn, "r1") == {
            "superseded": 1,
            "loaded": 1,
            "duplicate": 1,
        }
        assert run_summary.issue_counts(conn, "r1") == {"new": 1, "reopened": 1}
        table = run_summary.issues_by_rule(conn, "r1")
    assert list(table["rule"]) == ["id_checksum", "upload_late"]  # errors first
    first = table.iloc[0]
    assert (first["active"], first["open"], first["new"], first["reopened"]) == (2, 2, 1, 1)


def test_input_state_follows_uploads_and_officer_reviews(engine: Engine) -> None:
    with engine.connect() as conn:
        empty = run_summary.input_state(conn)
    with engine.begin() as conn:
        bulk_insert(conn, schema.uploads, pd.DataFrame([_upload(1, "loaded", "r1")]))
    with engine.connect() as conn:
        one = run_summary.input_state(conn)
    with engine.begin() as conn:
        issues.record_findings(conn, pd.DataFrame([_finding(1)]), "r1", "validation")
    with engine.connect() as conn:
        assert run_summary.input_state(conn) == one  # a run's own issue events do not count
    with engine.begin() as conn:
        issues.set_status(conn, issues.IssueFilter(), "resolved", "fixed", "officer")
    with engine.connect() as conn:
        reviewed = run_summary.input_state(conn)
    assert len({empty, one, reviewed}) == 3


def test_latest_runs_and_abandoned_ones(engine: Engine) -> None:
    runs.start_run(engine, "r1", date(2026, 10, 5))
    runs.finish_run(engine, "r1", "completed", {"kind": "nightly", "fingerprint": "f1"})
    runs.start_run(engine, "r2", date(2026, 10, 6))
    runs.finish_run(engine, "r2", "completed", {"kind": "backfill"})
    runs.start_run(engine, "r3", date(2026, 10, 6))  # killed: left running
    runs.start_run(engine, "r4", date(2026, 10, 6))
    with engine.connect() as conn:
        last = run_summary.latest_completed_run(conn)
        assert run_summary.latest_nightly_as_of(conn) == date(2026, 10, 5)
    assert last is not None and last["run_id"] == "r2"
    assert last["summary"] == {"kind": "backfill"}
    assert runs.abandon_running(engine, "r4") == ["r3"]
    with engine.connect() as conn:
        status = dict(conn.execute(select(schema.runs.c.run_id, schema.runs.c.status)).all())
    assert status == {"r1": "completed", "r2": "completed", "r3": "failed", "r4": "running"}


def _history_row(
    period: str = "2026-09",
    value: float | None = 1.0,
    run_id: str = "r1",
    level: str = "county",
    area: str = "654226",
) -> dict:
    """A births row of mart_target_achievement_history."""
    return {
        "area_code": area,
        "area_name": area,
        "area_level": level,
        "period": period,
        "period_start": date(int(period[:4]), int(period[5:]), 1),
        "period_end": date(int(period[:4]), int(period[5:]), 28),
        "indicator": "births",
        "indicator_name": "出生人数",
        "value": value,
        "status": "no_target",
        "run_id": run_id,
    }


def test_mart_changes_compare_with_the_previous_publication(engine: Engine) -> None:
    def row(period: str, value: float | None, run_id: str, level: str = "county") -> dict:
        return _history_row(period, value, run_id, level)

    history = [
        row("2026-09", 10.0, "r1"),
        row("2026-08", None, "r1"),
        row("2026-09", 12.0, "r2"),
        row("2026-08", 3.0, "r2"),
        row("2026-07", 1.0, "r2"),
        row("2026-09", 99.0, "r2", level="village"),
    ]
    with engine.begin() as conn:
        bulk_insert(conn, schema.mart_target_achievement_history, pd.DataFrame(history))
    with engine.connect() as conn:
        changes = run_summary.mart_changes(conn, "r2").set_index("period")
    assert list(changes.index) == ["2026-07", "2026-08", "2026-09"]
    assert list(changes["had_previous"]) == [False, True, True]
    assert float(changes.loc["2026-09", "old_value"]) == 10.0
    assert float(changes.loc["2026-09", "value"]) == 12.0
    assert pd.isna(changes.loc["2026-08", "old_value"])


def test_mart_changes_default_to_the_top_level_published(engine: Engine) -> None:
    def row(area: str, level: str, value: float) -> dict:
        return _history_row(value=value, level=level, area=area)

    history = [
        row("654226", "county", 3.0),
        row("654201", "county", 4.0),
        row("6542", "prefecture", 7.0),
        row("65", "province", 7.0),
    ]
    with engine.begin() as conn:
        bulk_insert(conn, schema.mart_target_achievement_history, pd.DataFrame(history))
    with engine.connect() as conn:
        top = run_summary.mart_changes(conn, "r1")
        counties = run_summary.mart_changes(conn, "r1", level="county")
    assert list(top["area_code"]) == ["65"] and float(top["value"].iloc[0]) == 7.0
    assert sorted(counties["area_code"]) == ["654201", "654226"]
