"""`popstat signoff`: a township officer's sign-off of one village-month (审核把关).

    popstat signoff --unit 654226100201 --month 2026-09 --note "已与派出所核对" [--by 王专干]
    popstat signoff --pending [--unit 654226100]
    popstat signoff --history [--unit 654226100201]

No Prefect, no GX: it answers at once. The published `signed_off_share` changes
with the next run (a sign-off is one of the run's inputs).
"""

from __future__ import annotations

import argparse
import getpass
import sys
import unicodedata
from collections.abc import Sequence

import pandas as pd
from sqlalchemy import Engine

from flows.settings import Settings
from warehouse import signoffs
from warehouse.access import WarehouseNotReady, open_for_officer
from warehouse.clock import local_now


def add_signoff_command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    """`popstat signoff`."""
    parser = commands.add_parser(
        "signoff",
        parents=[common],
        help="村月审核把关（签核）/ sign off a village-month after review",
        description=(
            "记录乡镇专干已审核某村某月的上报文件（按文件的 sha256 固定）；该村该月之后再有新文件即撤销签核。"
            " / Record that a township officer reviewed a village's uploads for a month, pinned "
            "to the files' sha256; a later upload for that village-month withdraws it."
        ),
    )
    parser.add_argument("--unit", help="村代码（12位）/ village code; with --pending: a prefix")
    parser.add_argument("--month", help="月份 / report month, YYYY-MM")
    parser.add_argument("--note", help="审核说明（必填）/ what was reviewed (required)")
    parser.add_argument("--by", help="审核人 / who (default: the OS user)")
    what = parser.add_mutually_exclusive_group()
    what.add_argument(
        "--pending", action="store_true", help="列出待审核的村月 / list what waits for review"
    )
    what.add_argument(
        "--history", action="store_true", help="签核与撤销记录 / sign-offs and withdrawals"
    )


def _say(settings: Settings, zh: str, en: str) -> str:
    return zh if settings.lang == "zh" else en


_REFUSALS = {
    "missing": "找不到仓库 / no warehouse at",
    "never_run": (
        "仓库中还没有完成的运行，请先运行 run `popstat run` / no completed run in the warehouse at"
    ),
    "unreachable": "无法连接仓库 / cannot reach the warehouse at",
}


def _open_warehouse(settings: Settings) -> Engine | None:
    """The warehouse, migrated, if it exists and a run completed there; else None (and why).

    The rule is `warehouse.access.open_for_officer`'s, as for every officer command.
    """
    try:
        return open_for_officer(settings.effective_warehouse_url)
    except WarehouseNotReady as refusal:
        detail = f" ({refusal.detail})" if refusal.detail else ""
        print(
            f"{_REFUSALS[refusal.reason]} {refusal.url}{detail}\n"
            "用 --warehouse URL 或环境变量 POPSTAT_WAREHOUSE_URL 指向夜间运行使用的仓库 / "
            "point --warehouse or POPSTAT_WAREHOUSE_URL at the warehouse the nightly run uses",
            file=sys.stderr,
        )
        return None


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    """Columns aligned for a terminal, Chinese characters counted double width."""
    cells = [[str(h) for h in headers]] + [
        [
            "" if v is None or v is pd.NA or (isinstance(v, float) and v != v) else str(v)
            for v in row
        ]
        for row in rows
    ]
    widths = [max(_width(row[i]) for row in cells) for i in range(len(headers))]
    return [
        "  ".join(cell + " " * (widths[i] - _width(cell)) for i, cell in enumerate(row)).rstrip()
        for row in cells
    ]


def _sign(args: argparse.Namespace, settings: Settings) -> int:
    missing = [f"--{k}" for k in ("unit", "month", "note") if not getattr(args, k)]
    if missing:
        print(
            _say(
                settings,
                f"缺少 {' '.join(missing)}：签核需要 --unit 村代码 --month YYYY-MM --note 说明"
                "（或用 --pending 查看待审核）",
                f"missing {' '.join(missing)}: a sign-off needs --unit, --month and --note "
                "(or --pending to see what waits)",
            ),
            file=sys.stderr,
        )
        return 2
    engine = _open_warehouse(settings)
    if engine is None:
        return 1
    who = args.by or getpass.getuser()
    at = local_now(settings.time_zone)
    try:
        with engine.begin() as conn:
            done = signoffs.sign_off(conn, args.unit, args.month, args.note, who, at)
            name = signoffs.village_names(conn).get(args.unit, "")
    except signoffs.SignOffError as error:
        print(_say(settings, error.message_zh, error.message_en), file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    print(
        _say(settings, "已签核", "signed off")
        + f": {done.unit} {name} {done.report_month} — {who} {at:%Y-%m-%d %H:%M}"
    )
    label = _say(settings, "文件", "files")
    print(f"  {label} ({len(done.files)}):")
    for file_name in done.files:
        print(f"    {file_name}")
    if not done.files:
        print("    " + _say(settings, "（无：本月未收到该村的上报文件）", "(none received)"))
    print(f"  sha256: {done.files_sha256}")
    if done.unresolved_errors:
        print(
            "  "
            + _say(
                settings,
                f"注意：该村该月仍有 {done.unresolved_errors} 个未处理的错误（popstat issues list "
                f"--unit {done.unit} --month {done.report_month}）",
                f"note: {done.unresolved_errors} unresolved errors remain for this village-month",
            )
        )
    print(
        "  "
        + _say(
            settings,
            "该村该月之后再有新文件即撤销签核；发布表的审核把关比例在下次运行后更新。",
            "a later upload withdraws it; the published signed_off_share changes with the next run.",
        )
    )
    return 0


def _pending(args: argparse.Namespace, settings: Settings) -> int:
    engine = _open_warehouse(settings)
    if engine is None:
        return 1
    try:
        with engine.connect() as conn:
            waiting = signoffs.pending(conn)
            total = len(signoffs.review_months(conn).pipe(_within, args.unit, "area_code"))
    finally:
        engine.dispose()
    waiting = _within(waiting, args.unit, "unit")
    signed = total - len(waiting)
    print(
        _say(
            settings,
            f"待审核 {len(waiting)} 个村月（共 {total} 个，已签核 {signed} 个）",
            f"{len(waiting)} village-months await review ({signed} of {total} signed off)",
        )
    )
    if waiting.empty:
        return 0
    states = {
        "never": _say(settings, "未审核", "not reviewed"),
        signoffs.WITHDRAWN: _say(settings, "新文件，签核已撤销", "withdrawn: new upload"),
    }
    headers = (
        ("村代码", "村名", "月份", "文件数", "未处理错误", "状态")
        if settings.lang == "zh"
        else ("village", "name", "month", "files", "errors", "state")
    )
    rows = [
        (r.unit, r.area_name, r.report_month, r.files, r.errors, states.get(r.state, r.state))
        for r in waiting.itertuples()
    ]
    for line in _table(headers, rows):
        print(line)
    return 0


def _within(frame: pd.DataFrame, prefix: str | None, column: str) -> pd.DataFrame:
    """Rows of one village, or of every village of a township or county (a code prefix)."""
    if not prefix:
        return frame
    return frame.loc[frame[column].astype("string").str.startswith(prefix)]


def _history(args: argparse.Namespace, settings: Settings) -> int:
    engine = _open_warehouse(settings)
    if engine is None:
        return 1
    try:
        with engine.connect() as conn:
            events = _within(signoffs.signoff_events(conn), args.unit, "unit")
    finally:
        engine.dispose()
    if events.empty:
        print(_say(settings, "没有签核记录", "no sign-offs recorded"))
        return 0
    actions = {
        signoffs.SIGNED_OFF: _say(settings, "签核", "signed off"),
        signoffs.WITHDRAWN: _say(settings, "撤销", "withdrawn"),
    }
    headers = (
        ("时间", "村代码", "月份", "操作", "人员", "说明")
        if settings.lang == "zh"
        else ("at", "village", "month", "action", "by", "note")
    )
    rows = [
        (
            f"{e.at:%Y-%m-%d %H:%M}",
            e.unit,
            e.report_month,
            actions.get(e.action, e.action),
            e.by,
            e.note,
        )
        for e in events.itertuples()
    ]
    for line in _table(headers, rows):
        print(line)
    return 0


def command_signoff(args: argparse.Namespace, settings: Settings) -> int:
    """`popstat signoff`: 0 when done, 1 without a usable warehouse, 2 for a refused request."""
    if args.pending:
        return _pending(args, settings)
    if args.history:
        return _history(args, settings)
    return _sign(args, settings)
