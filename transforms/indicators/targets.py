"""Target operators: the one place that says whether a value meets its target, how a row's
status is decided and how good a value is (for ranks and trend arrows).

Every caller (the mart's status and rank, the bulletin's trend arrows, the mart audit)
uses these functions, so two copies of one rule cannot disagree.

- `meets`: `>=` (value ≥ target), `<=` (value ≤ target), `between` (target ≤ value ≤
  target_hi), on the unrounded value; no operator never meets.
- `judge`: the published status — `no_data` (denominator 0) before `too_few` (below
  the indicator's minimum) before `no_target` before `met` / `not_met`.
- `score`: smaller is better — `-value` (better higher), `value` (better lower), the
  distance to the target for `range`: below a `>=` floor or a `between` band's low
  end, above a `<=` ceiling or a `between` band's high end (0 inside).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pandas as pd

TARGET_OPS = (">=", "<=", "between")
STATUSES = ("met", "not_met", "no_target", "no_data", "too_few")
RANKED_STATUSES = ("met", "not_met")


def _floats(series: pd.Series) -> npt.NDArray[np.float64]:
    return np.asarray(pd.to_numeric(series, errors="coerce"), dtype="float64")


def _ops(op: pd.Series) -> npt.NDArray[np.object_]:
    return op.astype("string").fillna("").to_numpy(dtype=object)


def meets(value: pd.Series, op: pd.Series, target: pd.Series, hi: pd.Series) -> pd.Series:
    """Whether each value satisfies its target (plain bool; no target or no value: False)."""
    v, lo, up, ops = _floats(value), _floats(target), _floats(hi), _ops(op)
    with np.errstate(invalid="ignore"):
        met = np.select(
            [ops == ">=", ops == "<=", ops == "between"],
            [v >= lo, v <= lo, (v >= lo) & (v <= up)],
            default=False,
        )
    return pd.Series(met.astype(bool), index=value.index)


def judge(
    value: pd.Series,
    denominator: pd.Series,
    op: pd.Series,
    target: pd.Series,
    hi: pd.Series,
    too_few: pd.Series | None = None,
) -> pd.Series:
    """Status per row on the unrounded value (order of precedence: module docstring).

    `denominator` is null for counts (never no_data). `too_few` marks rows whose base is
    below the indicator's minimum (catalog `min_denominator`).
    """
    ops = _ops(op)
    v = _floats(value)
    den = _floats(denominator)
    status = np.where(meets(value, op, target, hi).to_numpy(), "met", "not_met").astype(object)
    status[~np.isin(ops, TARGET_OPS)] = "no_target"
    if too_few is not None:
        status[too_few.fillna(False).to_numpy(dtype=bool)] = "too_few"
    status[(den == 0) | np.isnan(v)] = "no_data"
    return pd.Series(status, index=value.index, dtype="string")


def score(
    value: pd.Series, better: pd.Series, op: pd.Series, target: pd.Series, hi: pd.Series
) -> pd.Series:
    """Smaller is better (see the module docstring); `better` empty → from the operator."""
    v, lo, up, ops = _floats(value), _floats(target), _floats(hi), _ops(op)
    direction = better.astype("string").fillna("").to_numpy(dtype=object)
    fallback = np.select([ops == ">=", ops == "<="], ["higher", "lower"], default="range")
    direction = np.where(direction == "", fallback, direction)
    with np.errstate(invalid="ignore"):
        floor = np.where(ops == "<=", np.nan, lo)
        ceiling = np.where(ops == "between", up, np.where(ops == "<=", lo, np.nan))
        below = np.where(np.isnan(floor), 0.0, np.maximum(floor - v, 0.0))
        above = np.where(np.isnan(ceiling), 0.0, np.maximum(v - ceiling, 0.0))
    out = np.select([direction == "higher", direction == "lower"], [-v, v], default=below + above)
    return pd.Series(out.astype("float64"), index=value.index)


def score_one(value: float, better: str | None, op: str | None, lo: float, hi: float) -> float:
    """`score` of one value (the bulletin compares a value with last period's)."""
    if math.isnan(value):
        return math.nan
    one = score(
        pd.Series([value]),
        pd.Series([better or ""], dtype="string"),
        pd.Series([op or ""], dtype="string"),
        pd.Series([lo]),
        pd.Series([hi]),
    )
    return float(one.iloc[0])
