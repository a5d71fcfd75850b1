"""warehouse.partitions' split cache: a staged file is routed once, and a split that keeps
files from the cache writes what a split routing every file writes."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from flows.worker_processes import executor
from synthetic.county import generate_county
from tests.e2e._ops import SMALL_COUNTY
from transforms.templates import load_contract
from warehouse import partitions
from warehouse.db import make_engine, migrate
from warehouse.inbox import write_files
from warehouse.landing import LandingContext, land_inbox
from warehouse.partitions import (
    RoutingPool,
    Split,
    _Entry,
    _ShareCache,
    load_partition,
    split_current_rows,
)
from warehouse.reference import read_reference

TIME_ZONE = "Asia/Shanghai"
CONTRACT = load_contract()


@pytest.fixture
def county(tmp_path: Path) -> tuple[Path, list[tuple[str, bytes, object]]]:
    """A landed county but for one village's last roster (held back: a later night's)."""
    made = generate_county(SMALL_COUNTY)
    held = [f for f in made.files if f.name.startswith("village_women_") and "_202606" in f.name]
    assert held, "the generator made no roster of the last month"
    later = [(held[0].path, held[0].data, held[0].arrived_at)]
    now = [(f.path, f.data, f.arrived_at) for f in made.files if f is not held[0]]
    write_files(tmp_path / "inbox", now, TIME_ZONE)
    write_files(
        tmp_path / "reference", ((n, d, None) for n, d in made.reference.items()), TIME_ZONE
    )
    _land(tmp_path)
    return tmp_path, later


def _land(root: Path) -> None:
    engine = make_engine(f"sqlite:///{root / 'warehouse.db'}")
    migrate(engine)
    context = LandingContext(
        inbox=root / "inbox",
        raw_dir=root / "raw",
        run_id=f"run{len(list(root.glob('split*')))}",
        contract=CONTRACT,
        secret=b"test-secret",
        deadline_day=5,
        time_zone=TIME_ZONE,
    )
    land_inbox(engine, context)
    engine.dispose()


def _split(root: Path, name: str, cache: Path | None, workers: RoutingPool | None = None) -> Split:
    engine = make_engine(f"sqlite:///{root / 'warehouse.db'}")
    institutions = read_reference(root / "reference").institutions
    try:
        return split_current_rows(
            engine,
            root / "raw",
            CONTRACT,
            institutions,
            root / name,
            cache=cache,
            salt="code",
            workers=workers,
        )
    finally:
        engine.dispose()


def _partitions(root: Path, split: Split, name: str) -> dict[str, dict[str, pd.DataFrame]]:
    areas = read_reference(root / "reference").areas
    out = {}
    for part in split.parts:
        inputs = load_partition(root / name, part, CONTRACT, areas)
        frames = {f"recon_{k}": v for k, v in vars(inputs.recon).items()}
        frames |= {f"checks_{k}": v for k, v in vars(inputs.checks).items() if k != "excluded"}
        out[part] = {k: v for k, v in frames.items() if isinstance(v, pd.DataFrame)}
    return out


def _assert_same(left: dict, right: dict) -> None:
    assert left.keys() == right.keys()
    for part, frames in left.items():
        for name, frame in frames.items():
            pd.testing.assert_frame_equal(frame, right[part][name], obj=f"{part} {name}")


def _first_split(root: Path) -> tuple[Path, Split]:
    """The split cache's folder, and the first split into it (every file routed)."""
    cache = root / "split-cache"
    first = _split(root, "split1", cache)
    assert first.files_routed > 0 and first.files_kept == 0
    return cache, first


def _shares(folder: Path) -> list[Path]:
    return sorted(p.relative_to(folder) for p in folder.rglob("*.arrow"))


def test_a_second_split_routes_nothing_and_writes_the_same(
    county: tuple[Path, list[tuple[str, bytes, object]]],
) -> None:
    root, _ = county
    cache, first = _first_split(root)
    again = _split(root, "split2", cache)
    assert (again.files_routed, again.files_kept) == (0, first.files_routed)
    assert again.parts == first.parts
    shares = _shares(root / "split1")
    assert shares == _shares(root / "split2")
    for share in shares:
        assert (root / "split1" / share).read_bytes() == (root / "split2" / share).read_bytes()


def test_files_routed_in_worker_processes_are_those_routed_here(
    county: tuple[Path, list[tuple[str, bytes, object]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, _ = county
    here = _split(root, "here", None)
    started: list[int] = []

    def pool(initializer: Callable[..., None], initargs: tuple[Any, ...]) -> Executor:
        started.append(1)
        return executor(2, initializer, initargs)

    _split(root, "small", None, workers=pool)
    assert started == [], "a small county's few megabytes are worth no worker process"
    monkeypatch.setattr(partitions, "ROUTING_POOL_MIN_FILES", 2)
    monkeypatch.setattr(partitions, "ROUTING_POOL_MIN_BYTES", 0)
    pooled = _split(root, "pool", None, workers=pool)
    assert started == [1], "the files were not routed in the pool"
    assert (pooled.parts, pooled.files_routed) == (here.parts, here.files_routed)
    shares = _shares(root / "here")
    assert shares and shares == _shares(root / "pool")
    for share in shares:
        assert (root / "here" / share).read_bytes() == (root / "pool" / share).read_bytes()


def test_a_later_night_routes_only_what_changed_and_equals_a_full_split(
    county: tuple[Path, list[tuple[str, bytes, object]]],
) -> None:
    root, later = county
    cache, first = _first_split(root)
    write_files(root / "inbox", later, TIME_ZONE)
    _land(root)

    incremental = _split(root, "split2", cache)
    # The new roster's file is routed; files whose persons kept their homes are not.
    assert 1 <= incremental.files_routed < first.files_routed + 1
    assert incremental.files_kept >= 1
    full = _split(root, "split3", None)
    assert full.files_kept == 0 and incremental.parts == full.parts
    _assert_same(_partitions(root, incremental, "split2"), _partitions(root, full, "split3"))
    # Entries no split uses any more are removed: the cache holds this night's files.
    entries = [p for p in cache.glob("*/*") if p.is_dir()]
    assert len(entries) == incremental.files_routed + incremental.files_kept


def homes(**by_person: str) -> pd.Series:
    """A homes Series as `person_homes` gives it: person key → township."""
    return pd.Series(
        list(by_person.values()), index=pd.Index(list(by_person), dtype=object), dtype="string"
    )


def test_a_kept_file_is_routed_again_when_a_person_in_it_moved(tmp_path: Path) -> None:
    """An entry routed under other homes holds while its own persons' homes are the same."""
    entry = _Entry(tmp_path / "cache" / "village_women" / "k", "k")
    entry.folder.mkdir(parents=True)
    (entry.folder / "entry.json").write_text(json.dumps({"homes": "then", "parts": []}))
    pd.DataFrame({"person": ["a", "b"], "home": ["654226100", None]}, dtype="string").to_parquet(
        entry.folder / "homes.parquet", index=False
    )

    def kept(now: pd.Series) -> bool:
        return _ShareCache(tmp_path / "cache", now, "salt", tmp_path / "scratch").valid(entry)

    # Someone else moved (or arrived): the file's persons are where they were.
    assert kept(homes(a="654226100", c="654226101"))
    # A person of the file moved, or one without a home got one.
    assert not kept(homes(a="654226101"))
    assert not kept(homes(a="654226100", b="654226101"))


def test_the_last_splits_homes_tell_which_kept_files_a_move_touches(tmp_path: Path) -> None:
    """An entry kept by the last split is checked against who moved since, not read whole."""
    root = tmp_path / "cache"

    last = _ShareCache(root, homes(a="654226100", c="654226101"), "salt", tmp_path / "s")
    last.remember_homes()
    entry = _Entry(root / "village_women" / "k", "k")
    entry.folder.mkdir(parents=True)
    (entry.folder / "entry.json").write_text(json.dumps({"homes": last.homes_digest, "parts": []}))
    pd.DataFrame({"person": ["a"], "home": ["654226100"]}, dtype="string").to_parquet(
        entry.folder / "homes.parquet", index=False
    )
    # c moved, and d arrived: the entry lists neither.
    assert _ShareCache(
        root, homes(a="654226100", c="654226102", d="654226100"), "salt", tmp_path / "s"
    ).valid(entry)
    # a moved.
    assert not _ShareCache(root, homes(a="654226101", c="654226101"), "salt", tmp_path / "s").valid(
        entry
    )


def test_the_homes_distinct_rows_are_those_of_grouping_by_the_text() -> None:
    import pyarrow as pa

    files = [
        pa.table({"unit": ["1", "1", "2", None], "key": ["a", "a", "b", "b"], "r": [None] * 4}),
        pa.table(
            {
                "unit": pa.array(["2", "3"], pa.large_string()),
                "key": pa.array(["b", None], pa.large_string()),
                "r": pa.array([None, None], pa.null()),  # all null in a file: typed null
            }
        ),
    ]
    got = partitions._distinct(files, ["unit", "key", "r"]).to_pylist()
    assert sorted(got, key=str) == sorted(
        [
            {"unit": "1", "key": "a", "r": None},
            {"unit": "2", "key": "b", "r": None},
            {"unit": None, "key": "b", "r": None},
            {"unit": "3", "key": None, "r": None},
        ],
        key=str,
    )
