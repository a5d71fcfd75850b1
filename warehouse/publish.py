"""Publishing: the reconciled tables replaced, the mart changed where it changed, in one transaction.

Write–audit–publish: the caller computes the mart in memory and audits it; only
then does `publish` write everything in a single transaction, so a dashboard sees
yesterday's tables or today's, never a mix, and a run killed before the commit
leaves yesterday's in place.

The mart is written incrementally: rows whose figures did not change are not
touched (they keep the run id that first published them, and on disk they are not
rewritten), new and changed rows are deleted and inserted by key, removed keys are
deleted, and every new or changed row is added to the history. A rerun with no new
data writes no mart row.

The diff needs the published mart's values. Read from the warehouse they cost a
correction's night more than its township's work (a county's 180,000 rows through the
driver); so a publish given a folder (`copies`) leaves there a Parquet copy of the mart it
publishes, named by a fresh token that it records in `published_copies` in the same
transaction, and the next publish reads the copy whose token the warehouse names. A copy
the warehouse does not name (a publish that kept none deleted the token, a publish that
failed left its copy unnamed) is never read.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    Table,
    Text,
    func,
    select,
    text,
)

from transforms.indicators.by_partition import RECON_FRAMES
from warehouse import schema, workspace
from warehouse.load import bulk_insert, read_frame, replace_rows
from warehouse.scratch import ScratchLoad

MART_KEY = ["area_code", "period", "indicator"]
_NUMBERS = ("numerator", "denominator", "value", "target", "target_hi", "signed_off_share")
_DATES = ("period_start", "period_end")
# The frames a run hands on (transforms.indicators.by_partition), each to its table.
RECON_TABLES = {name: schema.metadata.tables[name] for name in (*RECON_FRAMES, "dq_reporting")}

# The keys a publish deletes from the mart (removed, and changed before their reinsert):
# one row per area × period × indicator, a temporary table of the publishing connection.
# Its own metadata: it is no part of the warehouse's schema.
_KEYS_TABLE = Table(
    "publish_mart_keys", MetaData(), *(Column(name, Text) for name in MART_KEY), prefixes=["TEMP"]
)


@dataclass(frozen=True)
class PublishSummary:
    """What a publish changed in the mart."""

    rows: int
    new: int
    changed: int
    removed: int


@dataclass(frozen=True)
class MartChanges:
    """What publishing a mart over the current one writes.

    `written`: one row per new or changed area × period × indicator, stamped with the
    publishing run; `deleted`: one row per key to delete first (removed and changed keys).
    """

    written: pd.DataFrame
    deleted: pd.DataFrame
    summary: PublishSummary
    comparable: pd.DataFrame
    """The mart once published, in the comparable form (`_comparable`): its copy."""


def current_mart(conn: Connection) -> pd.DataFrame:
    return read_frame(conn, schema.mart_target_achievement)


_FETCH_ROWS = 20_000


def _compared_columns() -> list[str]:
    """Every mart column but the key and the run id: a change in any of them is a change."""
    skip = {*MART_KEY, "run_id"}
    return [c.name for c in schema.mart_target_achievement.columns if c.name not in skip]


def _published_for_diff(conn: Connection) -> pd.DataFrame:
    """The published mart's key and compared columns, as the driver returns them.

    The driver's values go column by column through Arrow, not through SQLAlchemy's
    per-value result processing (Decimal, date parsing): reading a million rows takes
    half the time. `_comparable` types them.
    """
    names = [*MART_KEY, *_compared_columns()]
    listed = ", ".join(f'"{n}"' for n in names)
    result = conn.exec_driver_sql(f'SELECT {listed} FROM "{schema.mart_target_achievement.name}"')
    # A chunk of rows as Python values at a time: a county's mart at once held ~500 MB.
    chunks = [pa.table({n: pa.array([], type=pa.null()) for n in names})]
    while rows := result.fetchmany(_FETCH_ROWS):
        columns = zip(*rows, strict=True)
        chunks.append(pa.table({n: pa.array(v) for n, v in zip(names, columns, strict=True)}))
    # A column all null in one chunk is typed null there: promoted to the others' type.
    return pa.concat_tables(chunks, promote_options="permissive").to_pandas()


def _comparable(frame: pd.DataFrame) -> pd.DataFrame:
    """The compared columns keyed by MART_KEY, typed alike whatever the frame's source.

    Numbers at the warehouse's precision (NUMERIC(18,2) and doubles round-tripped).
    """
    # reindex: a mart published before a column existed compares as null there.
    out = frame.set_index(MART_KEY).reindex(columns=_compared_columns())
    for column in out.columns:
        values = out[column]
        if column in _NUMBERS:
            out[column] = pd.to_numeric(values).astype("Float64").round(6)
        elif column in _DATES:
            out[column] = pd.to_datetime(values).astype("datetime64[s]")
        elif column == "rank":
            out[column] = pd.to_numeric(values).astype("Int64")
        elif column == "period_complete":
            out[column] = values.astype("boolean")
        else:
            out[column] = values.astype("string")
    return out


def _differs(old: pd.DataFrame, new: pd.DataFrame) -> pd.Series:
    """Per key of two aligned comparable frames: does any column differ (null equals null)?"""
    differs = np.zeros(len(new), dtype=bool)
    for column in new.columns:
        a, b = old[column], new[column]
        same = (a == b).fillna(False).to_numpy(dtype=bool) | (a.isna() & b.isna()).to_numpy()
        differs |= ~same
    return pd.Series(differs, index=new.index)


def diff_mart(published: pd.DataFrame, new: pd.DataFrame, run_id: str) -> MartChanges:
    """The rows to delete and to write so that the published mart (in the comparable form,
    `_comparable`) becomes `new`.

    Unchanged rows are in neither: they stay as published, with their old run id.
    """
    new = new.copy()
    new["run_id"] = run_id
    new_cmp = _comparable(new)
    if published.empty:
        keys = new.iloc[0:0][MART_KEY]
        return MartChanges(new, keys, PublishSummary(len(new), len(new), 0, 0), new_cmp)
    common = new_cmp.index.intersection(published.index)
    differs = _differs(published.loc[common], new_cmp.loc[common])
    changed = differs[differs].index
    added = new_cmp.index.difference(published.index)
    removed = published.index.difference(new_cmp.index)
    new_keys = pd.MultiIndex.from_frame(new[MART_KEY])
    written = new.loc[new_keys.isin(changed.append(added))].reset_index(drop=True)
    deleted = changed.append(removed).to_frame(index=False)
    summary = PublishSummary(
        rows=len(new), new=len(added), changed=len(changed), removed=len(removed)
    )
    return MartChanges(written, deleted, summary, new_cmp)


# ------------------------------------------------------------- the published mart's copy

_COPIED = schema.mart_target_achievement.name


def _published_comparable(conn: Connection, copies: Path | None) -> pd.DataFrame:
    """The published mart in the comparable form: its copy in `copies` when the warehouse
    names one there, else read from the warehouse."""
    if copies is not None:
        path = _named_copy(conn, copies)
        if path is not None:
            return _comparable(workspace.read_parquet(path))
    return _comparable(_published_for_diff(conn))


def _named_copy(conn: Connection, copies: Path) -> Path | None:
    """The copy in `copies` that the warehouse names, if there is one there."""
    table = schema.published_copies
    token = conn.execute(
        select(table.c.token).where(table.c.published == _COPIED)
    ).scalar_one_or_none()
    if token is None:
        return None
    path = copies / f"{token}.parquet"
    return path if path.is_file() else None


def _record_copy(
    conn: Connection, copies: Path | None, published: pd.DataFrame, run_id: str
) -> str | None:
    """Write the copy of the mart being published and name it in the warehouse (inside the
    publish's transaction: committed together, or neither); no folder: name none, since
    the copy named so far no longer holds. The copy's token, if any."""
    table = schema.published_copies
    conn.execute(table.delete().where(table.c.published == _COPIED))
    if copies is None:
        return None
    token = f"{run_id}-{uuid.uuid4().hex[:8]}"
    copies.mkdir(parents=True, exist_ok=True)
    written = copies / f"{token}.parquet.partial"
    published.reset_index().to_parquet(written, index=False)
    written.rename(copies / f"{token}.parquet")  # whole, or not there
    conn.execute(table.insert().values(published=_COPIED, token=token, run_id=run_id))
    return token


def _remove_other_copies(copies: Path, token: str) -> None:
    """After the commit: every copy but the one named (earlier ones, failed publishes')."""
    for path in copies.glob("*.parquet*"):
        if path.name != f"{token}.parquet":
            path.unlink(missing_ok=True)


def _delete_keys(conn: Connection, keys: pd.DataFrame) -> None:
    """Delete the mart rows of `keys`, set-based: the keys bulk-loaded, one DELETE by them."""
    if keys.empty:
        return
    conn.execute(text(f"DROP TABLE IF EXISTS {_KEYS_TABLE.name}"))
    _KEYS_TABLE.create(conn)
    bulk_insert(conn, _KEYS_TABLE, keys)
    names = ", ".join(MART_KEY)
    conn.execute(
        text(
            f"DELETE FROM {schema.mart_target_achievement.name} WHERE ({names}) IN "
            f"(SELECT {names} FROM {_KEYS_TABLE.name})"
        )
    )
    conn.execute(text(f"DROP TABLE {_KEYS_TABLE.name}"))


@dataclass(frozen=True)
class PartitionRows:
    """One township partition's reconciled frames: its name, the digest of its inputs and
    a loader (called only when its rows must be written, one partition at a time)."""

    part: str
    digest: str
    frames: Callable[[], Mapping[str, pd.DataFrame]]


def _replaced_partitions(
    conn: Connection, parts: Sequence[PartitionRows], run_id: str
) -> list[PartitionRows]:
    """The partitions whose inputs changed since they were published: their reconciled rows
    (and those of partitions that are gone, and rows of no partition, published before
    partitions) are deleted here, and the partitions published recorded; the caller adds
    the returned partitions' rows."""
    table_ = schema.recon_partitions
    published = {
        part: (digest, run)
        for part, digest, run in conn.execute(
            select(table_.c.partition, table_.c.digest, table_.c.run_id)
        ).all()
    }
    changed = [p for p in parts if published.get(p.part, ("", ""))[0] != p.digest]
    keep = {p.part for p in parts if p not in changed}
    for table in RECON_TABLES.values():
        _delete_partitions_but(conn, table, keep)
    conn.execute(schema.recon_partitions.delete())
    rows = pd.DataFrame(
        {
            "partition": [p.part for p in parts],
            "digest": [p.digest for p in parts],
            "run_id": [run_id if p in changed else published[p.part][1] for p in parts],
        }
    )
    bulk_insert(conn, schema.recon_partitions, rows)
    return changed


def _delete_partitions_but(conn: Connection, table: Table, keep: set[str]) -> None:
    """Delete a reconciled table's rows of every partition not in `keep`, and rows of no
    partition. By the partitions present (its index answers which), not by `NOT IN keep`:
    that condition no index serves, and a correction's delete scanned a million rows."""
    stale = [part for part in _partitions_present(conn, table) if part not in keep]
    conn.execute(table.delete().where(table.c.partition.is_(None)))
    if stale:
        conn.execute(table.delete().where(table.c.partition.in_(stale)))


def _partitions_present(conn: Connection, table: Table) -> list[str]:
    """The table's partitions (not null), found by one seek of its partition index a
    partition (a loose index scan): `SELECT DISTINCT` read the whole index, a million
    entries for a county's roster (a correction's publish: ~0.2 s for the seven tables)."""
    column = conn.dialect.identifier_preparer.quote(table.c.partition.name)
    name = conn.dialect.identifier_preparer.format_table(table)
    found = conn.execute(
        text(
            f"WITH RECURSIVE present(part) AS ("
            f" SELECT min({column}) FROM {name}"
            f" UNION ALL"
            f" SELECT (SELECT min({column}) FROM {name} WHERE {column} > present.part)"
            f" FROM present WHERE present.part IS NOT NULL"
            f") SELECT part FROM present WHERE part IS NOT NULL"
        )
    )
    return [str(part) for part in found.scalars()]


def _append_rows(conn: Connection, load: ScratchLoad, table: Table, frame: pd.DataFrame) -> int:
    """Add rows to a table; a surrogate integer key the frame lacks continues after the
    largest in the table (exams, changes: only row identities). SQLite numbers them so
    itself as the queued rows arrive; PostgreSQL is given them (its adds are immediate, so
    the connection is free to ask for the largest)."""
    keys = list(table.primary_key.columns)
    surrogate = len(keys) == 1 and isinstance(keys[0].type, Integer) and keys[0].name not in frame
    if surrogate and not load.numbers_missing_keys:
        start = conn.execute(select(func.coalesce(func.max(keys[0]), 0))).scalar_one()
        frame = frame.assign(**{keys[0].name: range(start + 1, start + 1 + len(frame))})
    return load.add(table, _in_key_order(frame, [k.name for k in keys]))


def _in_key_order(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """The rows sorted by the table's primary key: SQLite's key index takes runs of
    ascending keys far cheaper than keys in hash order (a roster's 1 M women keyed by
    hashes: 7.2 s of inserts unsorted, 5.2 s sorted)."""
    if not keys or not set(keys) <= set(frame.columns):
        return frame
    return frame.sort_values(keys, kind="stable", ignore_index=True)


def publish(
    engine: Engine,
    recon: Mapping[str, pd.DataFrame],
    mart: pd.DataFrame,
    run_id: str,
    before_commit: Callable[[], None] | None = None,
    partitions: Sequence[PartitionRows] | None = None,
    copies: Path | None = None,
) -> PublishSummary:
    """Replace the reconciled tables, write the mart's changes, add them to the history.

    `partitions`: a run's reconciled rows by township; only the partitions whose inputs
    changed since they were published are rewritten. `recon`: whole tables to replace
    (none: the reconciled tables stay). `copies`: the folder of the mart's copy, which
    the diff reads and this publish replaces (None: read the warehouse; the next publish
    too). `before_commit` is called inside the transaction once everything is written
    (the crash tests stop the process there).
    """
    with (
        engine.begin() as conn,
        closing(ScratchLoad(conn, copy_ahead_rows=COPY_AHEAD_ROWS)) as load,
    ):
        # Every statement of its own first, then the rows: the load copies them through
        # this connection on a thread of its own while the next are added.
        changes = diff_mart(_published_comparable(conn, copies), mart, run_id)
        changed = [] if partitions is None else _replaced_partitions(conn, partitions, run_id)
        for name, frame in recon.items():
            replace_rows(conn, RECON_TABLES[name], frame)
        if recon:  # whole tables: no partition is published any more
            conn.execute(schema.recon_partitions.delete())
        _delete_keys(conn, changes.deleted)
        for part in changed:
            for name, frame in part.frames().items():
                _append_rows(conn, load, RECON_TABLES[name], frame.assign(partition=part.part))
        load.add(schema.mart_target_achievement, changes.written)
        load.add(schema.mart_target_achievement_history, changes.written)
        load.flush()  # every queued row, after the deletes above
        token = _record_copy(conn, copies, changes.comparable, run_id)
        if before_commit is not None:
            before_commit()
    if copies is not None and token is not None:
        _remove_other_copies(copies, token)
    return changes.summary


COPY_AHEAD_ROWS = 400_000
"""Rows a scratch file of a publish holds before it is copied while the rest are added
(`ScratchLoad`): a cold publish of the scale county's 2.5 M rows in ~7 files."""


def grant_dashboard(engine: Engine, role: str) -> list[str]:
    """Create (if needed) a read-only PostgreSQL role that can select `mart_*` and nothing else."""
    if engine.dialect.name != "postgresql":
        raise ValueError("dashboard roles need PostgreSQL; SQLite has no roles")
    if not role.replace("_", "").isalnum():
        raise ValueError(f"role name must be letters, digits and _: {role!r}")
    marts = [t for t in schema.metadata.tables if t.startswith("mart_")]
    with engine.begin() as conn:
        current_schema = conn.execute(text("select current_schema()")).scalar_one()
        exists = conn.execute(
            text("select 1 from pg_roles where rolname = :r"), {"r": role}
        ).first()
        if not exists:
            conn.execute(text(f'create role "{role}" nologin'))
        conn.execute(text(f'grant usage on schema "{current_schema}" to "{role}"'))
        for table in marts:
            conn.execute(text(f'grant select on "{current_schema}"."{table}" to "{role}"'))
    return marts
