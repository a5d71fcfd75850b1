"""The review queue's order and counts, and which warehouses an officer may open."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine

from warehouse import issues, runs
from warehouse.access import WarehouseNotReady, open_for_officer
from warehouse.db import make_engine


def _finding(row: int | None, severity: str, unit: str | None, rule: str) -> dict[str, object]:
    return {
        "rule": rule,
        "severity": severity,
        "dimension": "validity",
        "source": "village",
        "kind": "women",
        "unit": unit,
        "report_month": "2026-09",
        "upload_id": None,
        "row_number": row,
        "record_key": None,
        "value": f"{rule}-{row}",
        "message_zh": "说明",
        "message_en": "message",
    }


def test_errors_come_first_then_unit_and_month_and_the_counts_add_up(engine: Engine) -> None:
    rows = [
        _finding(3, "warning", "654226100201", "upload_late"),
        _finding(1, "warning", "654226100201", "roster_size_jump"),
        _finding(2, "error", "654226100202", "id_checksum"),
        _finding(None, "error", None, "file_unrecognised_name"),  # no unit: last of the errors
        _finding(5, "error", "654226100201", "id_checksum"),
    ]
    with engine.begin() as conn:
        issues.record_findings(conn, pd.DataFrame(rows), "r1", "validation")
    with engine.connect() as conn:
        queue = issues.list_issues(conn, issues.IssueFilter())
        top = issues.list_issues(conn, issues.IssueFilter(), limit=2)
        total = issues.count_issues(conn, issues.IssueFilter())
        by_severity = issues.count_by_severity(conn, issues.IssueFilter())
        unknown = issues.unknown_issue_ids(conn, ["DQnope", str(queue["issue_id"].iloc[0])])
    assert list(zip(queue["severity"], queue["unit"].fillna("-"), strict=True)) == [
        ("error", "654226100201"),
        ("error", "654226100202"),
        ("error", "-"),
        ("warning", "654226100201"),
        ("warning", "654226100201"),
    ]
    assert list(top["issue_id"]) == list(queue["issue_id"].iloc[:2])
    assert total == 5 and by_severity == {"error": 3, "warning": 2}
    assert unknown == ["DQnope"]


def test_an_officer_may_open_only_a_warehouse_that_has_run(warehouse_url: str) -> None:
    with pytest.raises(WarehouseNotReady) as refused:
        open_for_officer(warehouse_url)
    assert refused.value.reason == "never_run"

    writer = make_engine(warehouse_url)
    runs.start_run(writer, "r1", date(2026, 10, 6))
    runs.finish_run(writer, "r1", "completed", {})
    writer.dispose()
    opened = open_for_officer(warehouse_url)
    opened.dispose()


def test_a_missing_sqlite_file_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "warehouse.db"
    with pytest.raises(WarehouseNotReady) as refused:
        open_for_officer(f"sqlite:///{path}")
    assert refused.value.reason == "missing" and str(path) in refused.value.url
    assert not path.exists() and not path.parent.exists()


def test_an_unreachable_server_is_refused_with_its_url_and_no_password() -> None:
    url = "postgresql+psycopg://officer:secret@127.0.0.1:9/popstat"
    with pytest.raises(WarehouseNotReady) as refused:
        open_for_officer(url)
    assert refused.value.reason == "unreachable"
    assert "127.0.0.1:9/popstat" in refused.value.url and "secret" not in refused.value.url
