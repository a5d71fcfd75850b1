"""A run's partitions on disk: the current staged rows split by township, and read back.

`split_current_rows` routes every current staged row (transforms.reconcile.partitions: by
person for reconciliation, by area for the checks) and writes each partition's share of
each staged file under the run's folder: `<folder>/<township>/<template>/<n>.arrow`
(Arrow IPC; `n` the staged file's place, so that a partition reads its rows in the order
of the files and their rows) with three flags: `_recon` and `_check` say which work the
row takes part in there, `_excluded` marks an error row (never reconciled, seen by the
checks only). `<folder>/<township>/uploads.parquet` holds the manifest rows of the
township's uploaders. A partition's task then reads only its own folder
(`load_partition`), so it needs no database and no other township's rows.

A staged file's shares are kept in the split cache (`<home>/split-cache`), keyed by what
decides them: the file, its current uploads and their excluded rows, the template's
schema, the institutions and the code; and checked against the homes of the persons in
it. A night routes only the files that are new or changed, or that hold a person whose
home moved, and links the rest into its folder: a correction of one village routes that
village's file, not the county's million rows.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from sqlalchemy import Engine

from transforms.landing.normalise import empty_staged
from transforms.reconcile.all_sources import ReconInputs
from transforms.reconcile.cross_checks import first_loaded_month
from transforms.reconcile.partitions import (
    AREA_COLUMN,
    NO_PARTITION,
    PERSON_COLUMNS,
    PartitionInputs,
    areas_of,
    home_of,
    person_homes,
    route,
    uploader_partitions,
)
from transforms.templates import Contract, Template
from warehouse import workspace
from warehouse.staged import exclusions, uploads_frame, uploads_with_rows

_FLAGS = ["_recon", "_check", "_excluded"]
# Worker processes to route in: called with an initializer and its arguments, it gives
# an executor (a context manager) whose every worker ran the initializer.
RoutingPool = Callable[[Callable[..., None], tuple[Any, ...]], Executor]
SHARE_SUFFIX = ".arrow"
"""A routed share's file name ends so (Arrow IPC); the partition cache digests them."""
_HOME_COLUMNS = {
    "village_women": ["upload_id", "unit", "id_number_key", "residence"],
    "village_births": ["upload_id", "unit", "mother_id_key"],
}


# Rows gathered before they are reduced to distinct ones: one reduction over many files
# costs less than one per file (a county's roster: 1.5 s file by file, 0.7 s at once), and
# half a million rows of three short strings hold ~50 MB.
_HOME_REDUCE_ROWS = 500_000


def _home_rows(raw_dir: Path, current: pd.DataFrame, contract: Contract, name: str) -> pd.DataFrame:
    """The distinct values of the columns that decide homes, of the current uploads' rows
    (no exclusions: an error row still says where a person is listed)."""
    template = contract.templates[name]
    mine = uploads_with_rows(current, template)
    deciding = [c for c in _HOME_COLUMNS[name] if c != "upload_id"]
    # Kept distinct: a woman is on twelve monthly rosters, and only where she is listed,
    # and how, decides her home (a county's million rows become a tenth).
    gathered: list[pa.Table] = []
    gathered_rows = 0
    for path, group in mine.groupby("staged_path"):
        rows = pq.read_table(raw_dir / str(path), columns=_HOME_COLUMNS[name])
        current_ids = pa.array(group["upload_id"].astype("int64"), pa.int64())
        ids = pc.cast(rows["upload_id"], pa.int64())
        gathered.append(rows.filter(pc.is_in(ids, value_set=current_ids)).select(deciding))
        gathered_rows += gathered[-1].num_rows
        if gathered_rows >= _HOME_REDUCE_ROWS:
            gathered = [_distinct(gathered, deciding)]
            gathered_rows = gathered[0].num_rows
    if not gathered:
        return pd.DataFrame({c: pd.Series(dtype="string") for c in deciding})
    return _distinct(gathered, deciding).to_pandas()


def _distinct(tables: list[pa.Table], columns: list[str]) -> pa.Table:
    """The distinct rows of `tables` (schemas promoted where a file's column was all null).

    Grouped by each column's dictionary codes, not by its text: a person key is 64
    characters, and hashing the codes costs a fraction (a county's roster: 0.42 s by the
    text, 0.13 s encoding and grouping the codes).
    """
    both = pa.concat_tables(tables, promote_options="permissive").combine_chunks()
    encoded = [pc.dictionary_encode(_text(both.column(c))).combine_chunks() for c in columns]
    codes = pa.table({c: e.indices for c, e in zip(columns, encoded, strict=True)})
    distinct = codes.group_by(columns, use_threads=False).aggregate([])
    return pa.table(
        {
            c: pc.take(e.dictionary, distinct.column(c))
            for c, e in zip(columns, encoded, strict=True)
        }
    )


def _text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A column all null in every file (typed null) as text: Arrow encodes no null type."""
    return column.cast(pa.large_string()) if pa.types.is_null(column.type) else column


@dataclass(frozen=True)
class Split:
    """The partitions written (sorted township codes), the earliest loaded month, and how
    many staged files were routed this time (the rest were the split cache's)."""

    parts: list[str]
    first_loaded_month: str | None
    files_routed: int = 0
    files_kept: int = 0


def split_current_rows(
    engine: Engine,
    raw_dir: Path,
    contract: Contract,
    institutions: pd.DataFrame,
    folder: Path,
    batch_rows: int = 100_000,
    cache: Path | None = None,
    salt: str = "",
    workers: RoutingPool | None = None,
) -> Split:
    """Write each partition's current rows to `folder`; the partitions, sorted.

    A partition is named by its township code ("" for rows whose unit names none,
    written to `_`). Every township with an uploader is a partition, even when all its
    rows were routed elsewhere: its expected uploads are still checked there.
    Rows are read, routed and written `batch_rows` at a time (memory holds one batch).
    `cache`: the split cache's folder (None: route every file, keep nothing); `salt`:
    what else decides the routing (the code's digest). `workers`: worker processes to
    route the files in when there are enough to route (`ROUTING_POOL_MIN_FILES` and
    `_BYTES`; None: here, one after another).
    """
    with engine.connect() as conn:
        uploads, excluded = uploads_frame(conn), exclusions(conn)
    current = uploads.loc[uploads["status"] == "loaded"]
    homes = person_homes(
        _home_rows(raw_dir, current, contract, "village_women"),
        _home_rows(raw_dir, current, contract, "village_births"),
    )
    by_uploader = uploader_partitions(uploads["unit"], institutions)
    # A file whose unit could not be read (quarantined) is no township's upload.
    parts: set[str] = set(by_uploader[by_uploader != NO_PARTITION].unique())
    # No cache: a scratch one in the run's folder (hard links need the same device).
    scratch = folder / ".split"
    shares = _ShareCache(cache, homes, f"{salt}:{_frame_digest(institutions)}", scratch)
    placed: list[tuple[_Entry, str, int]] = []
    to_route: list[_Routing] = []
    for name, template in contract.templates.items():
        mine = excluded.loc[excluded["template"] == name, ["upload_id", "row_number"]]
        files = _staged_files(raw_dir, current, template)
        for position, staged in enumerate(files):
            # The file's excluded rows: part of its entry's key, and marked when routed.
            its_excluded = mine.loc[mine["upload_id"].isin(staged.upload_ids)]
            entry = shares.entry(name, staged, its_excluded)
            if not shares.valid(entry):
                to_route.append(_Routing(name, entry, staged, its_excluded, batch_rows))
            placed.append((entry, name, position))
    _route_files(to_route, homes, institutions, workers)
    shares.routed += len(to_route)
    for entry, name, position in placed:
        parts |= shares.link(entry, folder, name, position)
    shares.prune()
    shares.remember_homes()
    # No upload at all still makes one (empty) partition: the run publishes its empty figures.
    ordered = sorted(parts) or [NO_PARTITION]
    for part in ordered:
        target = folder / (part or "_")
        target.mkdir(parents=True, exist_ok=True)
        uploads.loc[(by_uploader == part).to_numpy(bool)].to_parquet(
            target / "uploads.parquet", index=False
        )
    return Split(ordered, first_loaded_month(uploads), shares.routed, shares.kept)


def _frame_digest(frame: pd.DataFrame) -> str:
    """A digest of a frame's values and index, in order."""
    hashed = pd.util.hash_pandas_object(frame, index=True).to_numpy()
    return hashlib.sha256(hashed.tobytes()).hexdigest()


@dataclass(frozen=True)
class _StagedFile:
    """One staged file of a template: its path, the current uploads in it, and the schema
    every file of the template is read as (files of several landings hold the same
    columns, typed apart where one was all null: one schema makes every share agree)."""

    path: Path
    name: str
    """The path under the raw layer, as the manifest names it."""
    upload_ids: list[int]
    schema: pa.Schema


def _staged_files(raw_dir: Path, current: pd.DataFrame, template: Template) -> list[_StagedFile]:
    """The staged files holding current uploads of a template, in path order."""
    mine = uploads_with_rows(current, template)
    groups = sorted(mine.groupby("staged_path"))
    files = [raw_dir / str(path) for path, _ in groups]
    if not files:
        return []
    schema = pa.unify_schemas([pq.read_schema(f) for f in files], promote_options="permissive")
    return [
        _StagedFile(file, str(path), sorted(int(i) for i in group["upload_id"]), schema)
        for file, (path, group) in zip(files, groups, strict=True)
    ]


@dataclass(frozen=True)
class _Entry:
    """Where a staged file's routed shares are (or will be) kept: `<cache>/<template>/<key>`,
    one `<township>.arrow` each, `homes.parquet` (the home each person in the file had
    when routed) and `entry.json` (the homes' digest then, the townships)."""

    folder: Path
    key: str


_ENTRY = "entry.json"
_PERSON_HOMES = "homes.parquet"
_LAST_HOMES, _LAST_HOMES_DIGEST = "last-homes.parquet", "last-homes.json"


class _ShareCache:
    """The split cache of one run: which staged files' shares can be kept, which were used
    (the rest are removed at the end), how many were routed and kept."""

    def __init__(self, root: Path | None, homes: pd.Series, salt: str, scratch: Path) -> None:
        self.temporary = root is None
        self.root = scratch if root is None else root
        self.homes, self.salt = homes, salt
        self.homes_digest = _frame_digest(homes.to_frame())
        self.used: set[Path] = set()
        self.routed = self.kept = 0
        self.previous_digest, self.moved = self._moved_since_last()

    def _moved_since_last(self) -> tuple[str | None, pa.Array | None]:
        """The digest of the homes of the last split into this cache, and the persons whose
        home has changed since (a handful, usually): an entry kept then holds now unless
        it lists one of them."""
        try:
            last = json.loads((self.root / _LAST_HOMES_DIGEST).read_text(encoding="utf-8"))
            if last["digest"] == self.homes_digest:
                return self.homes_digest, pa.array([], type=pa.string())
            then = workspace.read_parquet(self.root / _LAST_HOMES)
        except (OSError, ValueError, KeyError):
            return None, None
        before = pd.Series(then["home"].to_numpy(dtype=object, na_value=None), index=then["person"])
        now = self.homes.astype(object).where(self.homes.notna(), None)
        both = pd.concat([before.rename("before"), now.rename("now")], axis=1)
        moved = both.index[both["before"].to_numpy() != both["now"].to_numpy()]
        return str(last["digest"]), pa.array(moved.astype(str).tolist(), type=pa.string())

    def remember_homes(self) -> None:
        """Keep this split's homes: the next one finds who moved since (`_moved_since_last`)."""
        if self.temporary:
            return
        self.root.mkdir(parents=True, exist_ok=True)
        frame = pd.DataFrame(
            {"person": self.homes.index.astype(str), "home": self.homes.to_numpy()}
        ).astype("string")
        frame.to_parquet(self.root / _LAST_HOMES, index=False)
        digest = json.dumps({"digest": self.homes_digest})
        (self.root / _LAST_HOMES_DIGEST).write_text(digest, encoding="utf-8")

    def entry(self, template: str, staged: _StagedFile, excluded: pd.DataFrame) -> _Entry:
        """The entry of a staged file (`excluded`: its excluded rows), keyed by everything but
        the homes."""
        rows = excluded.sort_values(["upload_id", "row_number"]).astype("int64")
        key = hashlib.sha256(
            json.dumps(
                {
                    "salt": self.salt,
                    "file": staged.name,
                    "uploads": staged.upload_ids,
                    "excluded": rows.to_numpy().tolist(),
                    "schema": staged.schema.to_string(show_schema_metadata=False),
                }
            ).encode("utf-8")
        ).hexdigest()
        return _Entry(self.root / template / key, key)

    def valid(self, entry: _Entry) -> bool:
        """True when the entry is complete and each person in it still has the home it
        was routed by (at once when no home moved since)."""
        try:
            info = json.loads((entry.folder / _ENTRY).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        if info.get("homes") == self.previous_digest and self.moved is not None:
            # Kept by the last split: it holds unless it lists someone who moved since.
            persons = workspace.read_table(entry.folder / _PERSON_HOMES, columns=["person"])
            if pc.any(pc.is_in(persons.column("person"), value_set=self.moved)).as_py():
                return False
        elif info.get("homes") != self.homes_digest:
            then = workspace.read_parquet(entry.folder / _PERSON_HOMES)
            now = home_of(then["person"].astype("string"), self.homes)
            routed_by = then["home"].to_numpy(dtype=object, na_value=None)
            if not np.array_equal(now.to_numpy(dtype=object, na_value=None), routed_by):
                return False
        self.kept += 1
        return True

    def link(self, entry: _Entry, folder: Path, template: str, position: int) -> set[str]:
        """Link the entry's shares into the run's partition folders; their townships."""
        self.used.add(entry.folder)
        info = json.loads((entry.folder / _ENTRY).read_text(encoding="utf-8"))
        if info.get("homes") != self.homes_digest:  # checked: the shares hold for these homes
            info["homes"] = self.homes_digest
            (entry.folder / _ENTRY).write_text(json.dumps(info), encoding="utf-8")
        for part in info["parts"]:
            target = folder / (part or "_") / template
            target.mkdir(parents=True, exist_ok=True)
            source = entry.folder / f"{part or '_'}{SHARE_SUFFIX}"
            _link_or_copy(source, target / f"{position:05d}{SHARE_SUFFIX}")
        return set(info["parts"])

    def prune(self) -> None:
        """Remove the entries this run did not use (and what a killed run left)."""
        if self.temporary:
            shutil.rmtree(self.root, ignore_errors=True)
            return
        if not self.root.is_dir():
            return
        for template in self.root.iterdir():
            for folder in template.iterdir() if template.is_dir() else []:
                if folder not in self.used:
                    shutil.rmtree(folder, ignore_errors=True)


def _link_or_copy(source: Path, target: Path) -> None:
    """A hard link (no bytes copied), or a copy where the cache is on another device."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


@dataclass(frozen=True)
class _Routing:
    """One staged file to route: its template, its cache entry, its excluded rows."""

    name: str
    entry: _Entry
    staged: _StagedFile
    excluded: pd.DataFrame
    batch_rows: int


# What repays routing in worker processes (whose server may still have to start, ~3 s):
# a cold county's 96 files and 250 MB (~8 s of routing) do; a correction's two files, or
# a new month's eight (~1.5 s), do not.
ROUTING_POOL_MIN_FILES = 24
ROUTING_POOL_MIN_BYTES = 32 * 1024 * 1024
# What every routing worker holds (set once per worker by `_hold_for_routing`).
_HELD: dict[str, Any] = {}


def _route_files(
    files: list[_Routing],
    homes: pd.Series,
    institutions: pd.DataFrame,
    workers: RoutingPool | None,
) -> None:
    """Route each file into its entry's shares: here, or in `workers` (each file's entry
    is its own folder, so files route independently)."""
    sizes = [f.staged.path.stat().st_size for f in files]
    if (
        workers is None
        or len(files) < ROUTING_POOL_MIN_FILES
        or sum(sizes) < ROUTING_POOL_MIN_BYTES
    ):
        for file in files:
            _route_file(file, homes, institutions)
        return
    with workers(_hold_for_routing, (homes, institutions)) as pool:
        # Largest first: the workers then end evenly.
        by_size = [f for _, f in sorted(zip(sizes, files, strict=True), key=lambda p: -p[0])]
        for _ in pool.map(_route_held, by_size):
            pass


def _hold_for_routing(homes: pd.Series, institutions: pd.DataFrame) -> None:
    """A routing worker's initializer: the homes and institutions every file routes by."""
    _HELD["homes"], _HELD["institutions"] = homes, institutions


def _route_held(file: _Routing) -> None:
    _route_file(file, _HELD["homes"], _HELD["institutions"])


def _route_file(file: _Routing, homes: pd.Series, institutions: pd.DataFrame) -> None:
    """Route one staged file's current rows into the entry's shares, a batch at a time;
    written beside it and swapped in whole (a killed run leaves the old entry or none)."""
    name, entry, staged, excluded = file.name, file.entry, file.staged, file.excluded
    fresh = entry.folder.with_name(f"{entry.key}.new")
    shutil.rmtree(fresh, ignore_errors=True)
    fresh.mkdir(parents=True)
    excluded_rows = pd.MultiIndex.from_frame(excluded[["upload_id", "row_number"]].astype("int64"))
    persons: list[pd.DataFrame] = []
    with _ShareWriters(fresh) as writers:
        for rows in _file_batches(staged, file.batch_rows):
            persons.append(_write_routed(writers, name, rows, excluded_rows, homes, institutions))
    routed = pd.concat(
        [pd.DataFrame({"person": [], "home": []}, dtype="string"), *persons], ignore_index=True
    ).drop_duplicates("person")
    routed.reset_index(drop=True).to_parquet(fresh / _PERSON_HOMES, index=False)
    info = {"homes": "", "parts": sorted(writers.open)}  # `link` records the homes
    (fresh / _ENTRY).write_text(json.dumps(info), encoding="utf-8")
    shutil.rmtree(entry.folder, ignore_errors=True)
    fresh.rename(entry.folder)


def _file_batches(staged: _StagedFile, batch_rows: int) -> Iterator[pa.Table]:
    """A staged file's rows of its current uploads, a batch at a time, in row order."""
    ids = pa.array(staged.upload_ids, type=pa.int64())
    dataset = ds.dataset(staged.path, format="parquet", schema=staged.schema)
    batches = dataset.to_batches(
        filter=ds.field("upload_id").isin(ids),
        batch_size=batch_rows,
        # One batch in memory, not the scanner's default read-ahead of sixteen.
        batch_readahead=0,
        fragment_readahead=0,
        use_threads=False,
    )
    for batch in batches:
        if batch.num_rows:
            yield pa.Table.from_batches([batch])


def _routing_columns(name: str) -> list[str]:
    """The columns routing reads (the rest of a row travels as Arrow, untouched)."""
    area = AREA_COLUMN[name]
    return ["upload_id", "row_number", "unit", *PERSON_COLUMNS[name], *([area] if area else [])]


class _ShareWriters:
    """One Arrow IPC file per partition for a staged file's rows, `<township>.arrow`,
    appended batch by batch (LZ4): read once or twice a night, so written fast rather
    than small."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.open: dict[str, tuple[pa.NativeFile, pa.ipc.RecordBatchFileWriter]] = {}

    def write(self, part: str, share: pa.Table) -> None:
        """Append a share; every batch of a template has one schema (`_StagedFile`)."""
        if part not in self.open:
            sink = pa.OSFile(str(self.folder / f"{part or '_'}{SHARE_SUFFIX}"), "wb")
            options = pa.ipc.IpcWriteOptions(compression="lz4")
            self.open[part] = (sink, pa.ipc.new_file(sink, share.schema, options=options))
        self.open[part][1].write_table(share)

    def __enter__(self) -> _ShareWriters:
        return self

    def __exit__(self, *_: object) -> None:
        for sink, writer in self.open.values():
            writer.close()
            sink.close()


def _write_routed(
    writers: _ShareWriters,
    name: str,
    rows: pa.Table,
    excluded: pd.MultiIndex,
    homes: pd.Series,
    institutions: pd.DataFrame,
) -> pd.DataFrame:
    """Route one batch of a template's rows and write each partition's share; the batch's
    persons with the home each was routed by (`person`, `home`)."""
    keys = rows.select([c for c in _routing_columns(name) if c in rows.schema.names]).to_pandas()
    row_ids = ["upload_id", "row_number"]
    is_excluded = pd.MultiIndex.from_frame(keys[row_ids].astype("int64")).isin(excluded)
    routes = route(name, keys, homes, institutions)
    # Integer codes of one shared list of partitions: a comparison per partition is cheap.
    codes, touched = pd.factorize(
        pd.concat([routes["recon_part"], routes["check_part"]], ignore_index=True), sort=True
    )
    recon_codes, check_codes = codes[: len(routes)], codes[len(routes) :]
    for number, part in enumerate(touched):
        recon = (recon_codes == number) & ~is_excluded
        check = check_codes == number
        keep = recon | check
        share = rows.filter(pa.array(keep))
        for flag, values in (("_excluded", is_excluded), ("_recon", recon), ("_check", check)):
            share = share.append_column(flag, pa.array(values[keep], type=pa.bool_()))
        writers.write(part, share)
    # Each person once, with the home `route` looked up for her rows.
    persons = routes.loc[routes["person"].notna().to_numpy(bool), ["person", "home"]]
    return persons.drop_duplicates("person").reset_index(drop=True).astype("string")


def _partition_rows(folder: Path, template: Template, contract: Contract) -> pd.DataFrame:
    """A partition's rows of one template (its shares of every staged file, in order), or
    none."""
    shares = sorted(folder.glob(f"*{SHARE_SUFFIX}")) if folder.is_dir() else []
    if not shares:
        return empty_staged(template, contract).assign(
            _recon=pd.Series(dtype=bool),
            _check=pd.Series(dtype=bool),
            _excluded=pd.Series(dtype=bool),
        )
    tables = []
    for path in shares:
        with pa.memory_map(str(path)) as source:
            tables.append(pa.ipc.open_file(source).read_all())
    return pa.concat_tables(tables).to_pandas()


def _without_flags(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=_FLAGS).reset_index(drop=True)


def load_partition(
    folder: Path, part: str, contract: Contract, areas: pd.DataFrame
) -> PartitionInputs:
    """A partition's inputs as written by split_current_rows.

    Reconciliation sees every area (a birth's area is chosen among the villages of
    areas.csv); the checks see the township's own areas only (`partitions.areas_of`).
    """
    target = folder / (part or "_")
    uploads = workspace.read_parquet(target / "uploads.parquet")
    recon: dict[str, pd.DataFrame] = {}
    checks: dict[str, pd.DataFrame] = {}
    excluded: dict[str, pd.DataFrame] = {}
    for name, template in contract.templates.items():
        rows = _partition_rows(target / name, template, contract)
        recon[name] = _without_flags(rows.loc[rows["_recon"].to_numpy(bool)])
        check = rows["_check"].to_numpy(bool)
        is_excluded = rows["_excluded"].to_numpy(bool)
        checks[name] = _without_flags(rows.loc[check & ~is_excluded])
        excluded[name] = _without_flags(rows.loc[check & is_excluded])
    return PartitionInputs(
        part=part,
        recon=ReconInputs(**recon, uploads=uploads, areas=areas),
        checks=ReconInputs(
            **checks, uploads=uploads, areas=areas_of(areas, part), excluded=excluded
        ),
    )
