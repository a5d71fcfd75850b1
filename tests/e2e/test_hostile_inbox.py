"""Hostile files beside a generated county, on both warehouses.

`popstat run` must exit 0, quarantine each hostile file with its reason, read nothing
from outside the inbox, and publish the very mart of the same county without them.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from synthetic.spec import GeneratedCounty
from tests.e2e._ops import (
    SECRET,
    CountyFolders,
    popstat_env,
    run_popstat,
    uploads_issues_mart,
    write_county,
)
from tests.hostile import csv_lines, far_cell_xlsx, open_quote_csv, zip_bomb_xlsx

pytestmark = pytest.mark.prefect

HEADER = ["姓名", "身份证号", "人口类别", "现有子女数", "避孕措施"]
ROW = ["其其格", "654226199001011234", "常住", "1", "无"]
OUTSIDE_MARKER = "OUTSIDE-THE-INBOX-7f3a"


def _hostile_files(village: str) -> dict[str, tuple[bytes | None, str | None]]:
    """name -> (bytes to write, or None for a special entry; the expected reason code)."""
    roster = f"village_women_{village}"
    return {
        f"hostile/{roster}_202603_far.xlsx": (far_cell_xlsx(HEADER), "too_large"),
        f"hostile/{roster}_202603_crash.xlsx": (
            far_cell_xlsx(HEADER, declared=False),
            "reader_crashed",
        ),
        f"hostile/{roster}_202603_bomb.xlsx": (zip_bomb_xlsx(HEADER), "too_large"),
        f"hostile/{roster}_202603_rows.csv": (csv_lines(HEADER, ROW, 100_100), "too_large"),
        f"hostile/{roster}_202603_quote.csv": (
            open_quote_csv(HEADER, [ROW] * 10, at=3),
            "unclosed_quote",
        ),
        "hostile/village_women_654226999999_202603.csv": (
            csv_lines(HEADER, ROW, 2),
            "unknown_unit",
        ),
        f"hostile/{roster}_209912.csv": (csv_lines(HEADER, ROW, 2), "not_yet_due"),
        f"hostile/{roster}_190001.csv": (csv_lines(HEADER, ROW, 2), "before_first_month"),
        f"hostile/{roster}_202603_link.csv": (None, "symbolic_link"),
        "hostile/loop_a.csv": (None, "symbolic_link"),
        "hostile/loop_b.csv": (None, "symbolic_link"),
        f"hostile/{roster}_202603_dangling.csv": (None, "symbolic_link"),
        f"hostile/{roster}_202603_fifo.csv": (None, "not_a_regular_file"),
        "hostile/upload.sock": (None, "not_a_regular_file"),
    }


def _plant(inbox: Path, outside: Path, files: dict[str, tuple[bytes | None, str | None]]) -> None:
    (inbox / "hostile").mkdir()
    stamp = datetime(2026, 4, 2, 9, 0).timestamp()
    for name, (data, _) in files.items():
        if data is not None:
            (inbox / name).write_bytes(data)
            os.utime(inbox / name, (stamp, stamp))
    outside.mkdir()
    secret = outside / "secret.csv"
    secret.write_text(",".join(HEADER) + f"\n{OUTSIDE_MARKER},,常住,1,无\n", encoding="utf-8")
    link = next(n for n in files if n.endswith("_link.csv"))
    (inbox / link).symlink_to(secret)
    (inbox / "hostile/loop_a.csv").symlink_to(inbox / "hostile/loop_b.csv")
    (inbox / "hostile/loop_b.csv").symlink_to(inbox / "hostile/loop_a.csv")
    dangling = next(n for n in files if n.endswith("_dangling.csv"))
    (inbox / dangling).symlink_to(inbox / "hostile/gone.csv")
    os.mkfifo(inbox / next(n for n in files if n.endswith("_fifo.csv")))
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(inbox / "hostile/upload.sock"))
    server.close()


def _run(folders: CountyFolders, url: str, env: dict[str, str], cwd: Path) -> str:
    args = [*folders.cli_args(), "--warehouse", url]
    result = run_popstat(["run", *args], env, cwd, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_hostile_files_are_quarantined_and_change_nothing_published(
    prefect_api: str,
    small_county: GeneratedCounty,
    two_warehouses: tuple[str, str],
    tmp_path: Path,
) -> None:
    hostile_url, clean_url = two_warehouses
    env = popstat_env(prefect_api, POPSTAT_SECRET_KEY=SECRET)
    clean = write_county(tmp_path / "clean", small_county)
    hostile = write_county(tmp_path / "hostile", small_county)
    areas = pd.read_csv(clean.reference / "areas.csv", dtype=str)
    village = str(areas.loc[areas["code"].str.len() == 12, "code"].iloc[0])
    files = _hostile_files(village)
    _plant(hostile.inbox, tmp_path / "outside", files)

    _run(clean, clean_url, env, tmp_path)
    stdout = _run(hostile, hostile_url, env, tmp_path)
    assert "完成 completed" in stdout

    uploads, issues, mart = uploads_issues_mart(hostile_url)
    by_path = uploads.set_index("path")
    for name, (_, code) in files.items():
        row = by_path.loc[name]
        assert (row["status"], row["reason_code"]) == ("quarantined", code), name
        assert str(row["reason_zh"]).strip() and str(row["reason_en"]).strip(), name
        issue = issues.loc[issues["upload_id"] == row["upload_id"]]
        assert list(issue["rule"]) == [f"file_{code}"], name
    # Nothing from outside the inbox was read: not in the warehouse, not in the raw layer.
    for frame in (uploads, issues):
        assert not frame.astype(str).apply(lambda c: c.str.contains(OUTSIDE_MARKER)).any().any()
    raw = b"".join(p.read_bytes() for p in hostile.home.rglob("*") if p.is_file())
    assert OUTSIDE_MARKER.encode() not in raw

    _, _, clean_mart = uploads_issues_mart(clean_url)
    assert len(clean_mart) > 0
    pd.testing.assert_frame_equal(mart, clean_mart, check_dtype=False)
    assert not mart["period"].astype(str).str.startswith(("2099", "1900")).any()
