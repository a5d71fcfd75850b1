"""The inbox is a boundary: no link is followed, and every entry that
is not a regular file gets its own quarantined `uploads` row, never a crash."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine

from tests.warehouse.test_landing import VILLAGE, WOMAN_A, _ctx, _put, _roster, _uploads
from warehouse.inbox import read_file, scan_inbox
from warehouse.landing import land_inbox

GOOD = f"village_women_{VILLAGE}_202609.csv"


@pytest.fixture
def hostile_inbox(tmp_path: Path) -> Path:
    inbox = tmp_path / "inbox"
    roster = _roster(f"阿依古丽,{WOMAN_A},常住,2,上环,2020-03-01,2026/9/3").encode()
    _put(inbox, GOOD, roster, "2026-10-03 10:00")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.csv").write_bytes(roster.replace("阿依古丽".encode(), "外部文件".encode()))
    (inbox / f"village_women_{VILLAGE}_202608.csv").symlink_to(outside / "secret.csv")
    (inbox / f"village_women_{VILLAGE}_202607.csv").symlink_to(inbox / "nowhere.csv")  # dangling
    (inbox / "loop_a.csv").symlink_to(inbox / "loop_b.csv")
    (inbox / "loop_b.csv").symlink_to(inbox / "loop_a.csv")
    (inbox / "elsewhere").symlink_to(outside, target_is_directory=True)
    os.mkfifo(inbox / f"village_women_{VILLAGE}_202606.csv")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(inbox / "upload.sock"))
    server.close()
    return inbox


EXPECTED = {
    GOOD: ("loaded", None),
    f"village_women_{VILLAGE}_202608.csv": ("quarantined", "symbolic_link"),
    f"village_women_{VILLAGE}_202607.csv": ("quarantined", "symbolic_link"),
    "loop_a.csv": ("quarantined", "symbolic_link"),
    "loop_b.csv": ("quarantined", "symbolic_link"),
    "elsewhere": ("quarantined", "symbolic_link"),
    f"village_women_{VILLAGE}_202606.csv": ("quarantined", "not_a_regular_file"),
    "upload.sock": ("quarantined", "not_a_regular_file"),
}


def test_links_fifos_and_sockets_are_quarantined_and_never_read(
    engine: Engine, tmp_path: Path, hostile_inbox: Path
) -> None:
    summary = land_inbox(engine, _ctx(tmp_path, "r1"))
    uploads = _uploads(engine).set_index("path")
    found = {
        p: (r["status"], None if pd.isna(r["reason_code"]) else r["reason_code"])
        for p, r in uploads.iterrows()
    }
    assert found == EXPECTED
    assert summary.files_by_status == {"loaded": 1, "quarantined": 7}
    assert uploads["reason_zh"].dropna().str.len().gt(0).all()
    link = uploads.loc[f"village_women_{VILLAGE}_202608.csv"]
    assert "symbolic link" in link["reason_en"] and "符号链接" in link["reason_zh"]
    # Nothing of the outside file reached the raw layer.
    raw = b"".join(p.read_bytes() for p in (tmp_path / "raw").rglob("*.parquet"))
    assert "外部文件".encode() not in raw
    # A rerun sees the same entries and lands nothing new.
    again = land_inbox(engine, _ctx(tmp_path, "r2"))
    assert again.files_by_status == {}


def test_read_file_refuses_links_and_special_files(hostile_inbox: Path) -> None:
    assert read_file(hostile_inbox, GOOD).startswith("姓名".encode())
    for name in (f"village_women_{VILLAGE}_202608.csv", "loop_a.csv"):
        with pytest.raises(OSError, match="symbolic link"):
            read_file(hostile_inbox, name)
    with pytest.raises(OSError, match="not a regular file"):
        read_file(hostile_inbox, f"village_women_{VILLAGE}_202606.csv")


def test_the_scan_lists_each_entry_with_its_kind(hostile_inbox: Path) -> None:
    known = pd.DataFrame(columns=["path", "size_bytes", "arrived_at", "sha256"])
    scanned = scan_inbox(hostile_inbox, known, "UTC").set_index("path")["entry_kind"]
    assert scanned.to_dict() == {
        p: ("file" if c is None else "fifo" if p.endswith("606.csv") else "socket")
        if c != "symbolic_link"
        else "symlink"
        for p, (_, c) in EXPECTED.items()
    }
