"""Nightly operations against a Prefect test server: schedule, summary, artifacts, no-op
rerun, backfill, failure notice, and the refusal of a second run.

The flow runs in-process (as `popstat run` calls it) against the session's test
server; the refusal test runs the real command in a subprocess.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from uuid import UUID

import pandas as pd
import pytest
from sqlalchemy import func, select

from synthetic.spec import GeneratedCounty
from tests.e2e._ops import (
    CountyFolders,
    popstat_command,
    popstat_env,
    published_mart,
    run_popstat,
    write_county,
)
from warehouse import runs, schema
from warehouse.db import make_engine, migrate
from warehouse.load import read_frame

pytestmark = pytest.mark.prefect


def _artifacts(flow_run_id: str) -> dict[str, Any]:
    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[UUID(flow_run_id)])
            )
        )
    return {str(a.key): a for a in found}


@pytest.fixture(scope="module")
def first_run(
    prefect_api: str, small_county: GeneratedCounty, tmp_path_factory: pytest.TempPathFactory
) -> tuple[CountyFolders, dict[str, Any], list[tuple[str, str]]]:
    """The small county's first nightly run, with an officer report and a bulletin on disk."""
    from flows import progress
    from flows.nightly import nightly

    folders = write_county(tmp_path_factory.mktemp("county"), small_county)
    reports = folders.home / "reports"
    reports.mkdir(parents=True)
    (reports / "dq-report-2026-07-06.html").write_text("<html>report</html>", encoding="utf-8")
    (reports / "bulletin_2026-Q2.html").write_text("<html>bulletin</html>", encoding="utf-8")
    events: list[tuple[str, str]] = []

    def listen(stage: str, event: str, detail: str) -> None:
        events.append((stage, event))

    progress.add_listener(listen)
    try:
        summary = nightly(options=folders.options())
    finally:
        progress.remove_listener(listen)
    return folders, summary, events


def test_deployment_runs_at_0230_shanghai_one_at_a_time(prefect_api: str) -> None:
    from prefect import get_client

    from flows.nightly import nightly_deployment

    deployment_id = nightly_deployment("Asia/Shanghai").apply()
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment(deployment_id)
    assert deployment.name == "nightly-0230"
    assert deployment.entrypoint == "flows.nightly.nightly"
    [schedule] = deployment.schedules
    assert schedule.active
    assert getattr(schedule.schedule, "cron", None) == "30 2 * * *"
    assert getattr(schedule.schedule, "timezone", None) == "Asia/Shanghai"
    assert deployment.global_concurrency_limit is not None
    assert deployment.global_concurrency_limit.limit == 1
    assert deployment.concurrency_options is not None
    assert str(deployment.concurrency_options.collision_strategy.value) == "CANCEL_NEW"


def test_run_summary_reflects_the_manifest_and_stages_report_progress(
    first_run: tuple[CountyFolders, dict[str, Any], list[tuple[str, str]]],
    small_county: GeneratedCounty,
) -> None:
    folders, summary, events = first_run
    expected = small_county.answer_key.uploads["status"].value_counts()
    assert summary["files"] == {str(k): int(v) for k, v in expected.items()}
    assert summary["files"]["superseded"] == 1  # the corrected roster replaced its first file
    engine = make_engine(folders.warehouse_url)
    with engine.connect() as conn:
        new_issues = conn.execute(
            select(func.count()).where(schema.dq_issues.c.first_seen_run == summary["run_id"])
        ).scalar_one()
        run = conn.execute(
            select(schema.runs).where(schema.runs.c.run_id == summary["run_id"])
        ).one()
    assert summary["issues"] == {"new": new_issues, "reopened": 0}
    assert new_issues > 0
    assert set(summary["landing"]["rows"]) >= {"village_births", "village_women"}
    assert summary["publish"]["rows"] == summary["publish"]["new"] > 0
    assert run.status == "completed"
    assert json.loads(run.summary)["fingerprint"] == summary["fingerprint"]
    stages = ["land", "validate", "fingerprint", "reconcile", "compute", "audit", "publish"]
    assert [s for s, e in events if e == "start"] == stages
    assert [s for s, e in events if e == "done"] == stages


def test_run_artifacts_appear_in_prefect(
    first_run: tuple[CountyFolders, dict[str, Any], list[tuple[str, str]]],
) -> None:
    folders, summary, _ = first_run
    artifacts = _artifacts(summary["flow_run_id"])
    assert {"popstat-quality-issues", "popstat-run-summary", "popstat-officer-report"} <= set(
        artifacts
    )
    table = artifacts["popstat-quality-issues"]
    assert table.type == "table"
    rows = json.loads(table.data) if isinstance(table.data, str) else table.data
    engine = make_engine(folders.warehouse_url)
    with engine.connect() as conn:
        active = conn.execute(
            select(func.count()).where(schema.dq_issues.c.active.is_(True))
        ).scalar_one()
    assert sum(r["active"] for r in rows) == active
    assert {"rule", "severity", "new"} <= set(rows[0])
    markdown = artifacts["popstat-run-summary"]
    assert markdown.type == "markdown"
    assert "已更正替换 superseded | 1" in str(markdown.data)
    link = str(artifacts["popstat-officer-report"].data)  # Prefect keeps a link as Markdown
    report = folders.home.resolve() / "reports" / "dq-report-2026-07-06.html"
    assert f"]({report.as_uri()})" in link
    assert "bulletin_2026-Q2.html" in str(artifacts["popstat-bulletin"].data)


def test_rerun_without_new_files_skips_and_changes_nothing(
    first_run: tuple[CountyFolders, dict[str, Any], list[tuple[str, str]]],
) -> None:
    from flows.nightly import nightly

    folders, first, _ = first_run
    engine = make_engine(folders.warehouse_url)
    with engine.connect() as conn:
        before = read_frame(conn, select(schema.mart_target_achievement))
    summary = nightly(options=folders.options())
    assert summary["inputs"] == first["inputs"]
    assert summary["skipped"] == {"same_as": first["run_id"]}
    assert summary["fingerprint"] == first["fingerprint"]
    assert summary["files"] == {}
    assert "publish" not in summary
    with engine.connect() as conn:
        after = read_frame(conn, select(schema.mart_target_achievement))
    pd.testing.assert_frame_equal(before, after)  # run ids included: no row republished
    assert "popstat-run-summary" in _artifacts(summary["flow_run_id"])


def _copy_county(folders: CountyFolders, root: Path) -> CountyFolders:
    shutil.copytree(folders.home, root / "home", ignore=shutil.ignore_patterns("reports"))
    shutil.copytree(folders.reference, root / "reference")
    return CountyFolders(folders.inbox, root / "reference", root / "home", folders.as_of)


def test_backfill_republishes_only_the_range(
    first_run: tuple[CountyFolders, dict[str, Any], list[tuple[str, str]]], tmp_path: Path
) -> None:
    from flows.nightly import backfill

    folders = _copy_county(first_run[0], tmp_path)
    targets = folders.reference / "targets.csv"
    text = targets.read_text(encoding="utf-8")
    assert "2026,654226,policy_compliance_rate,>=,87," in text
    targets.write_text(
        text.replace("policy_compliance_rate,>=,87,", "policy_compliance_rate,>=,95,"),
        encoding="utf-8",
    )
    before = published_mart(folders.warehouse_url)
    # as_of left out: the backfill acts as of the last nightly run
    options = {k: v for k, v in folders.options().items() if k != "as_of"}
    summary = backfill("2026-01", "2026-03", options=options)
    after = published_mart(folders.warehouse_url)

    assert summary["kind"] == "backfill"
    assert summary["as_of"] == folders.as_of.isoformat()
    assert summary["publish"]["changed"] > 0 and summary["publish"]["removed"] == 0
    key = ["area_code", "period", "indicator"]
    merged = before.merge(after, on=key, suffixes=("_before", "_after"), validate="1:1")
    for column in ("target_before", "target_after", "value_before", "value_after"):
        merged[column] = pd.to_numeric(merged[column])
    assert len(merged) == len(before) == len(after)
    inside = (pd.to_datetime(merged["period_start_before"]) >= pd.Timestamp(date(2026, 1, 1))) & (
        pd.to_datetime(merged["period_end_before"]) <= pd.Timestamp(date(2026, 3, 31))
    )
    policy = merged["indicator"] == "policy_compliance_rate"
    targeted = merged["target_before"] == 87
    assert (merged.loc[inside & policy & targeted, "target_after"] == 95).all()
    assert (inside & policy & targeted).sum() > 0
    # outside the range (April on, the half-year, the year): still the published target
    assert (merged.loc[~inside & policy & targeted, "target_after"] == 87).all()
    assert (~inside & policy & targeted).sum() > 0
    # other indicators: nothing changed anywhere
    others = merged.loc[~policy]
    assert (others["value_before"].fillna(-1) == others["value_after"].fillna(-1)).all()
    assert (others["status_before"] == others["status_after"]).all()


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        _Hook.received.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    _Hook.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", _Hook.received
    server.shutdown()
    server.server_close()


def test_failed_run_logs_and_posts_a_notice(
    prefect_api: str, tmp_path: Path, webhook: tuple[str, list[dict[str, Any]]]
) -> None:
    from flows.nightly import nightly

    url, received = webhook
    (tmp_path / "inbox").mkdir()
    options = {
        "home": str(tmp_path / "home"),
        "inbox": str(tmp_path / "inbox"),
        "reference": str(tmp_path / "no-reference-here"),
        "as_of": "2026-07-06",
        "webhook_url": url,
    }
    with pytest.raises(Exception, match=r"reference|areas"):
        nightly(options=options)
    [notice] = received
    assert notice["event"] == "popstat.run.failed"
    # Landing checks units against the reference, so it is the first stage to miss it.
    assert notice["stage"] == "land"
    assert notice["run_id"].startswith("run-")
    assert notice["flow_run_id"]
    engine = make_engine(f"sqlite:///{tmp_path / 'home' / 'warehouse.db'}")
    with engine.connect() as conn:
        run = conn.execute(select(schema.runs)).one()
        lock = conn.execute(select(schema.run_lock)).first()
    assert (run.run_id, run.status) == (notice["run_id"], "failed")
    assert json.loads(run.summary)["failed_stage"] == "land"
    assert lock is None  # the flow took the lock itself and gave it back


def test_second_run_is_refused_while_one_holds_the_warehouse(tmp_path: Path) -> None:
    home = tmp_path / "home"
    engine = make_engine(f"sqlite:///{home / 'warehouse.db'}")
    migrate(engine)
    runs.acquire_lock(engine, "run-held-by-this-test")  # this (live) process holds it
    (tmp_path / "inbox").mkdir()
    result = run_popstat(
        ["run", "--home", str(home), "--inbox", str(tmp_path / "inbox"), "--as-of", "2026-07-06"],
        popstat_env("http://127.0.0.1:9/api"),  # never reached: refused before Prefect
        tmp_path,
        timeout=120,
    )
    assert result.returncode == 3, result.stderr
    assert "another run holds the warehouse: run-held-by-this-test" in result.stderr
    with engine.connect() as conn:
        assert conn.execute(select(schema.runs)).first() is None  # nothing started
        holder = conn.execute(select(schema.run_lock)).one()
    assert holder.run_id == "run-held-by-this-test"


def test_serve_needs_a_prefect_server(tmp_path: Path) -> None:
    env = popstat_env("", PREFECT_HOME=str(tmp_path / "prefect"))
    env.pop("PREFECT_API_URL")
    result = run_popstat(["serve", "--home", str(tmp_path / "home")], env, tmp_path, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "PREFECT_API_URL" in result.stderr


def test_served_deployment_runs_the_flow_under_its_own_lock(
    prefect_api: str, small_county: GeneratedCounty, tmp_path: Path
) -> None:
    """`popstat serve` picks up a run of the deployment and runs it in a subprocess."""
    from prefect import get_client
    from prefect.deployments import run_deployment
    from prefect.exceptions import ObjectNotFound

    folders = write_county(tmp_path, small_county, months={"2026-01", "2026-02", "2026-03"})
    env = popstat_env(
        prefect_api,
        POPSTAT_AS_OF=folders.as_of.isoformat(),
        PREFECT_RUNNER_POLL_FREQUENCY="1",
    )
    serving = subprocess.Popen(
        popstat_command(
            "serve",
            "--home",
            str(folders.home),
            "--inbox",
            str(folders.inbox),
            "--reference",
            str(folders.reference),
        ),
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # Wait until this `serve` has registered the deployment with its flags as defaults
        # (an earlier test may have registered it without them).
        deadline = time.monotonic() + 120
        with get_client(sync_client=True) as client:
            while True:
                assert serving.poll() is None, "popstat serve exited"
                assert time.monotonic() < deadline, "popstat serve did not register in time"
                try:
                    deployment = client.read_deployment_by_name("popstat-nightly/nightly-0230")
                except ObjectNotFound:
                    deployment = None
                options = (deployment.parameters if deployment else {}).get("options") or {}
                if options.get("home") == str(folders.home):
                    break
                time.sleep(0.5)
        flow_run = run_deployment("popstat-nightly/nightly-0230", timeout=300)
    finally:
        serving.send_signal(signal.SIGINT)
        try:
            serving.wait(timeout=30)
        except subprocess.TimeoutExpired:
            serving.kill()
            serving.wait()
    assert flow_run.state is not None and flow_run.state.is_completed(), flow_run.state
    engine = make_engine(folders.warehouse_url)
    with engine.connect() as conn:
        run = conn.execute(select(schema.runs)).one()
        lock = conn.execute(select(schema.run_lock)).first()
    assert run.status == "completed" and str(run.as_of) == folders.as_of.isoformat()
    assert json.loads(run.summary)["flow_run_id"] == str(flow_run.id)
    assert lock is None
    assert len(published_mart(folders.warehouse_url)) > 0


def test_a_run_whose_audit_fails_leaves_yesterdays_mart(
    first_run: tuple[CountyFolders, dict[str, Any], list[tuple[str, str]]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Write–audit–publish: a computed mart that fails its audit is never published."""
    import flows.nightly
    from flows.nightly import AuditFailedError, nightly

    folders = _copy_county(first_run[0], tmp_path)
    before = published_mart(folders.warehouse_url)
    # A changed target makes the run recompute (no same-input skip) ...
    targets = folders.reference / "targets.csv"
    targets.write_text(targets.read_text(encoding="utf-8").replace(",87", ",88"), encoding="utf-8")
    real = flows.nightly.compute_indicators

    def corrupted(*args: Any, **kwargs: Any) -> pd.DataFrame:
        """... and a defect in the computation flips a status the target contradicts."""
        mart = real(*args, **kwargs)
        judged = mart["status"].isin(["met", "not_met"])
        first = mart.index[judged][0]
        mart.loc[first, "status"] = "not_met" if mart.loc[first, "status"] == "met" else "met"
        return mart

    monkeypatch.setattr(flows.nightly, "compute_indicators", corrupted)
    with pytest.raises(AuditFailedError):
        nightly(options=folders.options())
    pd.testing.assert_frame_equal(published_mart(folders.warehouse_url), before)
    engine = make_engine(folders.warehouse_url)
    with engine.connect() as conn:
        issues = read_frame(
            conn, select(schema.dq_issues).where(schema.dq_issues.c.rule == "mart_audit_failed")
        )
        last = conn.execute(
            select(schema.runs.c.status).order_by(schema.runs.c.started_at.desc())
        ).first()
    assert len(issues) == 1 and "未发布" in issues.loc[0, "message_zh"]
    assert last is not None and last.status == "failed"
