"""Bulk movement of frames in and out of the warehouse.

PostgreSQL gets COPY (the fast path: `to_sql(method="multi")` is 15-20x slower than
even plain inserts); SQLite gets one executemany per table. Both run inside the
caller's transaction, so a failed run leaves nothing half-loaded.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Column, Connection, Table, select
from sqlalchemy.sql import Select
from sqlalchemy.types import Boolean, Date, DateTime, Float, Integer, Numeric

_CHUNK_ROWS = 20_000


def prepared(frame: pd.DataFrame, table: Table, postgres: bool) -> pd.DataFrame:
    """The frame with only the table's columns, in DB-ready form (ISO dates, NA as None)."""
    columns = [c.name for c in table.columns if c.name in frame.columns]
    # Collected, then made a frame once: inserting column by column into a frame costs
    # more than converting the column (the manifest has 20 columns and few rows).
    out: dict[str, pd.Series] = {}
    for name in columns:
        series = frame[name]
        kind = table.c[name].type
        if isinstance(kind, Date):
            out[name] = pd.to_datetime(series).dt.strftime("%Y-%m-%d")
        elif isinstance(kind, DateTime):
            out[name] = pd.to_datetime(series).dt.strftime("%Y-%m-%d %H:%M:%S.%f")
        elif isinstance(kind, Boolean):
            mapped = series.astype("boolean")
            out[name] = mapped.map({True: "t", False: "f"}) if postgres else mapped.astype("Int8")
        elif isinstance(kind, Integer) and not isinstance(kind, Boolean):
            out[name] = series.astype("Int64")
        elif isinstance(kind, Numeric | Float):
            out[name] = series.astype("Float64")
        else:
            out[name] = series.astype("string")
    arrays = {name: series.array for name, series in out.items()}  # no realignment
    return pd.DataFrame(arrays, index=frame.index, columns=pd.Index(columns, dtype=object))


_COPY_ESCAPES = (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r"))


def _copy_text(data: pd.DataFrame) -> str:
    """The frame in COPY's text format: tab-separated, escaped, `\\N` for NULL."""
    columns = []
    for name in data.columns:
        text = data[name].astype("string")
        for plain, escaped in _COPY_ESCAPES:
            text = text.str.replace(plain, escaped, regex=False)
        columns.append(text.fillna("\\N"))
    if not columns:
        return ""
    first, *rest = columns
    lines = first.str.cat(rest, sep="\t") if rest else first
    return "\n".join(lines.tolist()) + "\n"


def _python_values(column: pd.Series) -> list[object]:
    """A column's cells as Python objects, None for NA (what the SQLite driver binds)."""
    return column.to_numpy(dtype=object, na_value=None).tolist()


def _records(data: pd.DataFrame) -> list[tuple[object, ...]]:
    """The rows as tuples, built column by column: one conversion per column, not per cell
    (`DataFrame.astype(object).where(...)` then `itertuples` cost ~10 µs a row)."""
    return list(zip(*(_python_values(data[name]) for name in data.columns), strict=True))


def _arrow_column(column: pa.ChunkedArray, kind: object) -> pa.ChunkedArray | None:
    """An Arrow column as SQLite stores it (`prepared`'s forms: ISO dates, 0/1, int64,
    float64, text), still in Arrow; None when this column's type is not one converted
    here (the caller then goes through pandas)."""
    arrow = column.type
    if isinstance(kind, Date):
        if pa.types.is_timestamp(arrow) and arrow.tz is None:
            # Staged dates are midnights: the day is the date; casts cost less than strftime.
            day = pc.cast(column, pa.date32(), safe=False)
            return pc.cast(day, pa.string())
        return None
    if isinstance(kind, DateTime):
        return None
    if isinstance(kind, Boolean):
        return pc.cast(column, pa.int8()) if pa.types.is_boolean(arrow) else None
    if isinstance(kind, Integer):
        return column if pa.types.is_integer(arrow) else None
    if isinstance(kind, Numeric | Float):
        return column if pa.types.is_floating(arrow) else None
    if pa.types.is_string(arrow) or pa.types.is_large_string(arrow):
        return column
    return None


def sqlite_arrow_type(kind: object) -> pa.DataType:
    """The Arrow type of `arrow_columns`' and `prepared`'s form of a column of SQL type
    `kind` (what SQLite's driver binds)."""
    if isinstance(kind, Boolean):
        return pa.int8()
    if isinstance(kind, Integer):
        return pa.int64()
    if isinstance(kind, Numeric | Float):  # Float is not a Numeric in SQLAlchemy 2.1
        return pa.float64()
    return pa.string()  # text, and dates as ISO text


def _null_by_default(values: pa.ChunkedArray, column: Column) -> bool:
    """True when every value is null and the column, left out of an INSERT, is null too:
    a staged batch's error columns are mostly empty, and binding a parameter costs the
    same whatever it holds (half of a roster's columns, half of its insert)."""
    return (
        values.null_count == len(values)
        and column.default is None
        and column.server_default is None
        and not column.primary_key
    )


def _arrow_records(data: pa.Table, table: Table) -> tuple[list[str], list[tuple[object, ...]]]:
    """(columns, rows) of an Arrow table for SQLite, converted column by column in Arrow;
    the rows `_records(prepared(...))` would give for the same table as a frame."""
    names = [
        c.name
        for c in table.columns
        if c.name in data.column_names and not _null_by_default(data.column(c.name), c)
    ] or [c.name for c in table.columns if c.name in data.column_names]  # all null: as they are
    columns = arrow_columns(data, table, names)
    if columns is None:
        as_frame = prepared(data.to_pandas(), table, postgres=False)
        return list(as_frame.columns), _records(as_frame)
    return names, list(zip(*(c.to_pylist() for c in columns), strict=True))


def arrow_columns(data: pa.Table, table: Table, names: list[str]) -> list[pa.ChunkedArray] | None:
    """Columns `names` of `data` as SQLite stores them, each converted in Arrow
    (`_arrow_column`); None when one of them is not, and the whole table then goes through
    pandas (`prepared`): a table's rows are converted one way, never column by column
    both ways."""
    columns = [_arrow_column(data.column(name), table.c[name].type) for name in names]
    return None if any(c is None for c in columns) else [c for c in columns if c is not None]


def bulk_insert(conn: Connection, table: Table, frame: pd.DataFrame | pa.Table) -> int:
    """Insert every row of `frame` (columns named as the table's) into `table`.

    An Arrow table (staged rows from the parsing workers) goes to SQLite without
    becoming a pandas frame; PostgreSQL's COPY takes it through pandas. Rows are
    converted `_CHUNK_ROWS` at a time: as Python values or COPY text, a mart of 180,000
    rows held at once took ~300 MB, more than the frame itself many times over.
    """
    if len(frame) == 0:
        return 0
    postgres = conn.dialect.name == "postgresql"
    if isinstance(frame, pa.Table):
        if not postgres:
            for start in range(0, frame.num_rows, _CHUNK_ROWS):
                columns, records = _arrow_records(frame.slice(start, _CHUNK_ROWS), table)
                _sqlite_insert(conn, table, columns, records)
            return frame.num_rows
        frame = frame.to_pandas()
    data = prepared(frame, table, postgres)
    chunks = (data.iloc[start : start + _CHUNK_ROWS] for start in range(0, len(data), _CHUNK_ROWS))
    if postgres:
        names = ", ".join(f'"{c}"' for c in data.columns)
        # COPY's text format: NULL is \N, and a value's own backslashes are escaped, so a
        # cell holding the two characters \N stays text (as it does on SQLite).
        sql = f'COPY "{table.name}" ({names}) FROM STDIN'
        raw = conn.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cursor, cursor.copy(sql) as copy:
            for chunk in chunks:
                copy.write(_copy_text(chunk))
        return len(data)
    for chunk in chunks:
        _sqlite_insert(conn, table, list(data.columns), _records(chunk))
    return len(data)


def _sqlite_insert(
    conn: Connection, table: Table, columns: list[str], records: list[tuple[object, ...]]
) -> None:
    """`records` into `table`'s `columns`, one executemany."""
    placeholders = ", ".join("?" for _ in columns)
    names = ", ".join(f'"{c}"' for c in columns)
    sql = f'INSERT INTO "{table.name}" ({names}) VALUES ({placeholders})'
    conn.exec_driver_sql(sql, records)


def read_frame(conn: Connection, query: Select[tuple[object, ...]] | Table) -> pd.DataFrame:
    """A query's rows as a frame, typed from the table metadata where it can be."""
    statement = select(query) if isinstance(query, Table) else query
    result = conn.execute(statement)
    # Plain tuples: pandas asks every SQLAlchemy row whether it is a named tuple, which
    # the row answers through a failed key lookup (a 12,000-row manifest: 0.11 → 0.04 s).
    frame = pd.DataFrame([tuple(row) for row in result], columns=list(result.keys()))
    for column in statement.selected_columns:
        name = column.name
        if name not in frame.columns:
            continue
        kind = column.type
        if isinstance(kind, Date | DateTime):
            frame[name] = pd.to_datetime(frame[name]).astype("datetime64[us]")
        elif isinstance(kind, Boolean):
            frame[name] = frame[name].astype("boolean")
        elif isinstance(kind, Integer):
            frame[name] = frame[name].astype("Int64")
        elif isinstance(kind, Numeric | Float):  # Float is not a Numeric in SQLAlchemy 2.1
            frame[name] = frame[name].astype("Float64")
        else:
            frame[name] = frame[name].astype("string")
    return frame


def replace_rows(conn: Connection, table: Table, frame: pd.DataFrame) -> int:
    """Replace the whole content of `table` with `frame`, in the caller's transaction.

    A table keyed by a surrogate integer the frame does not carry (one row per exam,
    per change) is numbered 1..n here: the whole table is replaced, so the numbers are
    only row identities. SQLite would number them itself; PostgreSQL refuses the nulls.
    """
    keys = list(table.primary_key.columns)
    if len(keys) == 1 and isinstance(keys[0].type, Integer) and keys[0].name not in frame:
        frame = frame.assign(**{keys[0].name: range(1, len(frame) + 1)})
    conn.execute(table.delete())
    return bulk_insert(conn, table, frame)


__all__ = [
    "arrow_columns",
    "bulk_insert",
    "prepared",
    "read_frame",
    "replace_rows",
    "sqlite_arrow_type",
]
