"""The issue store: stable ids, reopen when found again, waived stays, events kept."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine

from transforms.quality.rules import FINDING_COLUMNS
from warehouse import issues


def _finding(row: int, value: str = "bad", unit: str = "654226100201") -> dict[str, object]:
    return {
        "rule": "id_checksum",
        "severity": "error",
        "dimension": "validity",
        "source": "village",
        "kind": "women",
        "unit": unit,
        "report_month": "2026-09",
        "upload_id": 1,
        "row_number": row,
        "record_key": None,
        "value": value,
        "message_zh": "身份证号校验位错误",
        "message_en": "bad check digit",
    }


def _record(engine: Engine, rows: list[dict[str, object]], run: str) -> dict[str, int]:
    with engine.begin() as conn:
        return issues.record_findings(conn, pd.DataFrame(rows), run, "validation")


def _all(engine: Engine, active_only: bool = False) -> pd.DataFrame:
    with engine.connect() as conn:
        return issues.list_issues(conn, issues.IssueFilter(active_only=active_only))


def test_rerun_keeps_ids_and_statuses(engine: Engine) -> None:
    assert _record(engine, [_finding(1), _finding(2)], "r1")["new"] == 2
    first = _all(engine).set_index("row_number")
    with engine.begin() as conn:
        issues.set_status(
            conn,
            issues.IssueFilter(issue_ids=(first.loc[1, "issue_id"],)),
            "acknowledged",
            "在核实",
            "officer",
        )
    assert _record(engine, [_finding(1), _finding(2)], "r2") == {
        "new": 0,
        "seen_again": 2,
        "reopened": 0,
        "gone": 0,
    }
    second = _all(engine).set_index("row_number")
    assert list(second["issue_id"]) == list(first["issue_id"])
    assert second.loc[1, "status"] == "acknowledged"
    assert second.loc[1, "last_seen_run"] == "r2" and second.loc[1, "first_seen_run"] == "r1"


def test_resolved_and_found_again_reopens_but_waived_stays(engine: Engine) -> None:
    _record(engine, [_finding(1), _finding(2)], "r1")
    ids = _all(engine).set_index("row_number")["issue_id"]
    with engine.begin() as conn:
        issues.set_status(conn, issues.IssueFilter(issue_ids=(ids[1],)), "resolved", "已更正")
        issues.set_status(conn, issues.IssueFilter(issue_ids=(ids[2],)), "waived", "系统外核实")
    assert _record(engine, [_finding(1), _finding(2)], "r2")["reopened"] == 1
    after = _all(engine).set_index("row_number")
    assert after.loc[1, "status"] == "open"
    assert after.loc[2, "status"] == "waived"
    with engine.connect() as conn:
        events = issues.issue_events(conn, ids[1])
    assert list(events["to_status"]) == ["open", "resolved", "open"]


def test_a_problem_not_found_again_in_scope_becomes_inactive(engine: Engine) -> None:
    _record(engine, [_finding(1), _finding(2, unit="654226100202")], "r1")
    scope = pd.DataFrame(
        {
            "source": ["village"],
            "kind": ["women"],
            "unit": ["654226100201"],
            "report_month": ["2026-09"],
        }
    )
    with engine.begin() as conn:
        counts = issues.record_findings(
            conn, pd.DataFrame([], columns=list(FINDING_COLUMNS)), "r2", "validation", scope
        )
    assert counts["gone"] == 1
    active = _all(engine, active_only=True)
    assert list(active["unit"]) == ["654226100202"]


def test_filters_select_by_township_prefix_and_rule(engine: Engine) -> None:
    _record(engine, [_finding(1), _finding(2, unit="654226101301")], "r1")
    with engine.connect() as conn:
        picked = issues.list_issues(conn, issues.IssueFilter(unit="654226100", rule="id_checksum"))
    assert list(picked["unit"]) == ["654226100201"]
