"""What every benchmark shares: a generated county of a given size, and the floor on its inbox.

A benchmark adds the size arguments (`add_size_arguments`), generates the county once
(`county`), measures the floor on that inbox in the same run (`measure_floor`: every file
read the plain way, `bench_floor.py`) and reports each of its times with `ratio_line`:
seconds and the ratio to that floor. A ratio compares across machines and loads; seconds
alone do not. Measurements run in child processes (`run_child`) so that each peak RSS is
its own.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

SECRET = "bench-secret"
TIME_ZONE = "Asia/Shanghai"
DEADLINE_DAY = 5


def add_size_arguments(parser: argparse.ArgumentParser) -> None:
    """The county's size (defaults: 15 townships × 20 villages × 280 women × 12 months)."""
    parser.add_argument("--townships", type=int, default=15)
    parser.add_argument("--villages", type=int, default=20, help="villages per township")
    parser.add_argument("--women", type=int, default=280, help="women per village")
    parser.add_argument("--months", type=int, default=12, help="January to this month")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")


@dataclass(frozen=True)
class County:
    """A generated county on disk: `inbox/`, `reference/`, and room for a warehouse."""

    folder: Path
    files: int
    label: str
    as_of: date

    @property
    def inbox(self) -> Path:
        return self.folder / "inbox"

    @property
    def reference(self) -> Path:
        return self.folder / "reference"


@dataclass(frozen=True)
class Floor:
    """Every file of the inbox read the plain way, and nothing else."""

    files: int
    rows: int
    seconds: float
    peak_rss_mb: float


def size_label(args: argparse.Namespace) -> str:
    return (
        f"{args.townships} townships × {args.villages} villages × {args.women} women × "
        f"{args.months} months"
    )


@contextmanager
def county(args: argparse.Namespace) -> Iterator[County]:
    """Generate the county the size arguments describe, in `--keep` or a temporary folder."""
    from synthetic.county import generate_county
    from synthetic.spec import CountySpec
    from warehouse.inbox import write_files

    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        # A kept folder starts over: files of an earlier benchmark (a correction, a
        # warehouse) would make a cold run warm.
        for old in ("inbox", "reference", "home"):
            shutil.rmtree(folder / old, ignore_errors=True)
        folder.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        spec = CountySpec(
            townships=args.townships,
            villages_per_township=args.villages,
            women_per_village=args.women,
            last_month=args.months,
        )
        made = generate_county(spec)
        files = write_files(
            folder / "inbox", ((f.path, f.data, f.arrived_at) for f in made.files), TIME_ZONE
        )
        write_files(
            folder / "reference", ((n, d, None) for n, d in made.reference.items()), TIME_ZONE
        )
        found = County(folder, files, f"{size_label(args)}: {files:,} files", spec.effective_as_of)
        print(f"county: {found.label} (generated in {time.perf_counter() - started:.1f} s)")
        yield found


def run_child(script: str | Path, *arguments: str, env: dict[str, str] | None = None) -> Any:
    """Run `script` with `arguments` in its own process; the JSON of its last stdout line."""
    done = subprocess.run(
        [sys.executable, str(script), *arguments],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(
            f"{Path(script).name} {' '.join(arguments)} failed:\n{done.stderr[-4000:]}"
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_floor(inbox: Path) -> Floor:
    """The floor on `inbox`, measured now, in its own process."""
    found = run_child(BENCHMARKS / "bench_floor.py", "--inbox", str(inbox), "--json")
    floor = Floor(**found)
    print(
        f"{'floor':>16}: {floor.seconds:8.2f} s   {floor.files:,} files, {floor.rows:,} rows "
        f"read the plain way, peak RSS {floor.peak_rss_mb:,.0f} MB"
    )
    return floor


def ratio_line(label: str, seconds: float, floor: Floor, detail: str = "") -> str:
    """`label: seconds = ratio× the floor` and any detail, for a benchmark's output."""
    return f"{label:>16}: {seconds:8.2f} s = {seconds / floor.seconds:6.2f}× the floor" + (
        f"   {detail}" if detail else ""
    )


def land(folder: Path, inbox: Path) -> dict[str, Any]:
    """Land `inbox` into an embedded warehouse and raw layer under `folder` (popstat's landing)."""
    from transforms.templates import load_contract
    from warehouse.db import make_engine, migrate
    from warehouse.landing import LandingContext, land_inbox

    engine = make_engine(warehouse_url(folder))
    migrate(engine)
    context = LandingContext(
        inbox=inbox,
        raw_dir=folder / "raw",
        run_id="bench",
        contract=load_contract(),
        secret=SECRET.encode(),
        deadline_day=DEADLINE_DAY,
        time_zone=TIME_ZONE,
    )
    started = time.perf_counter()
    summary = land_inbox(engine, context)
    seconds = time.perf_counter() - started
    engine.dispose()
    return {
        "files": sum(summary.files_by_status.values()),
        "rows": sum(summary.rows_by_template.values()),
        "seconds": seconds,
    }


def warehouse_url(folder: Path) -> str:
    return f"sqlite:///{folder / 'warehouse.db'}"


def peak_rss_mb() -> float:
    from _memory import peak_rss_mb as measured  # benchmarks/ is on the path of its scripts

    return measured()
