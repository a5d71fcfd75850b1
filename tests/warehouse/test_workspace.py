"""The run's workspace hands frames from task to task as Parquet: read back as written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from warehouse import workspace


def _frame(rows: int) -> pd.DataFrame:
    """Every dtype the stages hand on, with nulls, and a column null throughout."""
    return pd.DataFrame(
        {
            "text": pd.array(["普通", None, "a\tb"] * rows, dtype="string"),
            "count": pd.array([1, None, 3] * rows, dtype="Int64"),
            "share": pd.array([0.5, None, 1.25] * rows, dtype="Float64"),
            "flag": pd.array([True, None, False] * rows, dtype="boolean"),
            "day": pd.to_datetime(["2026-01-31", None, "2026-02-28"] * rows).astype(
                "datetime64[s]"
            ),
            "plain": np.arange(3 * rows, dtype="int64"),
            "nothing": pd.Series([None] * (3 * rows), dtype="object"),
        }
    )


def test_frames_read_back_as_pandas_reads_them(tmp_path: Path) -> None:
    for rows in (0, 1, 40):
        frame = _frame(rows)
        paths = workspace.save_frames(tmp_path, {"f": frame})
        read = workspace.load_frames(paths)["f"]
        pd.testing.assert_frame_equal(read, pd.read_parquet(paths["f"]))
        # The values as written (a date comes back in Parquet's milliseconds, either way).
        pd.testing.assert_frame_equal(read.drop(columns="day"), frame.drop(columns="day"))
        assert list(read.dtypes.astype(str))[:4] == ["string", "Int64", "Float64", "boolean"]
        some = workspace.read_table(paths["f"], columns=["text", "plain"])
        assert some.column_names == ["text", "plain"] and some.num_rows == 3 * rows


def test_gathered_frames_are_the_partitions_frames_in_order(tmp_path: Path) -> None:
    parts = []
    for i, rows in enumerate((2, 0, 1)):
        folder = tmp_path / str(i)
        folder.mkdir()
        parts.append(workspace.save_frames(folder, {"f": _frame(rows).assign(part=str(i))}))
    gathered = workspace.gather_frames(parts)["f"]
    expected = pd.concat([pd.read_parquet(p["f"]) for p in parts], ignore_index=True)
    pd.testing.assert_frame_equal(gathered, expected)
    assert gathered["part"].tolist() == ["0"] * 6 + ["2"] * 3
