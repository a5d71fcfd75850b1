"""The inbox on disk: finding upload files, hashing them, reading their bytes.

Hashing is the only full read of a file a run does before deciding it is new, and
it is skipped for a file whose path, size and modification time the manifest
already holds: a rerun with no new files reads nothing.

The inbox is a boundary: no link is ever followed (a symbolic link could point
anywhere on the machine, or at itself). Every entry that is not a regular file or
a folder (a link, a FIFO, a device, a socket, a folder that cannot be listed) is a
candidate of its own `entry_kind`, never read, and the landing quarantines it.
Files are opened with O_NOFOLLOW and checked to be regular files once open, so a
file swapped for a link after the scan is not followed either.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

CANDIDATE_COLUMNS = ["path", "file_name", "size_bytes", "arrived_at", "sha256", "entry_kind"]
_IGNORED_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}
ENTRY_KINDS = ("file", "symlink", "fifo", "device", "socket", "unlistable", "other")


@dataclass(frozen=True)
class _Entry:
    path: str
    name: str
    kind: str
    size: int
    mtime: float
    fingerprint: bytes
    """What stands for the content of an entry that is never read (a link's target)."""


def _kind(mode: int) -> str:
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "other"


def _walk(inbox: Path) -> Iterator[_Entry]:
    """Every entry below `inbox` that is not a folder, links included and never followed."""
    stack = [str(inbox)]
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError as error:
            if folder == str(inbox):
                raise
            info = os.lstat(folder)
            name = os.path.basename(folder)
            reason = f"unlistable\0{error.strerror}".encode()
            yield _Entry(folder, name, "unlistable", 0, info.st_mtime, reason)
            continue
        for entry in entries:
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISDIR(info.st_mode):
                stack.append(entry.path)
                continue
            if entry.name in _IGNORED_NAMES:
                continue
            kind = _kind(info.st_mode)
            fingerprint = b""
            if kind == "symlink":
                fingerprint = b"symlink\0" + os.fsencode(os.readlink(entry.path))
            elif kind != "file":
                fingerprint = f"{kind}\0{info.st_dev}:{info.st_ino}".encode()
            yield _Entry(entry.path, entry.name, kind, info.st_size, info.st_mtime, fingerprint)


def _open_regular(path: Path) -> int:
    """A descriptor of `path`, which must be a regular file; a link is never followed."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise OSError(errno.ELOOP, "is a symbolic link, not followed", str(path)) from error
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(errno.EINVAL, "not a regular file", str(path))
    return fd


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with os.fdopen(_open_regular(path), "rb") as handle:
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
    # Keyed by plain datetimes (microseconds, as the manifest keeps arrivals): a
    # Timestamp built and floored per file was most of a no-op night's scan.
    known_arrivals = pd.to_datetime(known["arrived_at"]).astype("datetime64[us]")
    reuse = dict(
        zip(
            zip(
                known["path"].tolist(),
                known["size_bytes"].astype("int64").tolist(),
                known_arrivals.dt.to_pydatetime().tolist(),
                strict=True,
            ),
            known["sha256"].tolist(),
            strict=True,
        )
    )
    root = str(inbox)
    rows = []
    for entry in sorted(_walk(inbox), key=lambda e: e.path):
        relative = _relative(entry.path, root)
        # datetime keeps microseconds: what the manifest stores, nothing to floor.
        arrived = datetime.fromtimestamp(entry.mtime, zone).replace(tzinfo=None)
        if entry.kind != "file":
            sha = hashlib.sha256(entry.fingerprint).hexdigest()
        else:
            sha = reuse.get((relative, entry.size, arrived)) or _sha_or_marker(entry)
        rows.append((relative, entry.name, entry.size, arrived, sha, entry.kind))
    frame = pd.DataFrame(rows, columns=CANDIDATE_COLUMNS)
    frame["arrived_at"] = pd.to_datetime(frame["arrived_at"]).astype("datetime64[us]")
    return frame


def _relative(path: str, root: str) -> str:
    """`path` (below `root`, as `_walk` joins it) relative to `root`, with `/` separators."""
    relative = path[len(root) :].lstrip(os.sep)
    return relative if os.sep == "/" else relative.replace(os.sep, "/")


def _sha_or_marker(entry: _Entry) -> str:
    """The file's sha256; a file that cannot be opened gets a marker and fails when read."""
    try:
        return sha256_of(Path(entry.path))
    except OSError as error:
        return hashlib.sha256(f"unopenable\0{error.strerror}\0{entry.mtime}".encode()).hexdigest()


def read_file(inbox: Path, relative_path: str) -> bytes:
    """The bytes of a regular file below `inbox`; OSError for a link or anything else."""
    with os.fdopen(_open_regular(inbox / relative_path), "rb") as handle:
        return handle.read()


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
