"""ScratchLoad stores exactly what bulk_insert stores, inside the caller's transaction."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from datetime import datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from sqlalchemy import Connection, Engine, Table, select, text
from sqlalchemy.exc import IntegrityError

from warehouse import schema
from warehouse.db import SCRATCH_SCHEMA, make_engine, migrate
from warehouse.load import bulk_insert
from warehouse.scratch import MAX_SCRATCH_FILES, ScratchLoad

AWKWARD = ["\\N", "a\tb", "line\nbreak\r\n", "back\\slash", "", "普通文本", None]


def _uploads() -> pd.DataFrame:
    n = len(AWKWARD)
    return pd.DataFrame(
        {
            "upload_id": range(1, n + 1),
            "file_name": [f"f{i}.csv" for i in range(n)],
            "path": [f"p{i}" for i in range(n)],
            "sha256": ["0" * 64] * n,
            "size_bytes": [10**12, 0, 1, 2, 3, 4, 5],
            "reason_zh": pd.array(AWKWARD, dtype="string"),
            "late": pd.array([True, False, None, True, False, True, None], dtype="boolean"),
            "arrived_at": [datetime(2026, 10, 1, 8, 0, 5, 120)] * n,
            "status": ["quarantined"] * n,
            "run_id": ["r"] * n,
        }
    )


def _staged_women() -> pa.Table:
    """The staged batch's Arrow shape: dates as timestamps, ticks as booleans."""
    day = datetime(2026, 3, 1)
    return pa.table(
        {
            "upload_id": pa.array([1, 1, 1], pa.int64()),
            "row_number": pa.array([1, 2, 3], pa.int64()),
            "unit": ["654226100201"] * 3,
            "report_month": ["2026-03"] * 3,
            "name": ["王芳", None, "李\t娜"],
            "children": pa.array([2, None, 0], pa.int64()),
            "method_date": pa.array([day, None, day], pa.timestamp("us")),
            "verified": pa.array([True, None, False]),
            "err_children": pa.array([None, "E_INT", None], pa.string()),
        }
    )


def _mart_like() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "snapshot_month": ["2026-01", "2026-01", "2026-02"],
            "woman_key": ["b" * 64, "a" * 64, "a" * 64],
            "area_code": ["654226100201"] * 3,
            "children": pd.array([1, None, 3], dtype="Int64"),
            "last_check_date": pd.to_datetime(["2025-11-17", None, "2026-01-31"]),
            "verified": pd.array([True, False, None], dtype="boolean"),
            "partition": ["654226100"] * 3,
        }
    )


def _stored(conn: Connection, table: Table) -> list[tuple[object, ...]]:
    """Every row with, on SQLite, each value's storage class (what a reader gets back)."""
    order = ", ".join(f'"{c.name}"' for c in table.primary_key.columns)
    if conn.dialect.name != "sqlite":
        return [tuple(r) for r in conn.execute(select(table).order_by(text(order)))]
    cells = ", ".join(f'typeof("{c.name}"), "{c.name}"' for c in table.columns)
    return [
        tuple(r)
        for r in conn.exec_driver_sql(f'SELECT {cells} FROM "{table.name}" ORDER BY {order}')
    ]


@pytest.mark.parametrize(
    ("table", "data"),
    [
        (schema.uploads, _uploads()),
        (schema.staging_tables["village_women"], _staged_women()),
        (schema.metadata.tables["recon_women"], _mart_like()),
    ],
    ids=["uploads-frame", "staged-arrow", "recon-frame"],
)
def test_scratch_load_stores_what_bulk_insert_stores(
    engine: Engine, table: Table, data: pd.DataFrame | pa.Table
) -> None:
    with engine.begin() as conn:
        bulk_insert(conn, table, data)
        expected = _stored(conn, table)
        conn.execute(table.delete())
    with engine.begin() as conn, closing(ScratchLoad(conn)) as load:
        assert load.add(table, data) == len(data)
        load.flush()
        assert _stored(conn, table) == expected
    with engine.connect() as conn:
        assert _stored(conn, table) == expected
        assert len(expected) == len(data)


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """A migrated SQLite warehouse: what only SQLite does (its scratch file, its keys)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'warehouse.db'}")
    migrate(engine)
    yield engine
    engine.dispose()


def _exams(ids: list[int] | None, people: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "couple_key": people,
            "area_code": ["654226100201"] * len(people),
            "exam_month": ["2026-01"] * len(people),
            "partition": ["654226100"] * len(people),
        }
    )
    return frame if ids is None else frame.assign(exam_id=ids)


@pytest.mark.parametrize("copy_ahead_rows", [None, 1], ids=["one-file", "a-file-a-batch"])
def test_rows_keep_the_order_added_and_sqlite_numbers_a_missing_key(
    sqlite_engine: Engine, copy_ahead_rows: int | None
) -> None:
    """Two batches with different columns, then one like the first: three segments, copied
    in the order added (in one scratch file, or each in its own copied while the next is
    written); SQLite numbers keys after the largest, as replace_rows does."""
    engine = sqlite_engine
    table = schema.metadata.tables["recon_exams"]
    columns = {c.name for c in table.columns}
    assert {"couple_key", "exam_month", "exam_id"} <= columns
    with engine.begin() as conn:
        bulk_insert(conn, table, _exams([7], ["k0"]))
    with engine.begin() as conn, closing(ScratchLoad(conn, copy_ahead_rows)) as load:
        load.add(table, _exams(None, ["k1", "k2"]))
        load.add(table, _exams(None, ["k3"]).drop(columns=["partition"]))
        load.add(table, _exams(None, ["k4"]))
        load.flush()
        with pytest.raises(RuntimeError, match="after flush"):
            load.add(table, _exams(None, ["k5"]))
    with engine.connect() as conn:
        rows = conn.execute(
            select(table.c.exam_id, table.c.couple_key, table.c.partition).order_by(table.c.exam_id)
        ).all()
    assert [tuple(r) for r in rows] == [
        (7, "k0", "654226100"),
        (8, "k1", "654226100"),
        (9, "k2", "654226100"),
        (10, "k3", None),
        (11, "k4", "654226100"),
    ]


def _scratch_schemas(attached: set[str]) -> set[str]:
    return {name for name in attached if name.startswith(SCRATCH_SCHEMA)}


def _scratch_files(engine: Engine) -> list[Path]:
    database = engine.url.database
    assert database
    return sorted(Path(database).parent.glob(".popstat-scratch-*"))


def test_a_failed_transaction_leaves_no_rows_and_no_scratch_file(sqlite_engine: Engine) -> None:
    engine = sqlite_engine
    table = schema.staging_tables["village_women"]
    with pytest.raises(RuntimeError, match="killed"), engine.begin() as conn:
        with closing(ScratchLoad(conn)) as load:
            load.add(table, _staged_women())
            load.flush()
            assert conn.execute(select(table.c.upload_id)).all()
            attached = {row[1] for row in conn.exec_driver_sql("PRAGMA database_list")}
            assert _scratch_schemas(attached)  # the rows came through a scratch file
            assert _scratch_files(engine) == []  # unlinked once copied, still readable
        raise RuntimeError("killed before the commit")
    with engine.connect() as conn:
        assert conn.execute(select(table.c.upload_id)).all() == []
        attached = {row[1] for row in conn.exec_driver_sql("PRAGMA database_list")}
    assert not _scratch_schemas(attached)
    assert _scratch_files(engine) == []
    # A load that never flushes (an error before it) removes its file too.
    with engine.begin() as conn, closing(ScratchLoad(conn)) as load:
        load.add(table, _staged_women())
    assert _scratch_files(engine) == []
    with engine.connect() as conn:
        assert conn.execute(select(table.c.upload_id)).all() == []


def test_a_failed_write_of_the_scratch_file_fails_the_transaction(
    sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scratch file is written on a thread of its own: its error still reaches the
    caller (at the latest at `flush`), so no batch is dropped without a word."""
    table = schema.staging_tables["village_women"]

    def broken(self: ScratchLoad, path: Path, scratch_name: str, rows: pa.Table) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(ScratchLoad, "_ingest", broken)
    with (
        pytest.raises(OSError, match="disk full"),
        sqlite_engine.begin() as conn,
        closing(ScratchLoad(conn)) as load,
    ):
        load.add(table, _staged_women())
        load.flush()
    with sqlite_engine.connect() as conn:
        assert conn.execute(select(table.c.upload_id)).all() == []
    assert _scratch_files(sqlite_engine) == []


def test_scratch_files_of_dead_processes_are_removed(sqlite_engine: Engine) -> None:
    """A run killed mid-load leaves its scratch file; the next load removes it (and leaves
    the files of live processes alone)."""
    folder = Path(str(sqlite_engine.url.database)).parent
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    orphan = folder / f".popstat-scratch-{int(gone.stdout)}-abc.sqlite"
    live = folder / f".popstat-scratch-{os.getppid()}-def.sqlite"
    for path in (orphan, live):
        path.write_bytes(b"left by a killed run")
    with sqlite_engine.begin() as conn, closing(ScratchLoad(conn)) as load:
        load.add(schema.staging_tables["village_women"], _staged_women())
        load.flush()
    assert not orphan.exists()
    assert live.exists()


def test_files_copied_ahead_are_at_most_the_limit_and_gone_after_the_commit(
    sqlite_engine: Engine,
) -> None:
    """A file a batch asked for, more batches than SQLite can attach files: the last file
    takes the rest; every row lands; nothing stays attached or on disk."""
    table = schema.metadata.tables["recon_exams"]
    people = [f"k{i}" for i in range(MAX_SCRATCH_FILES + 4)]
    with sqlite_engine.begin() as conn, closing(ScratchLoad(conn, copy_ahead_rows=1)) as load:
        for person in people:
            load.add(table, _exams(None, [person]))
        load.flush()
        attached = {row[1] for row in conn.exec_driver_sql("PRAGMA database_list")}
        assert len(_scratch_schemas(attached)) == MAX_SCRATCH_FILES
    with sqlite_engine.connect() as conn:
        stored = conn.execute(select(table.c.couple_key).order_by(table.c.exam_id)).scalars()
        assert list(stored) == people
        attached = {row[1] for row in conn.exec_driver_sql("PRAGMA database_list")}
    assert not _scratch_schemas(attached)
    assert _scratch_files(sqlite_engine) == []


def test_a_failed_copy_ahead_fails_the_transaction(sqlite_engine: Engine) -> None:
    """A file copied on the copy thread breaks a key: the error reaches the caller (at the
    next add or at flush) and the transaction leaves no row and no file."""
    table = schema.staging_tables["village_women"]
    with (
        pytest.raises(IntegrityError),
        sqlite_engine.begin() as conn,
        closing(ScratchLoad(conn, copy_ahead_rows=1)) as load,
    ):
        load.add(table, _staged_women())
        load.add(table, _staged_women())  # the same upload rows again
        load.flush()
    with sqlite_engine.connect() as conn:
        assert conn.execute(select(table.c.upload_id)).all() == []
    assert _scratch_files(sqlite_engine) == []


def test_columns_null_in_every_row_are_left_to_the_table_and_stored_as_null(
    sqlite_engine: Engine,
) -> None:
    """A batch's all-null nullable columns are not written (SQLite fills them with null); a
    key, a column with a value in any row, and a NOT NULL column always are; batches whose
    null columns differ are stored as bulk_insert stores them."""
    from warehouse.scratch import _null_when_left_out, _sqlite_arrow, _without_null_columns

    table = schema.metadata.tables["recon_exams"]
    sparse = _exams([1, 2], ["k1", "k2"]).assign(partition=[None, None], area_code=[None, "x"])
    kept = _without_null_columns(_sqlite_arrow(sparse, table), table).column_names
    assert "partition" not in kept
    assert {"exam_id", "couple_key", "area_code", "exam_month"} <= set(kept)
    # A NOT NULL column is written even when null: the insert fails as it should.
    required = next(c for c in schema.uploads.columns if not c.nullable and not c.primary_key)
    assert not _null_when_left_out(schema.uploads, required.name)
    dense = _exams([3], ["k3"])
    with sqlite_engine.begin() as conn:
        bulk_insert(conn, table, sparse)
        bulk_insert(conn, table, dense)
        expected = _stored(conn, table)
        conn.execute(table.delete())
    with sqlite_engine.begin() as conn, closing(ScratchLoad(conn)) as load:
        load.add(table, sparse)
        load.add(table, dense)
        load.flush()
        assert _stored(conn, table) == expected
