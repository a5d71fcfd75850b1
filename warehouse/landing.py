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
from transforms.landing.readers import ReadLimits, canonical_frame
from transforms.templates import Contract, Template
from warehouse import schema, staged
from warehouse.clock import local_now
from warehouse.inbox import read_file, scan_inbox
from warehouse.issues import record_findings
from warehouse.load import bulk_insert, read_frame
from warehouse.sandbox import ParseJob, ReaderPool, SandboxLimits

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


_ENTRY_PROBLEMS: dict[str, tuple[str, str, str]] = {
    "symlink": (
        "symbolic_link",
        "这是一个符号链接（快捷方式），系统不会跟随链接读取收件箱以外的内容。"
        "请把文件本身（而不是指向它的链接）放入收件箱。",
        "This is a symbolic link; links are never followed, so nothing outside the inbox is "
        "read. Put the file itself, not a link to it, in the inbox.",
    ),
    "unlistable": (
        "unlistable_folder",
        "收件箱中的这个文件夹无法打开（权限不足），其中的文件没有读取。请管理员检查文件夹权限。",
        "This folder of the inbox cannot be opened (permission denied); its files were not "
        "read. Ask the administrator to check the folder's permissions.",
    ),
}
_SPECIAL_KINDS_ZH = {
    "fifo": "命名管道",
    "device": "设备文件",
    "socket": "套接字",
    "other": "特殊文件",
}


def _entry_problem(kind: str) -> tuple[str, str, str]:
    """(code, zh, en) for an inbox entry that is not a regular file."""
    if kind in _ENTRY_PROBLEMS:
        return _ENTRY_PROBLEMS[kind]
    return (
        "not_a_regular_file",
        f"这不是普通文件（{_SPECIAL_KINDS_ZH.get(kind, kind)}），不会被读取。"
        "收件箱中只应放上报的 .csv 或 .xlsx 文件。",
        f"This is not a regular file (a {kind}) and is never read. The inbox should hold only "
        "the uploaded .csv and .xlsx files.",
    )


def _quarantine_special_entries(planned: pd.DataFrame) -> None:
    """Links, FIFOs, devices, sockets: quarantined whatever their name says, never read."""
    special = planned["entry_kind"] != "file"
    for column in ("template", "reason_code", "reason_zh", "reason_en"):
        planned[column] = planned[column].astype(object)
    for index in planned.index[special]:
        code, zh, en = _entry_problem(str(planned.at[index, "entry_kind"]))
        planned.loc[index, ["template", "reason_code", "reason_zh", "reason_en"]] = [
            None,
            code,
            zh,
            en,
        ]
    planned.loc[special, "duplicate_of"] = pd.NA


def _quarantine_against_reference(planned: pd.DataFrame, ctx: LandingContext) -> None:
    """Unknown units, months not yet due or before the first month: quarantined, not read."""
    if ctx.known_units is None and ctx.as_of_month is None and ctx.first_month is None:
        return
    named = planned["template"].notna()
    problems = manifest_rules.reference_problems(
        planned.loc[named, ["unit", "report_month"]],
        set(ctx.known_units) if ctx.known_units is not None else set(planned["unit"].dropna()),
        ctx.as_of_month or "9999-12",
        ctx.first_month,
    ).dropna(subset=["reason_code"])
    for column in ["template", *manifest_rules.REFERENCE_PROBLEM_COLUMNS]:
        planned[column] = planned[column].astype(object)
    planned.loc[problems.index, "template"] = None
    planned.loc[problems.index, manifest_rules.REFERENCE_PROBLEM_COLUMNS] = problems.astype(object)


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
    _quarantine_against_reference(planned, ctx)
    planned["duplicate_of"] = manifest_rules.mark_duplicates(planned, manifest)
    _quarantine_special_entries(planned)
    return planned.drop(columns="entry_kind")


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
    ctx: LandingContext, template: Template, files: pd.DataFrame, pool: ReaderPool
) -> tuple[list[dict[str, object]], list[pd.DataFrame], list[pd.DataFrame]]:
    """Read each file of one template: manifest rows, and the good ones' rows as read and
    as canonical frames. The bytes are read here; the parsing is done by `pool`'s workers,
    in parallel and each under its memory and time limit."""
    manifest_rows: list[dict[str, object] | None] = []
    jobs: list[ParseJob] = []
    for row in files.to_dict("records"):
        try:
            data = read_file(ctx.inbox, str(row["path"]))
        except OSError as error:
            manifest_rows.append(
                _quarantine(
                    row,
                    "unreadable",
                    f"文件无法读取：{error}",
                    f"the file cannot be read: {error}",
                )
            )
            continue
        manifest_rows.append(None)
        jobs.append(ParseJob(data, str(row["file_format"]), template, ctx.read_limits))
    results = iter(pool.read_many(jobs))
    del jobs
    frames: list[pd.DataFrame] = []
    as_read: list[pd.DataFrame] = []
    done: list[dict[str, object]] = []
    for row, quarantined in zip(files.to_dict("records"), manifest_rows, strict=True):
        if quarantined is not None:
            done.append(quarantined)
            continue
        result = next(results)
        if result.problem is not None:
            done.append(
                _quarantine(
                    row, result.problem.code, result.problem.reason_zh, result.problem.reason_en
                )
            )
            continue
        as_read.append(result.frame.assign(upload_id=int(row["upload_id"])))
        frames.append(canonical_frame(result))
        done.append(
            {
                **row,
                "status": "loaded",
                "rows": len(frames[-1]),
                "encoding": result.encoding,
                "header_row": result.header_row,
            }
        )
    return done, frames, as_read


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


def _unread_rows(files: pd.DataFrame) -> list[dict[str, object]]:
    """Manifest rows of files that are not read: duplicates, and files quarantined by name."""
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
    return rows


def _record_manifest(conn: Connection, records: pd.DataFrame, ctx: LandingContext) -> None:
    """Manifest rows and the issues of the quarantined ones, in the caller's transaction:
    a run killed before it commits leaves neither, and the next run lands the files again."""
    bulk_insert(conn, schema.uploads, records)
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


def land_template(
    engine: Engine,
    ctx: LandingContext,
    template: Template,
    files: pd.DataFrame,
    pool: ReaderPool,
) -> tuple[pd.DataFrame, int]:
    """Land every fresh file of one template in one transaction; returns (manifest rows, rows).

    Quarantined files get their reason; good files get raw Parquet, a staged Parquet
    batch per report month and `stg_<template>` rows. Month by month, so that only one
    month of a county's rows is in memory at a time. `files` may hold duplicates of the
    others: they are recorded in the same transaction as the upload they duplicate.
    """
    written: list[pd.DataFrame] = []
    rows = 0
    with engine.begin() as conn:
        for month, month_files in files.groupby("report_month", sort=True):
            copies = month_files["duplicate_of"].notna()
            manifest_rows, frames, as_read = _read_template_files(
                ctx, template, month_files.loc[~copies], pool
            )
            _write_as_read(ctx, template, str(month), as_read)
            del as_read
            records = _manifest_records(manifest_rows, ctx)
            if frames:
                batch = _with_lineage(frames, records.loc[records["status"] == "loaded"])
                staged_rows = normalise_frame(
                    batch, template, ctx.contract, batch["report_month"], ctx.secret
                )
                del batch, frames
                loaded = records["status"] == "loaded"
                records.loc[loaded, "staged_path"] = _write_staged(
                    ctx, template, staged_rows, str(month)
                )
                bulk_insert(conn, schema.staging_tables[template.name], staged_rows)
                rows += len(staged_rows)
                del staged_rows
                # Arrow-backed strings live in Arrow's pool, which keeps freed pages.
                pa.default_memory_pool().release_unused()
            if copies.any():
                duplicates = _manifest_records(_unread_rows(month_files.loc[copies]), ctx)
                records = pd.concat([records, duplicates], ignore_index=True)
            _record_manifest(conn, records, ctx)
            written.append(records)
        all_records = pd.concat(written, ignore_index=True) if written else pd.DataFrame()
        if not all_records.empty:
            _refresh_supersession(conn, all_records.loc[all_records["status"] == "loaded"])
    return all_records, rows


def land_unmatched(engine: Engine, ctx: LandingContext, files: pd.DataFrame) -> pd.DataFrame:
    """Record duplicates of uploads already landed and badly named files (quarantined whole,
    with the reason), with the quarantines' issues, in one transaction."""
    records = _manifest_records(_unread_rows(files), ctx)
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
