"""Pure helpers around a run's summary: fingerprint, console lines, Markdown, report links.

A run's summary (`RunSummary`) is the JSON kept in `runs.summary`.

No Prefect, no database: the command prints with these, the flow builds its
artifacts with them, and the tests call them directly.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypedDict

import pandas as pd


class LandingCounts(TypedDict):
    """What landing did: files by status, rows by template, sign-offs withdrawn."""

    files: dict[str, int]
    rows: dict[str, int]
    signoffs_withdrawn: int


class PublishCounts(TypedDict):
    """Rows of the published mart, and how many are new, changed or removed."""

    rows: int
    new: int
    changed: int
    removed: int


class RunSummary(TypedDict, total=False):
    """One run as kept in `runs.summary` (JSON) and returned by the flows.

    Keys appear as the run gets there: `landing`/`validation` after those stages,
    `skipped` when the inputs were unchanged, `publish` once published, `range`
    for a backfill, `error`/`failed_stage` for a failed run.
    """

    kind: str  # "nightly" | "backfill"
    run_id: str | None
    as_of: str
    flow_run_id: str | None
    abandoned: list[str]  # runs left running by a dead process, marked failed
    landing: LandingCounts
    validation: dict[str, int]  # template → findings
    fingerprint: str
    inputs: dict[str, str]  # part → short digest: what changed since the last run
    skipped: dict[str, str]  # {same_as: run_id}: inputs unchanged, nothing recomputed
    range: dict[str, str]  # {first, last} (backfill)
    # {count: townships, recomputed: those whose inputs changed, processes: how many ran those}
    partitions: dict[str, int]
    publish: PublishCounts
    files: dict[str, int]  # this run's files by status, after supersession
    issues: dict[str, int]  # {new, reopened}
    error: str
    failed_stage: str


FILE_STATUSES = ("loaded", "superseded", "duplicate", "quarantined")
FILE_LABELS = {
    "loaded": "已加载 loaded",
    "superseded": "已更正替换 superseded",
    "duplicate": "重复 duplicate",
    "quarantined": "已隔离 quarantined",
}
# What `popstat report` and `popstat bulletin` write into the reports folder.
REPORT_PATTERNS: dict[str, tuple[str, str]] = {
    "officer-report": ("dq-report-*.html", "数据质量报告 officer report"),
    "open-issues": ("dq-open-issues-*.xlsx", "待处理问题表 open issues"),
    "bulletin": ("bulletin_*.html", "通报 bulletin"),
    "bulletin-xlsx": ("bulletin_*.xlsx", "通报 bulletin (XLSX)"),
}


def fingerprint(parts: Mapping[str, str | bytes]) -> str:
    """SHA-256 over named parts, independent of their order."""
    digest = hashlib.sha256()
    for name in sorted(parts):
        value = parts[name]
        data = value if isinstance(value, bytes) else value.encode("utf-8")
        digest.update(name.encode("utf-8") + b"\x00")
        digest.update(hashlib.sha256(data).digest())
    return digest.hexdigest()


def files_digest(paths: Iterable[Path], root: Path | None = None) -> str:
    """One digest of the bytes of some files (missing files count as missing)."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        name = path.relative_to(root).as_posix() if root else path.name
        digest.update(name.encode("utf-8") + b"\x00")
        digest.update(path.read_bytes() if path.is_file() else b"\x00missing")
    return digest.hexdigest()


def report_links(reports_dir: Path) -> dict[str, tuple[Path, str]]:
    """The newest officer report and bulletin files that exist: key → (path, title)."""
    found: dict[str, tuple[Path, str]] = {}
    if not reports_dir.is_dir():
        return found
    for key, (pattern, title) in REPORT_PATTERNS.items():
        candidates = [p for p in reports_dir.glob(pattern) if p.is_file()]
        if candidates:
            newest = max(candidates, key=lambda p: (p.stat().st_mtime, p.name))
            found[key] = (newest.resolve(), title)
    return found


def _published_line(publish: Mapping[str, Any]) -> str:
    return (
        f"{publish.get('rows', 0)} 行 rows; 新增 new {publish.get('new', 0)}, "
        f"变化 changed {publish.get('changed', 0)}, 删除 removed {publish.get('removed', 0)}"
    )


def console_lines(summary: Mapping[str, Any], seconds: float) -> list[str]:
    """What `popstat run` / `popstat backfill` print when the run completed."""
    kind = summary.get("kind", "nightly")
    what = "回溯重算 backfill" if kind == "backfill" else "运行 run"
    lines = [f"{what} {summary.get('run_id')} 完成 completed in {seconds:.1f} s"]
    if kind == "backfill" and summary.get("range"):
        r = summary["range"]
        lines.append(f"  期间 periods {r['first']} .. {r['last']} (as of {summary.get('as_of')})")
    if kind == "nightly":
        files = summary.get("files") or {}
        if not any(files.values()):
            lines.append("  无新文件 no new files")
        for status in [*FILE_STATUSES, *sorted(set(files) - set(FILE_STATUSES))]:
            if files.get(status):
                lines.append(f"  文件 files {FILE_LABELS.get(status, status)}: {files[status]}")
        rows = (summary.get("landing") or {}).get("rows") or {}
        for template, n in sorted(rows.items()):
            lines.append(f"  行 rows {template}: {n}")
    if summary.get("partitions"):
        parts = summary["partitions"]
        lines.append(
            f"  分区 partitions: {parts.get('count', 0)} 个乡镇 townships, "
            f"重算 recomputed {parts.get('recomputed', 0)} in "
            f"{parts.get('processes', 0)} 个进程 processes"
        )
    issues = summary.get("issues") or {}
    lines.append(
        f"  问题 issues: 新发现 new {issues.get('new', 0)}, 重新打开 reopened {issues.get('reopened', 0)}"
    )
    if summary.get("skipped"):
        lines.append(
            f"  输入未变，未重算 inputs unchanged since {summary['skipped'].get('same_as')}: "
            "发布数据未变 published figures unchanged"
        )
    elif summary.get("publish"):
        lines.append(f"  发布 published: {_published_line(summary['publish'])}")
    if summary.get("flow_run_id"):
        lines.append(f"  Prefect flow run: {summary['flow_run_id']}")
    return lines


def _md_table(header: list[str], rows: Iterable[Iterable[Any]]) -> list[str]:
    def cell(v: Any) -> str:
        return (
            "" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v).replace("|", "\\|")
        )

    out = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    out += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return out


def _fmt(value: Any) -> str:
    if value is None or pd.isna(value):
        return "–"
    return f"{float(value):,.2f}"


def markdown_summary(
    summary: Mapping[str, Any], changes: pd.DataFrame | None = None, limit: int = 20
) -> str:
    """The run's Markdown artifact: files by status, rows, issues, figures changed.

    `changes` (optional): top-level figures (the county's; a province's) this run changed,
    with columns
    indicator_name, period, had_previous, old_value, value, status
    (see warehouse.run_summary.mart_changes).
    """
    kind = summary.get("kind", "nightly")
    lines = [
        f"# popstat {kind} {summary.get('run_id')}",
        "",
        f"as of **{summary.get('as_of')}**",
        "",
    ]
    if kind == "nightly":
        files = summary.get("files") or {}
        lines += ["## 文件 Files", ""]
        lines += _md_table(
            ["status", "files"],
            [(FILE_LABELS.get(s, s), files.get(s, 0)) for s in FILE_STATUSES],
        )
        rows = (summary.get("landing") or {}).get("rows") or {}
        lines += ["", "## 行 Rows", ""]
        lines += _md_table(["template", "rows"], sorted(rows.items())) if rows else ["no new rows"]
    issues = summary.get("issues") or {}
    lines += [
        "",
        "## 问题 Issues",
        "",
        f"new **{issues.get('new', 0)}**, reopened **{issues.get('reopened', 0)}**",
        "",
        "## 发布 Published figures",
        "",
    ]
    if summary.get("skipped"):
        lines.append(
            f"Inputs unchanged since run `{summary['skipped'].get('same_as')}`: "
            "nothing recomputed, published figures unchanged."
        )
    elif summary.get("publish"):
        lines.append(_published_line(summary["publish"]))
        if changes is not None and not changes.empty:
            changed = changes.loc[changes["had_previous"].astype(bool)]
            first = len(changes) - len(changed)
            if first:
                lines += ["", f"{first} county figures published for the first time."]
            if not changed.empty:
                lines += [
                    "",
                    f"County figures changed since the previous run ({len(changed)}):",
                    "",
                ]
                lines += _md_table(
                    ["indicator", "period", "before", "now", "status"],
                    (
                        (r.indicator_name, r.period, _fmt(r.old_value), _fmt(r.value), r.status)
                        for r in changed.head(limit).itertuples(index=False)
                    ),
                )
                if len(changed) > limit:
                    lines.append(f"\n… and {len(changed) - limit} more")
    else:
        lines.append("nothing published")
    return "\n".join(lines) + "\n"
