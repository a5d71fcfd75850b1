"""Landing benchmark: popstat's reader and the whole landing, against the floor.

    .venv/bin/python benchmarks/bench_landing.py [--townships 15 --villages 20 --women 280 --months 12]

On one generated county, in one run, each in its own process: the floor (every file
read the plain way), popstat's reader alone (header search, every cell kept as text:
`read_upload` + `canonical_frame`), and the landing (reader, normalisers, ID keys, raw
and staged Parquet, manifest and `stg_*` rows in SQLite). Times are reported as ratios
to the floor. Target: peak RSS < 1 GB.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from _county import (
    add_size_arguments,
    county,
    land,
    measure_floor,
    peak_rss_mb,
    ratio_line,
    run_child,
)


def read_only(inbox: Path) -> dict[str, float]:
    """Read every file the way landing does, and do nothing else."""
    from transforms.landing.filenames import UploadName, parse_upload_name
    from transforms.landing.readers import canonical_frame, read_upload
    from transforms.templates import load_contract

    contract = load_contract()
    started = time.perf_counter()
    files = rows = 0
    for path in sorted(inbox.rglob("*")):
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
    return {"files": files, "rows": rows, "seconds": seconds, "peak_rss_mb": peak_rss_mb()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_size_arguments(parser)
    parser.add_argument("--stage", choices=["read", "land"], help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage == "read":
        print(json.dumps(read_only(args.folder / "inbox")))
        return
    if args.stage == "land":
        print(
            json.dumps({**land(args.folder, args.folder / "inbox"), "peak_rss_mb": peak_rss_mb()})
        )
        return
    with county(args) as made:
        floor = measure_floor(made.inbox)
        for label, stage in (("popstat's reader", "read"), ("landing", "land")):
            r = run_child(__file__, "--stage", stage, "--folder", str(made.folder))
            detail = (
                f"{r['files']:,.0f} files, {r['rows']:,.0f} rows, "
                f"{r['rows'] / r['seconds']:,.0f} rows/s, peak RSS {r['peak_rss_mb']:,.0f} MB"
            )
            print(ratio_line(label, r["seconds"], floor, detail), flush=True)


if __name__ == "__main__":
    main()
