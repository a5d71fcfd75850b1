"""A province's counties as partitions: seconds and peak memory per county, and the
speed-up of two Dask workers over one process (per township: the partition).

Generates a province of `--counties` counties (each of the size arguments), measures
the floor on its inbox, lands it (embedded warehouse), splits the current rows by
county (`warehouse.partitions.split_current_rows`), then times the partitioned stage
(`transforms.indicators.by_partition.work_partition`: reconcile, check, measure):

- each county alone in its own process: its seconds and its peak RSS (what one
  worker must hold);
- every county one after another in one process (the default executor);
- every county on a Dask LocalCluster of `--workers` single-threaded processes.

Prints each as seconds and × the floor, the speed-up, and the arithmetic that
extrapolates to 100 counties. Prefect's own cost per task (~0.1 s against a
running server) is outside these figures.

    python benchmarks/bench_province.py --counties 2 --townships 5 --villages 10
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from _county import (
    TIME_ZONE,
    add_size_arguments,
    land,
    measure_floor,
    peak_rss_mb,
    ratio_line,
    run_child,
    size_label,
    warehouse_url,
)


def work(folder: str, part: str, as_of: str) -> float:
    """One county's partitioned work, as a run does it; its seconds."""
    from transforms.indicators.by_partition import work_partition
    from transforms.indicators.catalog import load_catalog
    from transforms.templates import load_contract
    from warehouse.partitions import load_partition
    from warehouse.reference import read_reference

    started = time.perf_counter()
    reference = read_reference(Path(folder) / "reference")
    contract = load_contract()
    inputs = load_partition(Path(folder) / "parts", part, contract, reference.areas)
    work_partition(
        inputs,
        reference.institutions,
        contract,
        load_catalog(),
        date.fromisoformat(as_of),
        5,
        None,
    )
    return time.perf_counter() - started


def _import_the_pipeline() -> None:
    import transforms.indicators.by_partition  # noqa: F401
    import warehouse.partitions
    import warehouse.reference  # noqa: F401


def _one_county(folder: str, part: str, as_of: str) -> dict[str, Any]:
    return {"seconds": work(folder, part, as_of), "peak_rss_mb": peak_rss_mb()}


def _sequential(folder: str, parts: list[str], as_of: str) -> dict[str, Any]:
    started = time.perf_counter()
    for part in parts:
        work(folder, part, as_of)
    return {"seconds": time.perf_counter() - started, "peak_rss_mb": peak_rss_mb()}


def _on_dask(folder: str, parts: list[str], as_of: str, workers: int) -> dict[str, Any]:
    from distributed import Client, LocalCluster

    with (
        LocalCluster(n_workers=workers, threads_per_worker=1, processes=True) as cluster,
        Client(cluster) as client,
    ):
        client.run(sys.path.insert, 0, str(Path(__file__).resolve().parent))
        # Warm workers, as a cluster that serves many runs has: imports are not the work.
        client.run(_import_the_pipeline)
        started = time.perf_counter()
        futures = client.map(work, [folder] * len(parts), parts, [as_of] * len(parts))
        client.gather(futures)
        seconds = time.perf_counter() - started
    return {"seconds": seconds}


def _prepare(args: argparse.Namespace, folder: Path) -> tuple[list[str], str]:
    from synthetic.province import generate_province
    from transforms.templates import load_contract
    from warehouse.db import make_engine
    from warehouse.inbox import write_files
    from warehouse.partitions import split_current_rows
    from warehouse.reference import read_reference

    started = time.perf_counter()
    made = generate_province(
        args.counties,
        seed=7,
        townships=args.townships,
        villages_per_township=args.villages,
        women_per_village=args.women,
        last_month=args.months,
    )
    files = write_files(
        folder / "inbox", ((f.path, f.data, f.arrived_at) for f in made.files), TIME_ZONE
    )
    write_files(folder / "reference", ((n, d, None) for n, d in made.reference.items()), TIME_ZONE)
    print(
        f"province: {args.counties} counties of {size_label(args)}: {files:,} files "
        f"(generated in {time.perf_counter() - started:.1f} s)"
    )
    landed = land(folder, folder / "inbox")
    print(f"landed {landed['files']:,} files, {landed['rows']:,} rows in {landed['seconds']:.1f} s")
    engine = make_engine(warehouse_url(folder))
    started = time.perf_counter()
    split = split_current_rows(
        engine,
        folder / "raw",
        load_contract(),
        read_reference(folder / "reference").institutions,
        folder / "parts",
    )
    engine.dispose()
    print(
        f"split into {len(split.parts)} partitions in {time.perf_counter() - started:.2f} s "
        f"(peak RSS so far {peak_rss_mb():,.0f} MB)"
    )
    return split.parts, made.counties[0].spec.effective_as_of.isoformat()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_size_arguments(parser)
    parser.set_defaults(townships=5, villages=10, women=300)
    parser.add_argument("--counties", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--stage", choices=["county", "sequential", "dask"], help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    parser.add_argument("--parts", help=argparse.SUPPRESS)
    parser.add_argument("--as-of", dest="as_of", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage:
        parts = json.loads(args.parts)
        result = {
            "county": lambda: _one_county(args.folder, parts[0], args.as_of),
            "sequential": lambda: _sequential(args.folder, parts, args.as_of),
            "dask": lambda: _on_dask(args.folder, parts, args.as_of, args.workers),
        }[args.stage]()
        print(json.dumps(result))
        return

    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        parts, as_of = _prepare(args, folder)
        floor = measure_floor(folder / "inbox")

        def child(stage: str, chosen: list[str]) -> dict[str, Any]:
            found = run_child(
                __file__,
                "--stage",
                stage,
                "--folder",
                str(folder),
                "--parts",
                json.dumps(chosen),
                "--as-of",
                as_of,
                "--workers",
                str(args.workers),
            )
            return dict(found)

        counties = {part: child("county", [part]) for part in parts}
        for part, r in counties.items():
            print(
                ratio_line(
                    f"township {part}", r["seconds"], floor, f"peak RSS {r['peak_rss_mb']:,.0f} MB"
                )
            )
        one = child("sequential", parts)
        print(
            ratio_line(
                "one process", one["seconds"], floor, f"peak RSS {one['peak_rss_mb']:,.0f} MB"
            )
        )
        dask = child("dask", parts)
        speedup = one["seconds"] / dask["seconds"]
        print(
            ratio_line(f"dask × {args.workers}", dask["seconds"], floor, f"speed-up {speedup:.2f}×")
        )
        mean = statistics.mean(r["seconds"] for r in counties.values())
        memory = max(r["peak_rss_mb"] for r in counties.values())
        townships = len(counties) / args.counties
        print(
            f"100 counties of {townships:.0f} townships on N workers ≈ "
            f"100 × {townships:.0f} × {mean:.2f} s / N × ({args.workers} / {speedup:.2f}) "
            f"(this machine's parallel efficiency); each worker holds one township: "
            f"≤ {memory:,.0f} MB"
        )


if __name__ == "__main__":
    main()
