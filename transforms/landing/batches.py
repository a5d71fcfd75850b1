"""Landing's decisions, pure: inbox entries → the manifest's plan; read results → manifest
rows and staged frames. The warehouse reads the bytes, runs the parsers and persists.

Grains: the plan and the manifest records are one row per file received (the
`uploads` shape: status, reasons, lateness); `stage_files` returns the good files' rows
as read (one Arrow row per uploaded row, the files' own columns) and one row per
uploaded row, normalised (the `stg_<template>` shape) with its upload, unit and month.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from transforms.landing import manifest_rules
from transforms.landing.filenames import NameProblem, UploadName, parse_upload_name
from transforms.landing.normalise import normalise_frame
from transforms.landing.readers import ROW_NUMBER, ReadProblem, ReadResult
from transforms.templates import Contract, Template

NAME_COLUMNS = [
    "source",
    "kind",
    "unit",
    "report_month",
    "template",
    "file_format",
    "reason_code",
    "reason_zh",
    "reason_en",
]


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


def _quarantine_against_reference(
    planned: pd.DataFrame,
    known_units: frozenset[str] | None,
    as_of_month: str | None,
    first_month: str | None,
) -> None:
    """Unknown units, months not yet due or before the first month: quarantined, not read."""
    if known_units is None and as_of_month is None and first_month is None:
        return
    named = planned["template"].notna()
    problems = manifest_rules.reference_problems(
        planned.loc[named, ["unit", "report_month"]],
        set(known_units) if known_units is not None else set(planned["unit"].dropna()),
        as_of_month or "9999-12",
        first_month,
    ).dropna(subset=["reason_code"])
    for column in ["template", *manifest_rules.REFERENCE_PROBLEM_COLUMNS]:
        planned[column] = planned[column].astype(object)
    planned.loc[problems.index, "template"] = None
    planned.loc[problems.index, manifest_rules.REFERENCE_PROBLEM_COLUMNS] = problems.astype(object)


def plan_files(
    candidates: pd.DataFrame,
    manifest: pd.DataFrame,
    next_upload_id: int,
    contract: Contract,
    known_units: frozenset[str] | None = None,
    as_of_month: str | None = None,
    first_month: str | None = None,
) -> pd.DataFrame:
    """The inbox entries not yet in the manifest, with upload ids, what their names say,
    their duplicate links and the reasons of those quarantined unread; nothing is read.

    `known_units` (codes of areas.csv and institutions.csv), `as_of_month` (a later
    month is not yet due) and `first_month` (an earlier one is not taken): None, not checked.
    """
    fresh = manifest_rules.new_files(candidates, manifest).reset_index(drop=True)
    fresh["upload_id"] = range(next_upload_id, next_upload_id + len(fresh))
    names = pd.DataFrame(
        [_name_fields(parse_upload_name(n, contract)) for n in fresh["file_name"]],
        index=fresh.index,
        columns=NAME_COLUMNS,
    )
    planned = pd.concat([fresh, names], axis=1)
    _quarantine_against_reference(planned, known_units, as_of_month, first_month)
    planned["duplicate_of"] = manifest_rules.mark_duplicates(planned, manifest)
    _quarantine_special_entries(planned)
    return planned.drop(columns="entry_kind")


def quarantined(row: dict[str, object], code: str, zh: str, en: str) -> dict[str, object]:
    """A manifest row set aside whole, with its reason."""
    return {**row, "status": "quarantined", "reason_code": code, "reason_zh": zh, "reason_en": en}


def unreadable(error: OSError) -> ReadProblem:
    """Why a file whose bytes could not be read is quarantined."""
    return ReadProblem("unreadable", f"文件无法读取：{error}", f"the file cannot be read: {error}")


def manifest_records(rows: list[dict[str, object]], run_id: str, deadline_day: int) -> pd.DataFrame:
    """Manifest rows as the `uploads` table takes them: with the run and whether each is late."""
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    frame["run_id"] = run_id
    if "report_month" in frame:
        late = manifest_rules.is_late(
            frame["report_month"].astype("string"), frame["arrived_at"], deadline_day
        )
        frame["late"] = late
    return frame


def unread_rows(files: pd.DataFrame) -> list[dict[str, object]]:
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
                quarantined(
                    row, str(row["reason_code"]), str(row["reason_zh"]), str(row["reason_en"])
                )
            )
    return rows


@dataclass(frozen=True)
class FileRead:
    """What the manifest needs of one file's read: its problem, or its encoding, header row
    and number of data rows. The rows themselves are staged where they were read."""

    problem: ReadProblem | None
    encoding: str | None
    header_row: int | None
    rows: int

    @classmethod
    def of(cls, result: ReadResult) -> FileRead:
        return cls(result.problem, result.encoding, result.header_row, result.table.num_rows)


def file_records(
    files: pd.DataFrame, reads: Sequence[FileRead], run_id: str, deadline_day: int
) -> pd.DataFrame:
    """Each file's read (`reads[i]` is that of `files`' i-th row) → its manifest record:
    quarantined with the reader's reason, or loaded with its rows, encoding and header row."""
    done: list[dict[str, object]] = []
    for row, read in zip(files.to_dict("records"), reads, strict=True):
        if read.problem is not None:
            problem = read.problem
            done.append(quarantined(row, problem.code, problem.reason_zh, problem.reason_en))
            continue
        done.append(
            {
                **row,
                "status": "loaded",
                "rows": read.rows,
                "encoding": read.encoding,
                "header_row": read.header_row,
            }
        )
    return manifest_records(done, run_id, deadline_day)


def _as_read_table(result: ReadResult, upload_id: int) -> pa.Table:
    """One good file's rows as read, in Arrow: its own columns as text, `row_number`, then
    `upload_id`."""
    ids = pa.array(np.full(result.table.num_rows, upload_id, dtype=np.int64))
    return result.table.append_column("upload_id", ids)


def _canonical_batch(
    results: Sequence[ReadResult], tables: Sequence[pa.Table], lineage: pd.DataFrame
) -> pd.DataFrame:
    """The files' rows under canonical names, one batch tagged with each row's upload, unit
    and month: what concatenating each file's `canonical_frame` gives, built from the
    Arrow tables once per column rather than once per file and column."""
    template = results[0].template
    assert template is not None
    text = pa.large_string()
    names = [frozenset(table.column_names) for table in tables]  # a list a call: once a file
    columns: dict[str, object] = {}
    for column in template.columns:
        pieces = []
        for result, table, held in zip(results, tables, names, strict=True):
            source = result.columns.get(column.name)
            if source is not None and source in held:
                cells = table.column(source)
                pieces.extend((cells if cells.type == text else cells.cast(text)).chunks)
            else:
                pieces.append(pa.nulls(table.num_rows, text))
        joined = pa.chunked_array(pieces, type=text).combine_chunks()
        columns[column.name] = pd.arrays.ArrowStringArray(joined)
    rows = pa.chunked_array([t.column(ROW_NUMBER) for t in tables], type=pa.int64())
    columns[ROW_NUMBER] = rows.to_numpy()
    lengths = [t.num_rows for t in tables]
    for name in ("upload_id", "unit", "report_month"):
        columns[name] = np.repeat(lineage[name].to_numpy(), lengths)
    batch = pd.DataFrame(columns, index=pd.RangeIndex(sum(lengths)), copy=False)
    batch["upload_id"] = batch["upload_id"].astype("int64")
    return batch


def stage_files(
    results: Sequence[ReadResult],
    lineage: pd.DataFrame,
    template: Template,
    contract: Contract,
    secret: bytes,
) -> tuple[pa.Table, pd.DataFrame]:
    """Good files' reads → (their rows as read, with each file's `upload_id`, as one Arrow
    table whose columns are the union of the files' own; their rows as one normalised
    `stg_<template>` batch, persons keyed with `secret`).

    `results` are non-empty and all of `template`; `lineage` has one row per result, in
    order: `upload_id`, `unit`, `report_month`. Normalisation is row by row, so staging a
    batch in contiguous parts and concatenating them gives the rows staging it whole would.
    """
    ids = [int(i) for i in lineage["upload_id"].tolist()]
    # The first file through pandas' own conversion: its schema's pandas metadata is the
    # one the concatenated table keeps.
    first = pa.Table.from_pandas(results[0].frame.assign(upload_id=ids[0]), preserve_index=False)
    tables = [first, *(_as_read_table(r, i) for r, i in zip(results[1:], ids[1:], strict=True))]
    as_read = pa.concat_tables(tables, promote_options="permissive")
    batch = _canonical_batch(results, tables, lineage)
    del tables
    return as_read, normalise_frame(batch, template, contract, batch["report_month"], secret)
