"""Exports survive hostile names: formula headers neutralised, any name a legal sheet name."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from python_calamine import CalamineWorkbook

from warehouse.tabular import sheet_names, write_csv, write_xlsx


def test_a_township_named_like_a_formula_is_text_in_pivot_headers(tmp_path: Path) -> None:
    pivot = pd.DataFrame({"指标": ["政策符合率"], "=1+1": [98.5], "@SUM(A1)": [1.0]})
    path = write_xlsx(tmp_path / "r.xlsx", {"汇总": pivot})
    header = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()[0]
    assert header == ["指标", "'=1+1", "'@SUM(A1)"]
    text = write_csv(tmp_path / "r.csv", pivot).read_text(encoding="utf-8-sig")
    assert text.splitlines()[0] == "指标,'=1+1,'@SUM(A1)"


def test_any_township_name_becomes_a_legal_distinct_sheet_name(tmp_path: Path) -> None:
    names = ["a/b", "[镇]", "'引号'", "问?星*号:", "x" * 40, "X" * 40, "", "Sheet"]
    legal = sheet_names(names)
    assert legal[:4] == ["a_b", "_镇_", "引号", "问_星_号_"]
    assert all(0 < len(n) <= 31 for n in legal)
    assert len({n.lower() for n in legal}) == len(names)
    frame = pd.DataFrame({"v": [1]})
    path = write_xlsx(tmp_path / "b.xlsx", dict.fromkeys(names, frame))
    assert CalamineWorkbook.from_path(str(path)).sheet_names == legal
