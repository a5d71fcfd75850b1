"""How much of a published figure has been reviewed: `signed_off_share` (审核把关).

Pure: frames in, frames out.

Which village-months are *behind* a mart row (the decision, also in the data
dictionary): every village in the row's area (the village itself; every village
of a township; every village of the county) × every month of the row's period
for which that village has something to review — an upload received, or an
upload due at the run's as-of date (whether it arrived or not). Months of the
period not yet due and not uploaded are not behind it (`period_complete` says
whether the period is over). The share is signed-off village-months ÷
village-months behind the row; null when nothing is behind it.

Police and hospital uploads are not signed off per village (they are not the
village's uploads); their figures count through the villages they fall in.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from transforms.periods import Period

SHARE_COLUMNS = ("area_code", "period", "signed_off_share")


def signed_off_shares(
    review: pd.DataFrame, closure: pd.DataFrame, periods: Sequence[Period]
) -> pd.DataFrame:
    """The share of signed-off village-months per (area, period).

    review: one row per village-month to review — area_code (the village), month
    (`YYYY-MM`), signed_off (bool). closure: transforms.indicators.achievement.area_closure.
    Grain of the result: one row per (area_code, period) with at least one
    village-month behind it; columns SHARE_COLUMNS.
    """
    pairs = [(p.label, m) for p in dict.fromkeys(periods) for m in p.months]
    months = pd.DataFrame(pairs, columns=["period", "month"]).astype("string")
    frame = review[["area_code", "month", "signed_off"]].astype(
        {"area_code": "string", "month": "string", "signed_off": "bool"}
    )
    frame = frame.drop_duplicates(["area_code", "month"])
    behind = frame.merge(months, on="month", how="inner").merge(
        closure[["area_code", "ancestor_code"]], on="area_code", how="inner"
    )
    shares = behind.groupby(["ancestor_code", "period"], as_index=False)["signed_off"].mean()
    shares = shares.rename(columns={"ancestor_code": "area_code", "signed_off": "signed_off_share"})
    return shares.astype(
        {"area_code": "string", "period": "string", "signed_off_share": "float64"}
    )[list(SHARE_COLUMNS)]


def review_months(
    dq_reporting: pd.DataFrame, received: pd.DataFrame, signed: pd.DataFrame
) -> pd.DataFrame:
    """Village-months to review: those due (village rows of dq_reporting) or received.

    received, signed: area_code (village), month. Result: area_code, month, signed_off.
    """
    due = dq_reporting.loc[dq_reporting["source"] == "village", ["unit", "report_month"]]
    due = due.rename(columns={"unit": "area_code", "report_month": "month"})
    known = pd.concat([due, received[["area_code", "month"]]]).astype("string").drop_duplicates()
    marked = signed[["area_code", "month"]].astype("string").drop_duplicates()
    out = known.merge(marked.assign(signed_off=True), on=["area_code", "month"], how="left")
    out["signed_off"] = out["signed_off"].astype("boolean").fillna(False).astype(bool)
    return out.reset_index(drop=True)
