"""Target operators: one module judges, scores and says what meets."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from transforms.indicators.targets import judge, meets, score, score_one


def _s(*values: object) -> pd.Series:
    return pd.Series(list(values))


def test_meets_on_the_unrounded_value() -> None:
    got = meets(
        _s(200 / 199, 89.45, 105.0, 110.0, 1.0),
        _s("<=", ">=", "between", "between", None),
        _s(1.0, 87.0, 103.0, 103.0, 1.0),
        _s(None, None, 107.0, 107.0, None),
    )
    assert got.tolist() == [False, True, True, False, False]


def test_judge_precedence_no_data_too_few_no_target() -> None:
    status = judge(
        _s(math.nan, 200.0, 50.0, 50.0),
        _s(0.0, 1.0, 10.0, 10.0),
        _s(">=", "between", None, ">="),
        _s(1.0, 103.0, None, 40.0),
        _s(None, 107.0, None, None),
        _s(True, True, False, False),
    )
    assert status.tolist() == ["no_data", "too_few", "no_target", "met"]


@pytest.mark.parametrize(
    ("value", "op", "lo", "hi", "expected"),
    [
        (112.0, "<=", 110.0, math.nan, 2.0),  # above a ceiling: 2 away (the bulletin said 0)
        (108.0, "<=", 110.0, math.nan, 0.0),
        (100.0, ">=", 103.0, math.nan, 3.0),
        (108.0, "between", 103.0, 107.0, 1.0),
        (105.0, "between", 103.0, 107.0, 0.0),
    ],
)
def test_range_scores_the_distance_to_the_target(
    value: float, op: str, lo: float, hi: float, expected: float
) -> None:
    assert score_one(value, "range", op, lo, hi) == pytest.approx(expected)
    vector = score(_s(value), _s("range"), _s(op), _s(lo), _s(hi))
    assert vector.iloc[0] == pytest.approx(expected)


def test_higher_and_lower_scores_and_the_operators_direction() -> None:
    assert score_one(90.0, "higher", ">=", 87.0, math.nan) == -90.0
    assert score_one(1.0, "lower", "<=", 1.0, math.nan) == 1.0
    assert score_one(1.0, None, "<=", 1.0, math.nan) == 1.0
    assert math.isnan(score_one(math.nan, "higher", ">=", 87.0, math.nan))
