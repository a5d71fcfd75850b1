"""What a run did, read back from the warehouse: files, issues, figures changed, input state.

The nightly flow asks these after its stages so that the summary reflects the
manifest as it stands (a file loaded early in the run may be superseded by a
correction later in the same run), not what each stage counted on the way.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pandas as pd
from sqlalchemy import Connection, func, select

from transforms.indicators.achievement import AREA_LEVELS
from warehouse import schema
from warehouse.load import read_frame


def files_of_run(conn: Connection, run_id: str) -> dict[str, int]:
    """This run's files by their manifest status now (loaded, superseded, duplicate, quarantined)."""
    u = schema.uploads.c
    rows = conn.execute(
        select(u.status, func.count()).where(u.run_id == run_id).group_by(u.status)
    ).all()
    return {str(status): int(n) for status, n in rows}


def issue_counts(conn: Connection, run_id: str) -> dict[str, int]:
    """Quality issues this run opened for the first time, and resolved ones it found again."""
    c = schema.dq_issues.c
    e = schema.dq_issue_events.c
    new = conn.execute(select(func.count()).where(c.first_seen_run == run_id)).scalar_one()
    reopened = conn.execute(
        select(func.count()).where(
            e.run_id == run_id, e.from_status == "resolved", e.to_status == "open"
        )
    ).scalar_one()
    return {"new": int(new), "reopened": int(reopened)}


def issues_by_rule(conn: Connection, run_id: str) -> pd.DataFrame:
    """Active issues by rule and severity: how many, how many still open, new in this run."""
    c = schema.dq_issues.c
    e = schema.dq_issue_events.c
    active = read_frame(
        conn,
        select(c.issue_id, c.rule, c.severity, c.dimension, c.status, c.first_seen_run).where(
            c.active.is_(True)
        ),
    )
    reopened_ids = {
        str(i)
        for (i,) in conn.execute(
            select(e.issue_id).where(
                e.run_id == run_id, e.from_status == "resolved", e.to_status == "open"
            )
        )
    }
    columns = ["rule", "severity", "dimension", "active", "open", "new", "reopened"]
    if active.empty:
        return pd.DataFrame(columns=columns)
    active = active.assign(
        open=(active["status"] == "open").astype(int),
        new=(active["first_seen_run"] == run_id).astype(int),
        reopened=active["issue_id"].isin(reopened_ids).astype(int),
        active=1,
    )
    grouped = (
        active.groupby(["rule", "severity", "dimension"], dropna=False)[
            ["active", "open", "new", "reopened"]
        ]
        .sum()
        .reset_index()
    )
    order = {"error": 0, "warning": 1, "info": 2}
    grouped["_order"] = grouped["severity"].map(order).fillna(9)
    grouped = grouped.sort_values(["_order", "active", "rule"], ascending=[True, False, True])
    return grouped.drop(columns="_order").reset_index(drop=True)[columns]


def mart_changes(conn: Connection, run_id: str, level: str | None = None) -> pd.DataFrame:
    """Figures at one area level that `run_id` published differently from before; by
    default the top level published (the county, or the province above it).

    Columns: area_code, period, indicator, indicator_name, had_previous (False when
    the figure is published for the first time), old_value, value, status. From the mart history, which holds one row per
    figure per publishing run that changed it.
    """
    h = schema.mart_target_achievement_history.c
    if level is None:
        present = {str(v) for (v,) in conn.execute(select(h.area_level).distinct())}
        level = next((v for v in AREA_LEVELS if v in present), "county")
    history = read_frame(
        conn,
        select(
            h.history_id,
            h.area_code,
            h.period,
            h.indicator,
            h.indicator_name,
            h.value,
            h.status,
            h.run_id,
        ).where(h.area_level == level),
    )
    columns = [
        "area_code",
        "period",
        "indicator",
        "indicator_name",
        "had_previous",
        "old_value",
        "value",
        "status",
    ]
    if history.empty:
        return pd.DataFrame(columns=columns)
    key = ["area_code", "period", "indicator"]
    history = history.sort_values([*key, "history_id"])
    history["old_value"] = history.groupby(key)["value"].shift(1)
    history["had_previous"] = history.groupby(key).cumcount() > 0
    mine = history.loc[history["run_id"] == run_id]
    return mine.sort_values(["indicator", "period"]).reset_index(drop=True)[columns]


def latest_completed_run(conn: Connection) -> dict[str, Any] | None:
    """The last run that completed: run_id, as_of, summary (parsed), finished_at."""
    r = schema.runs.c
    row = (
        conn.execute(
            select(r.run_id, r.as_of, r.summary, r.finished_at)
            .where(r.status == "completed")
            .order_by(r.finished_at.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    try:
        summary = json.loads(row["summary"] or "{}")
    except ValueError:
        summary = {}
    return {**dict(row), "summary": summary}


def latest_nightly_as_of(conn: Connection) -> Any:
    """The as_of of the last completed nightly run (what the published recon tables reflect)."""
    r = schema.runs.c
    rows = conn.execute(
        select(r.as_of, r.summary).where(r.status == "completed").order_by(r.finished_at.desc())
    )
    for as_of, text in rows:
        try:
            kind = json.loads(text or "{}").get("kind", "nightly")
        except ValueError:
            kind = "nightly"
        if kind == "nightly":
            return as_of
    return None


def input_state(conn: Connection) -> str:
    """A digest of what reconciliation would read from the warehouse.

    The current uploads (id and bytes), the rows quality checks exclude, and the
    officers' last review action (a resolved issue found again must reopen), and the
    last sign-off event (审核把关).
    """
    u = schema.uploads.c
    digest = hashlib.sha256()
    uploads = conn.execute(
        select(u.upload_id, u.sha256).where(u.status == "loaded").order_by(u.upload_id)
    )
    for upload_id, sha in uploads:
        digest.update(f"{upload_id}:{sha};".encode())
    x = schema.stg_exclusions.c
    excluded = conn.execute(select(func.count(), func.max(x.upload_id))).one()
    e = schema.dq_issue_events.c
    reviewed = conn.execute(select(func.max(e.event_id)).where(e.run_id.is_(None))).scalar()
    digest.update(f"excluded:{excluded[0]}:{excluded[1]};reviewed:{reviewed}".encode())
    # A sign-off or its withdrawal changes the published signed_off_share.
    v = schema.village_signoff_events.c
    signed = conn.execute(select(func.max(v.event_id))).scalar()
    digest.update(f";signed:{signed}".encode())
    return digest.hexdigest()
