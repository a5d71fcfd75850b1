"""The `popstat` command.

Officer commands (`issues`, `signoff`, `report`, `export`) never import Prefect or Great
Expectations, so they answer at once; only `run`-like commands pay for them.

This module itself imports little: the commands' modules (pandas among them) are
imported when the parser is built, and `run` and `backfill` start their fork server
before that (`_early_worker_server`), so that its imports, GX's ~2 s, begin ~0.4 s
sooner, beside the run's own.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flows.settings import (
    SETTING_NAMES,
    Settings,
    apply_prefect_environment,
    load_settings,
    warn_if_development_secret,
)

if TYPE_CHECKING:
    from flows.summaries import RunSummary


def _common() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--warehouse", dest="warehouse_url", help="SQLAlchemy URL of the warehouse")
    parser.add_argument("--home", help="folder for the embedded warehouse, raw layer and reports")
    parser.add_argument("--lang", choices=["zh", "en"], help="language of messages about data")
    parser.add_argument("--verbose", action="store_true", default=None)
    return parser


def _executor_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--executor",
        choices=["local", "dask"],
        help="where the counties are reconciled: local (default) or dask (needs PostgreSQL)",
    )
    parser.add_argument(
        "--dask-address", dest="dask_address", help="a Dask scheduler (default: a local cluster)"
    )
    parser.add_argument(
        "--dask-workers", dest="dask_workers", type=int, help="local cluster processes (0: cores)"
    )


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
    _executor_flags(run)

    backfill = commands.add_parser(
        "backfill",
        parents=[common],
        help="回溯重算一段期间的发布数据（不重新读取文件）/ recompute published figures for a range",
    )
    backfill.add_argument("--from", dest="first_month", required=True, help="first month, YYYY-MM")
    backfill.add_argument("--to", dest="last_month", required=True, help="last month, YYYY-MM")
    backfill.add_argument("--reference", help="folder of areas.csv, institutions.csv, targets.csv")
    backfill.add_argument(
        "--as-of", dest="as_of", help="as-of date (default: that of the last nightly run)"
    )
    backfill.add_argument("--deadline-day", dest="deadline_day", type=int)
    _executor_flags(backfill)

    serve = commands.add_parser(
        "serve",
        parents=[common],
        help="按计划每晚 02:30 运行 / serve the nightly schedule (needs PREFECT_API_URL)",
    )
    serve.add_argument("--inbox", help="folder of uploads (default: POPSTAT_INBOX)")
    serve.add_argument("--reference", help="reference folder (default: POPSTAT_REFERENCE)")

    demo = commands.add_parser("demo", help="生成示例数据 / write a synthetic county's uploads")
    demo.add_argument("--out", default="examples", help="folder for inbox/ and reference/")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--townships", type=int, default=None)
    demo.add_argument("--villages-per-township", type=int, default=None)
    demo.add_argument("--months", type=int, default=None, help="months of the year to generate")
    demo.add_argument(
        "--counties",
        type=int,
        default=1,
        help="县数；多于 1 个县时生成一个省 / counties (a province)",
    )

    from flows.officer import add_explain_command, add_issue_commands, add_report_command
    from flows.publishing_cli import add_publishing_commands
    from flows.signoff_cli import add_signoff_command
    from flows.templates_cli import add_templates_command

    add_issue_commands(commands, common)
    add_publishing_commands(commands, common)

    add_report_command(commands, common)
    add_signoff_command(commands, common)
    add_templates_command(commands, common)
    add_explain_command(commands, common)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    """The settings from the flags and `POPSTAT_*`; a bad value stops here (exit code 2)."""
    from pydantic import ValidationError

    flags = {k: v for k, v in vars(args).items() if k != "command"}
    try:
        return load_settings({k: v for k, v in flags.items() if k in SETTING_NAMES})
    except ValidationError as error:
        for problem in error.errors():
            name = ".".join(str(part) for part in problem["loc"])
            where = f" {name} (POPSTAT_{name.upper()})" if name else ""
            print(f"设置无效 invalid setting{where}: {problem['msg']}", file=sys.stderr)
        raise SystemExit(2) from None


def _flow_options(args: argparse.Namespace) -> dict[str, Any]:
    """The settings flags given on the command line, as JSON values for a flow parameter."""
    return {
        k: (str(v) if isinstance(v, Path) else v)
        for k, v in vars(args).items()
        if k in SETTING_NAMES and v is not None
    }


def _locked_engine(settings: Settings) -> tuple[Any, str] | int:
    """Take the warehouse lock before Prefect is imported: (engine, run_id), or exit code 3."""
    from warehouse import runs
    from warehouse.clock import local_now
    from warehouse.db import make_engine, migrate

    engine = make_engine(settings.effective_warehouse_url)
    migrate(engine)
    run_id = runs.new_run_id(local_now(settings.time_zone))
    try:
        runs.acquire_lock(engine, run_id, time_zone=settings.time_zone)
    except runs.RunLockedError as error:
        print(error, file=sys.stderr)
        print("本次运行未开始 / this run did not start.", file=sys.stderr)
        return 3
    return engine, run_id


def _run_locked(
    settings: Settings,
    flow_call: Callable[[str], RunSummary],
    preflight: Callable[[Settings], list[str]] | None = None,
) -> int:
    """Lock, run `flow_call(run_id)` with stage progress on stderr, print its summary.

    `preflight` names what the run cannot start without; it is asked once the lock is
    held (a refused second run says so first) and before Prefect spends seconds starting.
    """
    apply_prefect_environment(settings)
    warn_if_development_secret(settings)
    locked = _locked_engine(settings)
    if isinstance(locked, int):
        return locked
    engine, run_id = locked
    from flows import progress
    from warehouse import runs

    problems = preflight(settings) if preflight else []
    if problems:
        print("\n".join(problems), file=sys.stderr)
        runs.release_lock(engine, run_id)
        return 2

    display = progress.TerminalProgress(sys.stderr)
    progress.add_listener(display)
    started = time.perf_counter()
    try:
        summary = flow_call(run_id)
    except Exception as error:
        display.close()
        print(
            f"运行失败 run failed: {run_id}: {type(error).__name__}: {error}",
            file=sys.stderr,
        )
        return 1
    finally:
        progress.remove_listener(display)
        display.close()
        runs.release_lock(engine, run_id)
    from flows.summaries import console_lines

    for line in console_lines(summary, time.perf_counter() - started):
        print(line)
    return 0


def _missing_inputs(settings: Settings) -> list[str]:
    """What a nightly run cannot start without: the inbox and the three reference files."""
    from warehouse.reference import REFERENCE_FILES

    problems = []
    if not settings.inbox.is_dir():
        problems.append(f"上报文件夹不存在 inbox folder not found: {settings.inbox}")
    for name, _columns in REFERENCE_FILES.values():
        if not (settings.reference / name).is_file():
            problems.append(f"参考数据缺少 reference file missing: {settings.reference / name}")
    return problems


def _start_worker_server(settings: Settings) -> None:
    """Start the run's fork server before Prefect is imported: its own imports (GX's ~2.6 s
    among them) then run on the other core while this process starts the flow and lands.
    It and its workers print to `workers.log` in the home's `logs/`, not to the command's
    output, which would otherwise stay open until the server has gone."""
    from flows import worker_processes

    worker_processes.start_server(settings.workers_log)


@contextmanager
def _imports_uncollected() -> Iterator[None]:
    """Import the flows (Prefect, ~1 s) with the garbage collector off, then freeze what
    exists: the collector walking the objects the imports make costs ~0.2 s while they
    are made and ~0.2 s at every later full collection (one after each stage,
    `warehouse.memory`), and they live as long as the process anyway."""
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


_HEARTBEAT_VARIABLES = {"PREFECT_FLOWS_HEARTBEAT_FREQUENCY", "PREFECT_RUNNER_HEARTBEAT_FREQUENCY"}


@contextmanager
def _heartbeats_unless_asked() -> Iterator[None]:
    """A command's run sends Prefect no flow-run heartbeats, unless the user sets their
    frequency. Prefect sends them by default for its zombie-run automations, which serve
    deployment runs (`popstat serve` keeps them); a command's run is watched by whoever
    started it, and a run that dies is marked crashed by the next (`abandon_running_flow_runs`).
    Their thread sleeps in 1 s steps and the run's end joins it: 0–1 s on every night
    (~0.5 s on average, a fifth of a no-op night)."""
    if _HEARTBEAT_VARIABLES & set(os.environ):
        yield
        return
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


def command_run(args: argparse.Namespace) -> int:
    """`popstat run`: one nightly run under the warehouse lock; exit 3 if another holds it."""
    options = _flow_options(args)
    settings = _settings(args)

    def call(run_id: str) -> RunSummary:
        _start_worker_server(settings)
        with _imports_uncollected():
            from flows.nightly import nightly, on_executor

        with _heartbeats_unless_asked():
            return on_executor(settings, nightly)(options=options, run_id=run_id)

    return _run_locked(settings, call, preflight=_missing_inputs)


def command_backfill(args: argparse.Namespace) -> int:
    """`popstat backfill --from YYYY-MM --to YYYY-MM`: recompute and publish that range."""
    from flows.period_range import month_range

    try:
        month_range(args.first_month, args.last_month)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    options = _flow_options(args)
    settings = _settings(args)

    def call(run_id: str) -> RunSummary:
        _start_worker_server(settings)
        with _imports_uncollected():
            from flows.nightly import backfill, on_executor

        with _heartbeats_unless_asked():
            return on_executor(settings, backfill)(
                args.first_month, args.last_month, options=options, run_id=run_id
            )

    return _run_locked(settings, call)


def command_serve(args: argparse.Namespace) -> int:
    """`popstat serve`: register the 02:30 deployment and run its flow runs (long-lived)."""
    settings = _settings(args)
    apply_prefect_environment(settings.model_copy(update={"verbose": True}))
    warn_if_development_secret(settings)
    from prefect import serve
    from prefect.settings import PREFECT_API_URL

    if not PREFECT_API_URL.value():
        print(
            "需要一个运行中的 Prefect 服务器：请设置 PREFECT_API_URL（例如 http://127.0.0.1:4200/api）。\n"
            "popstat serve needs a running Prefect server: set PREFECT_API_URL "
            "(e.g. http://127.0.0.1:4200/api); a temporary server cannot schedule.",
            file=sys.stderr,
        )
        return 2
    from flows.nightly import nightly_deployment

    serve(nightly_deployment(settings.time_zone, _flow_options(args)), limit=1)
    return 0


def command_demo(args: argparse.Namespace) -> int:
    from flows.settings import load_settings as _load
    from synthetic.province import MAX_COUNTIES, generate_province
    from warehouse.inbox import write_files

    if not 1 <= args.counties <= MAX_COUNTIES:
        print(
            f"--counties 须在 1 到 {MAX_COUNTIES} 之间 / must be 1 to {MAX_COUNTIES}",
            file=sys.stderr,
        )
        return 2
    settings = _load()
    overrides: dict[str, Any] = {}
    if args.townships:
        overrides["townships"] = args.townships
    if args.villages_per_township:
        overrides["villages_per_township"] = args.villages_per_township
    if args.months:
        overrides["last_month"] = args.months
    generated = generate_province(args.counties, args.seed, **overrides)
    out = Path(args.out)
    n = write_files(
        out / "inbox", ((f.path, f.data, f.arrived_at) for f in generated.files), settings.time_zone
    )
    write_files(
        out / "reference",
        ((name, data, None) for name, data in generated.reference.items()),
        settings.time_zone,
    )
    print(
        f"已生成 wrote {n} 个上报文件 upload files to {out / 'inbox'}, reference to {out / 'reference'}"
    )
    return 0


_RUN_COMMANDS = ("run", "backfill")


def _early_worker_server(argv: Sequence[str]) -> None:
    """`run` and `backfill`: start the fork server before the parser's modules (pandas among
    them) are imported. Only the home (`--home`, `POPSTAT_HOME`) is read here; a setting
    that does not load is reported by the command as always."""
    from pydantic import ValidationError

    if not argv or argv[0] not in _RUN_COMMANDS or {"-h", "--help"} & set(argv):
        return
    home = argparse.ArgumentParser(add_help=False)
    home.add_argument("--home")
    known, _ = home.parse_known_args(list(argv[1:]))
    try:
        settings = load_settings({"home": known.home} if known.home else {})
    except ValidationError:
        return
    _start_worker_server(settings)


def main(argv: Sequence[str] | None = None) -> int:
    _early_worker_server(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    if args.command == "issues":
        from flows.officer import command_issues

        return command_issues(args, _settings(args))
    if args.command == "signoff":
        from flows.signoff_cli import command_signoff

        return command_signoff(args, _settings(args))
    if args.command == "templates":
        from flows.templates_cli import command_templates

        return command_templates(args, _settings(args))
    from flows.publishing_cli import PUBLISHING_HANDLERS

    if args.command in PUBLISHING_HANDLERS:
        return PUBLISHING_HANDLERS[args.command](args, _settings(args))
    if args.command == "report":
        from flows.officer import command_report

        return command_report(args, _settings(args))
    if args.command == "explain":
        from flows.officer import command_explain

        return command_explain(args, _settings(args))
    handlers = {
        "run": command_run,
        "backfill": command_backfill,
        "serve": command_serve,
        "demo": command_demo,
    }
    return handlers[args.command](args)


if __name__ == "__main__":
    raise SystemExit(main())
