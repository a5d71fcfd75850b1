"""The inbox on disk: finding upload files, hashing them, reading their bytes.

Hashing is the only full read of a file a run does before deciding it is new, and
it is skipped for a file whose path, size and modification time the manifest
already holds: a rerun with no new files reads nothing.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

CANDIDATE_COLUMNS = ["path", "file_name", "size_bytes", "arrived_at", "sha256"]
_IGNORED_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}


def _walk(inbox: Path) -> Iterable[os.DirEntry[str]]:
    stack = [str(inbox)]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                elif entry.is_file() and entry.name not in _IGNORED_NAMES:
                    yield entry


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def scan_inbox(inbox: Path, known: pd.DataFrame, time_zone: str) -> pd.DataFrame:
    """Every file below `inbox` (any depth): relative path, name, size, arrival, sha256.

    `known` (path, size_bytes, arrived_at, sha256) lends the hash of files that have
    not changed since the manifest saw them. Arrival is the modification time, as
    local wall time in the district's zone.
    """
    zone = ZoneInfo(time_zone)
    reuse = {
        (p, int(s), pd.Timestamp(a)): h
        for p, s, a, h in known[["path", "size_bytes", "arrived_at", "sha256"]].itertuples(
            index=False, name=None
        )
    }
    rows = []
    for entry in sorted(_walk(inbox), key=lambda e: e.path):
        stat = entry.stat()
        relative = Path(entry.path).relative_to(inbox).as_posix()
        arrived = pd.Timestamp(
            datetime.fromtimestamp(stat.st_mtime, zone).replace(tzinfo=None)
        ).floor("us")
        sha = reuse.get((relative, stat.st_size, arrived)) or sha256_of(Path(entry.path))
        rows.append((relative, entry.name, stat.st_size, arrived, sha))
    frame = pd.DataFrame(rows, columns=CANDIDATE_COLUMNS)
    frame["arrived_at"] = pd.to_datetime(frame["arrived_at"]).astype("datetime64[us]")
    return frame


def read_file(inbox: Path, relative_path: str) -> bytes:
    return (inbox / relative_path).read_bytes()


def write_files(
    folder: Path, files: Iterable[tuple[str, bytes, datetime | None]], time_zone: str
) -> int:
    """Write (relative path, bytes, arrival) files below `folder`; returns the count.

    The modification time is the upload's arrival time (naive = the district's local
    wall time), so it is set explicitly.
    """
    zone = ZoneInfo(time_zone)
    count = 0
    for relative, data, modified in files:
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        if modified is not None:
            aware = modified if modified.tzinfo else modified.replace(tzinfo=zone)
            stamp = aware.timestamp()
            os.utime(target, (stamp, stamp))
        count += 1
    return count
