"""Landing benchmark: a generated county, parse-only baseline vs the full landing.

    .venv/bin/python benchmarks/bench_landing.py [--townships 15 --villages 20 --months 12]

Each measurement runs in its own process so that peak RSS is its own. Targets:
landing <= 2x parse-only, peak RSS < 1 GB.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _peak_rss_mb() -> float:
    from _memory import peak_rss_mb  # benchmarks/ is this script's folder

    return peak_rss_mb()


def generate(
    folder: Path, townships: int, villages: int, months: int, women: int
) -> dict[str, float]:
    from transforms.synthetic import CountySpec, generate_county
    from warehouse.inbox import write_files

    started = time.perf_counter()
    county = generate_county(
        CountySpec(
            townships=townships,
            villages_per_township=villages,
            last_month=months,
            women_per_village=women,
        )
    )
    files = write_files(
        folder / "inbox", ((f.path, f.data, f.arrived_at) for f in county.files), "Asia/Shanghai"
    )
    write_files(
        folder / "reference", ((n, d, None) for n, d in county.reference.items()), "Asia/Shanghai"
    )
    return {"files": files, "seconds": time.perf_counter() - started}


def parse_only(folder: Path) -> dict[str, float]:
    """Read every file the way landing does, and do nothing else."""
    from transforms.filenames import UploadName, parse_upload_name
    from transforms.readers import canonical_frame, read_upload
    from transforms.templates import load_contract

    contract = load_contract()
    started = time.perf_counter()
    files = rows = 0
    for path in sorted((folder / "inbox").rglob("*")):
        if not path.is_file():
            continue
        name = parse_upload_name(path.name, contract)
        if not isinstance(name, UploadName):
            continue
        result = read_upload(
            path.read_bytes(), name.file_format, contract.templates[name.template_name]
        )
        if result.problem is None:
            rows += len(canonical_frame(result))
        files += 1
    seconds = time.perf_counter() - started
    return {"files": files, "rows": rows, "seconds": seconds, "peak_rss_mb": _peak_rss_mb()}


def landing(folder: Path) -> dict[str, float]:
    from transforms.templates import load_contract
    from warehouse.db import make_engine, migrate
    from warehouse.landing import LandingContext, land_inbox

    engine = make_engine(f"sqlite:///{folder / 'bench.db'}")
    migrate(engine)
    ctx = LandingContext(
        inbox=folder / "inbox",
        raw_dir=folder / "raw",
        run_id="bench",
        contract=load_contract(),
        secret=b"bench",
        deadline_day=5,
        time_zone="Asia/Shanghai",
    )
    started = time.perf_counter()
    summary = land_inbox(engine, ctx)
    seconds = time.perf_counter() - started
    rows = sum(summary.rows_by_template.values())
    files = sum(summary.files_by_status.values())
    return {"files": files, "rows": rows, "seconds": seconds, "peak_rss_mb": _peak_rss_mb()}


def _child(stage: str, folder: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--stage", stage, "--folder", str(folder)],
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--townships", type=int, default=15)
    parser.add_argument("--villages", type=int, default=20)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--women", type=int, default=280)
    parser.add_argument("--stage", choices=["parse", "land"])
    parser.add_argument("--folder", type=Path)
    args = parser.parse_args()
    if args.stage:
        result = parse_only(args.folder) if args.stage == "parse" else landing(args.folder)
        print(json.dumps(result))
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        made = generate(folder, args.townships, args.villages, args.months, args.women)
        print(
            f"generated {made['files']:.0f} files in {made['seconds']:.1f} s "
            f"({args.townships * args.villages} villages x {args.months} months)"
        )
        parse = _child("parse", folder)
        land = _child("land", folder)
    for label, r in (("parse-only", parse), ("landing", land)):
        print(
            f"{label:>10}: {r['files']:.0f} files, {r['rows']:.0f} rows in {r['seconds']:.1f} s "
            f"= {r['files'] / r['seconds']:.0f} files/s, {r['rows'] / r['seconds']:.0f} rows/s, "
            f"peak RSS {r['peak_rss_mb']:.0f} MB"
        )
    print(f"landing / parse-only = {land['seconds'] / parse['seconds']:.2f} (target <= 2)")


if __name__ == "__main__":
    main()
