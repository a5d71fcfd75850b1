"""Landing's pure stage function: read results → manifest records and staged rows."""

from __future__ import annotations

import pandas as pd

from transforms.landing.batches import sort_read_results, stage_rows, unread_rows, unreadable
from transforms.landing.identity import id_check_digit
from transforms.landing.readers import failed_read, read_upload
from transforms.templates import load_contract

BODY = "65422619900101002"
WOMAN = BODY + id_check_digit(BODY)
ROSTER = (
    "姓名,身份证号,人口类别,现有子女数,避孕措施,措施落实日期,最近三查日期\n"
    f"阿依,{WOMAN},户籍,1,上环,2024-03-01,2026-08-01\n"
).encode()


def _files() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "upload_id": [11, 12],
            "path": ["a.csv", "b.csv"],
            "unit": ["654226100201", "654226100201"],
            "report_month": ["2026-09", "2026-09"],
            "arrived_at": pd.to_datetime(["2026-10-03", "2026-10-09"]),
        }
    )


def test_a_good_file_is_loaded_and_staged_and_a_bad_one_quarantined() -> None:
    contract = load_contract()
    template = contract.templates["village_women"]
    results = [
        read_upload(ROSTER, "csv", template),
        failed_read(unreadable(PermissionError("denied")), template),
    ]
    files = sort_read_results(_files(), results, "run-1", deadline_day=5)
    records = files.records.set_index("upload_id")
    assert records.loc[11, "status"] == "loaded" and records.loc[11, "rows"] == 1
    assert records.loc[12, "status"] == "quarantined"
    assert records.loc[12, "reason_code"] == "unreadable"
    assert "denied" in str(records.loc[12, "reason_en"])
    assert list(records["late"]) == [False, True]  # deadline: the 5th of the next month
    assert list(files.as_read[0]["upload_id"]) == [11]
    staged = stage_rows(files, template, contract, b"secret")
    assert list(staged["upload_id"]) == [11]
    assert list(staged["report_month"]) == ["2026-09"]


def test_unread_files_are_duplicates_or_keep_their_name_problem() -> None:
    files = _files().assign(
        duplicate_of=[5, pd.NA],
        reason_code=[None, "bad_name"],
        reason_zh=[None, "名"],
        reason_en=[None, "name"],
    )
    rows = unread_rows(files)
    assert [r["status"] for r in rows] == ["duplicate", "quarantined"]
    assert rows[1]["reason_code"] == "bad_name"
