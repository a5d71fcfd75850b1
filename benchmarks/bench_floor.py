"""The floor: read every upload of an inbox the plain way, and do nothing else.

    .venv/bin/python benchmarks/bench_floor.py --inbox DIR [--json]
    .venv/bin/python benchmarks/bench_floor.py [--townships 15 --villages 20 --women 280 --months 12]

CSV: the encoding detected (UTF-8, else GB18030), the first line taken as the header and
pyarrow's CSV reader with every column a string; XLSX: calamine's first sheet as Python
lists. No header search, no normalising, nothing written. Every other benchmark measures
this floor on its own inbox in the same run and reports its times as ratios to it
(`_county.py`): how far popstat is from what reading alone costs.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
from python_calamine import CalamineWorkbook

sys.path.insert(0, str(Path(__file__).resolve().parent))


def read_csv(path: Path) -> int:
    """Rows of a CSV upload, every column read as a string."""
    raw = path.read_bytes()
    try:
        raw.decode("utf-8")
        encoding = "utf-8"
    except UnicodeDecodeError:
        encoding = "gb18030"
    first_line = raw.split(b"\n", 1)[0].decode(encoding, "replace")
    header = first_line.lstrip("\ufeff").strip().split(",")
    table = pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(encoding=encoding),
        convert_options=pacsv.ConvertOptions(column_types={h: pa.string() for h in header}),
    )
    return int(table.num_rows)


def read_xlsx(path: Path) -> int:
    """Rows under the first row of an XLSX upload's first sheet."""
    workbook = CalamineWorkbook.from_path(str(path))
    return len(workbook.get_sheet_by_index(0).to_python()) - 1


def floor(inbox: Path) -> dict[str, float]:
    """Files and rows read, seconds, peak RSS. A file the plain way cannot read is skipped
    (popstat quarantines it) and not counted."""
    from _memory import peak_rss_mb

    started = time.perf_counter()
    files = rows = 0
    for path in sorted(inbox.rglob("*")):
        if not path.is_file():
            continue
        try:
            if path.suffix == ".csv":
                rows += read_csv(path)
            elif path.suffix == ".xlsx":
                rows += read_xlsx(path)
            files += 1
        except Exception:  # the plain way does not handle what popstat quarantines
            pass
    seconds = time.perf_counter() - started
    return {"files": files, "rows": rows, "seconds": seconds, "peak_rss_mb": peak_rss_mb()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inbox", type=Path, help="measure this inbox (else generate a county)")
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    from _county import add_size_arguments, county, measure_floor

    add_size_arguments(parser)
    args = parser.parse_args()
    if args.inbox:
        result = floor(args.inbox)
        if args.json:
            print(json.dumps(result))
        else:
            print(
                f"floor: {result['files']:.0f} files, {result['rows']:.0f} rows, {result['seconds']:.2f} s"
            )
        return
    with county(args) as made:
        measure_floor(made.inbox)


if __name__ == "__main__":
    main()
