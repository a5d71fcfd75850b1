"""Run summaries: fingerprint, console lines, the Markdown artifact, report links."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from flows.summaries import (
    console_lines,
    files_digest,
    fingerprint,
    markdown_summary,
    report_links,
)

SUMMARY = {
    "kind": "nightly",
    "run_id": "run-20261006T023000-1",
    "as_of": "2026-10-06",
    "flow_run_id": "0b6c",
    "landing": {"files": {"loaded": 3}, "rows": {"village_women": 120, "village_births": 4}},
    "files": {"loaded": 2, "superseded": 1, "quarantined": 1},
    "issues": {"new": 5, "reopened": 1},
    "publish": {"rows": 100, "new": 0, "changed": 7, "removed": 1},
}


def test_fingerprint_is_order_free_and_sensitive() -> None:
    a = fingerprint({"as_of": "2026-10-06", "warehouse": "x"})
    assert a == fingerprint({"warehouse": "x", "as_of": "2026-10-06"})
    assert a != fingerprint({"as_of": "2026-10-07", "warehouse": "x"})
    assert a != fingerprint({"as_of": "2026-10-06", "warehouse": b"y"})
    # parts do not run into each other
    assert fingerprint({"a": "bc"}) != fingerprint({"ab": "c"})


def test_files_digest_sees_content_and_absence(tmp_path: Path) -> None:
    one, two = tmp_path / "areas.csv", tmp_path / "targets.csv"
    one.write_text("a")
    before = files_digest([one, two])
    two.write_text("t")
    after = files_digest([one, two])
    assert before != after
    one.write_text("b")
    assert files_digest([one, two]) != after
    assert files_digest([two, one]) == files_digest([one, two])


def test_console_lines_of_a_published_run() -> None:
    lines = console_lines(SUMMARY, 12.34)
    assert lines[0] == "运行 run run-20261006T023000-1 完成 completed in 12.3 s"
    assert "  文件 files 已加载 loaded: 2" in lines
    assert "  文件 files 已更正替换 superseded: 1" in lines
    assert "  文件 files 已隔离 quarantined: 1" in lines
    assert not any("duplicate" in line for line in lines)
    assert "  行 rows village_women: 120" in lines
    assert "  问题 issues: 新发现 new 5, 重新打开 reopened 1" in lines
    assert any("变化 changed 7" in line and "删除 removed 1" in line for line in lines)


def test_console_lines_of_a_skipped_rerun_and_a_backfill() -> None:
    rerun = {**SUMMARY, "files": {}, "skipped": {"same_as": "run-a"}}
    del rerun["publish"]
    lines = console_lines(rerun, 1.0)
    assert "  无新文件 no new files" in lines
    assert any("unchanged since run-a" in line for line in lines)
    backfill = {
        "kind": "backfill",
        "run_id": "run-b",
        "as_of": "2026-10-06",
        "range": {"first": "2025-01", "last": "2026-06"},
        "issues": {"new": 0, "reopened": 0},
        "publish": {"rows": 10, "new": 0, "changed": 2, "removed": 0},
    }
    lines = console_lines(backfill, 3.0)
    assert lines[0].startswith("回溯重算 backfill run-b")
    assert "  期间 periods 2025-01 .. 2026-06 (as of 2026-10-06)" in lines
    assert not any("文件 files" in line for line in lines)


def test_markdown_summary_lists_files_rows_and_changed_figures() -> None:
    changes = pd.DataFrame(
        {
            "indicator_name": ["政策符合率", "出生人数", "多孩率"],
            "period": ["2026-09", "2026-09", "2026-Q3"],
            "had_previous": [True, False, True],
            "old_value": ["88.5", None, None],
            "value": [89.25, 12.0, None],
            "status": ["met", "no_target", "no_data"],
        }
    )
    text = markdown_summary(SUMMARY, changes)
    assert "| 已更正替换 superseded | 1 |" in text
    assert "| 重复 duplicate | 0 |" in text
    assert "| village_women | 120 |" in text
    assert "new **5**, reopened **1**" in text
    assert "1 county figures published for the first time." in text
    assert "County figures changed since the previous run (2):" in text
    assert "| 政策符合率 | 2026-09 | 88.50 | 89.25 | met |" in text
    assert "| 多孩率 | 2026-Q3 | – | – | no_data |" in text
    skipped = markdown_summary({**SUMMARY, "skipped": {"same_as": "run-a"}})
    assert "Inputs unchanged since run `run-a`" in skipped


def test_report_links_pick_the_newest_of_each_kind(tmp_path: Path) -> None:
    assert report_links(tmp_path / "missing") == {}
    old = tmp_path / "dq-report-2026-10-05.html"
    new = tmp_path / "dq-report-2026-10-06.html"
    for i, path in enumerate([old, new]):
        path.write_text("x")
        os.utime(path, (1_000_000 + i, 1_000_000 + i))
    (tmp_path / "bulletin_2026-Q3.html").write_text("x")
    (tmp_path / "notes.txt").write_text("x")
    links = report_links(tmp_path)
    assert set(links) == {"officer-report", "bulletin"}
    assert links["officer-report"][0] == new.resolve()
    assert links["bulletin"][0].name == "bulletin_2026-Q3.html"
