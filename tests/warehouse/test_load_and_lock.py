"""Bulk loading round-trips typed frames; the run lock admits one run at a time."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime, timedelta

import pandas as pd
import pyarrow as pa
import pytest
from sqlalchemy import Engine, insert, select

from warehouse import runs, schema
from warehouse.load import bulk_insert, read_frame


def test_bulk_insert_round_trips_types_and_nulls(engine: Engine) -> None:
    frame = pd.DataFrame(
        {
            "upload_id": [1, 1],
            "row_number": [1, 2],
            "unit": ["654226100201", "654226100201"],
            "report_month": ["2026-09", "2026-09"],
            "case_no": ["A-1", '含,逗号"引号'],
            "party_id": ["65422619900101002X", pd.NA],
            "party_id_key": ["k1", pd.NA],
            "decision_date": pd.to_datetime(["2026-03-01", None]),
            "assessed": pd.array([12000.5, None], dtype="Float64"),
            "paid_to_date": pd.array([100.0, 0.0], dtype="Float64"),
            "err_party_id": [pd.NA, "missing"],
        }
    )
    table = schema.staging_tables["village_fees"]
    with engine.begin() as conn:
        assert bulk_insert(conn, table, frame) == 2
    with engine.connect() as conn:
        back = read_frame(conn, select(table).order_by(table.c.row_number))
    assert list(back["case_no"]) == ["A-1", '含,逗号"引号']
    assert back.loc[0, "party_id"] == "65422619900101002X"
    assert pd.isna(back.loc[1, "party_id"])
    assert back.loc[0, "decision_date"] == pd.Timestamp("2026-03-01")
    assert pd.isna(back.loc[1, "decision_date"])
    assert back.loc[0, "assessed"] == 12000.5
    assert back.loc[1, "err_party_id"] == "missing"


def test_an_arrow_table_is_inserted_as_the_same_frame_would_be(engine: Engine) -> None:
    frame = pd.DataFrame(
        {
            "upload_id": [1, 2, 2],
            "row_number": [1, 1, 2],
            "unit": ["654226100201"] * 3,
            "report_month": ["2026-09"] * 3,
            "name": ["阿依", pd.NA, "含,逗号"],
            "last_check_date": pd.Series(
                pd.to_datetime(["1969-12-31", None, "2026-03-01"]), dtype="datetime64[s]"
            ),
            "verified": pd.array([True, None, False], dtype="boolean"),
            "children": pd.array([0, None, 3], dtype="Int64"),
            "err_name": [pd.NA, "missing", pd.NA],
        }
    )
    table = schema.staging_tables["village_women"]
    with engine.begin() as conn:
        assert bulk_insert(conn, table, frame) == 3
    with engine.connect() as conn:
        as_frame = read_frame(conn, select(table).order_by(table.c.upload_id, table.c.row_number))
    with engine.begin() as conn:
        conn.execute(table.delete())
        assert bulk_insert(conn, table, pa.Table.from_pandas(frame, preserve_index=False)) == 3
    with engine.connect() as conn:
        as_arrow = read_frame(conn, select(table).order_by(table.c.upload_id, table.c.row_number))
    pd.testing.assert_frame_equal(as_arrow, as_frame)
    assert as_arrow.loc[0, "last_check_date"] == pd.Timestamp("1969-12-31")
    assert list(as_arrow["verified"].astype(object)) == [True, pd.NA, False]


def test_rows_are_loaded_a_chunk_at_a_time_and_all_arrive_in_order(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A frame longer than a chunk (here 2 rows) arrives whole, from pandas and from Arrow,
    on both warehouses (the chunks of COPY on PostgreSQL, of executemany on SQLite); a
    chunk whose column is all null (left out of SQLite's INSERT) reads back as null."""
    monkeypatch.setattr("warehouse.load._CHUNK_ROWS", 2)
    frame = pd.DataFrame(
        {
            "upload_id": [1] * 5,
            "row_number": [1, 2, 3, 4, 5],
            "unit": ["654226100201"] * 5,
            "report_month": ["2026-09"] * 5,
            "name": ["甲", "乙", pd.NA, pd.NA, "戊"],
        }
    )
    table = schema.staging_tables["village_women"]
    for rows in (frame, pa.Table.from_pandas(frame, preserve_index=False)):
        with engine.begin() as conn:
            conn.execute(table.delete())
            assert bulk_insert(conn, table, rows) == 5
        with engine.connect() as conn:
            back = read_frame(conn, select(table).order_by(table.c.row_number))
        assert back["row_number"].tolist() == [1, 2, 3, 4, 5]
        assert back["name"].tolist()[:2] == ["甲", "乙"] and back.loc[4, "name"] == "戊"
        assert back["name"].iloc[2:4].isna().all()


def test_a_failed_transaction_loads_nothing(engine: Engine) -> None:
    frame = pd.DataFrame(
        {"upload_id": [1], "row_number": [1], "unit": ["u"], "report_month": ["2026-09"]}
    )
    table = schema.staging_tables["village_births"]
    with pytest.raises(RuntimeError), engine.begin() as conn:
        bulk_insert(conn, table, frame)
        raise RuntimeError("die half-way")
    with engine.connect() as conn:
        assert read_frame(conn, table).empty


def test_second_run_is_refused_while_the_first_holds_the_lock(engine: Engine) -> None:
    runs.acquire_lock(engine, "run-a")
    with pytest.raises(runs.RunLockedError, match="run-a"):
        runs.acquire_lock(engine, "run-b")
    runs.release_lock(engine, "run-a")
    runs.acquire_lock(engine, "run-b")
    runs.release_lock(engine, "run-b")


def test_lock_of_a_dead_process_is_taken_over(engine: Engine) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    import socket

    now = datetime.now()
    with engine.begin() as conn:
        conn.execute(
            insert(schema.run_lock).values(
                lock_name=runs.LOCK_NAME,
                run_id="killed",
                host=socket.gethostname(),
                pid=int(dead.stdout),
                acquired_at=now,
                heartbeat_at=now,
            )
        )
    runs.acquire_lock(engine, "next")
    with engine.connect() as conn:
        assert conn.execute(select(schema.run_lock.c.run_id)).scalar_one() == "next"


def test_lock_without_heartbeat_on_another_host_goes_stale(engine: Engine) -> None:
    old = datetime.now() - timedelta(hours=3)
    with engine.begin() as conn:
        conn.execute(
            insert(schema.run_lock).values(
                lock_name=runs.LOCK_NAME,
                run_id="elsewhere",
                host="other-host",
                pid=1,
                acquired_at=old,
                heartbeat_at=old,
            )
        )
    runs.acquire_lock(engine, "mine")
    runs.start_run(engine, "mine", date(2026, 10, 6))
    runs.finish_run(engine, "mine", "completed", {"ok": True})


def test_replacing_a_table_numbers_its_surrogate_key(engine: Engine) -> None:
    """recon_exams has one row per exam and no natural key; PostgreSQL refuses null ids."""
    from warehouse.load import replace_rows

    frame = pd.DataFrame(
        {
            "area_code": ["654226100201"] * 2,
            "exam_month": ["2026-09"] * 2,
            "exam_date": pd.to_datetime(["2026-09-01", "2026-09-02"]),
        }
    )
    with engine.begin() as conn:
        assert replace_rows(conn, schema.recon_exams, frame) == 2
        assert replace_rows(conn, schema.recon_exams, frame) == 2
    with engine.connect() as conn:
        assert sorted(read_frame(conn, schema.recon_exams)["exam_id"]) == [1, 2]
