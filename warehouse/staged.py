"""Reading staged batches back, and recording what the quality checks decided about them.

The pipeline reads staged rows from the Parquet batches written at landing (one
file per template and run, named in the manifest), not from the `stg_*` tables:
Arrow reads a million rows in a fraction of the time a SQL fetch takes. The
manifest says which uploads are current; `stg_exclusions` says which rows an
error-severity rule keeps out of reconciliation.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
from sqlalchemy import Connection, Engine, select, update

from transforms.landing.normalise import empty_staged
from transforms.reconcile.all_sources import ReconInputs
from transforms.templates import Contract, Template, load_contract
from warehouse import schema
from warehouse.issues import record_findings
from warehouse.load import bulk_insert, read_frame


def uploads_frame(conn: Connection, statuses: Iterable[str] | None = None) -> pd.DataFrame:
    """The manifest (design.md uploads frame), optionally only some statuses."""
    query = select(schema.uploads)
    if statuses is not None:
        query = query.where(schema.uploads.c.status.in_(list(statuses)))
    return read_frame(conn, query.order_by(schema.uploads.c.upload_id))


def _read_batches(raw_dir: Path, uploads: pd.DataFrame, template: Template) -> pd.DataFrame:
    frames = []
    for staged_path, group in uploads.groupby("staged_path"):
        ids = [int(i) for i in group["upload_id"]]
        table = pq.read_table(raw_dir / str(staged_path), filters=[("upload_id", "in", ids)])
        frames.append(table.to_pandas())
    if not frames:
        # No file of this kind yet: every stage still gets the template's columns.
        return empty_staged(template, load_contract())
    return pd.concat(frames, ignore_index=True)


def uploads_with_rows(uploads: pd.DataFrame, template: Template) -> pd.DataFrame:
    """The manifest rows of `uploads` that are of `template` and have staged rows."""
    return uploads.loc[
        (uploads["source"] == template.source)
        & (uploads["kind"] == template.kind)
        & uploads["staged_path"].notna()
    ]


def staged_rows(raw_dir: Path, uploads: pd.DataFrame, template: Template) -> pd.DataFrame:
    """Staged rows of the given uploads of one template (empty frame with no uploads)."""
    return _read_batches(raw_dir, uploads_with_rows(uploads, template), template)


def unvalidated_uploads(conn: Connection) -> pd.DataFrame:
    """Current uploads the quality checks have not covered yet (a crashed run's too)."""
    u = schema.uploads.c
    return read_frame(
        conn, select(schema.uploads).where(u.validated_run.is_(None), u.status == "loaded")
    )


def exclusions(conn: Connection) -> pd.DataFrame:
    return read_frame(conn, select(schema.stg_exclusions))


def record_validation(
    engine: Engine,
    template: Template,
    uploads: pd.DataFrame,
    findings: pd.DataFrame,
    excluded: pd.DataFrame,
    run_id: str,
    at: datetime | None = None,
) -> dict[str, int]:
    """Store one template's validation: issues, excluded rows, uploads marked validated.

    One transaction, so a crash leaves the uploads unvalidated and the next run
    validates them again. Issues of the same upload identities (an earlier file of
    the same village and month) that were not found again become inactive.
    """
    scope = uploads[["source", "kind", "unit", "report_month"]]
    ids = [int(i) for i in uploads["upload_id"]]
    with engine.begin() as conn:
        counts = record_findings(conn, findings, run_id, "validation", scope, at=at)
        if not excluded.empty:
            rows = excluded.assign(template=template.name)
            bulk_insert(conn, schema.stg_exclusions, rows)
        conn.execute(
            update(schema.uploads)
            .where(schema.uploads.c.upload_id.in_(ids))
            .values(validated_run=run_id)
        )
    return counts


def mark_superseded_validated(engine: Engine, run_id: str) -> None:
    """Superseded uploads are never checked: their rows no longer count."""
    u = schema.uploads.c
    with engine.begin() as conn:
        conn.execute(
            update(schema.uploads)
            .where(u.validated_run.is_(None), u.status != "loaded")
            .values(validated_run=run_id)
        )


def current_staged(
    engine: Engine, raw_dir: Path, template: Template
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(kept, excluded) staged rows of the current uploads of one template."""
    with engine.connect() as conn:
        current = uploads_frame(conn, ["loaded"])
        excluded = exclusions(conn)
    rows = staged_rows(raw_dir, current, template)
    if rows.empty:
        return rows, rows
    mine = excluded.loc[excluded["template"] == template.name, ["upload_id", "row_number"]]
    flagged = rows.merge(mine.assign(_excluded=True), on=["upload_id", "row_number"], how="left")
    is_excluded = flagged.pop("_excluded").fillna(False).astype(bool)
    return flagged.loc[~is_excluded].reset_index(drop=True), flagged.loc[is_excluded].reset_index(
        drop=True
    )


def quarantines_seen_again(conn: Connection, run_id: str, inbox: Path) -> pd.DataFrame:
    """Quarantined files of earlier runs this run sees again, as file-level findings.

    Seen again: still in the inbox at the same path and followed by no later upload of
    the same identity or path. A file problem an officer marked resolved without a
    corrected upload is then found again, and reopens like a row issue does (issue ids
    do not depend on the upload id). Files quarantined by this run have their findings
    recorded by landing, with their uploads rows.
    """
    u = schema.uploads.c
    files = read_frame(
        conn, select(schema.uploads).where(u.status == "quarantined", u.run_id != run_id)
    )
    if files.empty:
        return file_quarantine_findings(files)
    later = read_frame(
        conn,
        select(u.upload_id, u.path, u.source, u.kind, u.unit, u.report_month).where(
            u.status != "quarantined"
        ),
    )
    present = files["path"].map(lambda p: (inbox / str(p)).is_file()).astype(bool)
    return file_quarantine_findings(files.loc[present & ~_followed_by(files, later)])


def file_quarantine_findings(files: pd.DataFrame) -> pd.DataFrame:
    """Quarantined manifest rows as file-level findings (dimension validity)."""
    files = files.reset_index(drop=True)
    return pd.DataFrame(
        {
            "rule": "file_" + files["reason_code"].fillna("quarantined").astype(str),
            "severity": "error",
            "dimension": "validity",
            "source": files["source"],
            "kind": files["kind"],
            "unit": files["unit"],
            "report_month": files["report_month"],
            "upload_id": files["upload_id"],
            "row_number": pd.NA,
            "record_key": pd.NA,
            "value": files["path"],
            "message_zh": "文件已隔离，未读取："
            + files["reason_zh"].fillna("")
            + "（文件："
            + files["path"]
            + "）",
            "message_en": "file quarantined, not read: "
            + files["reason_en"].fillna("")
            + " (file: "
            + files["path"]
            + ")",
        }
    )


def _followed_by(files: pd.DataFrame, later: pd.DataFrame) -> pd.Series:
    """Per file: a later upload has its identity (source, kind, unit, month) or its path."""
    identity = ["source", "kind", "unit", "report_month"]
    left = files[["upload_id", "path", *identity]].astype({"upload_id": "int64"})
    right = later.astype({"upload_id": "int64"}).rename(columns={"upload_id": "later_id"})
    by_identity = left.dropna(subset=identity).merge(right.drop(columns="path"), on=identity)
    by_path = left.merge(right[["later_id", "path"]], on="path")
    hits = pd.concat([by_identity, by_path], ignore_index=True)
    hits = hits.loc[hits["later_id"] > hits["upload_id"], "upload_id"]
    return left["upload_id"].isin(set(hits))


def load_recon_inputs(
    engine: Engine, raw_dir: Path, contract: Contract, areas: pd.DataFrame
) -> ReconInputs:
    """The current staged rows of every template, errors left out, as reconciliation wants them.

    An error row takes no part in reconciliation (indicators.md "Error rows never
    reconcile"): a village birth row with an invalid mother ID does not report the
    birth, which stays 漏报 until the corrected upload arrives.
    """
    frames: dict[str, pd.DataFrame] = {}
    excluded: dict[str, pd.DataFrame] = {}
    for name, template in contract.templates.items():
        frames[name], excluded[name] = current_staged(engine, raw_dir, template)
    with engine.connect() as conn:
        uploads = uploads_frame(conn)
    return ReconInputs(**frames, uploads=uploads, areas=areas, excluded=excluded)
