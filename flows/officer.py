"""The data officer's commands: `popstat issues …` and `popstat report`.

No Prefect, no GX: they answer at once.
"""

from __future__ import annotations

import argparse
import getpass
import sys

import pandas as pd

from flows.settings import Settings
from warehouse import issues
from warehouse.db import make_engine, migrate

ACTIONS = {"ack": "acknowledged", "resolve": "resolved", "waive": "waived", "reopen": "open"}
_LIST_COLUMNS = {
    "zh": {
        "issue_id": "编号",
        "status": "状态",
        "severity": "级别",
        "rule": "规则",
        "unit": "单位",
        "report_month": "月份",
        "file_name": "文件",
        "row_number": "行",
        "record_key": "人员",
        "message_zh": "说明",
    },
    "en": {
        "issue_id": "id",
        "status": "status",
        "severity": "severity",
        "rule": "rule",
        "unit": "unit",
        "report_month": "month",
        "file_name": "file",
        "row_number": "row",
        "record_key": "person",
        "message_en": "message",
    },
}


def add_issue_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    """`popstat issues list|show|ack|resolve|waive|reopen`."""
    parser = commands.add_parser("issues", help="数据质量问题审核 / review quality issues")
    actions = parser.add_subparsers(dest="action", required=True)
    for action in ("list", "show", *ACTIONS):
        sub = actions.add_parser(action, parents=[common])
        sub.add_argument("issue_ids", nargs="*", help="issue ids (or select with filters)")
        for name in ("status", "rule", "severity", "source", "kind", "unit", "month"):
            sub.add_argument(f"--{name}")
        sub.add_argument("--all", action="store_true", help="include problems no longer found")
        if action == "list":
            sub.add_argument("--limit", type=int, default=50)
        if action in ACTIONS:
            sub.add_argument("--note", default=None, help="说明 / what was done")
            sub.add_argument("--by", default=None, help="who (default: the OS user)")


def _selection(args: argparse.Namespace) -> issues.IssueFilter:
    return issues.IssueFilter(
        status=args.status,
        rule=args.rule,
        severity=args.severity,
        source=args.source,
        kind=args.kind,
        unit=args.unit,
        month=args.month,
        issue_ids=tuple(args.issue_ids),
        active_only=not args.all and not args.issue_ids,
    )


def _print_list(frame: pd.DataFrame, lang: str) -> None:
    columns = _LIST_COLUMNS[lang]
    if frame.empty:
        print("没有符合条件的问题" if lang == "zh" else "no matching issues")
        return
    shown = frame[list(columns)].rename(columns=columns)
    with pd.option_context("display.max_colwidth", 60, "display.width", 250):
        print(shown.to_string(index=False))


def _print_one(row: pd.Series, events: pd.DataFrame, lang: str) -> None:
    message = row["message_zh"] if lang == "zh" else row["message_en"]
    labels = (
        ("编号", "issue_id"),
        ("规则", "rule"),
        ("级别", "severity"),
        ("维度", "dimension"),
        ("单位", "unit"),
        ("月份", "report_month"),
        ("文件", "file_name"),
        ("行", "row_number"),
        ("人员", "record_key"),
        ("值", "value"),
        ("状态", "status"),
        ("首次发现", "first_seen_run"),
        ("最近发现", "last_seen_run"),
    )
    for zh, key in labels:
        print(f"{zh if lang == 'zh' else key:>14}: {'' if pd.isna(row[key]) else row[key]}")
    print(f"{'说明' if lang == 'zh' else 'message':>14}: {message}")
    for event in events.itertuples():
        print(
            f"{'':>14}  {event.at:%Y-%m-%d %H:%M} {event.by}: "
            f"{event.from_status or '-'} → {event.to_status} {event.note or ''}"
        )


def command_issues(args: argparse.Namespace, settings: Settings) -> int:
    engine = make_engine(settings.effective_warehouse_url)
    migrate(engine)
    lang = settings.lang
    selection = _selection(args)
    if args.action == "list":
        with engine.connect() as conn:
            _print_list(issues.list_issues(conn, selection, args.limit), lang)
        return 0
    if args.action == "show":
        with engine.connect() as conn:
            found = issues.list_issues(conn, selection)
            if found.empty:
                print("未找到该问题" if lang == "zh" else "no such issue")
                return 1
            for _, row in found.iterrows():
                _print_one(row, issues.issue_events(conn, str(row["issue_id"])), lang)
        return 0
    if not args.issue_ids and not any(
        getattr(args, k) for k in ("status", "rule", "severity", "source", "kind", "unit", "month")
    ):
        print("请指定问题编号或筛选条件 / name issue ids or a filter")
        return 2
    with engine.begin() as conn:
        changed = issues.set_status(
            conn, selection, ACTIONS[args.action], args.note, args.by or getpass.getuser()
        )
    print(f"已更新 {changed} 个问题" if lang == "zh" else f"{changed} issues updated")
    return 0


def add_report_command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    """`popstat report`: the officer's HTML report and open-issues workbook."""
    parser = commands.add_parser(
        "report",
        parents=[common],
        help="生成数据质量报告（HTML）和待处理问题表（XLSX） / write the officer report",
    )
    parser.add_argument(
        "--reference", help="folder of areas.csv and institutions.csv (names of the units)"
    )


def command_report(args: argparse.Namespace, settings: Settings) -> int:
    """Write `<home>/reports/dq-report-<date>.html` and `dq-open-issues-<date>.xlsx`; print both."""
    from warehouse.reference import ReferenceError, read_reference
    from warehouse.report_data import load_report_input, write_report

    areas = institutions = None
    try:
        reference = read_reference(settings.reference)
        areas, institutions = reference.areas, reference.institutions
    except ReferenceError as error:
        print(
            f"警告 WARNING: {error}\n"
            "         报告中的单位将只显示代码 / units are shown by code only",
            file=sys.stderr,
        )
    engine = make_engine(settings.effective_warehouse_url)
    migrate(engine)
    try:
        with engine.connect() as conn:
            data = load_report_input(conn, areas=areas, institutions=institutions)
    finally:
        engine.dispose()
    files = write_report(data, settings.reports_dir, settings.effective_as_of, settings.lang)
    print(f"报告 report: {files.html.resolve()}")
    print(f"待处理问题表 open issues: {files.xlsx.resolve()}")
    return 0
