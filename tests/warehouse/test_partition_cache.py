"""warehouse.partition_cache: a township's results are reused only for the same inputs, and
the cache holds the run's townships only."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from warehouse import partition_cache, workspace

A, B = "654226100", "654226101"


def _result(folder: Path) -> dict[str, object]:
    folder.mkdir(parents=True, exist_ok=True)
    frames = workspace.save_frames(folder, {"recon_births": pd.DataFrame({"x": [1]})})
    findings = workspace.save_frames(folder, {"findings_x": pd.DataFrame({"y": [2]})})
    leaves = workspace.save_frames(folder, {"leaves": pd.DataFrame({"z": [3]})})["leaves"]
    return {"frames": frames, "findings": findings, "leaves": leaves, "months": ["2026-01"]}


def test_results_are_found_again_only_under_the_same_digest(tmp_path: Path) -> None:
    home = tmp_path / "home"
    stored = partition_cache.store(home, A, "d1", _result(tmp_path / "out"))
    assert partition_cache.lookup(home, A, "d1") == stored
    assert pd.read_parquet(stored["leaves"])["z"].tolist() == [3]
    assert partition_cache.lookup(home, A, "d2") is None
    assert partition_cache.lookup(home, B, "d1") is None


def test_pruning_keeps_the_runs_townships_and_removes_the_rest(tmp_path: Path) -> None:
    home = tmp_path / "home"
    for part in (A, B, ""):
        partition_cache.store(home, part, "d", _result(tmp_path / "out" / (part or "_")))
    leftover = home / "partition-cache" / f"{A}.new"  # a store killed half-way
    leftover.mkdir()

    assert partition_cache.prune(home, [A, ""]) == [B]

    assert sorted(p.name for p in (home / "partition-cache").iterdir()) == ["654226100", "_"]
    assert partition_cache.lookup(home, A, "d") is not None
    assert partition_cache.lookup(home, "", "d") is not None
    assert partition_cache.prune(tmp_path / "no-home", [A]) == []


def _inputs(folder: Path, shares: dict[str, bytes]) -> Path:
    """A partition folder: its manifest rows and the given shares (`<template>/<name>`)."""
    folder.mkdir(parents=True)
    (folder / "uploads.parquet").write_bytes(b"manifest")
    for name, data in shares.items():
        (folder / name).parent.mkdir(exist_ok=True)
        (folder / name).write_bytes(data)
    return folder


def test_a_township_whose_shares_moved_up_a_place_keeps_its_digest(tmp_path: Path) -> None:
    """A correction of an earlier month adds a staged file before the later ones: every later
    share is renamed, in the townships it does not touch too. Their rows are the same rows in
    the same order, so their results are reused; other contents or another order are not."""
    context = {"code": "c"}
    before = _inputs(tmp_path / "a", {"w/00001.arrow": b"jan", "w/00002.arrow": b"feb"})
    shifted = _inputs(tmp_path / "b", {"w/00001.arrow": b"jan", "w/00003.arrow": b"feb"})
    swapped = _inputs(tmp_path / "c", {"w/00001.arrow": b"feb", "w/00002.arrow": b"jan"})
    changed = _inputs(tmp_path / "d", {"w/00001.arrow": b"jan", "w/00002.arrow": b"FEB"})
    other_kind = _inputs(tmp_path / "e", {"w/00001.arrow": b"jan", "v/00002.arrow": b"feb"})

    digest = partition_cache.input_digest(before, context)
    assert partition_cache.input_digest(shifted, context) == digest
    for folder in (swapped, changed, other_kind):
        assert partition_cache.input_digest(folder, context) != digest
    assert partition_cache.input_digest(before, {"code": "d"}) != digest
