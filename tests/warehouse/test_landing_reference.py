"""Landing quarantines unknown units and impossible months before reading."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from sqlalchemy import Engine

from tests.warehouse.test_landing import VILLAGE, WOMAN_A, _ctx, _put, _roster, _uploads
from warehouse.landing import land_inbox


def test_unknown_units_and_months_outside_first_month_to_as_of_are_quarantined(
    engine: Engine, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    roster = _roster(f"阿依古丽,{WOMAN_A},常住,2,上环,2020-03-01,2026/9/3").encode()
    for name in (
        f"village_women_{VILLAGE}_202609.csv",
        "village_women_654226100999_202609.csv",
        f"village_women_{VILLAGE}_209912.csv",
        f"village_women_{VILLAGE}_190001.csv",
    ):
        _put(inbox, name, roster, "2026-10-03 10:00")
    ctx = dataclasses.replace(
        _ctx(tmp_path, "r1"),
        known_units=frozenset({VILLAGE, "654226100"}),
        as_of_month="2026-10",
        first_month="2026-01",
    )
    summary = land_inbox(engine, ctx)
    uploads = _uploads(engine).set_index("path")
    assert summary.files_by_status == {"loaded": 1, "quarantined": 3}
    assert uploads["reason_code"].fillna("").to_dict() == {
        f"village_women_{VILLAGE}_202609.csv": "",
        "village_women_654226100999_202609.csv": "unknown_unit",
        f"village_women_{VILLAGE}_209912.csv": "not_yet_due",
        f"village_women_{VILLAGE}_190001.csv": "before_first_month",
    }
    # A quarantined file keeps its claimed identity, and supersedes nothing.
    assert uploads.loc[f"village_women_{VILLAGE}_209912.csv", "report_month"] == "2099-12"
