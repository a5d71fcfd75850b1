"""signed_off_share: which village-months are behind a mart row, and how many are signed off."""

from __future__ import annotations

import pandas as pd
import pytest

from transforms.indicators.achievement import area_closure, compute_indicators, normalise_areas
from transforms.indicators.catalog import load_catalog
from transforms.indicators.signoff import review_months, signed_off_shares
from transforms.periods import parse_period

COUNTY, TOWN_A, TOWN_B = "654226", "654226100", "654226101"
A1, A2, B1 = "654226100001", "654226100002", "654226101001"


def _areas() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "code": [COUNTY, TOWN_A, TOWN_B, A1, A2, B1],
            "name": ["县", "甲镇", "乙乡", "甲一村", "甲二村", "乙一村"],
            "level": ["county", "township", "township", "village", "village", "village"],
            "parent_code": ["", COUNTY, COUNTY, TOWN_A, TOWN_A, TOWN_B],
        }
    )


def _review(*rows: tuple[str, str, bool]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["area_code", "month", "signed_off"])


def _shares(review: pd.DataFrame, *labels: str) -> dict[tuple[str, str], float]:
    closure = area_closure(normalise_areas(_areas()))
    out = signed_off_shares(review, closure, [parse_period(label) for label in labels])
    return {(r.area_code, r.period): r.signed_off_share for r in out.itertuples()}


def test_a_row_counts_the_village_months_of_its_subtree_and_period() -> None:
    review = _review(
        (A1, "2026-07", True),
        (A1, "2026-08", True),
        (A2, "2026-07", False),
        (A2, "2026-08", True),
        (B1, "2026-07", True),
        (B1, "2026-08", True),
    )
    shares = _shares(review, "2026-07", "2026-Q3")
    assert shares[(A1, "2026-07")] == 1.0
    assert shares[(A2, "2026-07")] == 0.0
    assert shares[(TOWN_A, "2026-07")] == 0.5  # A1 yes, A2 no
    assert shares[(TOWN_A, "2026-Q3")] == 0.75  # 3 of A1/A2 × Jul/Aug
    assert shares[(COUNTY, "2026-Q3")] == pytest.approx(5 / 6)
    # September is neither due nor uploaded: not behind the quarter, no row for the month.
    assert (COUNTY, "2026-09") not in _shares(review, "2026-09")


def test_review_months_are_due_or_received_and_marked_where_signed() -> None:
    dq_reporting = pd.DataFrame(
        {
            "unit": [A1, A1, A2, "654226100"],
            "source": ["village", "village", "village", "police"],
            "kind": ["women", "births", "women", "hukou"],
            "report_month": ["2026-08", "2026-08", "2026-08", "2026-08"],
        }
    )
    received = pd.DataFrame({"area_code": [A1, B1], "month": ["2026-09", "2026-09"]})
    signed = pd.DataFrame({"area_code": [A1], "month": ["2026-08"]})
    out = review_months(dq_reporting, received, signed).sort_values(["area_code", "month"])
    assert list(out.itertuples(index=False, name=None)) == [
        (A1, "2026-08", True),
        (A1, "2026-09", False),
        (A2, "2026-08", False),
        (B1, "2026-09", False),
    ]


def test_the_mart_carries_the_share_and_null_without_review() -> None:
    births = pd.DataFrame(
        {
            "birth_key": ["k1"],
            "area_code": [A1],
            "birth_date": pd.to_datetime(["2026-08-03"]),
            "birth_month": ["2026-08"],
            "child_sex": ["1"],
            "birth_order": [1],
            "policy_status": ["政策内"],
            "in_village": [True],
            "in_hospital": [True],
            "in_police": [False],
            "status": ["matched"],
        }
    )
    targets = pd.DataFrame(columns=["year", "area_code", "indicator", "op", "target", "target_hi"])
    catalog = load_catalog().select(["births"])
    periods = [parse_period("2026-08")]
    args = ({"recon_births": births}, catalog, _areas(), targets, periods, "r1")
    review = _review((A1, "2026-08", True), (A2, "2026-08", False))
    mart = compute_indicators(*args, review=review)
    share = mart.groupby("area_code")["signed_off_share"].first()
    assert share[A1] == 1.0 and share[A2] == 0.0 and share[TOWN_A] == 0.5
    assert pd.isna(share[B1]) and pd.isna(share[TOWN_B])  # nothing behind them
    assert mart["signed_off_share"].dtype == "Float64"
    assert compute_indicators(*args)["signed_off_share"].isna().all()
