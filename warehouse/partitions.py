"""A run's partitions on disk: the current staged rows split by township, and read back.

`split_current_rows` reads the current staged rows once, a batch at a time, routes
every row (transforms.reconcile.partitions: by person for reconciliation, by area
for the checks) and writes each partition's share of each batch under the run's
folder: `<folder>/<township>/<template>/<batch>.parquet` with two flags, `_recon`
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
from warehouse.staged import exclusions, uploads_frame

_FLAGS = ["_recon", "_check", "_excluded"]
_HOME_COLUMNS = {
    "village_women": ["upload_id", "unit", "id_number_key", "residence"],
    "village_births": ["upload_id", "unit", "mother_id_key"],
}


def _home_rows(raw_dir: Path, current: pd.DataFrame, contract: Contract, name: str) -> pd.DataFrame:
    """Only the columns that decide homes, of the current uploads' rows (no exclusions:
    an error row still says where a person is listed)."""
    template = contract.templates[name]
    mine = current.loc[
        (current["source"] == template.source)
        & (current["kind"] == template.kind)
        & current["staged_path"].notna()
    ]
    frames = [
        pq.read_table(
            raw_dir / str(path),
            columns=_HOME_COLUMNS[name],
            filters=[("upload_id", "in", [int(i) for i in group["upload_id"]])],
        ).to_pandas()
        for path, group in mine.groupby("staged_path")
    ]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype="string") for c in _HOME_COLUMNS[name]})
    return pd.concat(frames, ignore_index=True)


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
    batch_rows: int = 200_000,
) -> Split:
    """Write each partition's current rows to `folder`; the partitions, sorted.

    A partition is named by its township code ("" for rows whose unit names none,
    written to `_`). Every township with an uploader is a partition, even when all its
    rows were routed elsewhere: its expected uploads are still checked there.
    Rows are read, routed and written `batch_rows` at a time (memory holds one batch),
    as `<township>/<template>/<staged file>-<batch>.parquet`: a partition's files change
    only when its rows do (the partition cache keys on them).
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
        for label, rows in _current_batches(raw_dir, current, template, batch_rows):
            parts |= _write_routed(folder, name, label, rows, mine, homes, institutions)
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
) -> Iterator[tuple[str, pa.Table]]:
    """The staged rows of the current uploads of a template, a batch at a time, in the
    order of their staged files and rows; each with a label naming its place in it."""
    mine = current.loc[
        (current["source"] == template.source)
        & (current["kind"] == template.kind)
        & current["staged_path"].notna()
    ]
    for number, (path, group) in enumerate(sorted(mine.groupby("staged_path"))):
        ids = pa.array([int(i) for i in group["upload_id"]], type=pa.int64())
        dataset = ds.dataset(raw_dir / str(path), format="parquet")
        batches = dataset.to_batches(
            filter=ds.field("upload_id").isin(ids), batch_size=batch_rows, use_threads=False
        )
        for part_number, batch in enumerate(batches):
            if batch.num_rows:
                yield f"{number:05d}-{part_number:05d}", pa.Table.from_batches([batch])


def _routing_columns(name: str) -> list[str]:
    """The columns routing reads (the rest of a row travels as Arrow, untouched)."""
    area = AREA_COLUMN[name]
    return ["upload_id", "row_number", "unit", *PERSON_COLUMNS[name], *([area] if area else [])]


def _write_routed(
    folder: Path,
    name: str,
    label: str,
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
    touched = set(routes["recon_part"].unique()) | set(routes["check_part"].unique())
    for part in sorted(touched):
        recon = (routes["recon_part"] == part).to_numpy(bool) & ~is_excluded
        check = (routes["check_part"] == part).to_numpy(bool)
        keep = recon | check
        share = rows.filter(pa.array(keep))
        for flag, values in (("_excluded", is_excluded), ("_recon", recon), ("_check", check)):
            share = share.append_column(flag, pa.array(values[keep], type=pa.bool_()))
        target = folder / (part or "_") / name
        target.mkdir(parents=True, exist_ok=True)
        pq.write_table(share, target / f"{label}.parquet")
    return touched


def _partition_rows(folder: Path, template: Template, contract: Contract) -> pd.DataFrame:
    """A partition's rows of one template (its batch files in order), or none."""
    files = sorted(folder.glob("*.parquet")) if folder.is_dir() else []
    if not files:
        return empty_staged(template, contract).assign(
            _recon=pd.Series(dtype=bool),
            _check=pd.Series(dtype=bool),
            _excluded=pd.Series(dtype=bool),
        )
    # One Arrow read of every batch file, one conversion: files are many and small.
    return ds.dataset([str(f) for f in files], format="parquet").to_table().to_pandas()


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
