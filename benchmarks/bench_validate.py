"""Benchmark of expectations.validate.validate_batch on one large roster batch.

    .venv/bin/python benchmarks/bench_validate.py [--rows 1000000] [--uploads 300]
        [--bad 0.005] [--seed 1]

Builds a staged `village_women` frame (the widest template: 12 columns, 38
generated expectations) of `--rows` rows in `--uploads` files, with a share
`--bad` of rows broken in several ways (unreadable cells, out of range, repeats,
dates after the report month), and prints the seconds for the GX import and
context, the first validation (suite built) and a second one, the number of
findings and the peak RSS. Not a test: timings belong here.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd

from transforms.identity import CHECK_CHARS, ID_WEIGHTS


def _ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """n valid 18-character IDs of region 654226, born 1977-2003, vectorised."""
    born = np.datetime64("1977-01-01") + rng.integers(0, 9500, n).astype("timedelta64[D]")
    days = np.datetime_as_string(born, unit="D")
    body = np.char.add(
        np.char.add("654226", np.char.replace(days, "-", "")),
        np.char.zfill(rng.integers(0, 1000, n).astype(str), 3),
    )
    digits = np.frombuffer("".join(body.tolist()).encode(), np.uint8).reshape(n, 17) - 48
    checks = np.array(list(CHECK_CHARS))[(digits.astype(np.int64) @ ID_WEIGHTS) % 11]
    return np.char.add(body, checks)


def staged_women(rows: int, uploads: int, bad: float, seed: int) -> pd.DataFrame:
    from transforms.templates import load_contract

    rng = np.random.default_rng(seed)
    t = load_contract().templates["village_women"]
    upload = np.sort(rng.integers(1, uploads + 1, rows))
    row_number = pd.Series(upload).groupby(upload).cumcount().to_numpy() + 1

    def dates(origin: str, span: int) -> pd.Series:
        days = rng.integers(0, span, rows).astype("timedelta64[D]")
        return pd.Series((np.datetime64(origin) + days).astype("datetime64[s]"))

    frame = pd.DataFrame(
        {
            "upload_id": upload,
            "row_number": row_number,
            "unit": pd.array(
                np.char.add("654226100", np.char.zfill((upload % 999).astype(str), 3)),
                dtype="string",
            ),
            "report_month": pd.array(["2026-09"] * rows, dtype="string"),
            "name": pd.array(["古丽"] * rows, dtype="string"),
            "id_number": pd.array(_ids(rng, rows), dtype="string"),
            "ethnicity": pd.array(["哈萨克"] * rows, dtype="string"),
            "residence": pd.array(rng.choice(["常住", "流入", "流出"], rows), dtype="string"),
            "children": pd.array(rng.integers(0, 4, rows), dtype="Int64"),
            "method": pd.array(
                rng.choice(["上环", "结扎", "皮埋", "药具", "无"], rows), dtype="string"
            ),
            "method_date": dates("2010-01-01", 6000),
            "last_check_date": dates("2026-01-01", 270),
        }
    )
    for col in ("marriage_certificate", "file_created", "verified", "notified"):
        frame[col] = pd.array(rng.random(rows) < 0.8, dtype="boolean")
    for col in t.columns:
        frame[f"err_{col.name}"] = pd.array([None] * rows, dtype="string")
    broken = np.flatnonzero(rng.random(rows) < bad)
    kind = rng.integers(0, 5, len(broken))
    pick = {k: broken[kind == k] for k in range(5)}
    frame.loc[pick[0], "children"] = pd.NA
    frame.loc[pick[0], "err_children"] = "integer_format"
    frame.loc[pick[1], "children"] = 12
    frame.loc[pick[2], "id_number"] = frame["id_number"].to_numpy()[np.maximum(pick[2] - 1, 0)]
    frame.loc[pick[3], "last_check_date"] = pd.Timestamp("2026-10-03")
    frame.loc[pick[4], "method_date"] = pd.NaT
    frame.loc[pick[4], "method"] = "上环"
    return frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--uploads", type=int, default=300)
    parser.add_argument("--bad", type=float, default=0.005)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    frame = staged_women(args.rows, args.uploads, args.bad, args.seed)
    started = time.perf_counter()
    from expectations.runtime import gx_runtime
    from expectations.validate import validate_batch
    from transforms.templates import load_contract

    gx_runtime()
    print(f"GX import + context: {time.perf_counter() - started:.1f} s")
    template = load_contract().templates["village_women"]
    for attempt in ("first", "second"):
        started = time.perf_counter()
        findings = validate_batch(frame, template)
        print(
            f"{attempt} validate_batch, {args.rows:,} rows: "
            f"{time.perf_counter() - started:.1f} s, {len(findings):,} findings"
        )
    print(findings["rule"].value_counts().to_string())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak:.0f} MB")


if __name__ == "__main__":
    main()
