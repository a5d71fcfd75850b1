"""The quality-issue store: findings become `dq_issues`, officers review them.

An issue's id is a hash of what the problem is and where (rule, upload identity,
row or person, value), not of the run or the upload id, so the same problem
found again — even in a corrected re-upload — keeps its id and its review.
"""

from __future__ import annotations

import getpass
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import Connection, and_, case, func, select, update
from sqlalchemy.sql import ColumnElement

from transforms.quality.rules import FINDING_COLUMNS, IDENTITY_KEY_COLUMNS
from warehouse import schema
from warehouse.clock import local_now
from warehouse.load import bulk_insert, read_frame

STATUSES = ("open", "acknowledged", "resolved", "waived")
_IDENTITY_PARTS = ["rule", "source", "kind", "unit", "report_month", "column", "locator", "value"]


def _keyed(findings: pd.DataFrame, key: str, shown: str) -> pd.Series:
    """The keyed hash where the finding has one, else the shown (masked) text."""
    text = findings[shown].astype("string")
    if key not in findings.columns:
        return text
    return ("key:" + findings[key].astype("string")).fillna(text)


def issue_ids(findings: pd.DataFrame) -> pd.Series:
    """Stable ids: the same problem at the same place keeps its id across runs and re-uploads.

    A person is identified by the keyed hash of their ID (`person_key`, `value_key`) where
    the finding carries one, never by the mask alone: two different IDs can share a mask.
    """
    locator = _keyed(findings, "person_key", "record_key").fillna(
        "row:" + findings["row_number"].astype("string").fillna("")
    )
    value = _keyed(findings, "value_key", "value")
    parts = (
        findings.assign(locator=locator, value=value)[_IDENTITY_PARTS].astype("string").fillna("")
    )
    first, *rest = _IDENTITY_PARTS
    joined = parts[first].str.cat([parts[c] for c in rest], sep="\x1f")
    return joined.map(lambda s: "DQ" + hashlib.sha1(s.encode("utf-8")).hexdigest()[:16])


def _file_names(conn: Connection, upload_ids: Iterable[int]) -> dict[int, str]:
    ids = sorted({int(i) for i in upload_ids})
    if not ids:
        return {}
    u = schema.uploads.c
    rows = conn.execute(select(u.upload_id, u.file_name).where(u.upload_id.in_(ids)))
    return {int(i): str(n) for i, n in rows}


def _event_frame(
    issue_ids_: Sequence[str],
    frm: Sequence[str | None],
    to: str,
    note: str | None,
    by: str,
    run_id: str | None,
    at: datetime,
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "issue_id": list(issue_ids_),
            "at": at,
            "by": by,
            "from_status": list(frm),
            "to_status": to,
            "note": note,
            "run_id": run_id,
        }
    )


def record_findings(
    conn: Connection,
    findings: pd.DataFrame,
    run_id: str,
    origin: str,
    scope: pd.DataFrame | None = None,
    at: datetime | None = None,
) -> dict[str, int]:
    """Merge one check's findings into `dq_issues`.

    New problems open; known ones get `last_seen_run`; resolved ones found again
    reopen (waived ones stay waived). Active issues of this `origin` inside `scope`
    (source, kind, unit, report_month rows; None = everything) that were not found
    again are marked inactive: the problem is gone. `at` stamps the events (local wall
    time in the configured zone, warehouse.clock; default: the default zone's).
    """
    at = at or local_now()
    # A reference file's row (targets.csv) has no upload: its findings name the file.
    given_names = findings["file_name"] if "file_name" in findings.columns else None
    keys = [c for c in IDENTITY_KEY_COLUMNS if c in findings.columns]
    findings = findings.reindex(columns=[*FINDING_COLUMNS, *keys])
    ids = issue_ids(findings) if len(findings) else pd.Series(dtype="string")
    findings = findings.reindex(columns=list(FINDING_COLUMNS)).copy()
    findings["issue_id"] = ids.to_numpy()
    findings = findings.drop_duplicates("issue_id")
    c = schema.dq_issues.c
    existing = read_frame(conn, select(c.issue_id, c.status, c.active).where(c.origin == origin))
    known = findings["issue_id"].isin(existing["issue_id"])

    new = findings.loc[~known].copy()
    names = _file_names(conn, new["upload_id"].dropna())
    new["file_name"] = new["upload_id"].map(lambda i: names.get(int(i)) if pd.notna(i) else None)
    if given_names is not None:
        given = given_names.reindex(new.index).astype("string")
        new["file_name"] = new["file_name"].astype("string").fillna(given)
    new = new.rename(columns={"column": "column_name"}).assign(
        status="open", first_seen_run=run_id, last_seen_run=run_id, active=True, origin=origin
    )
    bulk_insert(conn, schema.dq_issues, new)
    if len(new):
        bulk_insert(
            conn,
            schema.dq_issue_events,
            _event_frame(
                list(new["issue_id"]), [None] * len(new), "open", None, "popstat", run_id, at
            ),
        )

    seen_ids = list(findings.loc[known, "issue_id"])
    reopened = existing.loc[
        existing["issue_id"].isin(seen_ids) & (existing["status"] == "resolved"), "issue_id"
    ].tolist()
    for chunk in _chunks(seen_ids):
        conn.execute(
            update(schema.dq_issues)
            .where(c.issue_id.in_(chunk))
            .values(last_seen_run=run_id, active=True)
        )
    for chunk in _chunks(reopened):
        conn.execute(
            update(schema.dq_issues)
            .where(c.issue_id.in_(chunk))
            .values(
                status="open",
                status_note="问题再次出现 found again by a later run",
                status_by="popstat",
                status_at=at,
            )
        )
    if reopened:
        bulk_insert(
            conn,
            schema.dq_issue_events,
            _event_frame(
                reopened,
                ["resolved"] * len(reopened),
                "open",
                "问题再次出现 found again",
                "popstat",
                run_id,
                at,
            ),
        )

    gone = _gone_issue_ids(conn, origin, set(findings["issue_id"]), scope)
    for chunk in _chunks(gone):
        conn.execute(update(schema.dq_issues).where(c.issue_id.in_(chunk)).values(active=False))
    return {
        "new": len(new),
        "seen_again": len(seen_ids),
        "reopened": len(reopened),
        "gone": len(gone),
    }


def _gone_issue_ids(
    conn: Connection, origin: str, found: set[str], scope: pd.DataFrame | None
) -> list[str]:
    c = schema.dq_issues.c
    active = read_frame(
        conn,
        select(c.issue_id, c.source, c.kind, c.unit, c.report_month).where(
            c.origin == origin, c.active.is_(True)
        ),
    )
    if scope is not None:
        keys = ["source", "kind", "unit", "report_month"]
        active = active.merge(scope[keys].drop_duplicates().astype("string"), on=keys)
    return [i for i in active["issue_id"] if i not in found]


def _chunks(items: Sequence[str], size: int = 500) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


@dataclass(frozen=True)
class IssueFilter:
    """What an officer selects: every field optional; `active_only` hides problems now gone."""

    status: str | None = None
    rule: str | None = None
    severity: str | None = None
    source: str | None = None
    kind: str | None = None
    unit: str | None = None
    month: str | None = None
    issue_ids: tuple[str, ...] = ()
    active_only: bool = True

    def clauses(self) -> list[ColumnElement[bool]]:
        c = schema.dq_issues.c
        pairs = [
            (c.status, self.status),
            (c.rule, self.rule),
            (c.severity, self.severity),
            (c.source, self.source),
            (c.kind, self.kind),
            (c.report_month, self.month),
        ]
        clauses = [col == value for col, value in pairs if value]
        if self.unit:
            clauses.append(c.unit.startswith(self.unit))  # a township code selects its villages
        if self.issue_ids:
            clauses.append(c.issue_id.in_(self.issue_ids))
        if self.active_only:
            clauses.append(c.active.is_(True))
        return clauses


def _queue_order() -> list[ColumnElement[Any]]:
    """The review queue's order: errors first (a quarantined file must not fall off the
    end), then unit and month, then where in the file."""
    c = schema.dq_issues.c
    errors_first = case((c.severity == "error", 0), (c.severity == "warning", 1), else_=2)
    return [
        errors_first,
        c.unit.is_(None),
        c.unit,
        c.report_month,
        c.file_name,
        c.row_number,
        c.rule,
        c.issue_id,
    ]


def list_issues(conn: Connection, selection: IssueFilter, limit: int | None = None) -> pd.DataFrame:
    """The selected issues in queue order (`_queue_order`), at most `limit` of them."""
    query = (
        select(schema.dq_issues).where(and_(True, *selection.clauses())).order_by(*_queue_order())
    )
    if limit:
        query = query.limit(limit)
    return read_frame(conn, query)


def count_issues(conn: Connection, selection: IssueFilter) -> int:
    """How many issues the selection holds (for "shows N of M")."""
    query = (
        select(func.count()).select_from(schema.dq_issues).where(and_(True, *selection.clauses()))
    )
    return int(conn.execute(query).scalar_one())


def count_by_severity(conn: Connection, selection: IssueFilter) -> dict[str, int]:
    """Selected issues per severity."""
    c = schema.dq_issues.c
    query = (
        select(c.severity, func.count())
        .where(and_(True, *selection.clauses()))
        .group_by(c.severity)
    )
    return {str(severity): int(n) for severity, n in conn.execute(query)}


def unknown_issue_ids(conn: Connection, ids: Sequence[str]) -> list[str]:
    """The ids in `ids` that name no issue at all (active or not)."""
    c = schema.dq_issues.c
    known: set[str] = set()
    for chunk in _chunks(list(dict.fromkeys(ids))):
        known.update(
            str(i) for (i,) in conn.execute(select(c.issue_id).where(c.issue_id.in_(chunk)))
        )
    return [i for i in dict.fromkeys(ids) if i not in known]


def issue_events(conn: Connection, issue_id: str) -> pd.DataFrame:
    e = schema.dq_issue_events.c
    return read_frame(
        conn, select(schema.dq_issue_events).where(e.issue_id == issue_id).order_by(e.event_id)
    )


def set_status(
    conn: Connection,
    selection: IssueFilter,
    status: str,
    note: str | None,
    by: str | None = None,
    at: datetime | None = None,
) -> int:
    """Set the review status of every selected issue, keeping an event for each change.

    `at`: when (local wall time in the configured zone, warehouse.clock).
    """
    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}")
    who = by or getpass.getuser()
    c = schema.dq_issues.c
    current = read_frame(conn, select(c.issue_id, c.status).where(and_(True, *selection.clauses())))
    changing = current.loc[current["status"] != status]
    now = at or local_now()
    for chunk in _chunks(list(changing["issue_id"])):
        conn.execute(
            update(schema.dq_issues)
            .where(c.issue_id.in_(chunk))
            .values(status=status, status_note=note, status_by=who, status_at=now)
        )
    if len(changing):
        bulk_insert(
            conn,
            schema.dq_issue_events,
            _event_frame(
                list(changing["issue_id"]),
                list(changing["status"]),
                status,
                note,
                who,
                None,
                now,
            ),
        )
    return len(changing)
