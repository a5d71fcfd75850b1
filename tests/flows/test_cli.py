"""The `popstat` command's own behaviour, before any run starts."""

from __future__ import annotations

from pathlib import Path

import pytest


def test_run_refuses_at_once_without_its_inputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A missing inbox or reference file is said before Prefect starts, with exit 2."""
    from flows.cli import main

    code = main(
        [
            "run",
            "--home",
            str(tmp_path / "home"),
            "--inbox",
            str(tmp_path / "nowhere"),
            "--reference",
            str(tmp_path),
            "--as-of",
            "2026-10-06",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "inbox folder not found" in err and "areas.csv" in err
    # The lock was taken (a refused second run speaks first) and given back; no run began.
    from sqlalchemy import func, select

    from warehouse import schema
    from warehouse.db import make_engine

    with make_engine(f"sqlite:///{tmp_path / 'home' / 'warehouse.db'}").connect() as conn:
        assert conn.execute(select(func.count()).select_from(schema.run_lock)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(schema.runs)).scalar() == 0


def test_run_ids_use_the_configured_time_zone(tmp_path: Path) -> None:
    """The machine clock is UTC; a run id an officer reads is the district's wall time."""
    from datetime import datetime, timedelta

    from flows.cli import _locked_engine
    from flows.settings import load_settings
    from warehouse import runs
    from warehouse.clock import local_now

    settings = load_settings({"home": tmp_path, "time_zone": "Asia/Shanghai"})
    locked = _locked_engine(settings)
    assert not isinstance(locked, int)
    engine, run_id = locked
    runs.release_lock(engine, run_id)
    stamp = datetime.strptime(run_id.split("-")[1], "%Y%m%dT%H%M%S")
    assert abs(stamp - local_now("Asia/Shanghai")) < timedelta(minutes=5)
    assert abs(local_now("Asia/Shanghai") - local_now("UTC") - timedelta(hours=8)) < timedelta(
        seconds=5
    )


def test_the_flows_import_leaves_the_collector_on_and_what_it_made_frozen() -> None:
    """The run imports Prefect with the collector off; it must come back on, even when the
    import fails, and what the import made is frozen (later collections skip it)."""
    import gc

    from flows.cli import _imports_uncollected

    gc.unfreeze()
    try:
        with _imports_uncollected():
            assert not gc.isenabled()
            made = [object() for _ in range(1000)]
        assert gc.isenabled() and gc.get_freeze_count() >= len(made)
        with pytest.raises(ImportError), _imports_uncollected():
            import flows.no_such_module  # noqa: F401
        assert gc.isenabled()
    finally:
        gc.unfreeze()
        gc.enable()


def test_a_command_s_run_sends_no_heartbeats_unless_the_user_sets_their_frequency(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Prefect's heartbeat thread is joined at the run's end (0–1 s); a command's run turns
    it off, a frequency the user set is kept."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY

    from flows.cli import _heartbeats_unless_asked

    for name in ("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", "PREFECT_RUNNER_HEARTBEAT_FREQUENCY"):
        monkeypatch.delenv(name, raising=False)
    default = PREFECT_FLOWS_HEARTBEAT_FREQUENCY.value()
    assert default is not None  # Prefect's default sends them
    with _heartbeats_unless_asked():
        assert PREFECT_FLOWS_HEARTBEAT_FREQUENCY.value() is None
    assert PREFECT_FLOWS_HEARTBEAT_FREQUENCY.value() == default
    monkeypatch.setenv("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", "60")
    with _heartbeats_unless_asked():
        assert PREFECT_FLOWS_HEARTBEAT_FREQUENCY.value() == default  # not turned off


def test_a_run_starts_its_fork_server_before_the_heavy_imports(tmp_path: Path) -> None:
    """`popstat run` starts the fork server (GX's ~2 s import) first: the command's module
    imports neither pandas nor Prefect, and the server is up, printing to the home's log,
    before the parser's modules are imported. Other commands start none."""
    import subprocess
    import sys

    script = (
        "import sys, multiprocessing.forkserver as fs\n"
        "import flows.cli as cli\n"
        "heavy = [m for m in ('pandas', 'prefect', 'great_expectations') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "cli._early_worker_server(['issues', '--home', sys.argv[1] + '/other'])\n"
        "assert fs._forkserver._forkserver_pid is None\n"
        "cli._early_worker_server(['run', '--home', sys.argv[1]])\n"
        "assert fs._forkserver._forkserver_pid is not None\n"
        "assert 'pandas' not in sys.modules\n"
        "print('started')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "started"
    assert (tmp_path / "logs" / "workers.log").exists()
    assert not (tmp_path / "other").exists()
