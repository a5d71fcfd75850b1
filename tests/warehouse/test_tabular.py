"""Exports neutralise formula injection and open again with the same content."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from warehouse.tabular import neutralise, write_csv, write_xlsx


def test_formula_like_text_is_neutralised_and_numbers_are_not() -> None:
    frame = pd.DataFrame(
        {
            "备注": ["=cmd|' /C calc'!A0", "+1", "-x", "@SUM(A1)", "正常", None],
            "数值": [-1.5, 2.0, 3.0, 4.0, 5.0, 6.0],
        }
    )
    safe = neutralise(frame)
    assert list(safe["备注"].iloc[:5]) == ["'=cmd|' /C calc'!A0", "'+1", "'-x", "'@SUM(A1)", "正常"]
    assert pd.isna(safe["备注"].iloc[5])
    assert safe["数值"].iloc[0] == -1.5


def test_xlsx_and_csv_open_with_chinese_headers(tmp_path: Path) -> None:
    frame = pd.DataFrame({"指标": ["政策符合率"], "值": [89.45], "公式": ["=1+1"]})
    xlsx = write_xlsx(tmp_path / "out.xlsx", {"结果": frame})
    back = pd.read_excel(xlsx, sheet_name="结果", engine="calamine")
    assert list(back.columns) == ["指标", "值", "公式"]
    assert back.loc[0, "公式"] == "'=1+1" and back.loc[0, "值"] == 89.45
    csv = write_csv(tmp_path / "out.csv", frame)
    assert csv.read_bytes().startswith(b"\xef\xbb\xbf")
    assert pd.read_csv(csv, encoding="utf-8-sig").loc[0, "公式"] == "'=1+1"
