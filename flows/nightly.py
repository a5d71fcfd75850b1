"""The nightly Prefect flow: thin orchestration over warehouse/, expectations/, transforms/.

    land → validate → check inputs → reconcile (+ cross checks) → compute → audit → publish

Tasks pass settings, run ids and Parquet paths, never large frames: Prefect keeps
task inputs and results in memory for the whole run. Only `publish` touches the
published tables, in one transaction, so a run that dies anywhere before it
leaves yesterday's figures in place and the next run completes the work.

Flow parameters are JSON (`options`: the command's flags), never the Settings
object: Prefect stores parameters on its server and the settings hold the
person-key secret. The flow reads the rest from the environment like the
command does.

The warehouse lock: see `warehouse.runs.lock_unless_held`. The stages' names and
order: `flows.stages`.

A rerun whose inputs have not changed since the last completed run (same
uploads, exclusions, officer reviews, as-of date, reference files and code;
see `check_inputs`) skips reconcile → publish: the published figures would be
the same.

`backfill` recomputes the published figures of a range of months from the
staged Parquet (no file is read again) and publishes only the periods inside
the range.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar, cast

import pandas as pd
from prefect import Flow, flow, get_run_logger, task, unmapped
from prefect.context import FlowRunContext
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from flows import (
    partition_work,
    prefect_runs,
    progress,
    run_inputs,
    validation_work,
    worker_processes,
)
from flows.notify import failure_payload, notify_failure
from flows.period_range import merge_range, month_range
from flows.settings import Settings, load_settings
from flows.stages import Stage
from flows.summaries import (
    LandingCounts,
    PublishCounts,
    RunSummary,
    files_digest,
    fingerprint,
)
from transforms.indicators.achievement import compute_indicators, target_findings
from transforms.indicators.catalog import load_catalog
from transforms.indicators.signoff import review_months
from transforms.periods import last_due_month, periods_for
from transforms.quality.batches import batch_row_count, row_batches, township_order
from transforms.quality.rules import excluded_rows
from transforms.reconcile.partitions import task_groups, uploader_partitions
from transforms.templates import Template, load_contract
from warehouse import (
    memory,
    partition_cache,
    partitions,
    run_summary,
    runs,
    signoffs,
    staged,
    workspace,
)
from warehouse import publish as publishing
from warehouse.clock import local_now
from warehouse.db import make_engine
from warehouse.issues import record_findings
from warehouse.landing import land_inbox
from warehouse.partitions import Split
from warehouse.reference import REFERENCE_FILES, Reference, ReferenceError, read_reference

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment
    from sqlalchemy import Engine

# Retries with backoff on the tasks that touch files and the database, and only those.
IO_RETRIES = 2
IO_RETRY_DELAYS: list[float] = [5, 30]

F = TypeVar("F", bound=Flow[Any, Any])

DEPLOYMENT_NAME = "nightly-0230"
SCHEDULE_CRON = "30 2 * * *"


class AuditFailedError(RuntimeError):
    """The computed mart failed its audit; yesterday's stays published."""


@dataclass(frozen=True)
class InputCheck:
    """What `check_inputs` found: this run's fingerprint, the completed run that had the same
    one (None: recompute), and each part's short digest (what changed, at a glance)."""

    fingerprint: str
    same_as: str | None
    inputs: dict[str, str]


# ----------------------------------------------------------------------------- helpers

_run_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def _engine(settings: Settings) -> Engine:
    """The run's one engine (a pool of connections), shared by its tasks; `_run` disposes
    of it when the run ends. Tasks run in this process, so they can share it."""
    url = settings.effective_warehouse_url
    with _engines_lock:
        engine = _run_engines.get(url)
        if engine is None:
            engine = _run_engines[url] = make_engine(url)
    return engine


def dispose_engines() -> None:
    """Close the engines of the runs that ended (their pooled connections too)."""
    with _engines_lock:
        engines = list(_run_engines.values())
        _run_engines.clear()
    for engine in engines:
        engine.dispose()


@contextmanager
def _stage(settings: Settings, run_id: str, name: Stage) -> Iterator[Callable[[str], None]]:
    """Report a stage's start, details and end; heartbeat the lock.

    Yields a function that reports a detail line (to the log and the progress line).
    """
    logger = get_run_logger()
    progress.emit(name, "start")
    runs.heartbeat(_engine(settings), run_id, settings.time_zone)
    started = time.perf_counter()

    def detail(message: str) -> None:
        logger.info(message)
        progress.emit(name, "info", message)

    try:
        yield detail
    except BaseException as error:
        progress.emit(name, "failed", f"{type(error).__name__}: {error}")
        raise
    finally:
        memory.release_unused()  # the next stage starts from what is still held, not the peak
    progress.emit(name, "done", f"{time.perf_counter() - started:.1f} s")


# ------------------------------------------------------------------------------- tasks


def _worth_retrying(task: Any, task_run: Any, state: Any) -> bool:
    """Retry what may pass (the disk, the database), not a missing reference file."""
    return not isinstance(getattr(state, "data", None), ReferenceError)


@task(
    name="land",
    retries=IO_RETRIES,
    retry_delay_seconds=IO_RETRY_DELAYS,
    retry_condition_fn=_worth_retrying,
)
def land(settings: Settings, run_id: str) -> LandingCounts:
    """Discover new and corrected uploads and land them (manifest, raw, staging)."""
    with _stage(settings, run_id, Stage.LAND) as detail:
        engine = _engine(settings)
        # The quarantines' issues are recorded with their uploads, in landing's transactions;
        # here, those of earlier runs' files still in the inbox (a resolved one reopens).
        summary = land_inbox(engine, run_inputs.landing_context(settings, run_id), progress=detail)
        with engine.begin() as conn:
            again = staged.quarantines_seen_again(conn, run_id, settings.inbox)
            # Scope nothing: a quarantine stays an issue until an officer resolves it.
            record_findings(
                conn,
                again,
                run_id,
                "landing",
                scope=again.iloc[0:0],
                at=local_now(settings.time_zone),
            )
            # A village-month with new files must be reviewed again (审核把关).
            withdrawn = signoffs.withdraw_changed(conn, run_id, local_now(settings.time_zone))
        if len(withdrawn):
            detail(f"签核已撤销 sign-offs withdrawn by new uploads: {len(withdrawn)}")
        return {
            "files": summary.files_by_status,
            "rows": summary.rows_by_template,
            "signoffs_withdrawn": len(withdrawn),
        }


@task(name="validate")
def validate(settings: Settings, run_id: str) -> dict[str, int]:
    """Great Expectations over every upload not yet checked, one batch per template."""
    with _stage(settings, run_id, Stage.VALIDATE) as detail:
        engine = _engine(settings)
        staged.mark_superseded_validated(engine, run_id)
        with engine.connect() as conn:
            pending = staged.unvalidated_uploads(conn)
        if pending.empty:
            return {}
        contract = load_contract()
        institutions = read_reference(settings.reference).institutions
        jobs: list[validation_work.ValidationJob] = []
        for template in contract.templates.values():
            uploads = pending.loc[
                (pending["source"] == template.source) & (pending["kind"] == template.kind)
            ]
            if uploads.empty:
                continue
            detail(f"{template.title_zh} {template.name}: {len(uploads)} 个文件 files")
            jobs += [
                validation_work.ValidationJob(template.name, batch)
                for batch in _validation_batches(uploads, template, institutions, settings)
            ]
        rows = [batch_row_count(job.uploads) for job in jobs]
        workers = validation_work.pool_size(settings, rows)
        if workers:
            detail(f"{len(jobs)} 批 batches, {workers} 个进程 processes")
        counts: dict[str, int] = {}
        kept: list[bytes] = []  # the workers' GX results for the Data Docs, pickled
        for job, findings in validation_work.validated(settings, jobs, workers, kept):
            template = contract.templates[job.template]
            staged.record_validation(
                engine,
                template,
                job.uploads,
                findings,
                excluded_rows(findings),
                run_id,
                at=local_now(settings.time_zone),
            )
            counts[template.name] = counts.get(template.name, 0) + len(findings)
        detail(f"Data Docs: {validation_work.build_docs(settings, run_id, jobs, kept)}")
        return counts


def _validation_batches(
    uploads: pd.DataFrame, template: Template, institutions: pd.DataFrame, settings: Settings
) -> list[pd.DataFrame]:
    """A template's uploads in GX batches of at most `validate_batch_rows` rows, township by
    township (transforms.quality.batches); one batch when a value must be unique across
    units (`unique = "all"`: compared within the batch)."""
    if any(column.unique == "all" for column in template.columns):
        return [uploads]
    ordered = township_order(uploads, uploader_partitions(uploads["unit"], institutions))
    return row_batches(ordered, settings.validate_batch_rows)


@task(name="check-inputs")
def check_inputs(settings: Settings, run_id: str) -> InputCheck:
    """Fingerprint what reconcile → publish would read; the last run with the same one, if any.

    Only the latest completed run counts (a backfill in between publishes other
    figures), and only with the same as-of date.
    """
    with _stage(settings, run_id, Stage.FINGERPRINT) as detail:
        engine = _engine(settings)
        with engine.connect() as conn:
            state = run_summary.input_state(conn)
            last = run_summary.latest_completed_run(conn)
        reference = [settings.reference / name for name, _ in REFERENCE_FILES.values()]
        parts = {
            "as_of": settings.effective_as_of.isoformat(),
            "deadline_day": str(settings.deadline_day),
            "warehouse": state,
            "reference": files_digest(reference),
            "code": run_inputs.code_digest(),
        }
        value = fingerprint(parts)
        same_as = None
        if last is not None and last["summary"].get("fingerprint") == value:
            same_as = str(last["run_id"])
            detail(f"输入未变 inputs unchanged since {same_as}")
        elif last is not None and isinstance(last["summary"].get("inputs"), dict):
            before = last["summary"]["inputs"]
            moved = sorted(k for k in parts if before.get(k) != run_inputs.short_digest(parts[k]))
            detail(f"输入已变 inputs changed since {last['run_id']}: {', '.join(moved)}")
        return InputCheck(value, same_as, {k: run_inputs.short_digest(v) for k, v in parts.items()})


def split_partitions(settings: Settings, run_id: str, reference: Reference) -> Split:
    """Route the current staged rows to their partitions (townships), on disk."""
    return partitions.split_current_rows(
        _engine(settings),
        settings.raw_dir,
        load_contract(),
        reference.institutions,
        workspace.partitions_folder(settings.home, run_id),
        cache=workspace.split_cache(settings.home),
        salt=run_inputs.code_digest(),
        # The township workers' count and processes route the files too (1: here).
        workers=(
            None
            if settings.partition_workers == 1
            else partial(worker_processes.executor, settings.partition_workers)
        ),
    )


@task(name="reconcile-partitions")
def reconcile_partitions(
    settings: Settings, run_id: str, parts: list[str], context: dict[str, str]
) -> list[dict[str, Any]]:
    """Some townships (one Prefect task for a group, not one a township: a task run costs
    its API calls); locally spread over worker processes when they are worth it, on Dask
    one after another in the cluster's worker."""
    pool = settings.executor == "local"
    return partition_work.reconcile_parts(settings, run_id, parts, context, pool=pool)


def combine_partitions(
    settings: Settings, run_id: str, parts: list[dict[str, Any]], reference: Reference
) -> dict[str, str]:
    """Record every partition's findings at once (an issue not found again by any
    partition closes); gather what compute reads (small: expected uploads, measures per
    village and month) and list each partition's frames for publish (which reads them
    one partition at a time)."""
    engine = _engine(settings)
    targets = target_findings(reference.targets, load_catalog(), reference.areas)
    findings = workspace.gather_frames([p["findings"] for p in parts])
    with engine.begin() as conn:
        at = local_now(settings.time_zone)
        for name, frame in findings.items():
            record_findings(conn, frame, run_id, name.removeprefix("findings_"), at=at)
        record_findings(conn, targets, run_id, "reference", at=at)
    frames = workspace.gather_frames(
        [{"dq_reporting": p["frames"]["dq_reporting"], "leaves": p["leaves"]} for p in parts]
    )
    frames["months"] = pd.DataFrame(
        {"month": sorted({m for p in parts for m in p["months"]})}, dtype="string"
    )
    frames["partitions"] = pd.DataFrame(
        {
            "part": pd.Series([p["part"] for p in parts], dtype="string"),
            "digest": pd.Series([p["digest"] for p in parts], dtype="string"),
            "frames": pd.Series([json.dumps(p["frames"]) for p in parts], dtype="string"),
            "process": pd.Series([p["process"] for p in parts], dtype="int64"),
            "cached": pd.Series([p["cached"] for p in parts], dtype="bool"),
        }
    )
    return workspace.save_frames(workspace.run_folder(settings.home, run_id), frames)


def reconcile_sources(settings: Settings, run_id: str) -> dict[str, str]:
    """Split by township, reconcile each township on the flow's task runner (one after another
    here, in parallel on Dask), combine: the Parquet paths of the reconciled frames, the
    leaf measures and the months."""
    with _stage(settings, run_id, Stage.RECONCILE) as detail:
        reference = read_reference(settings.reference)
        split = split_partitions(settings, run_id, reference)
        detail(f"分区 partitions: {len(split.parts)} ({', '.join(p or '—' for p in split.parts)})")
        detail(
            f"分流 routed {split.files_routed} 个暂存文件 staged files; "
            f"沿用 kept {split.files_kept}"
        )
        first = run_inputs.first_month(settings, reference.targets)
        # Partitions depend on the as-of date only through which months are due.
        context = {
            "last_due_month": last_due_month(settings.effective_as_of, settings.deadline_day),
            "deadline_day": str(settings.deadline_day),
            "first_month": first or split.first_loaded_month or "",
            "reference": files_digest(
                [settings.reference / name for name, _ in REFERENCE_FILES.values()]
            ),
            "code": run_inputs.code_digest(),
        }
        done = _each_partition(settings, run_id, split.parts, context)
        recomputed = sum(not d["cached"] for d in done)
        detail(f"重算 recomputed {recomputed} / {len(done)}; 其余未变 the rest unchanged")
        gone = partition_cache.prune(settings.home, split.parts)
        if gone:
            detail(
                f"已无上报的乡镇 townships no longer uploading, cache removed: {', '.join(gone)}"
            )
        return combine_partitions(settings, run_id, done, reference)


def _each_partition(
    settings: Settings, run_id: str, parts: list[str], context: dict[str, str]
) -> list[dict[str, Any]]:
    """Every partition's results, in order: a task for all of them on the default executor,
    a task a county on Dask (transforms.reconcile.partitions.task_groups); called
    undecorated outside a flow (the tests call the stages so)."""
    groups = task_groups(parts, by_county=settings.executor == "dask")
    if FlowRunContext.get() is None:
        return [r for g in groups for r in reconcile_partitions.fn(settings, run_id, g, context)]
    futures = reconcile_partitions.map(
        unmapped(settings), unmapped(run_id), groups, unmapped(context)
    )
    return [result for future in futures for result in future.result()]


@task(name="compute")
def compute(settings: Settings, run_id: str, recon_paths: dict[str, str]) -> str:
    """Every indicator × area × period from the catalog; the mart goes to the run folder."""
    with _stage(settings, run_id, Stage.COMPUTE):
        frames = workspace.load_frames(
            {k: recon_paths[k] for k in ("dq_reporting", "leaves", "months")}
        )
        reference = read_reference(settings.reference)
        engine = _engine(settings)
        with engine.connect() as conn:
            received, signed = signoffs.review_inputs(conn)
        review = review_months(frames["dq_reporting"], received, signed)
        mart = compute_indicators(
            frames["leaves"],
            load_catalog(),
            reference.areas,
            reference.targets,
            periods_for(list(frames["months"]["month"])),
            run_id,
            as_of=settings.effective_as_of,
            deadline_day=settings.deadline_day,
            review=review,
        )
        folder = workspace.run_folder(settings.home, run_id)
        return workspace.save_frames(folder, {"mart": mart})["mart"]


@task(name="audit")
def audit(settings: Settings, run_id: str, mart_path: str) -> list[str]:
    """Write–audit–publish: the computed mart must pass its suite before it is published."""
    with _stage(settings, run_id, Stage.AUDIT):
        failures, findings = validation_work.audited(mart_path)
        engine = _engine(settings)
        with engine.begin() as conn:
            record_findings(conn, findings, run_id, "audit", at=local_now(settings.time_zone))
        return failures


def _publish_summary(summary: publishing.PublishSummary) -> PublishCounts:
    return PublishCounts(
        rows=summary.rows, new=summary.new, changed=summary.changed, removed=summary.removed
    )


@task(name="publish", retries=IO_RETRIES, retry_delay_seconds=IO_RETRY_DELAYS)
def publish(
    settings: Settings, run_id: str, recon_paths: dict[str, str], mart_path: str
) -> PublishCounts:
    """The reconciled rows of the partitions that changed and the mart's changes, in one
    transaction."""
    with _stage(settings, run_id, Stage.PUBLISH):
        engine = _engine(settings)
        parts = workspace.load_frames({"p": recon_paths["partitions"]})["p"]
        rows = [
            publishing.PartitionRows(
                str(part), str(digest), partial(workspace.load_frames, json.loads(paths))
            )
            for part, digest, paths in zip(
                parts["part"], parts["digest"], parts["frames"], strict=True
            )
        ]
        mart = workspace.load_frames({"mart": mart_path})["mart"]
        summary = publishing.publish(
            engine,
            {},
            mart,
            run_id,
            partitions=rows,
            copies=workspace.published_copies(settings.home),
        )
        return _publish_summary(summary)


@task(name="publish-range", retries=IO_RETRIES, retry_delay_seconds=IO_RETRY_DELAYS)
def publish_range(
    settings: Settings, run_id: str, mart_path: str, first_month: str, last_month: str
) -> PublishCounts:
    """Publish the computed periods inside first..last; every other row keeps its value.

    The reconciled tables stay as the last nightly run published them. The caller
    holds the warehouse lock, so the mart read here is the one being replaced.
    """
    with _stage(settings, run_id, Stage.PUBLISH):
        start, end = month_range(first_month, last_month)
        engine = _engine(settings)
        computed = workspace.load_frames({"mart": mart_path})["mart"]
        with engine.connect() as conn:
            current = publishing.current_mart(conn)
        merged = merge_range(current, computed, start, end)
        summary = publishing.publish(
            engine, {}, merged, run_id, copies=workspace.published_copies(settings.home)
        )
        return _publish_summary(summary)


# ------------------------------------------------------------------- run bookkeeping


@dataclass
class _Tracker:
    """Where the run is, for the failure notice and the run record."""

    stage: Stage = Stage.START


StageRunner = Callable[[Settings, str, RunSummary, _Tracker], None]


def _facts(engine: Engine, run_id: str) -> RunSummary:
    with engine.connect() as conn:
        return {
            "files": run_summary.files_of_run(conn, run_id),
            "issues": run_summary.issue_counts(conn, run_id),
        }


def _run(settings: Settings, run_id: str | None, kind: str, stages: StageRunner) -> RunSummary:
    """Lock (if the caller does not hold it), record the run, run `stages`, report failure.

    The run's one engine is disposed of at the end, however the run ends.
    """
    try:
        return _locked_run(settings, run_id, kind, stages)
    finally:
        dispose_engines()


def _locked_run(
    settings: Settings, run_id: str | None, kind: str, stages: StageRunner
) -> RunSummary:
    logger = get_run_logger()
    prefect_runs.watch_temporary_server()
    engine = _engine(settings)
    summary: RunSummary = {
        "kind": kind,
        "run_id": run_id,
        "as_of": settings.effective_as_of.isoformat(),
        "flow_run_id": prefect_runs.flow_run_id(),
    }
    tracker = _Tracker()
    started = False
    try:
        with runs.lock_unless_held(engine, run_id, settings.time_zone) as rid:
            summary["run_id"] = rid
            abandoned = runs.abandon_running_flow_runs(engine, rid, local_now(settings.time_zone))
            if abandoned:
                summary["abandoned"] = list(abandoned)
                logger.warning(f"runs left running by a dead process marked failed: {abandoned}")
                prefect_runs.mark_flow_runs_crashed([f for f in abandoned.values() if f])
            runs.start_run(
                engine,
                rid,
                settings.effective_as_of,
                local_now(settings.time_zone),
                summary["flow_run_id"],
            )
            started = True
            stages(settings, rid, summary, tracker)
            summary.update(_facts(engine, rid))
            runs.finish_run(engine, rid, "completed", dict(summary), local_now(settings.time_zone))
    except BaseException as error:
        if isinstance(error, Exception):
            payload = failure_payload(
                str(summary["run_id"]),
                error,
                stage=tracker.stage.value,
                kind=kind,
                flow_run_id=summary["flow_run_id"],
                at=local_now(settings.time_zone).isoformat(timespec="seconds"),
            )
            notify_failure(settings.webhook_url, payload, log=logger.error)
        if started:
            try:
                failed: RunSummary = {
                    **summary,
                    "error": repr(error),
                    "failed_stage": tracker.stage.value,
                }
                runs.finish_run(
                    engine,
                    str(summary["run_id"]),
                    "failed",
                    dict(failed),
                    local_now(settings.time_zone),
                )
            except Exception as bookkeeping:
                logger.error(f"could not mark the run failed: {bookkeeping!r}")
        raise
    workspace.remove_run_folder(settings.home, str(summary["run_id"]))
    prefect_runs.write_artifacts(engine, settings.reports_dir, summary)
    return summary


# ------------------------------------------------------------------------------- flows


def _reconcile_compute_audit(
    settings: Settings, run_id: str, tracker: _Tracker, summary: RunSummary
) -> tuple[dict[str, str], str]:
    """Reconcile → compute → audit: the Parquet paths to publish, or AuditFailedError."""
    tracker.stage = Stage.RECONCILE
    recon_paths = reconcile_sources(settings, run_id)
    parts = workspace.load_frames({"p": recon_paths["partitions"]})["p"]
    summary["partitions"] = {
        "count": len(parts),
        "recomputed": int((~parts["cached"]).sum()),
        "processes": parts.loc[~parts["cached"], "process"].nunique(),
    }
    tracker.stage = Stage.COMPUTE
    mart_path = compute(settings, run_id, recon_paths)
    tracker.stage = Stage.AUDIT
    failures = audit(settings, run_id, mart_path)
    if failures:
        raise AuditFailedError("; ".join(failures))
    return recon_paths, mart_path


def _nightly_stages(
    settings: Settings, run_id: str, summary: RunSummary, tracker: _Tracker
) -> None:
    # The fork server imports GX and the townships' work on the other core while this
    # process lands: the validation, audit and township workers it forks have them loaded.
    worker_processes.start_server()
    tracker.stage = Stage.LAND
    summary["landing"] = land(settings, run_id)
    tracker.stage = Stage.VALIDATE
    summary["validation"] = validate(settings, run_id)
    tracker.stage = Stage.FINGERPRINT
    inputs = check_inputs(settings, run_id)
    summary["fingerprint"] = inputs.fingerprint
    summary["inputs"] = inputs.inputs
    if inputs.same_as:
        summary["skipped"] = {"same_as": inputs.same_as}
        progress.emit(Stage.PUBLISH, "skipped", f"输入未变 inputs unchanged since {inputs.same_as}")
        return
    recon_paths, mart_path = _reconcile_compute_audit(settings, run_id, tracker, summary)
    tracker.stage = Stage.PUBLISH
    summary["publish"] = publish(settings, run_id, recon_paths, mart_path)


def _one_at_a_time() -> TaskRunner[Any]:
    """The default: partitions one after another, so memory holds one township at a time."""
    return cast("TaskRunner[Any]", ThreadPoolTaskRunner(max_workers=1))


def task_runner(settings: Settings) -> TaskRunner[Any]:
    """Where `reconcile_partitions` runs: one township after another in this process (memory
    bounded by one township), or on Dask (`settings.executor`)."""
    if settings.executor == "dask":
        from prefect_dask import DaskTaskRunner

        if settings.dask_address:
            return cast("TaskRunner[Any]", DaskTaskRunner(address=settings.dask_address))
        cluster: dict[str, Any] = {"threads_per_worker": 1, "processes": True}
        if settings.dask_workers:
            cluster["n_workers"] = settings.dask_workers
        return cast("TaskRunner[Any]", DaskTaskRunner(cluster_kwargs=cluster))
    return _one_at_a_time()


def on_executor(settings: Settings, flow_: F) -> F:
    """The flow, its partitions run where the settings say."""
    if settings.executor == "local":
        return flow_
    return cast(F, flow_.with_options(task_runner=task_runner(settings)))


@flow(name="popstat-nightly", log_prints=False, task_runner=_one_at_a_time())
def nightly(options: dict[str, Any] | None = None, run_id: str | None = None) -> RunSummary:
    """One nightly run: land → validate → reconcile → compute → audit → publish.

    `options`: settings as the command's flags would give them (JSON values);
    the rest comes from `POPSTAT_*` variables. `run_id`: given when the caller
    already holds the warehouse lock under that id; otherwise the flow takes it.
    """
    return _run(load_settings(options), run_id, "nightly", _nightly_stages)


@flow(name="popstat-backfill", log_prints=False, task_runner=_one_at_a_time())
def backfill(
    first_month: str,
    last_month: str,
    options: dict[str, Any] | None = None,
    run_id: str | None = None,
) -> RunSummary:
    """Recompute the published figures of first_month..last_month without reading any file.

    Reconciles again from the staged Parquet as of the last nightly run's date
    (or `as_of` in options), computes and audits every indicator, and publishes
    only the periods lying inside the range; all other published rows stay.
    """
    month_range(first_month, last_month)  # a malformed range fails before any work
    settings = load_settings(options)
    if settings.as_of is None:
        with _engine(settings).connect() as conn:
            last_as_of = run_summary.latest_nightly_as_of(conn)
        if last_as_of is not None:
            settings = settings.model_copy(update={"as_of": _as_date(last_as_of)})

    def stages(settings: Settings, run_id: str, summary: RunSummary, tracker: _Tracker) -> None:
        summary["range"] = {"first": first_month, "last": last_month}
        worker_processes.start_server()  # its imports beside the split (see the nightly)
        _, mart_path = _reconcile_compute_audit(settings, run_id, tracker, summary)
        tracker.stage = Stage.PUBLISH
        summary["publish"] = publish_range(settings, run_id, mart_path, first_month, last_month)

    return _run(settings, run_id, "backfill", stages)


def _as_date(value: Any) -> date:
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


# -------------------------------------------------------------------------- deployment


def nightly_deployment(
    time_zone: str = "Asia/Shanghai", options: dict[str, Any] | None = None
) -> RunnerDeployment:
    """The scheduled nightly run: 02:30 every night in the district's time zone.

    `options` become the runs' default parameters (settings flags of `popstat
    serve`); left out, each run reads its settings from the environment.

    At most one run at a time; a run due while another is still going is
    cancelled (not queued: the next night's run picks up everything anyway).
    The flow is imported by module path, so any working folder will do.
    """
    from prefect.client.schemas.objects import (
        ConcurrencyLimitConfig,
        ConcurrencyLimitStrategy,
    )
    from prefect.deployments.runner import EntrypointType
    from prefect.schedules import Cron

    deployment = nightly.to_deployment(
        name=DEPLOYMENT_NAME,
        schedules=[Cron(SCHEDULE_CRON, timezone=time_zone)],
        concurrency_limit=ConcurrencyLimitConfig(
            limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW
        ),
        description="人口计生统计夜间运行 popstat nightly run (02:30)",
        tags=["popstat"],
        parameters={"options": options} if options else None,
        entrypoint_type=EntrypointType.MODULE_PATH,
    )
    return cast("RunnerDeployment", deployment)  # async_dispatch: sync here
