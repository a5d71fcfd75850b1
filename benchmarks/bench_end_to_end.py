"""End-to-end benchmark: `popstat run` on a generated county, three nights.

    .venv/bin/python benchmarks/bench_end_to_end.py [--townships 15 --villages 20 --months 12]
                                                    [--ephemeral] [--keep DIR]

1. full run: every file is new (300 villages x 12 months by default);
2. no-op rerun: nothing changed (target: <= 10 % of the full run);
3. a correction: one village re-uploads one month (`_更正`), everything downstream reruns.

Each run is the real command in its own process; peak RSS is that of the run
process and its children (RUSAGE_CHILDREN of a per-stage wrapper process). The
baseline is benchmarks/bench_landing.py's parse-only read of every file. Runs
talk to a Prefect server started once here (as in production, where `prefect
server start` runs as a service); `--ephemeral` lets each run start its own
temporary server instead (~11 s each), as `popstat run` does with no
PREFECT_API_URL. The runs import a snapshot of the packages taken at the start,
so that edits to the work tree cannot change the code (and the run fingerprint)
between the nights.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

AS_OF = "2027-01-06"
PACKAGES = ("flows", "transforms", "expectations", "warehouse")
SECRET = "bench-secret"


def _run_args(folder: Path) -> list[str]:
    return [
        "run",
        "--home",
        str(folder / "home"),
        "--inbox",
        str(folder / "inbox"),
        "--reference",
        str(folder / "reference"),
        "--as-of",
        AS_OF,
    ]


def run_stage(folder: Path) -> dict[str, Any]:
    """One `popstat run` as a child process: wall time, peak RSS of the children, its summary."""
    from sqlalchemy import select

    from warehouse import schema
    from warehouse.db import make_engine

    env = {**os.environ, "POPSTAT_SECRET_KEY": SECRET}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "flows.cli", *_run_args(folder)],
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


def correct_one_village(folder: Path) -> str:
    """Re-upload one village's roster of the last month with its last data row removed."""
    inbox = folder / "inbox"
    candidates = sorted(inbox.glob("*/village/village_women_*.csv"))
    if not candidates:
        raise SystemExit("no CSV roster to correct")
    original = candidates[-1]
    lines = original.read_bytes().rstrip(b"\r\n").split(b"\n")
    corrected = original.with_name(f"{original.stem}_更正{original.suffix}")
    corrected.write_bytes(b"\n".join(lines[:-1]) + b"\n")
    # Arrival = modification time: a day after the original (the county lies in the future).
    later = original.stat().st_mtime + 86_400
    os.utime(corrected, (later, later))
    return corrected.relative_to(inbox).as_posix()


def _child(stage: str, folder: Path, env: dict[str, str]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--stage", stage, "--folder", str(folder)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _line(label: str, r: dict[str, Any], full: float | None = None) -> str:
    rate = f", {r['rows'] / r['seconds']:,.0f} rows/s" if r.get("rows") else ""
    share = f", {100 * r['seconds'] / full:.1f} % of the full run" if full else ""
    return (
        f"{label:>12}: {r['seconds']:7.1f} s, {r.get('files', 0):,} files, "
        f"{r.get('rows', 0):,} rows{rate}, peak RSS {r['peak_rss_mb']:,.0f} MB{share}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--townships", type=int, default=15)
    parser.add_argument("--villages", type=int, default=20)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--women", type=int, default=280)
    parser.add_argument("--ephemeral", action="store_true", help="no server: one per run")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    parser.add_argument("--stage", choices=["parse", "run"])
    parser.add_argument("--folder", type=Path)
    args = parser.parse_args()
    if args.stage == "parse":
        from bench_landing import parse_only

        print(json.dumps(parse_only(args.folder)))
        return
    if args.stage == "run":
        print(json.dumps(run_stage(args.folder)))
        return

    from bench_landing import generate

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
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        made = generate(folder, args.townships, args.villages, args.months, args.women)
        print(
            f"generated {made['files']:.0f} files in {made['seconds']:.1f} s "
            f"({args.townships * args.villages} villages x {args.months} months)",
            flush=True,
        )
        # The code measured is the code at the start: runs import a snapshot of the packages
        # (and their fingerprint cannot change mid-benchmark if the work tree does).
        code = folder / "code"
        shutil.rmtree(code, ignore_errors=True)
        for package in PACKAGES:
            shutil.copytree(
                ROOT / package, code / package, ignore=shutil.ignore_patterns("__pycache__")
            )
        env["PYTHONPATH"] = str(code)
        parse = _child("parse", folder, env)
        print(_line("parse-only", parse), flush=True)

        if args.ephemeral:
            results = _nights(folder, env)
        else:
            from prefect.settings import PREFECT_API_URL
            from prefect.testing.utilities import prefect_test_harness

            with prefect_test_harness(server_startup_timeout=120):
                env["PREFECT_API_URL"] = str(PREFECT_API_URL.value())
                results = _nights(folder, env)
        full = results["full run"]["seconds"]
        for label, r in results.items():
            print(_line(label, r, None if label == "full run" else full))
            print(f"{'':>14}stages: {r['stages']}")
        print(
            f"full run / parse-only = {full / parse['seconds']:.2f}; "
            f"no-op rerun = {100 * results['no-op rerun']['seconds'] / full:.1f} % of the full run "
            f"(target <= 10 %)"
        )


def _nights(folder: Path, env: dict[str, str]) -> dict[str, dict[str, Any]]:
    results = {}
    results["full run"] = _child("run", folder, env)
    print(_line("full run", results["full run"]), flush=True)
    results["no-op rerun"] = _child("run", folder, env)
    assert results["no-op rerun"]["skipped"], "the no-op rerun recomputed"
    assert not results["full run"]["skipped"]
    print(_line("no-op rerun", results["no-op rerun"]), flush=True)
    corrected = correct_one_village(folder)
    results["correction"] = _child("run", folder, env)
    assert not results["correction"]["skipped"], "the correction was not picked up"
    print(_line("correction", results["correction"]) + f"  ({corrected})", flush=True)
    return results


if __name__ == "__main__":
    main()
