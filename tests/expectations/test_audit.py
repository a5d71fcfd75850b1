"""The mart audit: a correct mart passes; each kind of defect fails it."""

from __future__ import annotations

import pandas as pd
import pytest

from expectations.audit import audit_mart


def _mart() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "area_code": ["654226", "654226", "654226"],
            "area_name": ["县"] * 3,
            "area_level": ["county"] * 3,
            "parent_code": [None] * 3,
            "period": ["2026-01..2026-09"] * 3,
            "period_start": pd.to_datetime(["2026-01-01"] * 3),
            "period_end": pd.to_datetime(["2026-09-30"] * 3),
            "indicator": ["multi_child_rate", "policy_compliance_rate", "births"],
            "indicator_name": ["多孩率", "政策符合率", "出生人数"],
            "numerator": [2.0, 178.0, 199.0],
            "denominator": [199.0, 199.0, None],
            "value": [2 * 100 / 199, 178 * 100 / 199, 199.0],
            "unit": ["%", "%", "count"],
            "target_op": ["<=", ">=", None],
            "target": [1.0, 87.0, None],
            "target_hi": [None, None, None],
            "status": ["not_met", "met", "no_target"],
            "rank": [1, 1, None],
            "period_complete": [True] * 3,
            "signed_off_share": [0.5, 1.0, None],
            "run_id": ["r1"] * 3,
        }
    )


def test_a_correct_mart_passes() -> None:
    result = audit_mart(_mart())
    assert result.passed, result.failures


@pytest.mark.parametrize(
    ("column", "row", "bad", "message"),
    [
        ("status", 0, "met", "status"),  # 1.005 % does not meet <= 1.0
        ("value", 1, 89.0, "value"),
        ("numerator", 1, 200.0, "numerator"),
        ("area_name", 2, "654226199001010029", "ID"),
        ("indicator", 1, "multi_child_rate", "repeated key"),
        ("signed_off_share", 0, 1.5, "signed_off_share outside 0..1"),
    ],
)
def test_each_defect_fails_the_audit(column: str, row: int, bad: object, message: str) -> None:
    mart = _mart()
    mart.loc[row, column] = bad
    result = audit_mart(mart)
    assert not result.passed
    assert any(message in line for line in result.failures), result.failures
