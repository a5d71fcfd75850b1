"""Each partition's last results, kept under the home, keyed by the digest of their inputs.

A partition's work is a pure function of its routed rows (the files
`warehouse.partitions.split_current_rows` writes), the run's as-of date, deadline
day and first month, the reference files and the code. A partition whose inputs
are byte for byte those of an earlier run has the same results, so a run takes them
from here instead of computing them again: a correction in one township recomputes
that township, and the night with nothing new in most of a province recomputes
little of it.

Layout: `<home>/partition-cache/<township>/entry.json` (the digest, the months and
the file of each frame) beside the Parquet files. One entry per partition, the
newest; it is swapped in by renames once complete, so a run killed while storing
leaves the previous entry or none (then the next run computes the partition), never
a mixed one.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from warehouse.partitions import SHARE_SUFFIX

_ENTRY = "entry.json"
_INPUT_SUFFIXES = {".parquet", SHARE_SUFFIX}  # the manifest rows, the routed shares


def input_digest(part_folder: Path, context: Mapping[str, str]) -> str:
    """The digest of a partition's input files (every Parquet or Arrow file below its folder but
    its results in `out/`, in path order) and of `context` (what else its work depends on).

    A routed share is named by its staged file's place among all of the run's staged files
    of its template, so a file landed into an earlier month (a correction) renames the later
    shares of every township. The work reads a folder's shares in name order and nothing
    else of their names: a share counts by its folder and its place there, and a township
    whose rows did not change keeps its digest.
    """
    digest = hashlib.sha256(json.dumps(dict(context), sort_keys=True).encode("utf-8"))
    inputs = (
        p
        for p in part_folder.rglob("*")
        if p.suffix in _INPUT_SUFFIXES and p.relative_to(part_folder).parts[0] != "out"
    )
    for path in sorted(inputs):
        relative = path.relative_to(part_folder)
        label = relative.parent if path.suffix == SHARE_SUFFIX else relative
        digest.update(label.as_posix().encode("utf-8") + b"\x00")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _folder(home: Path, part: str) -> Path:
    return home.resolve() / "partition-cache" / (part or "_")


def lookup(home: Path, part: str, digest: str) -> dict[str, Any] | None:
    """The stored results of `part` if they were computed from inputs with this digest."""
    folder = _folder(home, part)
    try:
        entry = json.loads((folder / _ENTRY).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if entry.get("digest") != digest:
        return None
    return _with_paths(folder, entry)


def _with_paths(folder: Path, entry: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "frames": {k: str(folder / v) for k, v in entry["frames"].items()},
        "findings": {k: str(folder / v) for k, v in entry["findings"].items()},
        "leaves": str(folder / entry["leaves"]),
        "months": list(entry["months"]),
    }


def store(home: Path, part: str, digest: str, result: Mapping[str, Any]) -> dict[str, Any]:
    """Keep a partition's results (files anywhere, named in `result` as `work_partition`'s
    task returns them) as its entry; the same result with paths into the cache."""
    final = _folder(home, part)
    fresh = final.with_name(f"{final.name}.new")
    shutil.rmtree(fresh, ignore_errors=True)
    fresh.mkdir(parents=True)

    def keep(path: str) -> str:
        name = Path(path).name
        shutil.copyfile(path, fresh / name)
        return name

    entry = {
        "digest": digest,
        "frames": {k: keep(v) for k, v in result["frames"].items()},
        "findings": {k: keep(v) for k, v in result["findings"].items()},
        "leaves": keep(result["leaves"]),
        "months": list(result["months"]),
    }
    (fresh / _ENTRY).write_text(json.dumps(entry), encoding="utf-8")
    old = final.with_name(f"{final.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    fresh.rename(final)
    shutil.rmtree(old, ignore_errors=True)
    return _with_paths(final, entry)


def prune(home: Path, parts: Iterable[str]) -> list[str]:
    """Remove the entries of partitions not in `parts` (a township no upload names any
    more), and what a killed store left (`.new`, `.old`); the partitions removed.

    Called once a run has every partition's results: the cache then holds this run's
    partitions only, so it stays the size of the inbox's townships.
    """
    root = home.resolve() / "partition-cache"
    if not root.is_dir():
        return []
    keep = {part or "_" for part in parts}
    removed = []
    for folder in sorted(root.iterdir()):
        if folder.is_dir() and folder.name not in keep:
            shutil.rmtree(folder, ignore_errors=True)
            if folder.suffix not in {".new", ".old"}:
                removed.append("" if folder.name == "_" else folder.name)
    return removed
