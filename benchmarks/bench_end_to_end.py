"""End-to-end benchmark: `popstat run` on a generated county, three nights.

    .venv/bin/python benchmarks/bench_end_to_end.py [--townships 15 --villages 20 --women 280
                                                     --months 12] [--ephemeral] [--keep DIR]

1. full run: every file is new (300 villages x 12 months by default);
2. no-op rerun: nothing changed (target: <= 10 % of the full run);
3. a correction: one village re-uploads the last month (`_更正`), everything downstream reruns;
4. an earlier correction: another village re-uploads the month before (its staged file
   lands before the last month's: the townships it does not touch must not recompute).

Each run is the real command in its own process; peak RSS is that of the run
process and its children (RUSAGE_CHILDREN of a per-stage wrapper process). Every
time is also a ratio to the floor measured on the same inbox in the same run
(`bench_floor.py`: every file read the plain way). Runs
talk to a Prefect server started once here (as in production, where `prefect
server start` runs as a service); `--ephemeral` lets each run start its own
temporary server instead (~11 s each), as `popstat run` does with no
PREFECT_API_URL. The runs import a snapshot of the packages taken at the start,
so that edits to the work tree cannot change the code (and the run fingerprint)
between the nights.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

from _county import (
    ROOT,
    SECRET,
    Floor,
    add_size_arguments,
    county,
    measure_floor,
    ratio_line,
    run_child,
)

PACKAGES = ("flows", "transforms", "expectations", "warehouse")


def _run_args(folder: Path, as_of: date) -> list[str]:
    return [
        "run",
        "--home",
        str(folder / "home"),
        "--inbox",
        str(folder / "inbox"),
        "--reference",
        str(folder / "reference"),
        "--as-of",
        as_of.isoformat(),
    ]


def run_stage(folder: Path, as_of: date) -> dict[str, Any]:
    """One `popstat run` as a child process: wall time, peak RSS of the children, its summary."""
    from sqlalchemy import select

    from warehouse import schema
    from warehouse.db import make_engine

    env = {**os.environ, "POPSTAT_SECRET_KEY": SECRET}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "flows.cli", *_run_args(folder, as_of)],
        env=env,
        cwd=env.get("PYTHONPATH") or None,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"popstat run failed ({done.returncode}):\n{done.stderr[-4000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    engine = make_engine(f"sqlite:///{folder / 'home' / 'warehouse.db'}")
    with engine.connect() as conn:
        text = conn.execute(
            select(schema.runs.c.summary).order_by(schema.runs.c.finished_at.desc()).limit(1)
        ).scalar_one()
    summary = json.loads(text)
    stages = {
        line.split(":")[0].removeprefix("[popstat] "): line.rsplit("done", 1)[-1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("[popstat]") and "完成 done" in line
    }
    return {
        "seconds": seconds,
        "peak_rss_mb": peak,
        "rows": sum((summary.get("landing") or {}).get("rows", {}).values()),
        "files": sum((summary.get("files") or {}).values()),
        "skipped": bool(summary.get("skipped")),
        "published_changed": (summary.get("publish") or {}).get("changed"),
        "stages": stages,
    }


def correct_one_village(folder: Path, months_back: int = 0) -> str:
    """Re-upload one village's roster with its last data row removed: of the last month, or
    of the month `months_back` before it (its staged file then lands before later months')."""
    inbox = folder / "inbox"
    months = sorted(p.name for p in inbox.iterdir() if p.is_dir())
    if len(months) <= months_back:
        raise SystemExit(f"no month {months_back} before the last")
    month = months[-1 - months_back]
    candidates = sorted(
        p for p in inbox.glob(f"{month}/village/village_women_*.csv") if "_更正" not in p.name
    )
    if not candidates:
        raise SystemExit(f"no CSV roster of {month} to correct")
    original = candidates[-1]
    lines = original.read_bytes().rstrip(b"\r\n").split(b"\n")
    corrected = original.with_name(f"{original.stem}_更正{original.suffix}")
    corrected.write_bytes(b"\n".join(lines[:-1]) + b"\n")
    # Arrival = modification time: a day after the original (the county lies in the future).
    later = original.stat().st_mtime + 86_400
    os.utime(corrected, (later, later))
    return corrected.relative_to(inbox).as_posix()


def _night(folder: Path, as_of: date, env: dict[str, str]) -> dict[str, Any]:
    return dict(
        run_child(
            __file__, "--stage", "run", "--folder", str(folder), "--as-of", str(as_of), env=env
        )
    )


def _line(label: str, r: dict[str, Any], floor: Floor, full: float | None = None) -> str:
    share = f"{100 * r['seconds'] / full:.1f} % of the full run, " if full else ""
    return ratio_line(
        label,
        r["seconds"],
        floor,
        f"{share}{r.get('files', 0):,} files, {r.get('rows', 0):,} rows, "
        f"peak RSS {r['peak_rss_mb']:,.0f} MB",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_size_arguments(parser)
    parser.add_argument("--ephemeral", action="store_true", help="no server: one per run")
    parser.add_argument("--stage", choices=["run"], help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--as-of", type=date.fromisoformat, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage == "run":
        print(json.dumps(run_stage(args.folder, args.as_of)))
        return

    # Before Prefect is imported (the server started below reads them too).
    os.environ.update(
        {
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
            "PREFECT_LOGGING_LEVEL": "WARNING",
            "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
        }
    )
    env = dict(os.environ)
    with county(args) as made:
        folder = made.folder
        # The code measured is the code at the start: runs import a snapshot of the packages
        # (and their fingerprint cannot change mid-benchmark if the work tree does).
        code = folder / "code"
        shutil.rmtree(code, ignore_errors=True)
        for package in PACKAGES:
            shutil.copytree(
                ROOT / package, code / package, ignore=shutil.ignore_patterns("__pycache__")
            )
        # Compiled once, as an installed package is (pip compiles it): where the environment
        # sets PYTHONDONTWRITEBYTECODE, as here, every run and worker process would otherwise
        # compile the sources again (~0.2 s a run's process).
        compileall.compile_dir(code, quiet=1)
        env["PYTHONPATH"] = str(code)
        floor = measure_floor(made.inbox)

        if args.ephemeral:
            results = _nights(folder, made.as_of, env, floor)
        else:
            from prefect.settings import PREFECT_API_URL
            from prefect.testing.utilities import prefect_test_harness

            with prefect_test_harness(server_startup_timeout=120):
                env["PREFECT_API_URL"] = str(PREFECT_API_URL.value())
                results = _nights(folder, made.as_of, env, floor)
        full = results["full run"]["seconds"]
        for label, r in results.items():
            print(f"{label}: stages {r['stages']}")
        print(
            f"no-op rerun = {100 * results['no-op rerun']['seconds'] / full:.1f} % of the full "
            f"run; correction = {100 * results['correction']['seconds'] / full:.1f} %; "
            f"earlier correction = {100 * results['earlier correction']['seconds'] / full:.1f} %"
        )


def _nights(
    folder: Path, as_of: date, env: dict[str, str], floor: Floor
) -> dict[str, dict[str, Any]]:
    results = {}
    results["full run"] = _night(folder, as_of, env)
    print(_line("full run", results["full run"], floor), flush=True)
    results["no-op rerun"] = _night(folder, as_of, env)
    assert results["no-op rerun"]["skipped"], "the no-op rerun recomputed"
    assert not results["full run"]["skipped"]
    full = results["full run"]["seconds"]
    print(_line("no-op rerun", results["no-op rerun"], floor, full), flush=True)
    for label, months_back in (("correction", 0), ("earlier correction", 1)):
        corrected = correct_one_village(folder, months_back)
        results[label] = _night(folder, as_of, env)
        assert not results[label]["skipped"], f"the {label} was not picked up"
        print(_line(label, results[label], floor, full) + f"  ({corrected})", flush=True)
    return results


if __name__ == "__main__":
    main()
