"""Large SQLite inserts of one transaction, written in C to scratch files first.

Python's sqlite3 binds every value of every row on its own: ~5 µs a row of a dozen
columns, most of a cold publish (2.2 M reconciled rows) and of landing's `stg_*`
inserts. ADBC's SQLite driver writes Arrow columns in C, but through a connection of
its own, which cannot take part in the caller's transaction. So it writes a scratch
file beside the warehouse, and the caller's connection attaches that file and copies
each table with one `INSERT … SELECT` inside its own transaction: a run killed before
the commit still leaves the warehouse as it was.

A connection's read of an attached file holds it until the commit (it cannot be
detached before), and SQLite allows ten attached files. By default a transaction
fills one scratch file with everything it inserts (`ScratchLoad.add`) and copies from
it once (`flush`). With `copy_ahead_rows` (a caller that leaves the connection to the
load between its first `add` and `flush`), a file that holds that many rows is closed
and copied on a thread of its own while the next file is written: the copy (SQLite's
index work) runs beside the preparing and writing of the rows after it, instead of
after all of them; at most `MAX_SCRATCH_FILES` files a transaction. PostgreSQL needs
none of this: `add` is a COPY there.
"""

from __future__ import annotations

import os
import tempfile
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
from sqlalchemy import Connection, Table

from warehouse.db import SCRATCH_SCHEMA
from warehouse.load import arrow_columns, bulk_insert, prepared, sqlite_arrow_type
from warehouse.processes import process_alive

_MAX_PENDING = 2  # batches handed to the ingest thread and not yet written


def _sqlite_arrow(data: pd.DataFrame | pa.Table, table: Table) -> pa.Table:
    """`data`'s columns of `table`, as SQLite stores them, each typed by the table alone
    (so every batch of one table has the same schema, whatever its nulls)."""
    present = set(data.column_names if isinstance(data, pa.Table) else data.columns)
    names = [c.name for c in table.columns if c.name in present]
    columns = arrow_columns(data, table, names) if isinstance(data, pa.Table) else None
    if columns is None:
        frame = data.to_pandas() if isinstance(data, pa.Table) else data
        # One from_pandas for the frame: `pa.array(series)` per column was seen converting
        # cell by cell in the nightly run's process (1.5 s for a county's mart; not in a
        # process of its own, the cause not found).
        arrow = pa.Table.from_pandas(prepared(frame, table, postgres=False), preserve_index=False)
        columns = [arrow.column(n) for n in names]
    schema = pa.schema([(n, sqlite_arrow_type(table.c[n].type)) for n in names])
    return pa.Table.from_arrays(
        [c.cast(schema.field(n).type) for n, c in zip(names, columns, strict=True)], schema=schema
    )


def _without_null_columns(rows: pa.Table, table: Table) -> pa.Table:
    """`rows` without the columns null in every row that the table fills with null when an
    insert leaves them out (nullable, no default, no key): a county's staged rows hold ~40 %
    of their cells in such columns (the error codes and raw texts of cells that read well),
    and SQLite wrote each of those nulls twice (scratch file, warehouse)."""
    keep = [
        name
        for name in rows.column_names
        if rows.column(name).null_count < rows.num_rows or not _null_when_left_out(table, name)
    ]
    return rows if len(keep) == rows.num_columns else rows.select(keep)


def _null_when_left_out(table: Table, name: str) -> bool:
    column = table.c[name]
    return (
        column.nullable is True
        and not column.primary_key
        and column.server_default is None
        and column.default is None
    )


MAX_SCRATCH_FILES = 8
"""Scratch files one transaction may attach (SQLite's limit is ten attached files)."""


@dataclass
class _Segment:
    """Rows for one table with one set of columns, in the order they were added."""

    table: Table
    columns: list[str]
    scratch_name: str


@dataclass
class _ScratchFile:
    """One scratch file: where it is, what it holds, and the rows queued to it."""

    path: Path
    schema: str
    """The name it is attached under."""
    segments: list[_Segment] = field(default_factory=list)
    rows: int = 0
    copied_ahead: bool = False
    """Closed and handed to the copy thread: rows go to the next file."""


class ScratchLoad:
    """Inserts of one transaction: `add` them in order, `flush` once inside the transaction.

    On SQLite the rows go to a scratch file as they are added (memory holds one batch at
    a time) and reach the warehouse at `flush` (or, with `copy_ahead_rows`, a file's
    worth at a time while the rest are added), table by table in the order added; an
    integer key the rows lack is numbered by SQLite, after the largest in the table. On
    PostgreSQL `add` inserts at once (COPY). Wrap it in `contextlib.closing` around the
    work: the scratch files are removed on the way out, flushed or not.

    `copy_ahead_rows`: the caller does not use the connection between its first `add`
    and `flush` (the load copies through it on a thread of its own).
    """

    def __init__(self, conn: Connection, copy_ahead_rows: int | None = None) -> None:
        self._conn = conn
        self._sqlite = conn.dialect.name == "sqlite"
        self._copy_ahead_rows = copy_ahead_rows
        self._files: list[_ScratchFile] = []
        self._writer: Any = None
        self._writer_path: Path | None = None
        # ADBC writes without the GIL: on a thread of its own, while this one prepares the
        # next batch (a cold publish of the scale county: 0.4-1.2 s of ~11 s saved).
        self._ingest_thread: ThreadPoolExecutor | None = None
        self._pending: deque[Future[None]] = deque()
        # Copies into the warehouse run in the order of the files, on one thread.
        self._copy_thread: ThreadPoolExecutor | None = None
        self._copies: list[Future[None]] = []
        self._flushed = False

    @property
    def numbers_missing_keys(self) -> bool:
        """Whether an integer key the rows lack is numbered here (SQLite) or must be given."""
        return self._sqlite

    def close(self) -> None:
        """Remove the scratch files, flushed or not (use `contextlib.closing`)."""
        for pending in self._pending:  # an error on the way out: what it wrote goes too
            pending.cancel()
        for thread in (self._ingest_thread, self._copy_thread):
            if thread is not None:  # a copy under way ends first: it uses the connection
                thread.shutdown(wait=True, cancel_futures=True)
        self._ingest_thread = self._copy_thread = None
        self._pending.clear()
        self._close_writer()
        for file in self._files:
            file.path.unlink(missing_ok=True)

    def add(self, table: Table, data: pd.DataFrame | pa.Table) -> int:
        """Queue `data`'s rows (columns named as the table's) for `table`."""
        if self._flushed:
            # A scratch file could not be attached after: the last is held till commit.
            raise RuntimeError("ScratchLoad: rows added after flush (one flush a transaction)")
        if len(data) == 0:
            return 0
        if not self._sqlite:
            return bulk_insert(self._conn, table, data)
        self._raise_failed_copy()
        rows = _without_null_columns(_sqlite_arrow(data, table), table)
        file = self._current_file()
        segment = self._segment_for(file, table, rows.column_names)
        if self._ingest_thread is None:
            self._ingest_thread = ThreadPoolExecutor(1, "scratch-ingest")
        self._pending.append(
            self._ingest_thread.submit(self._ingest, file.path, segment.scratch_name, rows)
        )
        file.rows += rows.num_rows
        while len(self._pending) > _MAX_PENDING:  # memory: a batch or two waiting, no more
            self._pending.popleft().result()
        if (
            self._copy_ahead_rows is not None
            and file.rows >= self._copy_ahead_rows
            and len(self._files) < MAX_SCRATCH_FILES
        ):
            self._copy_ahead(file)
        return rows.num_rows

    def _current_file(self) -> _ScratchFile:
        """The file rows go to: the last one, unless it is being copied (or there is none)."""
        if self._files and not self._files[-1].copied_ahead:
            return self._files[-1]
        path = _scratch_path(self._conn)
        file = _ScratchFile(path, f"{SCRATCH_SCHEMA}_{len(self._files)}")
        self._files.append(file)
        return file

    def _copy_ahead(self, file: _ScratchFile) -> None:
        """Close `file` once its rows are written and copy it on the copy thread; the next
        rows go to a new file meanwhile."""
        assert self._ingest_thread is not None
        written = self._ingest_thread.submit(self._close_writer)  # after its queued rows
        self._pending.append(written)  # `flush` waits for it before closing the writer itself
        if self._copy_thread is None:
            self._copy_thread = ThreadPoolExecutor(1, "scratch-copy")
        self._copies.append(self._copy_thread.submit(self._copy, file, written))
        file.copied_ahead = True

    def _raise_failed_copy(self) -> None:
        for copy in self._copies:
            if copy.done():
                copy.result()

    def _ingest(self, path: Path, scratch_name: str, rows: pa.Table) -> None:
        """Write `rows` to the scratch file (on the ingest thread, in the order added)."""
        with self._open_writer(path).cursor() as cursor:
            cursor.adbc_ingest(scratch_name, rows, mode="create_append")

    def _copy(self, file: _ScratchFile, written: Future[None] | None = None) -> None:
        """Attach a scratch file to the caller's connection and copy its rows, table by
        table in the order added, inside the caller's transaction."""
        if written is not None:
            written.result()
        self._conn.exec_driver_sql(f"ATTACH DATABASE ? AS {file.schema}", (str(file.path),))
        # Detached when the connection returns to its pool (warehouse.db).
        self._conn.connection.info.setdefault(SCRATCH_SCHEMA, []).append(file.schema)
        for segment in file.segments:
            names = ", ".join(f'"{c}"' for c in segment.columns)
            self._conn.exec_driver_sql(
                f'INSERT INTO main."{segment.table.name}" ({names}) SELECT {names} '
                f'FROM {file.schema}."{segment.scratch_name}" ORDER BY rowid'
            )
        # Open files stay readable once unlinked: the file goes now, the attachment when
        # the connection returns to its pool.
        file.path.unlink(missing_ok=True)

    def flush(self) -> None:
        """Copy every queued row into the warehouse, inside the caller's transaction."""
        self._flushed = True
        while self._pending:
            self._pending.popleft().result()  # every batch written, or its error raised
        self._close_writer()
        for copy in self._copies:
            copy.result()  # the files copied ahead, or their error raised
        for file in self._files:
            if not file.copied_ahead:
                self._copy(file)

    def _segment_for(self, file: _ScratchFile, table: Table, columns: list[str]) -> _Segment:
        last = file.segments[-1] if file.segments else None
        if last is not None and last.table is table and last.columns == columns:
            return last
        segment = _Segment(table, columns, f"s{len(file.segments)}_{table.name}")
        file.segments.append(segment)
        return segment

    def _open_writer(self, path: Path) -> Any:
        if self._writer is not None and self._writer_path != path:
            self._close_writer()
        if self._writer is None:
            import adbc_driver_sqlite.dbapi  # only a load that has rows pays its import

            self._writer = adbc_driver_sqlite.dbapi.connect(str(path), autocommit=True)
            self._writer_path = path
            with self._writer.cursor() as cursor:
                # A scratch file needs no journal and no sync: a crash loses only it. Each
                # ingest is one transaction of the driver's own.
                cursor.execute("PRAGMA journal_mode=OFF")
                cursor.fetchall()
                cursor.execute("PRAGMA synchronous=OFF")
        return self._writer

    def _close_writer(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
            self._writer_path = None


_SCRATCH_PREFIX = ".popstat-scratch-"


def _scratch_path(conn: Connection) -> Path:
    """A new scratch file beside the warehouse's (its disk has room for the warehouse's
    rows; a temporary folder may be memory), or in the temporary folder. Named by this
    process: the files of processes that died before removing theirs go here."""
    database = conn.engine.url.database
    folder = Path(database).parent if database and database != ":memory:" else None
    prefix = f"{_SCRATCH_PREFIX}{os.getpid()}-"
    handle, name = tempfile.mkstemp(prefix=prefix, suffix=".sqlite", dir=folder)
    os.close(handle)
    os.unlink(name)  # ADBC creates the database; an empty file would be one too
    _remove_orphans(Path(name).parent)
    return Path(name)


def _remove_orphans(folder: Path) -> None:
    """Remove scratch files whose process is gone (a run killed mid-load: ~100 MB each)."""
    for path in folder.glob(f"{_SCRATCH_PREFIX}*"):
        pid = path.name.removeprefix(_SCRATCH_PREFIX).split("-", 1)[0]
        if pid.isdigit() and not process_alive(int(pid)):
            path.unlink(missing_ok=True)


__all__ = ["ScratchLoad"]
