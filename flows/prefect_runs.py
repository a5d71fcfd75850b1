"""What a run tells Prefect and asks of it, around the stages: the flow run's id, the
temporary server's watchdog, killed runs marked crashed, the run's UI artifacts.

None of it decides a figure: a failure here is logged and never fails the run.
"""

from __future__ import annotations

import sys
from pathlib import Path
from uuid import UUID

from prefect import get_run_logger
from prefect.artifacts import (
    create_link_artifact,
    create_markdown_artifact,
    create_table_artifact,
)
from sqlalchemy import Engine

from flows.server_watchdog import start_watchdog
from flows.summaries import RunSummary, markdown_summary, report_links
from warehouse import run_summary


def flow_run_id() -> str | None:
    """The Prefect flow run this run belongs to (None outside a flow run)."""
    from prefect.runtime import flow_run

    value = flow_run.id
    return str(value) if value else None


_watched_servers: set[int] = set()


def watch_temporary_server() -> None:
    """A killed run must not leave Prefect's temporary server behind (flows/server_watchdog)."""
    # Prefect imports its server only to start a temporary one: against a running server
    # (production, PREFECT_API_URL) there is nothing to watch, and importing it costs ~2.6 s.
    server_module = sys.modules.get("prefect.server.api.server")
    if server_module is None:
        return
    logger = get_run_logger()
    try:
        for server in list(server_module.SubprocessASGIServer._instances.values()):
            process = server.server_process
            if process is None or process.poll() is not None or process.pid in _watched_servers:
                continue
            _watched_servers.add(process.pid)
            start_watchdog(process.pid)
    except Exception as error:  # a view on housekeeping; never fails the run
        logger.warning(f"temporary server not watched: {type(error).__name__}: {error}")


def mark_flow_runs_crashed(flow_run_ids: list[str]) -> None:
    """The Prefect flow runs of killed runs: `Crashed`, not `Running` forever in the UI.

    Only flow runs whose popstat run was found abandoned under the lock: nothing else is
    touched. A failure here never fails the run.
    """
    if not flow_run_ids:
        return
    from prefect import get_client
    from prefect.states import Crashed

    logger = get_run_logger()
    try:
        with get_client(sync_client=True) as client:
            for flow_run in flow_run_ids:
                state = client.read_flow_run(UUID(flow_run)).state
                if state is not None and not state.is_final():
                    client.set_flow_run_state(
                        flow_run,
                        Crashed(message="进程已终止 the process was killed; found by a later run"),
                        force=True,
                    )
    except Exception as error:
        logger.warning(f"flow runs not marked crashed: {type(error).__name__}: {error}")


def write_artifacts(engine: Engine, reports_dir: Path, summary: RunSummary) -> None:
    """The run's artifacts in the Prefect UI; a failure here never fails the run."""
    logger = get_run_logger()
    run_id = str(summary.get("run_id"))
    try:
        with engine.connect() as conn:
            table = run_summary.issues_by_rule(conn, run_id)
            changes = run_summary.mart_changes(conn, run_id) if summary.get("publish") else None
        records = table.astype(object).where(table.notna(), None).to_dict("records")
        create_table_artifact(
            table=[{str(k): v for k, v in r.items()} for r in records],
            key="popstat-quality-issues",
            description=f"质量问题（按规则和级别）active quality issues by rule and severity — {run_id}",
        )
        create_markdown_artifact(
            markdown=markdown_summary(summary, changes),
            key="popstat-run-summary",
            description=f"运行摘要 run summary — {run_id}",
        )
        for key, (path, title) in report_links(reports_dir).items():
            create_link_artifact(
                link=path.as_uri(),
                link_text=f"{title}: {path.name}",
                key=f"popstat-{key}",
                description=title,
            )
    except Exception as error:  # artifacts are a view; the run itself completed
        logger.warning(f"run artifacts not written: {type(error).__name__}: {error}")
