"""Landing a small inbox: manifest statuses, raw layer, staging, idempotent reruns."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
from sqlalchemy import Engine, select

from transforms.landing.identity import id_check_digit
from transforms.templates import load_contract
from warehouse import schema
from warehouse.landing import LandingContext, land_inbox, month_chunks
from warehouse.load import read_frame

VILLAGE = "654226100201"


def _id(body17: str) -> str:
    return body17 + id_check_digit(body17)


WOMAN_A = _id("65422619900101002")
WOMAN_B = _id("65422619881212003")
HEADER = "姓名,身份证号,人口类别,现有子女数,避孕措施,措施落实日期,最近三查日期\n"


def _roster(*rows: str) -> str:
    return HEADER + "".join(r + "\n" for r in rows)


def _put(inbox: Path, relative: str, data: bytes, when: str) -> None:
    path = inbox / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    stamp = datetime.fromisoformat(when).timestamp()
    os.utime(path, (stamp, stamp))


def _ctx(tmp_path: Path, run_id: str) -> LandingContext:
    return LandingContext(
        inbox=tmp_path / "inbox",
        raw_dir=tmp_path / "raw",
        run_id=run_id,
        contract=load_contract(),
        secret=b"test",
        deadline_day=5,
        time_zone="UTC",
    )


def _uploads(engine: Engine) -> pd.DataFrame:
    with engine.connect() as conn:
        return read_frame(conn, select(schema.uploads).order_by(schema.uploads.c.upload_id))


def test_landing_statuses_raw_and_staging(engine: Engine, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    good = _roster(
        f"阿依古丽,{WOMAN_A},常住,2,上环,2020-03-01,2026/9/3",
        f"其其格,'{WOMAN_B.lower()},流入,1,无,,20260901",
    )
    _put(
        inbox,
        f"09/village_women_{VILLAGE}_202609.csv",
        good.encode("utf-8-sig"),
        "2026-10-03 10:00",
    )
    _put(
        inbox,
        f"copy/village_women_{VILLAGE}_202609.csv",
        good.encode("utf-8-sig"),
        "2026-10-04 10:00",
    )
    births = "母亲姓名,产妇身份证号,性别,出生日期,孩次,计划内外,填报日期\n"
    births += f"阿依古丽,{WOMAN_A},女,2026年9月3日,2,计划内,2026-09-30\n"
    _put(inbox, f"village_births_{VILLAGE}_202609.csv", births.encode("gbk"), "2026-10-08 09:00")
    _put(
        inbox,
        f"village_fees_{VILLAGE}_202609.csv",
        "案件编号,当事人姓名\nA1,x\n".encode(),
        "2026-10-02 09:00",
    )
    _put(inbox, "notes.txt", b"hello", "2026-10-02 09:00")
    _put(inbox, "~$village_women_654226100201_202609.xlsx", b"lock", "2026-10-02 09:00")

    summary = land_inbox(engine, _ctx(tmp_path, "r1"))
    uploads = _uploads(engine).set_index("path")
    assert summary.files_by_status == {"loaded": 2, "duplicate": 1, "quarantined": 3}
    assert uploads.loc[f"copy/village_women_{VILLAGE}_202609.csv", "status"] == "duplicate"
    fees = uploads.loc[f"village_fees_{VILLAGE}_202609.csv"]
    assert fees["status"] == "quarantined" and "应征金额" in fees["reason_zh"]
    assert uploads.loc["notes.txt", "reason_code"] == "unsupported_format"
    births_row = uploads.loc[f"village_births_{VILLAGE}_202609.csv"]
    assert bool(births_row["late"]) and births_row["encoding"] == "gb18030"
    assert not bool(uploads.loc[f"09/village_women_{VILLAGE}_202609.csv", "late"])

    with engine.connect() as conn:
        women = read_frame(
            conn,
            select(schema.staging_tables["village_women"]).order_by(
                schema.staging_tables["village_women"].c.row_number
            ),
        )
    assert list(women["id_number"]) == [WOMAN_A, WOMAN_B]
    assert women["err_id_number"].isna().all()
    assert list(women["method"]) == ["上环", "无"]
    assert women.loc[0, "last_check_date"] == pd.Timestamp("2026-09-03")
    raw_files = list((tmp_path / "raw" / "as_read").rglob("*.parquet"))
    assert len(raw_files) == 2
    as_read = pq.read_table(next(p for p in raw_files if "village_women" in str(p))).to_pandas()
    assert list(as_read["身份证号"])[1] == f"'{WOMAN_B.lower()}"
    assert set(as_read["upload_id"]) == {
        int(uploads.loc[f"09/village_women_{VILLAGE}_202609.csv", "upload_id"])
    }

    again = land_inbox(engine, _ctx(tmp_path, "r2"))
    assert again.files_by_status == {} and len(_uploads(engine)) == 6


def test_a_correction_supersedes_and_keeps_the_old_rows(engine: Engine, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    _put(
        inbox,
        f"village_women_{VILLAGE}_202609.csv",
        _roster(f"阿依古丽,{WOMAN_A},常住,2,上环,2020-03-01,2026-09-03").encode(),
        "2026-10-03 10:00",
    )
    land_inbox(engine, _ctx(tmp_path, "r1"))
    _put(
        inbox,
        f"village_women_{VILLAGE}_202609_更正.csv",
        _roster(f"阿依古丽,{WOMAN_A},常住,3,结扎,2026-09-20,2026-09-03").encode(),
        "2026-10-09 10:00",
    )
    land_inbox(engine, _ctx(tmp_path, "r2"))
    uploads = _uploads(engine)
    assert list(uploads["status"]) == ["superseded", "loaded"]
    with engine.connect() as conn:
        staged = read_frame(conn, schema.staging_tables["village_women"])
    assert sorted(staged["children"].tolist()) == [2, 3]


def test_bad_cells_never_crash_and_keep_an_error_code(engine: Engine, tmp_path: Path) -> None:
    rows = _roster(
        "甲,6.54226E+17,常住,2,上环,2020-03-01,2026-09-03",
        f"乙,{WOMAN_A[:-1]}0,外星,十,飞行,不知道,2026-13-45",
        "丙,,常住,1,无,,",
    )
    _put(
        tmp_path / "inbox", f"village_women_{VILLAGE}_202609.csv", rows.encode(), "2026-10-03 10:00"
    )
    land_inbox(engine, _ctx(tmp_path, "r1"))
    with engine.connect() as conn:
        staged = read_frame(
            conn,
            select(schema.staging_tables["village_women"]).order_by(
                schema.staging_tables["village_women"].c.row_number
            ),
        )
    assert list(staged["err_id_number"]) == ["id_scientific", "id_checksum", "missing"]
    assert staged.loc[1, "err_residence"] == "enum_value"
    assert staged.loc[1, "err_last_check_date"] == "date_format"
    assert staged["id_number"].isna().all()


def test_months_landed_together_keep_a_staged_file_and_archive_per_month(
    engine: Engine, tmp_path: Path
) -> None:
    """A unit that sends a few files a month lands several months in one batch
    (`month_chunks`): each month still gets its own staged file and as-read archive."""
    inbox = tmp_path / "inbox"
    for month, woman in (("07", WOMAN_A), ("08", WOMAN_B), ("09", WOMAN_A)):
        roster = _roster(f"甲,{woman},常住,1,上环,2020-03-01,2026-{month}-03")
        name = f"village_women_{VILLAGE}_2026{month}.csv"
        _put(inbox, f"{month}/{name}", roster.encode(), f"2026-{month}-28 10:00")
        if month == "08":
            _put(inbox, f"copy/{name}", roster.encode(), f"2026-{month}-29 10:00")

    summary = land_inbox(engine, _ctx(tmp_path, "r1"))

    assert summary.files_by_status == {"loaded": 3, "duplicate": 1}
    loaded = _uploads(engine).query("status == 'loaded'").set_index("report_month")
    for month, woman in (("2026-07", WOMAN_A), ("2026-08", WOMAN_B), ("2026-09", WOMAN_A)):
        path = str(loaded.loc[month, "staged_path"])
        assert f"month={month}/" in path
        staged = pq.read_table(tmp_path / "raw" / path).to_pandas()
        assert list(staged["report_month"]) == [month]
        assert list(staged["id_number"]) == [woman]
        archived = list((tmp_path / "raw" / "as_read").glob(f"kind=village_women/month={month}/*"))
        assert len(archived) == 1
        assert pq.read_table(archived[0]).column("upload_id").to_pylist() == [
            int(loaded.loc[month, "upload_id"])
        ]
    with engine.connect() as conn:
        rows = read_frame(conn, select(schema.staging_tables["village_women"]))
    assert sorted(rows["report_month"]) == ["2026-07", "2026-08", "2026-09"]


def test_month_chunks_gather_months_until_they_hold_enough_files() -> None:
    assert month_chunks([300, 300, 300], chunk_files=200) == [[0], [1], [2]]
    assert month_chunks([22] * 12, chunk_files=100) == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9], [10, 11]]
    assert month_chunks([5, 250, 1, 1], chunk_files=200) == [[0, 1], [2, 3]]
    assert month_chunks([], chunk_files=200) == []
