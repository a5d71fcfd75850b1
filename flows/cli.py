"""The `popstat` command.

Officer commands (`issues`, `report`, `export`) never import Prefect or Great
Expectations, so they answer at once; only `run`-like commands pay for them.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flows.officer import add_issue_commands, command_issues
from flows.settings import (
    Settings,
    apply_prefect_environment,
    load_settings,
    warn_if_development_secret,
)


def _common() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--warehouse", dest="warehouse_url", help="SQLAlchemy URL of the warehouse")
    parser.add_argument("--home", help="folder for the embedded warehouse, raw layer and reports")
    parser.add_argument("--lang", choices=["zh", "en"], help="language of messages about data")
    parser.add_argument("--verbose", action="store_true", default=None)
    return parser


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="popstat", description="人口计生统计 ETL / population statistics ETL"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    common = _common()

    run = commands.add_parser(
        "run", parents=[common], help="夜间运行：接收、校验、核对、发布 / one nightly run"
    )
    run.add_argument("--inbox", help="folder of uploads (any depth)")
    run.add_argument("--reference", help="folder of areas.csv, institutions.csv, targets.csv")
    run.add_argument("--as-of", dest="as_of", help="the date the run acts as of (YYYY-MM-DD)")
    run.add_argument("--deadline-day", dest="deadline_day", type=int)

    demo = commands.add_parser("demo", help="生成示例数据 / write a synthetic county's uploads")
    demo.add_argument("--out", default="examples", help="folder for inbox/ and reference/")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--townships", type=int, default=None)
    demo.add_argument("--villages-per-township", type=int, default=None)
    demo.add_argument("--months", type=int, default=None, help="months of the year to generate")

    add_issue_commands(commands, common)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    flags = {k: v for k, v in vars(args).items() if k != "command"}
    known = set(Settings.__dataclass_fields__)
    return load_settings({k: v for k, v in flags.items() if k in known})


def _print_run_summary(summary: dict[str, Any], seconds: float) -> None:
    landing = summary.get("landing", {})
    files = landing.get("files", {})
    rows = landing.get("rows", {})
    print(f"运行 run {summary.get('run_id')} 完成 completed in {seconds:.1f} s")
    labels = {
        "loaded": "已加载 loaded",
        "superseded": "已更正替换 superseded",
        "duplicate": "重复 duplicate",
        "quarantined": "已隔离 quarantined",
    }
    if not files:
        print("  无新文件 no new files")
    for status, n in sorted(files.items()):
        print(f"  文件 files {labels.get(status, status)}: {n}")
    for template, n in sorted(rows.items()):
        print(f"  行 rows {template}: {n}")


def command_run(args: argparse.Namespace) -> int:
    settings = _settings(args)
    apply_prefect_environment(settings)
    warn_if_development_secret(settings)
    from warehouse import runs
    from warehouse.db import make_engine, migrate

    engine = make_engine(settings.effective_warehouse_url)
    migrate(engine)
    run_id = runs.new_run_id()
    try:
        runs.acquire_lock(engine, run_id)
    except runs.RunLockedError as error:
        print(error, file=sys.stderr)
        return 3
    started = time.perf_counter()
    try:
        from flows.nightly import nightly

        summary = nightly(settings, run_id)
    finally:
        runs.release_lock(engine, run_id)
    _print_run_summary(summary, time.perf_counter() - started)
    return 0


def command_demo(args: argparse.Namespace) -> int:
    from transforms.synthetic import CountySpec, generate_county

    from flows.settings import load_settings as _load
    from warehouse.inbox import write_files

    settings = _load()
    overrides: dict[str, Any] = {"seed": args.seed}
    if args.townships:
        overrides["townships"] = args.townships
    if args.villages_per_township:
        overrides["villages_per_township"] = args.villages_per_township
    if args.months:
        overrides["last_month"] = args.months
    county = generate_county(CountySpec(**overrides))
    out = Path(args.out)
    n = write_files(
        out / "inbox", ((f.path, f.data, f.arrived_at) for f in county.files), settings.time_zone
    )
    write_files(
        out / "reference",
        ((name, data, None) for name, data in county.reference.items()),
        settings.time_zone,
    )
    print(
        f"已生成 wrote {n} 个上报文件 upload files to {out / 'inbox'}, reference to {out / 'reference'}"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "issues":
        return command_issues(args, _settings(args))
    handlers = {"run": command_run, "demo": command_demo}
    return handlers[args.command](args)


if __name__ == "__main__":
    raise SystemExit(main())
