"""The district's reference folder: areas, institutions, targets (uploads.md)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

REFERENCE_FILES = {
    "areas": ("areas.csv", ["code", "name", "level", "parent_code"]),
    "institutions": ("institutions.csv", ["code", "name", "township_code"]),
    "targets": ("targets.csv", ["year", "area_code", "indicator", "op", "target", "target_hi"]),
}


class ReferenceError(ValueError):
    """The reference folder lacks a file or a column; the run cannot judge anything without it."""


@dataclass(frozen=True)
class Reference:
    areas: pd.DataFrame
    institutions: pd.DataFrame
    targets: pd.DataFrame


def _read(folder: Path, name: str, columns: list[str]) -> pd.DataFrame:
    path = folder / name
    if not path.exists():
        raise ReferenceError(f"参考数据缺少 {name}（{folder}） / reference file missing: {path}")
    frame = pd.read_csv(path, dtype="string", keep_default_na=False, encoding="utf-8-sig")
    frame = frame.replace("", pd.NA)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ReferenceError(f"{name} 缺少列 {missing} / {name} lacks columns {missing}")
    return frame


def read_reference(folder: Path) -> Reference:
    """Read the three reference files, every column as text (codes keep leading zeros).

    targets.csv stays text as written: a non-numeric year or target is a quality issue
    of its row (transforms.indicators.achievement.target_findings), never a crash of the run.
    """
    frames = {key: _read(folder, name, cols) for key, (name, cols) in REFERENCE_FILES.items()}
    return Reference(
        areas=frames["areas"], institutions=frames["institutions"], targets=frames["targets"]
    )
