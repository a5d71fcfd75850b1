"""Landing: new inbox files → manifest rows, raw and staged Parquet, `stg_*` tables.

Each template is landed in its own transaction: a run that dies part-way leaves
whole templates landed and the rest untouched, to be picked up by the next run.
Files are read once: the manifest remembers every (path, sha256) it has seen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Connection, Engine, func, select, update

from transforms.landing import manifest_rules
from transforms.landing.filenames import NameProblem, UploadName, parse_upload_name
from transforms.landing.normalise import normalise_frame
from transforms.landing.readers import canonical_frame, read_upload
from transforms.templates import Contract, Template
from warehouse import schema
from warehouse.inbox import read_file, scan_inbox
from warehouse.load import bulk_insert, read_frame

Progress = Callable[[str], None]


@dataclass
class LandingSummary:
    """What one landing did: files by status, rows by template."""

    files_by_status: dict[str, int] = field(default_factory=dict)
    rows_by_template: dict[str, int] = field(default_factory=dict)
    upload_ids: list[int] = field(default_factory=list)

    def count(self, status: str, n: int = 1) -> None:
        self.files_by_status[status] = self.files_by_status.get(status, 0) + n


@dataclass(frozen=True)
class LandingContext:
    """Where things are and how to key persons, for one run."""

    inbox: Path
    raw_dir: Path
    run_id: str
    contract: Contract
    secret: bytes
    deadline_day: int
    time_zone: str


def manifest_frame(conn: Connection) -> pd.DataFrame:
    u = schema.uploads.c
    return read_frame(
        conn,
        select(
            u.upload_id,
            u.path,
            u.sha256,
            u.size_bytes,
            u.arrived_at,
            u.status,
            u.source,
            u.kind,
            u.unit,
            u.report_month,
        ),
    )


def _name_fields(name: UploadName | NameProblem) -> dict[str, object]:
    if isinstance(name, NameProblem):
        return {"reason_code": name.code, "reason_zh": name.reason_zh, "reason_en": name.reason_en}
    return {
        "source": name.source,
        "kind": name.kind,
        "unit": name.unit,
        "report_month": name.report_month,
        "template": name.template_name,
        "file_format": name.file_format,
    }


def plan_fresh_files(engine: Engine, ctx: LandingContext) -> pd.DataFrame:
    """New files with their upload ids, parsed names and duplicate links; nothing read yet."""
    with engine.connect() as conn:
        manifest = manifest_frame(conn)
        next_id = (
            int(
                conn.execute(
                    select(func.coalesce(func.max(schema.uploads.c.upload_id), 0))
                ).scalar_one()
            )
            + 1
        )
    candidates = scan_inbox(ctx.inbox, manifest, ctx.time_zone)
    fresh = manifest_rules.new_files(candidates, manifest).reset_index(drop=True)
    fresh["upload_id"] = range(next_id, next_id + len(fresh))
    names = pd.DataFrame(
        [_name_fields(parse_upload_name(n, ctx.contract)) for n in fresh["file_name"]],
        index=fresh.index,
        columns=[
            "source",
            "kind",
            "unit",
            "report_month",
            "template",
            "file_format",
            "reason_code",
            "reason_zh",
            "reason_en",
        ],
    )
    planned = pd.concat([fresh, names], axis=1)
    planned["duplicate_of"] = manifest_rules.mark_duplicates(planned, manifest)
    return planned


def _write_as_read(
    ctx: LandingContext, template: Template, month: str, frames: list[pd.DataFrame]
) -> None:
    """The rows exactly as read (original headers, all text), one file per template and month.

    Columns are the union of the files' own headers, kept even where the template ignores
    them; `upload_id` and `row_number` lead back to the manifest and the file's row. One
    write per batch, not per file: a Parquet write costs as much as reading a small upload.
    """
    if not frames:
        return
    # Arrow concatenates many small tables of differing columns far faster than pandas.
    tables = [pa.Table.from_pandas(f, preserve_index=False) for f in frames]
    batch = pa.concat_tables(tables, promote_options="permissive")
    path = (
        ctx.raw_dir
        / "as_read"
        / f"kind={template.name}"
        / f"month={month}"
        / f"run={ctx.run_id}.parquet"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(batch, path)


def _write_staged(ctx: LandingContext, template: Template, staged: pd.DataFrame, month: str) -> str:
    """The normalised batch of one template and month, one Parquet file per run; returns its path.

    The manifest names the file of each upload, so a file left by a crashed run is never read.
    """
    relative = (
        Path("staged") / f"kind={template.name}" / f"month={month}" / f"run={ctx.run_id}.parquet"
    )
    path = ctx.raw_dir / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pandas(staged, preserve_index=False), path)
    return relative.as_posix()


def _quarantine(row: dict[str, object], code: str, zh: str, en: str) -> dict[str, object]:
    return {**row, "status": "quarantined", "reason_code": code, "reason_zh": zh, "reason_en": en}


def _read_template_files(
    ctx: LandingContext, template: Template, files: pd.DataFrame
) -> tuple[list[dict[str, object]], list[pd.DataFrame], list[pd.DataFrame]]:
    """Read each file of one template: manifest rows, and the good ones' rows as read and
    as canonical frames."""
    manifest_rows: list[dict[str, object]] = []
    frames: list[pd.DataFrame] = []
    as_read: list[pd.DataFrame] = []
    for _, row in files.iterrows():
        base = row.to_dict()
        try:
            data = read_file(ctx.inbox, str(row["path"]))
        except OSError as error:
            manifest_rows.append(
                _quarantine(
                    base,
                    "unreadable",
                    f"文件无法读取：{error}",
                    f"the file cannot be read: {error}",
                )
            )
            continue
        result = read_upload(data, str(row["file_format"]), template)
        if result.problem is not None:
            manifest_rows.append(
                _quarantine(
                    base, result.problem.code, result.problem.reason_zh, result.problem.reason_en
                )
            )
            continue
        as_read.append(result.frame.assign(upload_id=int(row["upload_id"])))
        frames.append(canonical_frame(result))
        manifest_rows.append(
            {
                **base,
                "status": "loaded",
                "rows": len(frames[-1]),
                "encoding": result.encoding,
                "header_row": result.header_row,
            }
        )
    return manifest_rows, frames, as_read


def _with_lineage(frames: list[pd.DataFrame], loaded: pd.DataFrame) -> pd.DataFrame:
    """One batch of the files' canonical rows, each tagged with its upload, unit and month.

    `loaded` lists the good files in the order their frames were read. The tags are set
    once per batch, not per file: a pandas column assignment costs more than a small file.
    """
    batch = pd.concat(frames, ignore_index=True)
    lengths = [len(f) for f in frames]
    for column in ("upload_id", "unit", "report_month"):
        batch[column] = np.repeat(loaded[column].to_numpy(), lengths)
    batch["upload_id"] = batch["upload_id"].astype("int64")
    return batch


def _manifest_records(rows: list[dict[str, object]], ctx: LandingContext) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    frame["run_id"] = ctx.run_id
    if "report_month" in frame:
        late = manifest_rules.is_late(
            frame["report_month"].astype("string"), frame["arrived_at"], ctx.deadline_day
        )
        frame["late"] = late
    return frame


def _refresh_supersession(conn: Connection, identities: pd.DataFrame) -> None:
    """Re-decide loaded/superseded for the identities this landing touched."""
    if identities.empty:
        return
    u = schema.uploads.c
    units = sorted(set(identities["unit"].dropna().astype(str)))
    rows = read_frame(
        conn,
        select(u.upload_id, u.source, u.kind, u.unit, u.report_month, u.arrived_at, u.status).where(
            u.unit.in_(units), u.status.in_(["loaded", "superseded"])
        ),
    )
    rows["new_status"] = manifest_rules.current_statuses(rows)
    changed = rows.loc[rows["new_status"] != rows["status"]]
    for status, group in changed.groupby("new_status"):
        conn.execute(
            update(schema.uploads)
            .where(u.upload_id.in_([int(i) for i in group["upload_id"]]))
            .values(status=str(status))
        )


def land_template(
    engine: Engine, ctx: LandingContext, template: Template, files: pd.DataFrame
) -> tuple[pd.DataFrame, int]:
    """Land every fresh file of one template in one transaction; returns (manifest rows, rows).

    Quarantined files get their reason; good files get raw Parquet, a staged Parquet
    batch per report month and `stg_<template>` rows. Month by month, so that only one
    month of a county's rows is in memory at a time.
    """
    written: list[pd.DataFrame] = []
    rows = 0
    with engine.begin() as conn:
        for month, month_files in files.groupby("report_month", sort=True):
            manifest_rows, frames, as_read = _read_template_files(ctx, template, month_files)
            _write_as_read(ctx, template, str(month), as_read)
            del as_read
            records = _manifest_records(manifest_rows, ctx)
            if frames:
                batch = _with_lineage(frames, records.loc[records["status"] == "loaded"])
                staged = normalise_frame(
                    batch, template, ctx.contract, batch["report_month"], ctx.secret
                )
                del batch, frames
                loaded = records["status"] == "loaded"
                records.loc[loaded, "staged_path"] = _write_staged(
                    ctx, template, staged, str(month)
                )
                bulk_insert(conn, schema.staging_tables[template.name], staged)
                rows += len(staged)
                del staged
                # Arrow-backed strings live in Arrow's pool, which keeps freed pages.
                pa.default_memory_pool().release_unused()
            bulk_insert(conn, schema.uploads, records)
            written.append(records)
        all_records = pd.concat(written, ignore_index=True) if written else pd.DataFrame()
        if not all_records.empty:
            _refresh_supersession(conn, all_records.loc[all_records["status"] == "loaded"])
    return all_records, rows


def land_unmatched(engine: Engine, ctx: LandingContext, files: pd.DataFrame) -> pd.DataFrame:
    """Record duplicates and badly named files (quarantined whole, with the reason)."""
    rows = []
    for row in files.to_dict("records"):
        if pd.notna(row.get("duplicate_of")):
            rows.append(
                {
                    **row,
                    "status": "duplicate",
                    "reason_zh": f"与已接收文件内容完全相同（上传编号 {row['duplicate_of']}），不重复读取",
                    "reason_en": f"same bytes as upload {row['duplicate_of']}; not read again",
                }
            )
        else:
            rows.append(
                _quarantine(
                    row, str(row["reason_code"]), str(row["reason_zh"]), str(row["reason_en"])
                )
            )
    records = _manifest_records(rows, ctx)
    with engine.begin() as conn:
        bulk_insert(conn, schema.uploads, records)
    return records


def land_inbox(
    engine: Engine, ctx: LandingContext, progress: Progress | None = None
) -> LandingSummary:
    """Land every new file of the inbox; the manifest makes this idempotent."""
    summary = LandingSummary()
    plan = plan_fresh_files(engine, ctx)
    to_read = plan["duplicate_of"].isna() & plan["template"].notna()
    if (~to_read).any():
        records = land_unmatched(engine, ctx, plan.loc[~to_read])
        for status, n in records["status"].value_counts().items():
            summary.count(str(status), int(n))
    for name, files in plan.loc[to_read].groupby("template", sort=True):
        template = ctx.contract.templates[str(name)]
        if progress:
            progress(f"{template.title_zh} {name}: {len(files)} 个文件 files")
        records, rows = land_template(engine, ctx, template, files)
        for status, n in records["status"].value_counts().items():
            summary.count(str(status), int(n))
        summary.rows_by_template[template.name] = rows
        summary.upload_ids.extend(int(i) for i in records["upload_id"])
    return summary
