"""Reconciliation benchmark: a county's three sources as one picture, against the floor.

    .venv/bin/python benchmarks/bench_reconcile.py [--townships 15 --villages 20 --women 280 --months 12]

The county is generated and landed first (not timed). Then, in its own process, as the
nightly reconcile stage does: the current staged rows of every template read back
(`load_recon_inputs`), `reconcile` (births, roster, fees, exams, changes, accuracy) and
the cross-row checks (`cross_checks`). Reports reading and reconciling as ratios to the
floor on the same inbox, the rows out and the peak RSS. Not a test: timings belong here.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import date
from pathlib import Path

from _county import (
    DEADLINE_DAY,
    add_size_arguments,
    county,
    land,
    measure_floor,
    peak_rss_mb,
    ratio_line,
    run_child,
    warehouse_url,
)


def reconcile_county(folder: Path, reference: Path, as_of: date) -> dict[str, object]:
    """Read the staged county back, reconcile it and run the cross checks; seconds and rows."""
    from transforms.reconcile.all_sources import reconcile
    from transforms.reconcile.cross_checks import cross_checks
    from transforms.templates import load_contract
    from warehouse import staged
    from warehouse.db import make_engine
    from warehouse.reference import read_reference

    engine = make_engine(warehouse_url(folder))
    contract = load_contract()
    started = time.perf_counter()
    ref = read_reference(reference)
    inputs = staged.load_recon_inputs(engine, folder / "raw", contract, ref.areas)
    read_seconds = time.perf_counter() - started
    rows_in = sum(len(getattr(inputs, name)) for name in contract.templates)
    started = time.perf_counter()
    result = reconcile(inputs, as_of, DEADLINE_DAY)
    cross_checks(inputs, ref.institutions, contract, as_of, DEADLINE_DAY)
    seconds = time.perf_counter() - started
    engine.dispose()
    return {
        "read_seconds": read_seconds,
        "seconds": seconds,
        "rows_in": rows_in,
        "births": len(result.recon_births),
        "women": len(result.recon_women),
        "peak_rss_mb": peak_rss_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_size_arguments(parser)
    parser.add_argument("--stage", choices=["reconcile"], help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--as-of", type=date.fromisoformat, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage == "reconcile":
        print(json.dumps(reconcile_county(args.folder, args.folder / "reference", args.as_of)))
        return
    with county(args) as made:
        floor = measure_floor(made.inbox)
        land(made.folder, made.inbox)
        r = run_child(
            __file__,
            "--stage",
            "reconcile",
            "--folder",
            str(made.folder),
            "--as-of",
            made.as_of.isoformat(),
        )
    print(ratio_line("read staged", r["read_seconds"], floor, f"{r['rows_in']:,} staged rows"))
    detail = (
        f"{r['births']:,} births, {r['women']:,} woman-months, peak RSS {r['peak_rss_mb']:,.0f} MB"
    )
    print(ratio_line("reconcile", r["seconds"], floor, detail))


if __name__ == "__main__":
    main()
