"""Landing's pure stage function: read results → manifest records and staged rows."""

from __future__ import annotations

import numpy as np
import pandas as pd

from transforms.landing.batches import FileRead, file_records, stage_files, unread_rows, unreadable
from transforms.landing.identity import id_check_digit
from transforms.landing.normalise import normalise_frame
from transforms.landing.readers import canonical_frame, failed_read, read_upload
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
    reads = [FileRead.of(r) for r in results]
    records = file_records(_files(), reads, "run-1", deadline_day=5).set_index("upload_id")
    assert records.loc[11, "status"] == "loaded" and records.loc[11, "rows"] == 1
    assert records.loc[12, "status"] == "quarantined"
    assert records.loc[12, "reason_code"] == "unreadable"
    assert "denied" in str(records.loc[12, "reason_en"])
    assert list(records["late"]) == [False, True]  # deadline: the 5th of the next month
    lineage = _files().loc[[0], ["upload_id", "unit", "report_month"]]
    as_read, staged = stage_files(results[:1], lineage, template, contract, b"secret")
    assert as_read.column("upload_id").to_pylist() == [11]
    assert list(staged["upload_id"]) == [11]
    assert list(staged["report_month"]) == ["2026-09"]


def test_a_batch_staged_from_arrow_equals_each_file_canonical_frame_concatenated() -> None:
    contract = load_contract()
    template = contract.templates["village_women"]
    other = "身份证号,姓名,备注\n" + f"{WOMAN},古丽,x\n" * 2  # columns moved, one extra
    results = [
        read_upload(ROSTER, "csv", template),
        read_upload("姓名,身份证号\n".encode(), "csv", template),  # a header, no rows
        read_upload(other.encode("gb18030"), "csv", template),
    ]
    lineage = pd.DataFrame(
        {"upload_id": [1, 2, 3], "unit": ["a", "b", "c"], "report_month": ["2026-09"] * 3}
    )
    as_read, staged = stage_files(results, lineage, template, contract, b"secret")
    frames = [canonical_frame(r) for r in results]
    whole = pd.concat(frames, ignore_index=True)
    for name in ("upload_id", "unit", "report_month"):
        whole[name] = np.repeat(lineage[name].to_numpy(), [len(f) for f in frames])
    expected = normalise_frame(whole, template, contract, whole["report_month"], b"secret")
    pd.testing.assert_frame_equal(staged, expected)
    assert as_read.column_names[-1] == "备注"  # the union of the files' own columns
    assert as_read.column("upload_id").to_pylist() == [1, 3, 3]


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
