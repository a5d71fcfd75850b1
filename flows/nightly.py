"""The nightly Prefect flow: thin orchestration over warehouse/, expectations/, transforms/.

Tasks pass settings, run ids and table names, never large frames: Prefect keeps
task inputs and results in memory for the whole run.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, task

from flows.settings import Settings
from transforms.templates import load_contract
from warehouse import runs
from warehouse.db import make_engine
from warehouse.landing import LandingContext, land_inbox


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


@task(name="land", retries=2, retry_delay_seconds=[5, 30])
def land(settings: Settings, run_id: str) -> dict[str, Any]:
    """Discover new and corrected uploads and land them (manifest, raw, staging)."""
    logger = get_run_logger()
    engine = make_engine(settings.effective_warehouse_url)
    summary = land_inbox(engine, _landing_context(settings, run_id), progress=logger.info)
    return {"files": summary.files_by_status, "rows": summary.rows_by_template}


@flow(name="popstat-nightly", log_prints=False)
def nightly(settings: Settings, run_id: str) -> dict[str, Any]:
    """One nightly run: land → validate → reconcile → publish."""
    engine = make_engine(settings.effective_warehouse_url)
    runs.start_run(engine, run_id, settings.effective_as_of)
    try:
        landed = land(settings, run_id)
        summary = {"run_id": run_id, "landing": landed}
    except BaseException as error:
        runs.finish_run(engine, run_id, "failed", {"error": repr(error)})
        raise
    runs.finish_run(engine, run_id, "completed", summary)
    return summary
