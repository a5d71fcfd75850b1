"""Warehouse benchmark: bulk-load speed, and whether a dashboard can read during a write.

    .venv/bin/python benchmarks/bench_warehouse.py [--rows 1000000] [--postgres URL]

Measures, for the embedded SQLite warehouse (WAL) and PostgreSQL (COPY): rows/s of
`warehouse.load.bulk_insert` into `stg_village_women`, and how long a reader in
another process waits for `select count(*) from mart_target_achievement` while the
load's transaction is open. The embedded default was chosen on these figures.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from warehouse import schema  # noqa: E402
from warehouse.db import make_engine, migrate  # noqa: E402
from warehouse.load import bulk_insert  # noqa: E402


def staged_women(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    ids = pd.Series(rng.integers(10**16, 10**17, rows).astype(str)).radd("6")
    return pd.DataFrame(
        {
            "upload_id": np.arange(rows) // 300 + 1,
            "row_number": np.arange(rows) % 300 + 1,
            "unit": "654226100201",
            "report_month": "2026-09",
            "name": "某某",
            "id_number": ids,
            "id_number_key": ids.str.pad(64, fillchar="0"),
            "residence": "常住",
            "children": rng.integers(0, 4, rows),
            "method": rng.choice(["上环", "结扎", "无"], rows),
            "method_date": pd.to_datetime("2020-01-01")
            + pd.to_timedelta(rng.integers(0, 2000, rows), "D"),
            "last_check_date": pd.to_datetime("2026-07-01"),
        }
    )


def _reader(url: str, started: mp.Event, result: mp.Queue) -> None:  # type: ignore[type-arg]
    engine = create_engine(url)
    started.wait()
    time.sleep(0.2)  # well inside the writer's transaction
    begun = time.perf_counter()
    with engine.connect() as conn:
        conn.execute(text("select count(*) from mart_target_achievement")).scalar()
    result.put(time.perf_counter() - begun)


def measure(url: str, frame: pd.DataFrame) -> tuple[float, float]:
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
    return len(frame) / load_seconds, float(result.get())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    frame = staged_women(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        rate, wait = measure(f"sqlite:///{Path(tmp) / 'w.db'}", frame)
        print(f"SQLite (WAL): {rate:,.0f} rows/s; a reader waited {wait:.3f} s during the load")
    schema_name = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.postgres)
    with admin.begin() as conn:
        conn.execute(text(f'create schema "{schema_name}"'))
    try:
        url = f"{args.postgres}?options=-csearch_path%3D{schema_name}"
        rate, wait = measure(url, frame)
        print(
            f"PostgreSQL (COPY): {rate:,.0f} rows/s; a reader waited {wait:.3f} s during the load"
        )
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'drop schema "{schema_name}" cascade'))


if __name__ == "__main__":
    main()
