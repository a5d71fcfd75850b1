"""A run's partitions on disk: the current staged rows split by township, and read back.

`split_current_rows` reads the current staged rows once, a batch at a time, routes
every row (transforms.reconcile.partitions: by person for reconciliation, by area
for the checks) and writes each partition's share of each batch under the run's
folder: `<folder>/<township>/<template>.arrow` (Arrow IPC) with two flags, `_recon`
and `_check`, saying which work the row takes part in there, and `_excluded` (an
error row: never reconciled, seen by the checks only). `<folder>/<township>/uploads.parquet`
holds the manifest rows of the township's uploaders. A partition's task then reads
only its own folder (`load_partition`), so it needs no database and no other
township's rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
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
    person_homes,
    route,
    uploader_partitions,
)
from transforms.templates import Contract, Template
from warehouse.staged import exclusions, uploads_frame, uploads_with_rows

_FLAGS = ["_recon", "_check", "_excluded"]
SHARE_SUFFIX = ".arrow"
"""A routed share's file name ends so (Arrow IPC); the partition cache digests them."""
_HOME_COLUMNS = {
    "village_women": ["upload_id", "unit", "id_number_key", "residence"],
    "village_births": ["upload_id", "unit", "mother_id_key"],
}


def _home_rows(raw_dir: Path, current: pd.DataFrame, contract: Contract, name: str) -> pd.DataFrame:
    """The distinct values of the columns that decide homes, of the current uploads' rows
    (no exclusions: an error row still says where a person is listed)."""
    template = contract.templates[name]
    mine = uploads_with_rows(current, template)
    deciding = [c for c in _HOME_COLUMNS[name] if c != "upload_id"]
    # Kept distinct file by file: a woman is on twelve monthly rosters, and only where she
    # is listed, and how, decides her home (a county's million rows become a tenth).
    distinct: pa.Table | None = None
    for path, group in mine.groupby("staged_path"):
        rows = pq.read_table(
            raw_dir / str(path),
            columns=_HOME_COLUMNS[name],
            filters=[("upload_id", "in", [int(i) for i in group["upload_id"]])],
        ).select(deciding)
        both = (
            rows
            if distinct is None
            else pa.concat_tables([distinct, rows], promote_options="permissive")
        )
        distinct = both.group_by(deciding, use_threads=False).aggregate([])
    if distinct is None:
        return pd.DataFrame({c: pd.Series(dtype="string") for c in deciding})
    return distinct.to_pandas()


@dataclass(frozen=True)
class Split:
    """The partitions written (sorted township codes) and the earliest loaded month."""

    parts: list[str]
    first_loaded_month: str | None


def split_current_rows(
    engine: Engine,
    raw_dir: Path,
    contract: Contract,
    institutions: pd.DataFrame,
    folder: Path,
    batch_rows: int = 100_000,
) -> Split:
    """Write each partition's current rows to `folder`; the partitions, sorted.

    A partition is named by its township code ("" for rows whose unit names none,
    written to `_`). Every township with an uploader is a partition, even when all its
    rows were routed elsewhere: its expected uploads are still checked there.
    Rows are read, routed and written `batch_rows` at a time (memory holds one batch),
    appended to `<township>/<template>.arrow`: a partition's files change only when its
    rows do (the partition cache keys on them).
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
    for name, template in contract.templates.items():
        mine = excluded.loc[excluded["template"] == name, ["upload_id", "row_number"]]
        with _ShareWriters(folder, name) as writers:
            for rows in _current_batches(raw_dir, current, template, batch_rows):
                parts |= _write_routed(writers, name, rows, mine, homes, institutions)
    # No upload at all still makes one (empty) partition: the run publishes its empty figures.
    ordered = sorted(parts) or [NO_PARTITION]
    for part in ordered:
        target = folder / (part or "_")
        target.mkdir(parents=True, exist_ok=True)
        uploads.loc[(by_uploader == part).to_numpy(bool)].to_parquet(
            target / "uploads.parquet", index=False
        )
    return Split(ordered, first_loaded_month(uploads))


def _current_batches(
    raw_dir: Path, current: pd.DataFrame, template: Template, batch_rows: int
) -> Iterator[pa.Table]:
    """The staged rows of the current uploads of a template, a batch at a time, in the
    order of their staged files and rows."""
    mine = uploads_with_rows(current, template)
    groups = sorted(mine.groupby("staged_path"))
    if not groups:
        return
    files = [raw_dir / str(path) for path, _ in groups]
    # Staged files of several landings hold the same columns, typed apart where one was all
    # null: read them all as one schema, so every batch (and a share file's) agrees.
    schema = pa.unify_schemas([pq.read_schema(f) for f in files], promote_options="permissive")
    for file, (_, group) in zip(files, groups, strict=True):
        ids = pa.array([int(i) for i in group["upload_id"]], type=pa.int64())
        dataset = ds.dataset(file, format="parquet", schema=schema)
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
    """One Arrow IPC file per partition for a template's rows, `<township>/<template>.arrow`,
    appended batch by batch (LZ4): scratch read once or twice in the same night, so written
    fast rather than small, and few (creating a file costs ~0.5 ms here, and a county's
    split of a batch a file made a couple of thousand)."""

    def __init__(self, folder: Path, name: str) -> None:
        self.folder, self.name = folder, name
        self.open: dict[str, tuple[pa.NativeFile, pa.ipc.RecordBatchFileWriter]] = {}

    def write(self, part: str, share: pa.Table) -> None:
        """Append a share; every batch of a template has one schema (`_current_batches`)."""
        if part not in self.open:
            target = self.folder / (part or "_")
            target.mkdir(parents=True, exist_ok=True)
            sink = pa.OSFile(str(target / f"{self.name}{SHARE_SUFFIX}"), "wb")
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
    excluded: pd.DataFrame,
    homes: pd.Series,
    institutions: pd.DataFrame,
) -> set[str]:
    """Route one batch of a template's rows and write each partition's share; the
    partitions it touched."""
    keys = rows.select([c for c in _routing_columns(name) if c in rows.schema.names]).to_pandas()
    row_ids = ["upload_id", "row_number"]
    is_excluded = pd.MultiIndex.from_frame(keys[row_ids].astype("int64")).isin(
        pd.MultiIndex.from_frame(excluded[row_ids].astype("int64"))
    )
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
    return set(touched)


def _partition_rows(path: Path, template: Template, contract: Contract) -> pd.DataFrame:
    """A partition's rows of one template, or none."""
    if not path.exists():
        return empty_staged(template, contract).assign(
            _recon=pd.Series(dtype=bool),
            _check=pd.Series(dtype=bool),
            _excluded=pd.Series(dtype=bool),
        )
    with pa.memory_map(str(path)) as source:
        return pa.ipc.open_file(source).read_all().to_pandas()


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
    uploads = pd.read_parquet(target / "uploads.parquet")
    recon: dict[str, pd.DataFrame] = {}
    checks: dict[str, pd.DataFrame] = {}
    excluded: dict[str, pd.DataFrame] = {}
    for name, template in contract.templates.items():
        rows = _partition_rows(target / f"{name}{SHARE_SUFFIX}", template, contract)
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
