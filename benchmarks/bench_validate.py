"""Validation benchmark: the generated suites over a county's staged batches, against the floor.

    .venv/bin/python benchmarks/bench_validate.py [--townships 15 --villages 20 --women 280 --months 12]

The county is generated and landed first (not timed). Then, in its own process, as the
nightly validate stage does: each template's staged rows of every upload read back and
validated as one GX batch (`validate_batch`). Reports the GX import and context, and
the validation of all templates, as ratios to the floor on the same inbox; the findings
per rule and the peak RSS. Not a test: timings belong here.
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
    warehouse_url,
)


def validate_county(folder: Path) -> dict[str, object]:
    """Validate every landed upload, one batch per template; seconds, findings, peak RSS."""
    started = time.perf_counter()
    from expectations.runtime import gx_runtime
    from expectations.validate import validate_batch

    gx_runtime()
    gx_seconds = time.perf_counter() - started

    from transforms.templates import load_contract
    from warehouse import staged
    from warehouse.db import make_engine

    engine = make_engine(warehouse_url(folder))
    with engine.connect() as conn:
        uploads = staged.unvalidated_uploads(conn)
    rules: dict[str, int] = {}
    rows = 0
    started = time.perf_counter()
    for template in load_contract().templates.values():
        batch = staged.staged_rows(folder / "raw", uploads, template)
        if batch.empty:
            continue
        rows += len(batch)
        findings = validate_batch(batch, template)
        for rule, n in findings["rule"].value_counts().items():
            rules[str(rule)] = rules.get(str(rule), 0) + int(n)
    seconds = time.perf_counter() - started
    engine.dispose()
    return {
        "gx_seconds": gx_seconds,
        "seconds": seconds,
        "rows": rows,
        "rules": rules,
        "peak_rss_mb": peak_rss_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_size_arguments(parser)
    parser.add_argument("--stage", choices=["validate"], help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage == "validate":
        print(json.dumps(validate_county(args.folder)))
        return
    with county(args) as made:
        floor = measure_floor(made.inbox)
        land(made.folder, made.inbox)
        r = run_child(__file__, "--stage", "validate", "--folder", str(made.folder))
    print(ratio_line("GX import", r["gx_seconds"], floor, "context and data source, once"))
    findings = sum(r["rules"].values())
    detail = (
        f"{r['rows']:,} staged rows, {findings:,} findings, peak RSS {r['peak_rss_mb']:,.0f} MB"
    )
    print(ratio_line("validation", r["seconds"], floor, detail))
    for rule, n in sorted(r["rules"].items(), key=lambda item: -item[1]):
        print(f"{'':>18}{rule}: {n:,}")


if __name__ == "__main__":
    main()
