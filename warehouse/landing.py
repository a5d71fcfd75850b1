"""Landing: new inbox files → manifest rows, raw and staged Parquet, `stg_*` tables.

The decisions (what a name says, what is quarantined, how rows are staged) are
transforms/landing/batches.py's; here the inbox is listed, the bytes read, parsed in
the sandboxed workers, and what the stage function returns is persisted.

Each template is landed in its own transaction: a run that dies part-way leaves
whole templates landed and the rest untouched, to be picked up by the next run.
Files are read once: the manifest remembers every (path, sha256) it has seen.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import Connection, Engine, func, select, update

from transforms.landing import manifest_rules
from transforms.landing.batches import (
    FileRead,
    file_records,
    manifest_records,
    plan_files,
    unread_rows,
    unreadable,
)
from transforms.landing.readers import ReadLimits, failed_read
from transforms.templates import Contract, Template
from warehouse import schema, staged
from warehouse.clock import local_now
from warehouse.inbox import read_file, scan_inbox
from warehouse.issues import record_findings
from warehouse.load import bulk_insert, read_frame
from warehouse.sandbox import (
    AsReadLayout,
    ReaderPool,
    SandboxLimits,
    StagedBatch,
    StageJob,
    StageSpec,
)
from warehouse.scratch import ScratchLoad

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
    read_limits: ReadLimits = field(default_factory=ReadLimits)
    sandbox: SandboxLimits = field(default_factory=SandboxLimits)
    known_units: frozenset[str] | None = None
    """Codes of areas.csv and institutions.csv; None: units are not checked."""
    as_of_month: str | None = None
    """`YYYY-MM`; an upload for a later month is not yet due. None: not checked."""
    first_month: str | None = None
    """`YYYY-MM`; an upload for an earlier month is not taken. None: not checked."""


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
    return plan_files(
        candidates,
        manifest,
        next_id,
        ctx.contract,
        ctx.known_units,
        ctx.as_of_month,
        ctx.first_month,
    )


def _as_read_layout(ctx: LandingContext, template: Template) -> AsReadLayout:
    """Where the parsing workers archive the rows exactly as read (`AsReadLayout`):
    `as_read/kind=<template>/month=<month>/run=<run>-<part>.parquet`."""
    return AsReadLayout(str(ctx.raw_dir / "as_read" / f"kind={template.name}"), ctx.run_id)


def _write_staged(ctx: LandingContext, template: Template, staged: pa.Table, month: str) -> str:
    """The normalised batch of one template and month, one Parquet file per run; returns its path.

    The manifest names the file of each upload, so a file left by a crashed run is never read.
    """
    relative = (
        Path("staged") / f"kind={template.name}" / f"month={month}" / f"run={ctx.run_id}.parquet"
    )
    path = ctx.raw_dir / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(staged, path)
    return relative.as_posix()


def _land_template_files(
    ctx: LandingContext, template: Template, files: pd.DataFrame, pool: ReaderPool
) -> tuple[pd.DataFrame, StagedBatch]:
    """Read each file of one template (a chunk of its months) and stage the good ones:
    (manifest records, the batch). The bytes are read here; parsing and staging are done
    by `pool`'s workers, in parallel and each file under the workers' memory and time
    limit."""
    reads: list[FileRead | None] = []
    jobs: list[StageJob] = []
    for row in files.to_dict("records"):
        try:
            data = read_file(ctx.inbox, str(row["path"]))
        except OSError as error:
            reads.append(FileRead.of(failed_read(unreadable(error), template)))
            continue
        reads.append(None)
        jobs.append(
            StageJob(
                data,
                str(row["file_format"]),
                template,
                ctx.read_limits,
                int(row["upload_id"]),
                str(row["unit"]),
                str(row["report_month"]),
            )
        )
    layout = _as_read_layout(ctx, template)
    batch = pool.stage_many(jobs, StageSpec(template, ctx.contract, ctx.secret, layout))
    del jobs
    parsed = iter(batch.reads)
    read = [r if r is not None else next(parsed) for r in reads]
    return file_records(files, read, ctx.run_id, ctx.deadline_day), batch


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


def _record_manifest(conn: Connection, records: pd.DataFrame, ctx: LandingContext) -> None:
    """Manifest rows and the issues of the quarantined ones, in the caller's transaction:
    a run killed before it commits leaves neither, and the next run lands the files again."""
    bulk_insert(conn, schema.uploads, records)
    _record_quarantines(conn, records, ctx)


def _record_quarantines(conn: Connection, records: pd.DataFrame, ctx: LandingContext) -> None:
    """The issues of the quarantined files among `records` (manifest rows already written)."""
    if records.empty:
        return
    quarantined = records.loc[records["status"] == "quarantined"]
    if quarantined.empty:
        return
    findings = staged.file_quarantine_findings(quarantined)
    # Scope nothing: a quarantine stays an issue until an officer resolves it.
    record_findings(
        conn,
        findings,
        ctx.run_id,
        "landing",
        scope=findings.iloc[0:0],
        at=local_now(ctx.time_zone),
    )


COPY_AHEAD_ROWS = 400_000
"""Rows a landing's scratch file holds before it is copied into the warehouse while the
next months are parsed (`ScratchLoad`)."""

CHUNK_FILES = 200
"""Months of a template are landed together until they hold this many files: a
hospital or police station sends ~20 files a month, and a month alone kept one parsing
worker busy and paid the batch's fixed costs (staging a part, the staged file, the
manifest rows) twelve times. A village template's month (300 files) goes alone."""


def month_chunks(files_per_month: list[int], chunk_files: int = CHUNK_FILES) -> list[list[int]]:
    """Consecutive months (their positions) gathered until each group holds `chunk_files`
    files (the last group may hold fewer)."""
    chunks: list[list[int]] = []
    held = chunk_files
    for position, count in enumerate(files_per_month):
        if held >= chunk_files:
            chunks.append([])
            held = 0
        chunks[-1].append(position)
        held += count
    return chunks


def _rows_of_month(table: pa.Table, month: str, months: int) -> pa.Table:
    if months == 1:
        return table
    return table.filter(pc.equal(table.column("report_month"), month))


def land_template(
    engine: Engine,
    ctx: LandingContext,
    template: Template,
    files: pd.DataFrame,
    pool: ReaderPool,
) -> tuple[pd.DataFrame, int]:
    """Land every fresh file of one template in one transaction; returns (manifest rows, rows).

    Quarantined files get their reason; good files get raw Parquet, a staged Parquet
    batch per report month and `stg_<template>` rows. A chunk of months at a time
    (`month_chunks`: one month of a village template), so that at most two chunks of a
    county's rows are in memory at a time: while this process persists one chunk, a
    thread has the workers read and stage the next. `files` may hold duplicates
    of the others: they are recorded in the same transaction as the upload they duplicate.
    """
    written: list[pd.DataFrame] = []
    rows = 0
    files = files.sort_values("report_month", kind="stable")  # a chunk's files month by month
    per_month = files.groupby("report_month", sort=True).size()
    months = [str(month) for month in per_month.index]
    chunks = [[months[i] for i in chunk] for chunk in month_chunks(per_month.tolist())]
    is_copy = files["duplicate_of"].notna()
    month_of = files["report_month"].astype("string")

    def in_chunk(i: int) -> pd.Series:
        return month_of.isin(chunks[i])

    def read_ahead(i: int) -> Future[tuple[pd.DataFrame, StagedBatch]] | None:
        if i >= len(chunks):
            return None
        fresh = files.loc[in_chunk(i) & ~is_copy]
        return ahead.submit(_land_template_files, ctx, template, fresh, pool)

    with (
        ThreadPoolExecutor(1, "landing-read") as ahead,
        engine.begin() as conn,
        # The connection is the load's until its flush: it copies a county's roster a few
        # months at a time while the workers parse the next ones.
        closing(ScratchLoad(conn, copy_ahead_rows=COPY_AHEAD_ROWS)) as load,
    ):
        # Two chunks ahead: the workers parse while this process persists, even when one
        # chunk takes this process longer than the workers (and the other way round).
        upcoming = deque(f for f in (read_ahead(0), read_ahead(1)) if f is not None)
        for i, chunk in enumerate(chunks):
            records, batch = upcoming.popleft().result()
            following = read_ahead(i + 2)
            if following is not None:
                upcoming.append(following)
            if batch.staged is not None:
                loaded = records["status"] == "loaded"
                for month in chunk:
                    path = _write_staged(
                        ctx, template, _rows_of_month(batch.staged, month, len(chunk)), month
                    )
                    records.loc[loaded & (records["report_month"] == month), "staged_path"] = path
            copies = files.loc[in_chunk(i) & is_copy]
            if len(copies):
                duplicates = manifest_records(unread_rows(copies), ctx.run_id, ctx.deadline_day)
                records = pd.concat([records, duplicates], ignore_index=True)
            # The manifest rows first: the staged rows refer to them.
            load.add(schema.uploads, records)
            if batch.staged is not None:
                load.add(schema.staging_tables[template.name], batch.staged)
                rows += batch.staged.num_rows
            del batch
            # Arrow-backed strings live in Arrow's pool, which keeps freed pages.
            pa.default_memory_pool().release_unused()
            written.append(records)
        load.flush()
        all_records = pd.concat(written, ignore_index=True) if written else pd.DataFrame()
        _record_quarantines(conn, all_records, ctx)
        if not all_records.empty:
            _refresh_supersession(conn, all_records.loc[all_records["status"] == "loaded"])
    return all_records, rows


def land_unmatched(engine: Engine, ctx: LandingContext, files: pd.DataFrame) -> pd.DataFrame:
    """Record duplicates of uploads already landed and badly named files (quarantined whole,
    with the reason), with the quarantines' issues, in one transaction."""
    records = manifest_records(unread_rows(files), ctx.run_id, ctx.deadline_day)
    with engine.begin() as conn:
        _record_manifest(conn, records, ctx)
    return records


def land_inbox(
    engine: Engine, ctx: LandingContext, progress: Progress | None = None
) -> LandingSummary:
    """Land every new file of the inbox; the manifest makes this idempotent.

    Crash consistency: each transaction holds a set of uploads together with everything
    that refers to them (staged rows, the quarantines' issues, and the duplicates of
    them), so a run killed at any point leaves whole templates landed and the rest for
    the next run, which then lands exactly what an uninterrupted run would have.
    """
    summary = LandingSummary()
    plan = plan_fresh_files(engine, ctx)
    readable = plan["duplicate_of"].isna() & plan["template"].notna()
    # A copy of a file read in this run lands with its original (same template, month).
    with_original = plan["duplicate_of"].isin(plan.loc[readable, "upload_id"])
    in_templates = readable | with_original
    if (~in_templates).any():
        records = land_unmatched(engine, ctx, plan.loc[~in_templates])
        for status, n in records["status"].value_counts().items():
            summary.count(str(status), int(n))
    with ReaderPool(ctx.sandbox) as pool:
        for name, files in plan.loc[in_templates].groupby("template", sort=True):
            template = ctx.contract.templates[str(name)]
            if progress:
                progress(f"{template.title_zh} {name}: {len(files)} 个文件 files")
            records, rows = land_template(engine, ctx, template, files, pool)
            for status, n in records["status"].value_counts().items():
                summary.count(str(status), int(n))
            summary.rows_by_template[template.name] = rows
            summary.upload_ids.extend(int(i) for i in records["upload_id"])
    return summary
