"""Publishing: the reconciled tables and the mart, replaced together in one transaction.

Write–audit–publish: the caller computes the mart in memory and audits it; only
then does `publish` swap everything in a single transaction, so a dashboard sees
yesterday's tables or today's, never a mix, and a run killed before the commit
leaves yesterday's in place. Unchanged mart rows keep the run id that first
published them, so a rerun with no new data changes no published row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection, Engine, text

from warehouse import schema
from warehouse.load import bulk_insert, read_frame, replace_rows

MART_KEY = ["area_code", "period", "indicator"]
_COMPARED = [
    "numerator",
    "denominator",
    "value",
    "status",
    "target_op",
    "target",
    "target_hi",
    "rank",
    "period_complete",
    "signed_off_share",
    "area_name",
    "indicator_name",
]
RECON_TABLES = {
    "recon_births": schema.recon_births,
    "recon_women": schema.recon_women,
    "recon_fees": schema.recon_fees,
    "recon_exams": schema.recon_exams,
    "recon_changes": schema.recon_changes,
    "recon_accuracy": schema.recon_accuracy,
    "dq_reporting": schema.dq_reporting,
}


@dataclass(frozen=True)
class PublishSummary:
    """What a publish changed in the mart."""

    rows: int
    new: int
    changed: int
    removed: int


def current_mart(conn: Connection) -> pd.DataFrame:
    return read_frame(conn, schema.mart_target_achievement)


def _comparable(frame: pd.DataFrame) -> pd.DataFrame:
    # reindex: a mart published before a column existed compares as null there.
    out = frame.set_index(MART_KEY).reindex(columns=_COMPARED)
    for column in ("numerator", "denominator", "value", "target", "target_hi", "signed_off_share"):
        # Compare at the warehouse's precision: NUMERIC(18,2) and doubles round-tripped.
        out[column] = pd.to_numeric(out[column]).astype("Float64").round(6)
    for column in ("rank",):
        out[column] = out[column].astype("Int64")
    return out.astype("string").fillna("∅")


def diff_mart(
    old: pd.DataFrame, new: pd.DataFrame, run_id: str
) -> tuple[pd.DataFrame, PublishSummary]:
    """The mart to write: rows whose figures did not change keep their old run_id."""
    new = new.copy()
    new["run_id"] = run_id
    if old.empty:
        return new, PublishSummary(len(new), len(new), 0, 0)
    old_cmp, new_cmp = _comparable(old), _comparable(new)
    common = new_cmp.index.intersection(old_cmp.index)
    same = (new_cmp.loc[common] == old_cmp.loc[common]).all(axis=1)
    unchanged_keys = same[same].index
    old_runs = old.set_index(MART_KEY)["run_id"]
    keyed = new.set_index(MART_KEY)
    keyed.loc[unchanged_keys, "run_id"] = old_runs.loc[unchanged_keys]
    summary = PublishSummary(
        rows=len(new),
        new=len(new_cmp.index.difference(old_cmp.index)),
        changed=int((~same).sum()),
        removed=len(old_cmp.index.difference(new_cmp.index)),
    )
    return keyed.reset_index(), summary


def publish(
    engine: Engine,
    recon: Mapping[str, pd.DataFrame],
    mart: pd.DataFrame,
    run_id: str,
    before_commit: Callable[[], None] | None = None,
) -> PublishSummary:
    """Replace the reconciled tables and the mart, and add changed rows to the history.

    `before_commit` is called inside the transaction once everything is written
    (the crash tests stop the process there).
    """
    with engine.begin() as conn:
        old = current_mart(conn)
        to_write, summary = diff_mart(old, mart, run_id)
        for name, frame in recon.items():
            replace_rows(conn, RECON_TABLES[name], frame)
        replace_rows(conn, schema.mart_target_achievement, to_write)
        changed = to_write.loc[to_write["run_id"] == run_id]
        bulk_insert(conn, schema.mart_target_achievement_history, changed)
        if before_commit is not None:
            before_commit()
    return summary


def grant_dashboard(engine: Engine, role: str) -> list[str]:
    """Create (if needed) a read-only PostgreSQL role that can select `mart_*` and nothing else."""
    if engine.dialect.name != "postgresql":
        raise ValueError("dashboard roles need PostgreSQL; SQLite has no roles")
    if not role.replace("_", "").isalnum():
        raise ValueError(f"role name must be letters, digits and _: {role!r}")
    marts = [t for t in schema.metadata.tables if t.startswith("mart_")]
    with engine.begin() as conn:
        current_schema = conn.execute(text("select current_schema()")).scalar_one()
        exists = conn.execute(
            text("select 1 from pg_roles where rolname = :r"), {"r": role}
        ).first()
        if not exists:
            conn.execute(text(f'create role "{role}" nologin'))
        conn.execute(text(f'grant usage on schema "{current_schema}" to "{role}"'))
        for table in marts:
            conn.execute(text(f'grant select on "{current_schema}"."{table}" to "{role}"'))
    return marts
