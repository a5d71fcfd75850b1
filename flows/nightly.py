"""The nightly Prefect flow: thin orchestration over warehouse/, expectations/, transforms/.

    land → validate → reconcile (+ cross checks) → compute → audit → publish

Tasks pass settings, run ids and Parquet paths, never large frames: Prefect keeps
task inputs and results in memory for the whole run. Only `publish` touches the
published tables, in one transaction, so a run that dies anywhere before it
leaves yesterday's figures in place and the next run completes the work.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, task

from expectations.audit import audit_findings, audit_mart
from expectations.validate import excluded_rows, validate_batch
from flows.settings import Settings
from transforms.after_reconcile import cross_checks
from transforms.catalog import load_catalog
from transforms.indicators import compute_indicators
from transforms.periods import periods_for
from transforms.reconcile import reconcile
from transforms.templates import load_contract
from warehouse import publish as publishing
from warehouse import runs, staged, workspace
from warehouse.db import make_engine
from warehouse.issues import record_findings
from warehouse.landing import LandingContext, land_inbox
from warehouse.reference import read_reference

# Retries with backoff on the tasks that touch files and the database, and only those.
IO_RETRIES = 2
IO_RETRY_DELAYS: list[float] = [5, 30]


def _landing_context(settings: Settings, run_id: str) -> LandingContext:
    return LandingContext(
        inbox=settings.inbox,
        raw_dir=settings.raw_dir,
        run_id=run_id,
        contract=load_contract(),
        secret=settings.secret,
        deadline_day=settings.deadline_day,
        time_zone=settings.time_zone,
    )


@task(name="land", retries=IO_RETRIES, retry_delay_seconds=IO_RETRY_DELAYS)
def land(settings: Settings, run_id: str) -> dict[str, Any]:
    """Discover new and corrected uploads and land them (manifest, raw, staging)."""
    engine = make_engine(settings.effective_warehouse_url)
    summary = land_inbox(engine, _landing_context(settings, run_id), progress=get_run_logger().info)
    with engine.begin() as conn:
        quarantined = staged.quarantine_findings(conn, run_id)
        # Scope nothing: a quarantine stays an issue until an officer resolves it.
        record_findings(conn, quarantined, run_id, "landing", scope=quarantined.iloc[0:0])
    return {"files": summary.files_by_status, "rows": summary.rows_by_template}


@task(name="validate")
def validate(settings: Settings, run_id: str) -> dict[str, int]:
    """Great Expectations over every upload not yet checked, one batch per template."""
    engine = make_engine(settings.effective_warehouse_url)
    staged.mark_superseded_validated(engine, run_id)
    with engine.connect() as conn:
        pending = staged.unvalidated_uploads(conn)
    counts: dict[str, int] = {}
    for template in load_contract().templates.values():
        uploads = pending.loc[
            (pending["source"] == template.source) & (pending["kind"] == template.kind)
        ]
        if uploads.empty:
            continue
        rows = staged.staged_rows(settings.raw_dir, uploads, template)
        findings = validate_batch(rows, template)
        staged.record_validation(
            engine, template, uploads, findings, excluded_rows(findings), run_id
        )
        counts[template.name] = len(findings)
    return counts


@task(name="reconcile")
def reconcile_sources(settings: Settings, run_id: str) -> dict[str, str]:
    """Reconcile the three sources and run the cross-row checks; frames go to the run folder."""
    engine = make_engine(settings.effective_warehouse_url)
    reference = read_reference(settings.reference)
    contract = load_contract()
    inputs = staged.load_recon_inputs(engine, settings.raw_dir, contract, reference.areas)
    result = reconcile(inputs, settings.effective_as_of, settings.deadline_day)
    checks = cross_checks(
        inputs, reference.institutions, contract, settings.effective_as_of, settings.deadline_day
    )
    with engine.begin() as conn:
        record_findings(conn, result.findings, run_id, "reconciliation")
        for origin, findings in checks.findings.items():
            record_findings(conn, findings, run_id, origin)
    frames = {
        name: getattr(result, name) for name in publishing.RECON_TABLES if name != "dq_reporting"
    }
    frames["dq_reporting"] = checks.dq_reporting
    return workspace.save_frames(workspace.run_folder(settings.home, run_id), frames)


@task(name="compute")
def compute(settings: Settings, run_id: str, recon_paths: dict[str, str]) -> str:
    """Every indicator × area × period from the catalog; the mart goes to the run folder."""
    frames = workspace.load_frames(recon_paths)
    reference = read_reference(settings.reference)
    months = sorted(
        set(frames["recon_women"]["snapshot_month"].dropna())
        | set(frames["recon_births"]["birth_month"].dropna())
    )
    mart = compute_indicators(
        frames, load_catalog(), reference.areas, reference.targets, periods_for(months), run_id
    )
    folder = workspace.run_folder(settings.home, run_id)
    return workspace.save_frames(folder, {"mart": mart})["mart"]


@task(name="audit")
def audit(settings: Settings, run_id: str, mart_path: str) -> list[str]:
    """Write–audit–publish: the computed mart must pass its suite before it is published."""
    mart = workspace.load_frames({"mart": mart_path})["mart"]
    failures = list(audit_mart(mart).failures)
    engine = make_engine(settings.effective_warehouse_url)
    with engine.begin() as conn:
        record_findings(conn, audit_findings(failures), run_id, "audit")
    return failures


@task(name="publish", retries=IO_RETRIES, retry_delay_seconds=IO_RETRY_DELAYS)
def publish(
    settings: Settings, run_id: str, recon_paths: dict[str, str], mart_path: str
) -> dict[str, int]:
    """Swap the reconciled tables and the mart in one transaction."""
    engine = make_engine(settings.effective_warehouse_url)
    frames = workspace.load_frames(recon_paths)
    mart = workspace.load_frames({"mart": mart_path})["mart"]
    summary = publishing.publish(engine, frames, mart, run_id)
    return {
        "rows": summary.rows,
        "new": summary.new,
        "changed": summary.changed,
        "removed": summary.removed,
    }


class AuditFailedError(RuntimeError):
    """The computed mart failed its audit; yesterday's stays published."""


@flow(name="popstat-nightly", log_prints=False)
def nightly(settings: Settings, run_id: str) -> dict[str, Any]:
    """One nightly run: land → validate → reconcile → compute → audit → publish."""
    engine = make_engine(settings.effective_warehouse_url)
    runs.start_run(engine, run_id, settings.effective_as_of)
    summary: dict[str, Any] = {"run_id": run_id}
    try:
        summary["landing"] = land(settings, run_id)
        summary["validation"] = validate(settings, run_id)
        recon_paths = reconcile_sources(settings, run_id)
        mart_path = compute(settings, run_id, recon_paths)
        failures = audit(settings, run_id, mart_path)
        if failures:
            raise AuditFailedError("; ".join(failures))
        summary["publish"] = publish(settings, run_id, recon_paths, mart_path)
    except BaseException as error:
        runs.finish_run(engine, run_id, "failed", {**summary, "error": repr(error)})
        raise
    runs.finish_run(engine, run_id, "completed", summary)
    workspace.remove_run_folder(settings.home, run_id)
    return summary
