"""Publishing commands: `popstat export`, `popstat bulletin`, `popstat grant-dashboard`.

Like the officer's commands they never import Prefect or Great Expectations,
so they answer at once. `export` and `bulletin` only read the warehouse.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, inspect

from flows.settings import Settings
from warehouse import schema
from warehouse.db import make_engine

Handler = Callable[[argparse.Namespace, Settings], int]


def add_publishing_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    """`popstat export`, `popstat bulletin` and `popstat grant-dashboard`."""
    export = commands.add_parser(
        "export",
        parents=[common],
        help="导出考核指标达标情况 / export the published mart (CSV, XLSX, Parquet)",
        description=(
            "导出 mart_target_achievement：CSV/XLSX 为中文表头，Parquet 为英文列名、未经四舍五入的值。"
            " / Export the mart: CSV and XLSX with Chinese headers, Parquet with the English "
            "column names and unrounded values. Filters may repeat or take comma-separated lists."
        ),
    )
    export.add_argument(
        "--format", dest="format", choices=["csv", "xlsx", "parquet"], required=True
    )
    export.add_argument(
        "--period", action="append", help="期间 / period: 2026-09, 2026-01..2026-09, 2026-Q3, …"
    )
    export.add_argument(
        "--area", action="append", help="区划代码（含下级）/ area code, with everything below it"
    )
    export.add_argument(
        "--indicator",
        action="append",
        help="指标代码 / indicator code, e.g. policy_compliance_rate",
    )
    export.add_argument(
        "--out", help="输出文件或文件夹 / output file or folder (default: the reports folder)"
    )

    bulletin = commands.add_parser(
        "bulletin",
        parents=[common],
        help="季度通报 / the bulletin: villages ranked per township (HTML and XLSX)",
    )
    bulletin.add_argument("--period", required=True, help="期间 / period, e.g. 2026-Q3")
    bulletin.add_argument("--out", help="输出文件夹 / output folder (default: the reports folder)")

    grant = commands.add_parser(
        "grant-dashboard",
        parents=[common],
        help="创建仪表板只读角色（仅 PostgreSQL）/ read-only dashboard role (PostgreSQL only)",
    )
    grant.add_argument("role", help="角色名 / role name (letters, digits, _)")


def _reader(settings: Settings) -> Engine | None:
    """An engine on a warehouse that has a published mart; None (and a message) otherwise."""
    url = settings.effective_warehouse_url
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        database = Path(url.removeprefix("sqlite:///"))
        if not database.exists():
            print(
                f"找不到仓库 / no warehouse at {database}: 请先运行 run `popstat run`",
                file=sys.stderr,
            )
            return None
    engine = make_engine(url)
    if not inspect(engine).has_table(schema.mart_target_achievement.name):
        print(
            "仓库中还没有发布的数据 / nothing published yet: 请先运行 run `popstat run`",
            file=sys.stderr,
        )
        engine.dispose()
        return None
    return engine


def command_export(args: argparse.Namespace, settings: Settings) -> int:
    """Write the filtered mart; 0 when written, 1 when no row matched, 2 for a bad filter."""
    from flows.export_files import export_mart
    from warehouse.mart_export import make_filter

    try:
        selection = make_filter(args.period, args.area, args.indicator)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    engine = _reader(settings)
    if engine is None:
        return 1
    out = Path(args.out) if args.out else settings.reports_dir
    try:
        with engine.connect() as conn:
            result = export_mart(conn, args.format, out, selection)
    finally:
        engine.dispose()
    if result.path is None:
        print("没有符合条件的数据，未写文件 / no matching rows, nothing written", file=sys.stderr)
        return 1
    print(f"已导出 exported {result.rows} 行 rows → {result.path}")
    return 0


def command_bulletin(args: argparse.Namespace, settings: Settings) -> int:
    """Write the bulletin (HTML and XLSX); 1 when the period has no published rows."""
    from flows.report_files import write_bulletin
    from transforms.periods import parse_period

    try:
        period = parse_period(args.period).label
    except ValueError as error:
        print(f"期间无效 / {error}", file=sys.stderr)
        return 2
    engine = _reader(settings)
    if engine is None:
        return 1
    out = Path(args.out) if args.out else settings.reports_dir
    generated = datetime.now(ZoneInfo(settings.time_zone)).strftime("%Y-%m-%d %H:%M")
    try:
        with engine.connect() as conn:
            files = write_bulletin(conn, period, out, generated_at=generated)
    finally:
        engine.dispose()
    if files is None:
        print(f"{period} 没有已发布的数据 / nothing published for {period}", file=sys.stderr)
        return 1
    print(f"通报 bulletin {period}: {files.rows} 项排名 ranked rows")
    print(f"  {files.html}")
    print(f"  {files.xlsx}")
    return 0


def command_grant_dashboard(args: argparse.Namespace, settings: Settings) -> int:
    """Create the read-only dashboard role on PostgreSQL; explain why not on SQLite."""
    from warehouse.db import migrate
    from warehouse.publish import grant_dashboard

    engine = make_engine(settings.effective_warehouse_url)
    try:
        if engine.dialect.name != "postgresql":
            print(
                "仪表板只读角色需要 PostgreSQL 仓库；SQLite 没有角色，能读取该文件的人即可读取全部数据。\n"
                "Dashboard roles need a PostgreSQL warehouse (--warehouse postgresql://…); "
                "SQLite has no roles: whoever can read the file reads everything.",
                file=sys.stderr,
            )
            return 2
        migrate(engine)
        try:
            tables = grant_dashboard(engine, args.role)
        except ValueError as error:
            print(f"角色名无效 / {error}", file=sys.stderr)
            return 2
    finally:
        engine.dispose()
    print(f"角色 role {args.role} 可只读 can select: {', '.join(tables)}")
    print(
        f'该角色不能登录：请把它授予仪表板的登录用户 / the role is NOLOGIN: GRANT "{args.role}" TO <login>;'
    )
    return 0


PUBLISHING_HANDLERS: dict[str, Handler] = {
    "export": command_export,
    "bulletin": command_bulletin,
    "grant-dashboard": command_grant_dashboard,
}
