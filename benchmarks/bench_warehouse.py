"""Warehouse benchmark: bulk-load speed, and whether a dashboard can read during a write.

    .venv/bin/python benchmarks/bench_warehouse.py [--townships 15 --villages 20 --women 280
                                                    --months 12] [--postgres URL]

The county is generated and landed first (not timed); its staged roster rows
(`stg_village_women`, every month) are then loaded again with
`warehouse.load.bulk_insert` into a fresh embedded SQLite warehouse (WAL) and into
PostgreSQL (COPY), each against the floor on the same inbox. While the load's
transaction is open, a reader in another process runs `select count(*) from
mart_target_achievement`: how long it waits is the second figure. The embedded
default was chosen on these figures.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import tempfile
import time
import uuid
from pathlib import Path

import pandas as pd
from _county import add_size_arguments, county, land, measure_floor, ratio_line, warehouse_url
from sqlalchemy import create_engine, text

from warehouse import schema
from warehouse.db import make_engine, migrate
from warehouse.load import bulk_insert


def staged_women(folder: Path) -> pd.DataFrame:
    """The landed county's staged roster rows, as landing wrote them."""
    from transforms.templates import load_contract
    from warehouse import staged

    engine = make_engine(warehouse_url(folder))
    with engine.connect() as conn:
        uploads = staged.uploads_frame(conn, ["loaded", "superseded"])
    engine.dispose()
    return staged.staged_rows(folder / "raw", uploads, load_contract().templates["village_women"])


def _reader(url: str, started: mp.Event, result: mp.Queue) -> None:  # type: ignore[type-arg]
    engine = create_engine(url)
    started.wait()
    time.sleep(0.2)  # well inside the writer's transaction
    begun = time.perf_counter()
    with engine.connect() as conn:
        conn.execute(text("select count(*) from mart_target_achievement")).scalar()
    result.put(time.perf_counter() - begun)


def measure(url: str, frame: pd.DataFrame) -> tuple[float, float]:
    """(seconds to load `frame`, seconds a reader waited meanwhile) on a fresh warehouse."""
    engine = make_engine(url)
    migrate(engine)
    started, result = mp.Event(), mp.Queue()
    reader = mp.Process(
        target=_reader, args=(str(engine.url.render_as_string(False)), started, result)
    )
    reader.start()
    begun = time.perf_counter()
    with engine.begin() as conn:
        started.set()
        bulk_insert(conn, schema.staging_tables["village_women"], frame)
        load_seconds = time.perf_counter() - begun
    reader.join()
    engine.dispose()
    return load_seconds, float(result.get())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_size_arguments(parser)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    with county(args) as made:
        floor = measure_floor(made.inbox)
        land(made.folder, made.inbox)
        frame = staged_women(made.folder)
    rows = f"{len(frame):,} staged roster rows"
    with tempfile.TemporaryDirectory() as tmp:
        seconds, wait = measure(f"sqlite:///{Path(tmp) / 'w.db'}", frame)
    detail = f"{rows}, {len(frame) / seconds:,.0f} rows/s; a reader waited {wait:.3f} s"
    print(ratio_line("SQLite load", seconds, floor, detail))
    schema_name = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.postgres)
    with admin.begin() as conn:
        conn.execute(text(f'create schema "{schema_name}"'))
    try:
        url = f"{args.postgres}?options=-csearch_path%3D{schema_name}"
        seconds, wait = measure(url, frame)
        detail = f"{rows}, {len(frame) / seconds:,.0f} rows/s; a reader waited {wait:.3f} s"
        print(ratio_line("PostgreSQL COPY", seconds, floor, detail))
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'drop schema "{schema_name}" cascade'))


if __name__ == "__main__":
    main()
