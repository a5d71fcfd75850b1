"""Sign-off per village-month: pinned to the files, withdrawn by a new one, kept as events."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest
from sqlalchemy import Engine

from warehouse import issues, schema, signoffs
from warehouse.load import bulk_insert

V1, V2 = "654226100201", "654226100202"
AT = datetime(2026, 10, 8, 9, 30)


def _upload(upload_id: int, unit: str, month: str, sha: str, status: str = "loaded") -> dict:
    return {
        "upload_id": upload_id,
        "file_name": f"village_women_{unit}_{month.replace('-', '')}_{upload_id}.csv",
        "path": f"f{upload_id}.csv",
        "sha256": sha * 64,
        "size_bytes": 10,
        "source": "village",
        "kind": "women",
        "unit": unit,
        "report_month": month,
        "arrived_at": pd.Timestamp("2026-10-01 08:00"),
        "status": status,
        "run_id": "r1",
    }


def _land(engine: Engine, *rows: dict) -> None:
    with engine.begin() as conn:
        bulk_insert(conn, schema.uploads, pd.DataFrame(list(rows)))


def _due(engine: Engine, unit: str, month: str) -> None:
    row = {"unit": unit, "source": "village", "kind": "births", "report_month": month}
    row |= {"area_code": unit, "received": False, "on_time": False}
    with engine.begin() as conn:
        bulk_insert(conn, schema.dq_reporting, pd.DataFrame([row]))


def test_sign_off_pins_the_files_and_a_new_file_withdraws_it(engine: Engine) -> None:
    _land(engine, _upload(1, V1, "2026-09", "a"), _upload(2, V1, "2026-09", "b", "superseded"))
    with engine.begin() as conn:
        done = signoffs.sign_off(conn, V1, "2026-09", " 已核对花名册 ", "王专干", AT)
    assert done.files == (
        "village_women_654226100201_202609_1.csv",
        "village_women_654226100201_202609_2.csv",
    )
    assert done.files_sha256 == signoffs.files_digest(["b" * 64, "a" * 64])
    assert done.replaced is None

    # The same bytes again (a duplicate) change nothing; new bytes withdraw the sign-off.
    _land(engine, _upload(3, V1, "2026-09", "a", "duplicate"))
    with engine.begin() as conn:
        assert signoffs.withdraw_changed(conn, "r2", AT).empty
    _land(engine, _upload(4, V1, "2026-09", "c"))
    with engine.begin() as conn:
        withdrawn = signoffs.withdraw_changed(conn, "r3", AT)
        assert signoffs.withdraw_changed(conn, "r4", AT).empty  # once
        events = signoffs.signoff_events(conn, V1)
        received, signed = signoffs.review_inputs(conn)
    assert list(withdrawn["new_files"]) == ["village_women_654226100201_202609_4.csv"]
    assert list(events["action"]) == ["signed_off", "withdrawn"]
    assert list(events["by"]) == ["王专干", "popstat"]
    assert events["note"].iloc[0] == "已核对花名册"
    assert events["run_id"].iloc[1] == "r3" and "_202609_4.csv" in events["note"].iloc[1]
    assert signed.empty and list(received["area_code"]) == [V1]

    # Signed off again, it covers the new file too.
    with engine.begin() as conn:
        again = signoffs.sign_off(conn, V1, "2026-09", "更正已复核", "王专干", AT)
    assert again.replaced == "withdrawn" and len(again.files) == 3


def test_what_cannot_be_signed_off_is_said(engine: Engine) -> None:
    _land(engine, _upload(1, V1, "2026-09", "a"))
    _due(engine, V2, "2026-08")
    cases = [
        (V1, "2026-9", "note", "YYYY-MM"),
        ("654226100999", "2026-09", "note", "unknown village"),
        ("654226100", "2026-09", "note", "not a village code"),
        (V1, "2026-10", "note", "nothing to review"),
        (V1, "2026-09", "  ", "--note"),
    ]
    with engine.begin() as conn:
        for unit, month, note, message in cases:
            with pytest.raises(signoffs.SignOffError, match=message):
                signoffs.sign_off(conn, unit, month, note, "x", AT)
        # Due with nothing received: the officer may still sign off (pinned to no file).
        assert signoffs.sign_off(conn, V2, "2026-08", "确认本月无变化", "x", AT).files == ()


def test_pending_lists_unsigned_village_months_with_their_errors(engine: Engine) -> None:
    _land(engine, _upload(1, V1, "2026-09", "a"), _upload(2, V2, "2026-09", "b"))
    _due(engine, V2, "2026-08")
    finding = {
        "rule": "id_checksum",
        "severity": "error",
        "dimension": "validity",
        "source": "village",
        "kind": "women",
        "unit": V2,
        "report_month": "2026-09",
        "upload_id": 2,
        "row_number": 3,
        "value": "x",
        "message_zh": "错",
        "message_en": "bad",
    }
    with engine.begin() as conn:
        issues.record_findings(conn, pd.DataFrame([finding]), "r1", "validation")
        signoffs.sign_off(conn, V1, "2026-09", "ok", "x", AT)
        waiting = signoffs.pending(conn)
    rows = list(
        waiting[["unit", "report_month", "files", "errors", "state"]].itertuples(
            index=False, name=None
        )
    )
    assert rows == [(V2, "2026-09", 1, 1, "never"), (V2, "2026-08", 0, 0, "never")]


def test_a_sign_off_changes_the_run_fingerprint(engine: Engine) -> None:
    """A rerun with no new file must still publish the new share (check_inputs)."""
    from warehouse.run_summary import input_state

    _land(engine, _upload(1, V1, "2026-09", "a"))
    with engine.connect() as conn:
        before = input_state(conn)
    with engine.begin() as conn:
        signoffs.sign_off(conn, V1, "2026-09", "ok", "x", AT)
    with engine.connect() as conn:
        assert input_state(conn) != before
