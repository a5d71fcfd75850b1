"""transforms.officer.explain on tiny frames: which records count, and where each came from."""

from __future__ import annotations

from datetime import date

import pandas as pd

from transforms.indicators.catalog import load_catalog
from transforms.officer.explain import (
    counted_records,
    explanation_frame,
    left_out_in_snapshot,
    trace_records,
)
from transforms.periods import parse_period

CATALOG = {i.code: i for i in load_catalog()}
V1, V2 = "654226100201", "654226101201"


def _births() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "birth_key": ["b1", "b2", "b3", "b4"],
            "area_code": [V1, V1, V1, V2],
            "birth_date": pd.to_datetime(["2026-02-03", "2026-02-03", "2026-04-01", "2026-02-09"]),
            "birth_month": ["2026-02", "2026-02", "2026-04", "2026-02"],
            "child_sex": ["M", "F", "M", "F"],
            "birth_order": [1, 1, 3, 2],
            "policy_status": ["政策内", "政策内", "政策外", None],
            "status": ["matched", "matched", "village_only", "pending"],
            "mother_key": ["m1", "m1", "m2", "m3"],
        }
    )


def test_counted_records_take_the_period_months_and_the_areas_asked() -> None:
    scoped = counted_records(
        _births(), CATALOG["policy_compliance_rate"], [V1], parse_period("2026-Q1")
    )
    assert list(scoped["birth_key"]) == ["b1", "b2"]
    assert list(scoped["numerator"]) == [1.0, 1.0] and list(scoped["denominator"]) == [1.0, 1.0]
    counts = counted_records(_births(), CATALOG["births"], [V1, V2], parse_period("2026-02"))
    assert counts["denominator"].isna().all() and counts["counted"].all()


def test_stocks_count_the_last_snapshot_of_the_period_per_area() -> None:
    women = pd.DataFrame(
        {
            "snapshot_month": ["2026-01", "2026-02", "2026-02", "2026-01"],
            "woman_key": ["w1", "w1", "w2", "w3"],
            "area_code": [V1, V1, V1, V2],
            "method": ["上环", "上环", "无", "结扎"],
        }
    )
    scoped = counted_records(
        women, CATALOG["contraceptive_prevalence"], [V1, V2], parse_period("2026-Q1")
    )
    assert sorted(zip(scoped["woman_key"], scoped["month"], strict=True)) == [
        ("w1", "2026-02"),
        ("w2", "2026-02"),
        ("w3", "2026-01"),  # V2's last snapshot in the quarter
    ]
    assert scoped["numerator"].sum() == 2 and scoped["denominator"].sum() == 3


def test_twins_are_traced_to_their_own_rows() -> None:
    scoped = counted_records(_births(), CATALOG["births"], [V1], parse_period("2026-02"))
    staged = {
        "village_births": pd.DataFrame(
            {
                "mother_id_key": ["m1", "m1"],
                "birth_date": [date(2026, 2, 3), date(2026, 2, 3)],
                "mother_id": ["65422619900101002X", "65422619900101002X"],
                "file_name": ["village_births_654226100201_202602.csv"] * 2,
                "row_number": [4, 5],
            }
        )
    }
    traced = trace_records(scoped, "recon_births", staged, pd.DataFrame())
    assert sorted(traced["row_number"]) == [4, 5]
    assert set(traced["person"]) == {"654226********002X"}
    assert traced["other_sources"].isna().all()
    both = explanation_frame(traced, pd.DataFrame())
    assert list(both["included"]) == [True, True]


def test_a_stock_misses_only_what_its_snapshot_misses() -> None:
    scoped = pd.DataFrame({"area_code": [V1, V1], "month": ["2026-05", "2026-05"]})
    left_out = pd.DataFrame(
        {
            "area_code": [V1, V1, V1, V2],
            "month": ["2026-02", "2026-05", "2026-06", "2026-02"],
            "reason": ["error_row", "error_row", "quarantined", "error_row"],
        }
    )
    kept = left_out_in_snapshot(left_out, scoped)
    assert list(zip(kept["month"], kept["reason"], strict=True)) == [
        ("2026-05", "error_row"),  # a row of the snapshot used
        ("2026-06", "quarantined"),  # why June's roster is not the snapshot
        ("2026-02", "error_row"),  # V2 has no snapshot: everything stays
    ]
