"""The data officer's commands: `popstat issues …` and `popstat report`.

No Prefect, no GX: they answer at once.
"""

from __future__ import annotations

import argparse
import getpass
import json
import shutil
import sys

import pandas as pd
from rich import box
from rich.console import Console
from rich.table import Table
from sqlalchemy import Connection, Engine

from flows.settings import Settings
from transforms.officer.labels import STATUS_LABELS
from transforms.officer.views import (
    FILTER_WORDS,
    count_line,
    filter_code,
    issue_detail_lines,
    issue_list_view,
    known_words,
    month_word,
    rule_code,
    script_view,
)
from warehouse import issues
from warehouse.access import WarehouseNotReady, open_for_officer
from warehouse.clock import local_now

ACTIONS = {"ack": "acknowledged", "resolve": "resolved", "waive": "waived", "reopen": "open"}
NOTE_REQUIRED = ("resolve", "waive")
"""A resolution or a waiver says why: the next officer must be able to read it."""
FILTERS = ("status", "rule", "severity", "source", "kind", "unit", "month")
DEFAULT_LIMIT = 50


def add_issue_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    """`popstat issues list|show|ack|resolve|waive|reopen`."""
    parser = commands.add_parser("issues", help="数据质量问题审核 / review quality issues")
    actions = parser.add_subparsers(dest="action", required=True)
    for action in ("list", "show", *ACTIONS):
        sub = actions.add_parser(action, parents=[common])
        sub.add_argument("issue_ids", nargs="*", help="issue ids (or select with filters)")
        for name in FILTERS:
            sub.add_argument(f"--{name}")
        sub.add_argument("--all", action="store_true", help="include problems no longer found")
        if action == "list":
            sub.add_argument(
                "--limit",
                type=int,
                default=None,
                help=f"rows shown (default {DEFAULT_LIMIT} in the table, all for csv/json; 0 = all)",
            )
            sub.add_argument("--format", choices=["table", "csv", "json"], default="table")
        if action in ACTIONS:
            required = "（必填）" if action in NOTE_REQUIRED else ""
            sub.add_argument("--note", default=None, help=f"说明{required} / what was done")
            sub.add_argument("--by", default=None, help="who (default: the OS user)")


def _say(lang: str, zh: str, en: str, *, error: bool = False) -> None:
    """One message in the chosen language (errors on stderr)."""
    print(zh if lang == "zh" else en, file=sys.stderr if error else sys.stdout)


def refuse_warehouse(refusal: WarehouseNotReady, lang: str) -> int:
    """Say which warehouse was looked at and how to point at the right one; exit 2."""
    why = {
        "missing": ("数据仓库不存在", "no warehouse there"),
        "never_run": ("数据仓库尚未运行过（没有完成的夜间运行）", "the warehouse was never run"),
        "unreachable": ("无法连接数据仓库", "cannot reach the warehouse"),
    }[refusal.reason]
    detail = f" ({refusal.detail})" if refusal.detail else ""
    _say(
        lang,
        f"{why[0]}：{refusal.url}{detail}\n"
        "请指向夜间运行所用的数据仓库：--warehouse URL，或 --home 文件夹（其中的 warehouse.db），"
        "或设置环境变量 POPSTAT_WAREHOUSE_URL / POPSTAT_HOME。",
        f"{why[1]}: {refusal.url}{detail}\n"
        "Point at the warehouse the nightly run uses: --warehouse URL, or --home DIR "
        "(its warehouse.db), or set POPSTAT_WAREHOUSE_URL / POPSTAT_HOME.",
        error=True,
    )
    return 2


def open_warehouse(settings: Settings) -> Engine | int:
    """The warehouse an officer command reads, or the exit code of a refusal."""
    try:
        return open_for_officer(settings.effective_warehouse_url)
    except WarehouseNotReady as refusal:
        return refuse_warehouse(refusal, settings.lang)


def _filter_values(args: argparse.Namespace, lang: str) -> dict[str, str | None] | int:
    """The filters as codes; an empty or unknown word is refused (exit 2)."""
    values: dict[str, str | None] = {}
    for name in FILTERS:
        word = getattr(args, name)
        if word is None:
            values[name] = None
            continue
        if not word.strip():
            _say(lang, f"筛选条件 --{name} 为空", f"--{name} is empty", error=True)
            return 2
        code = filter_code(name, word.strip()) if name in FILTER_WORDS else word.strip()
        if name == "rule":
            code = rule_code(word.strip())
        if name == "month":
            code = month_word(word)
            if code is None:
                _say(
                    lang,
                    f"月份格式应为 2026-09：--month {word}",
                    f"--month {word!r} is no month; write it as 2026-09",
                    error=True,
                )
                return 2
        if code is None:
            _say(
                lang,
                f"未知的 --{name}：{word}；可用：{known_words(name)}",
                f"unknown --{name} {word!r}; use one of: {known_words(name)}",
                error=True,
            )
            return 2
        values[name] = code
    return values


def _selection(args: argparse.Namespace, values: dict[str, str | None]) -> issues.IssueFilter:
    return issues.IssueFilter(
        status=values["status"],
        rule=values["rule"],
        severity=values["severity"],
        source=values["source"],
        kind=values["kind"],
        unit=values["unit"],
        month=values["month"],
        issue_ids=tuple(args.issue_ids),
        active_only=not args.all and not args.issue_ids,
    )


def _print_table(view: pd.DataFrame) -> None:
    """A readable terminal table (rich): wraps long messages, counts CJK as double width."""
    width = shutil.get_terminal_size(fallback=(160, 40)).columns
    table = Table(box=box.SIMPLE_HEAD, show_lines=False, pad_edge=False)
    last = len(view.columns) - 1
    for number, column in enumerate(view.columns):
        if number == last:  # the message: the widest column, wrapped
            table.add_column(str(column), overflow="fold", min_width=24, ratio=1)
        else:
            table.add_column(str(column), overflow="fold", max_width=34)
    for record in view.itertuples(index=False, name=None):
        table.add_row(*[str(v) for v in record])
    Console(width=width, highlight=False, soft_wrap=False).print(table)


def _print_scripted(frame: pd.DataFrame, form: str) -> None:
    if form == "csv":
        sys.stdout.write(frame.to_csv(index=False))
    else:
        records = frame.astype(object).where(frame.notna(), None).to_dict("records")
        print(json.dumps(records, ensure_ascii=False, default=str, indent=1))


def _list(
    conn: Connection, args: argparse.Namespace, selection: issues.IssueFilter, lang: str
) -> int:
    limit = (
        args.limit if args.limit is not None else (DEFAULT_LIMIT if args.format == "table" else 0)
    )
    found = issues.list_issues(conn, selection, limit or None)
    total = issues.count_issues(conn, selection)
    counts = count_line(len(found), total, issues.count_by_severity(conn, selection), lang)
    if args.format != "table":
        _print_scripted(script_view(found), args.format)
        print(counts, file=sys.stderr)
        return 0
    if found.empty:
        _say(lang, "没有符合条件的问题", "no matching issues")
    else:
        _print_table(issue_list_view(found, lang))
    print(counts)
    return 0


def _unknown_ids(conn: Connection, ids: tuple[str, ...], lang: str) -> int:
    """Exit 1 naming every id that is no issue at all; 0 when all are known."""
    unknown = issues.unknown_issue_ids(conn, ids)
    if not unknown:
        return 0
    names = ", ".join(unknown)
    _say(lang, f"未找到问题：{names}", f"no such issue: {names}", error=True)
    return 1


def _show(conn: Connection, selection: issues.IssueFilter, lang: str) -> int:
    if not selection.issue_ids:
        _say(lang, "请指定问题编号：popstat issues show 编号", "name an issue id", error=True)
        return 2
    if code := _unknown_ids(conn, selection.issue_ids, lang):
        return code
    found = issues.list_issues(conn, selection)
    for number, issue in enumerate(found.to_dict("records")):
        if number:
            print()
        events = issues.issue_events(conn, str(issue["issue_id"]))
        print("\n".join(issue_detail_lines(issue, events, lang)))
    return 0


def _review(
    engine: Engine,
    args: argparse.Namespace,
    selection: issues.IssueFilter,
    settings: Settings,
) -> int:
    lang = settings.lang
    if not selection.issue_ids and not any(getattr(args, k) for k in FILTERS):
        _say(lang, "请指定问题编号或筛选条件", "name issue ids or a filter", error=True)
        return 2
    note = (args.note or "").strip() or None
    if args.action in NOTE_REQUIRED and note is None:
        _say(
            lang,
            f"{args.action} 需要说明：--note “做了什么、依据是什么”",
            f"{args.action} needs a note: --note 'what was done and why'",
            error=True,
        )
        return 2
    with engine.begin() as conn:
        if code := _unknown_ids(conn, selection.issue_ids, lang):
            return code
        selected = issues.count_issues(conn, selection)
        if not selected:
            _say(
                lang,
                "没有符合条件的问题，未作更改",
                "no issue matches; nothing changed",
                error=True,
            )
            return 1
        status = ACTIONS[args.action]
        changed = issues.set_status(
            conn,
            selection,
            status,
            note,
            args.by or getpass.getuser(),
            at=local_now(settings.time_zone),
        )
    word = STATUS_LABELS[lang][status]
    _say(
        lang,
        f"已更新 {changed} 个问题为“{word}”（选中 {selected} 个，其余已是该状态）",
        f"{changed} issues set to {word} ({selected} selected, the rest already were)",
    )
    return 0


def command_issues(args: argparse.Namespace, settings: Settings) -> int:
    lang = settings.lang
    values = _filter_values(args, lang)
    if isinstance(values, int):
        return values
    selection = _selection(args, values)
    engine = open_warehouse(settings)
    if isinstance(engine, int):
        return engine
    try:
        if args.action in ("list", "show"):
            with engine.connect() as conn:
                if args.action == "list":
                    return _list(conn, args, selection, lang)
                return _show(conn, selection, lang)
        return _review(engine, args, selection, settings)
    finally:
        engine.dispose()


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
    from flows.report_files import write_report
    from warehouse.reference import ReferenceError, read_reference
    from warehouse.report_data import load_report_input

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
    engine = open_warehouse(settings)
    if isinstance(engine, int):
        return engine
    try:
        with engine.connect() as conn:
            data = load_report_input(
                conn,
                areas=areas,
                institutions=institutions,
                generated_at=local_now(settings.time_zone),
                explain_day=settings.effective_as_of,
            )
    finally:
        engine.dispose()
    files = write_report(data, settings.reports_dir, settings.effective_as_of, settings.lang)
    print(f"报告 report: {files.html.resolve()}")
    print(f"待处理问题表 open issues: {files.xlsx.resolve()}")
    if files.explain_pages:
        print(
            f"考核数字核实 figures explained: {len(files.explain_pages)} 页 pages, e.g. {files.explain_pages[0].resolve()}"
        )
    return 0


def add_explain_command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    """`popstat explain --area A --period P --indicator I [--format table|csv]`."""
    parser = commands.add_parser(
        "explain",
        parents=[common],
        help="解释一个考核数字：分子、分母和背后的记录 / explain a published figure",
    )
    parser.add_argument("--area", required=True, help="village, township or county code")
    parser.add_argument("--period", required=True, help="2026-09, 2026-Q3, 2026-01..2026-09, …")
    parser.add_argument("--indicator", required=True, help="indicator code, e.g. births")
    parser.add_argument("--format", choices=["table", "csv"], default="table")
    parser.add_argument(
        "--limit", type=int, default=200, help="records shown in the table (0 = all)"
    )


def command_explain(args: argparse.Namespace, settings: Settings) -> int:
    """Print the figure, the records behind it and those left out (or all of it as CSV)."""
    from transforms.officer.explain import explanation_frame
    from transforms.officer.views import explain_header, explain_view
    from warehouse.explain_data import ExplainError, explain

    lang = settings.lang
    engine = open_warehouse(settings)
    if isinstance(engine, int):
        return engine
    try:
        with engine.connect() as conn:
            found = explain(conn, args.area, args.period, args.indicator)
    except ExplainError as error:
        _say(lang, *error.words, error=True)
        return 1
    finally:
        engine.dispose()
    both = explanation_frame(found.records, found.left_out)
    if args.format == "csv":
        sys.stdout.write(both.to_csv(index=False))
        return 0
    print("\n".join(explain_header(found.figure, found.indicator, len(found.records), lang)))
    for included in (True, False):
        part = both.loc[both["included"] == included]
        title = (
            ("计入的记录", "records counted")
            if included
            else ("未计入的记录及原因", "left out, and why")
        )
        shown = part if not args.limit else part.head(args.limit)
        print()
        _say(
            lang,
            f"{title[0]}（{len(shown)} / {len(part)}）",
            f"{title[1]} ({len(shown)} of {len(part)})",
        )
        if len(shown):
            _print_table(explain_view(shown, included, lang))
    return 0
