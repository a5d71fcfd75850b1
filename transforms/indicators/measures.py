"""Named measures over the reconciled frames: the numerators and denominators
the indicator catalog (contracts/indicators.toml) refers to by name.

Every measure returns one frame with the grain **(area_code, month)** and the
columns `area_code` (str), `month` (`YYYY-MM`, str) and `value` (float):

- a **flow** measure counts (or sums) events by the month they happened in
  (birth month, exam month, event month, report month of the upload); summing
  over the months of a period gives the period's value;
- a **stock** measure is a snapshot: one row for every (area, month) that has
  a snapshot in its source frame (the roster, the fee ledger), zero-valued
  rows included, so that "the last month of the period that has a snapshot"
  is simply the last month with a row. Numerator and denominator of one
  indicator come from the same frame, so they always use the same snapshot.

`area_code` is whatever the source frame holds: the village, except for
`dq_reporting`, where police and hospital uploads sit on a township code.

Adding a measure = one decorated function here; adding an indicator that
uses existing measures = data only (contracts/indicators.toml).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from transforms.templates import enum_value

MeasureKind = Literal["flow", "stock"]

# Meanings of enumeration values (templates.toml), checked against it when it loads.
(POLICY_IN,) = enum_value("policy_status", "政策内")
(NO_METHOD, STERILISATION) = enum_value("method", "无", "结扎")
LONG_ACTING = enum_value("method", "上环", "结扎", "皮埋")
(IN_MIGRANT,) = enum_value("residence", "流入")


@dataclass(frozen=True)
class Measure:
    """A named numerator or denominator computed from one reconciled frame."""

    name: str
    kind: MeasureKind
    frame: str
    month_column: str
    columns: tuple[str, ...]
    description: str
    func: Callable[[pd.DataFrame], pd.Series]

    def source(self, frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
        """The frame the measure reads, checked for the columns it needs."""
        if self.frame not in frames:
            raise KeyError(f"measure {self.name!r} needs the frame {self.frame!r}")
        frame = frames[self.frame]
        needed = ("area_code", self.month_column, *self.columns)
        missing = [c for c in needed if c not in frame.columns]
        if missing:
            raise KeyError(f"measure {self.name!r}: frame {self.frame!r} lacks columns {missing}")
        return frame

    def values(self, frame: pd.DataFrame) -> pd.Series:
        """The measure's value for each row of its (non-empty) frame, 0 where NA."""
        values = pd.Series(self.func(frame), index=frame.index).astype("Float64").fillna(0.0)
        return values.astype("float64")


def sums_by_area_month(
    frame: pd.DataFrame, month_column: str, values: Mapping[str, pd.Series]
) -> pd.DataFrame:
    """Each of `values` (per row of `frame`) summed per (area_code, month) of `frame`;
    rows without either key left out. Every (area, month) with a row appears: for flows
    the pairs with at least one event, for stocks every snapshot, zero-valued included.
    One grouping for all of them: several measures read the same frame by the same month
    (the roster's, a township's ~50,000 rows)."""
    keyed = pd.DataFrame(
        {
            "area_code": frame["area_code"].astype("string"),
            "month": frame[month_column].astype("string"),
            **values,
        }
    )
    keyed = keyed.dropna(subset=["area_code", "month"])
    out = keyed.groupby(["area_code", "month"], as_index=False, sort=True)[list(values)].sum()
    return out.astype(
        {"area_code": "string", "month": "string", **dict.fromkeys(values, "float64")}
    )


def empty_measure() -> pd.DataFrame:
    """A measure frame with no rows (grain: area_code, month)."""
    return pd.DataFrame(
        {
            "area_code": pd.Series([], dtype="string"),
            "month": pd.Series([], dtype="string"),
            "value": pd.Series([], dtype="float64"),
        }
    )


MEASURES: dict[str, Measure] = {}


def measure(
    name: str,
    *,
    kind: MeasureKind,
    frame: str,
    month_column: str,
    columns: tuple[str, ...] = (),
) -> Callable[[Callable[[pd.DataFrame], pd.Series]], Callable[[pd.DataFrame], pd.Series]]:
    """Register `func(frame) -> per-row value` as the measure `name`.

    The function gets the whole source frame and returns one number (or a
    boolean) per row; the registry sums it per (area_code, month_column).
    The function's docstring is the measure's description.
    """

    def register(
        func: Callable[[pd.DataFrame], pd.Series],
    ) -> Callable[[pd.DataFrame], pd.Series]:
        if name in MEASURES:
            raise ValueError(f"measure {name!r} registered twice")
        MEASURES[name] = Measure(
            name=name,
            kind=kind,
            frame=frame,
            month_column=month_column,
            columns=columns,
            description=(func.__doc__ or "").strip(),
            func=func,
        )
        return func

    return register


def _flag(series: pd.Series) -> pd.Series:
    """A nullable boolean column as plain bool (null = False)."""
    return series.astype("boolean").fillna(False).astype(bool)


def _is(series: pd.Series, *values: str) -> pd.Series:
    """`series` holds one of `values` (null = False)."""
    return series.astype("string").isin(values).fillna(False).astype(bool)


def _ones(frame: pd.DataFrame) -> pd.Series:
    return pd.Series(1.0, index=frame.index)


# --------------------------------------------------------------------- births
# A reconciled birth is every row of recon_births, whatever its match status:
# village_only births were reported by the village (the primary register);
# missing_in_village and pending births were seen by the hospital or police.
# Policy status and birth order are known only from a valid village row
# (indicators.md "Known status"): the denominators of the policy and multi-child
# rates are the births whose field is known, not every birth.


@measure("births", kind="flow", frame="recon_births", month_column="birth_month")
def births(frame: pd.DataFrame) -> pd.Series:
    """Reconciled births (every recon_births row), by birth month."""
    return _ones(frame)


@measure(
    "births_policy_in",
    kind="flow",
    frame="recon_births",
    month_column="birth_month",
    columns=("policy_status",),
)
def births_policy_in(frame: pd.DataFrame) -> pd.Series:
    """Reconciled births whose policy status is 政策内, by birth month."""
    return _is(frame["policy_status"], POLICY_IN)


@measure(
    "births_order_3plus",
    kind="flow",
    frame="recon_births",
    month_column="birth_month",
    columns=("birth_order",),
)
def births_order_3plus(frame: pd.DataFrame) -> pd.Series:
    """Reconciled births of birth order 3 or more (多孩), by birth month."""
    order = pd.to_numeric(frame["birth_order"], errors="coerce")
    return (order >= 3).fillna(False).astype(bool)


@measure(
    "births_male",
    kind="flow",
    frame="recon_births",
    month_column="birth_month",
    columns=("child_sex",),
)
def births_male(frame: pd.DataFrame) -> pd.Series:
    """Reconciled births of boys (child_sex `M`), by birth month."""
    return _is(frame["child_sex"], "M")


@measure(
    "births_female",
    kind="flow",
    frame="recon_births",
    month_column="birth_month",
    columns=("child_sex",),
)
def births_female(frame: pd.DataFrame) -> pd.Series:
    """Reconciled births of girls (child_sex `F`), by birth month."""
    return _is(frame["child_sex"], "F")


@measure(
    "births_policy_known",
    kind="flow",
    frame="recon_births",
    month_column="birth_month",
    columns=("policy_status",),
)
def births_policy_known(frame: pd.DataFrame) -> pd.Series:
    """Reconciled births whose policy status is known (a valid village row), by birth month."""
    return frame["policy_status"].notna().astype(bool)


@measure(
    "births_order_known",
    kind="flow",
    frame="recon_births",
    month_column="birth_month",
    columns=("birth_order",),
)
def births_order_known(frame: pd.DataFrame) -> pd.Series:
    """Reconciled births whose birth order is known (a valid village row), by birth month."""
    return pd.to_numeric(frame["birth_order"], errors="coerce").notna().astype(bool)


@measure(
    "births_not_reported_on_time",
    kind="flow",
    frame="recon_births",
    month_column="birth_month",
    columns=("reported_on_time",),
)
def births_not_reported_on_time(frame: pd.DataFrame) -> pd.Series:
    """Births the village did not report by the upload of the month after the birth
    (漏报, reported_on_time false), by birth month — for good, even when reported later."""
    return (frame["reported_on_time"].astype("boolean") == False).fillna(False).astype(bool)  # noqa: E712


# --------------------------------------------------------------------- roster
# recon_women is already the reconciled roster (less the dead and moved-out,
# method = the effective method). Every residence category counts.


@measure("roster_women", kind="stock", frame="recon_women", month_column="snapshot_month")
def roster_women(frame: pd.DataFrame) -> pd.Series:
    """Women in the reconciled roster, per snapshot month."""
    return _ones(frame)


@measure(
    "roster_women_with_method",
    kind="stock",
    frame="recon_women",
    month_column="snapshot_month",
    columns=("method",),
)
def roster_women_with_method(frame: pd.DataFrame) -> pd.Series:
    """Roster women whose effective method is known and not 无, per snapshot month."""
    method = frame["method"].astype("string")
    return (method.notna() & (method != NO_METHOD)).fillna(False).astype(bool)


@measure(
    "roster_women_long_acting",
    kind="stock",
    frame="recon_women",
    month_column="snapshot_month",
    columns=("method",),
)
def roster_women_long_acting(frame: pd.DataFrame) -> pd.Series:
    """Roster women with 上环, 结扎 or 皮埋, per snapshot month."""
    return _is(frame["method"], *LONG_ACTING)


def _due(frame: pd.DataFrame) -> pd.Series:
    """Due for 三查: method is not 结扎 (an unknown method is due)."""
    return ~_is(frame["method"], STERILISATION)


def _checked_in_half_year(frame: pd.DataFrame) -> pd.Series:
    """last_check_date falls in the half-year of the snapshot, up to the snapshot's end.

    The window of a snapshot month M is [1 Jan or 1 Jul of M's half, end of M].
    Since recon_women keeps the latest check only, "latest check in the window"
    is exactly "checked in the window".
    """
    month = frame["snapshot_month"].astype("string")
    month_start = pd.to_datetime(month + "-01", format="%Y-%m-%d", errors="coerce")
    next_month = month_start + pd.offsets.MonthBegin(1)
    half_start = pd.to_datetime(
        pd.DataFrame(
            {
                "year": month_start.dt.year,
                "month": (month_start.dt.month > 6) * 6 + 1,
                "day": 1,
            }
        ),
        errors="coerce",
    )
    checked = pd.to_datetime(frame["last_check_date"], errors="coerce")
    return ((checked >= half_start) & (checked < next_month)).fillna(False).astype(bool)


def _two_plus(frame: pd.DataFrame) -> pd.Series:
    return (pd.to_numeric(frame["children"], errors="coerce") >= 2).fillna(False).astype(bool)


@measure(
    "three_checks_due",
    kind="stock",
    frame="recon_women",
    month_column="snapshot_month",
    columns=("method",),
)
def three_checks_due(frame: pd.DataFrame) -> pd.Series:
    """Roster women due for 三查 (method not 结扎), per snapshot month."""
    return _due(frame)


@measure(
    "three_checks_done",
    kind="stock",
    frame="recon_women",
    month_column="snapshot_month",
    columns=("method", "last_check_date"),
)
def three_checks_done(frame: pd.DataFrame) -> pd.Series:
    """Women due for 三查 whose last check falls in the snapshot's half-year, up to
    the snapshot month's end; per snapshot month."""
    return _due(frame) & _checked_in_half_year(frame)


@measure(
    "three_checks_due_2plus",
    kind="stock",
    frame="recon_women",
    month_column="snapshot_month",
    columns=("method", "children"),
)
def three_checks_due_2plus(frame: pd.DataFrame) -> pd.Series:
    """Women due for 三查 with 2 or more children, per snapshot month."""
    return _due(frame) & _two_plus(frame)


@measure(
    "three_checks_done_2plus",
    kind="stock",
    frame="recon_women",
    month_column="snapshot_month",
    columns=("method", "children", "last_check_date"),
)
def three_checks_done_2plus(frame: pd.DataFrame) -> pd.Series:
    """Women due for 三查 with 2 or more children, checked in the half-year; per snapshot."""
    return _due(frame) & _two_plus(frame) & _checked_in_half_year(frame)


def _migrant(frame: pd.DataFrame) -> pd.Series:
    return _is(frame["residence"], IN_MIGRANT)


@measure(
    "migrant_women",
    kind="stock",
    frame="recon_women",
    month_column="snapshot_month",
    columns=("residence",),
)
def migrant_women(frame: pd.DataFrame) -> pd.Series:
    """In-migrant (流入) roster women, per snapshot month."""
    return _migrant(frame)


def _migrant_with(flag: str, label: str) -> None:
    def func(frame: pd.DataFrame) -> pd.Series:
        return _migrant(frame) & _flag(frame[flag])

    func.__doc__ = f"In-migrant (流入) roster women with {label}, per snapshot month."
    measure(
        f"migrant_women_{flag}",
        kind="stock",
        frame="recon_women",
        month_column="snapshot_month",
        columns=("residence", flag),
    )(func)


_migrant_with("marriage_certificate", "婚育证明")
_migrant_with("file_created", "建档")
_migrant_with("verified", "验证")
_migrant_with("notified", "信息通报")


# ----------------------------------------------------------------------- fees
# The ledger of month M: cases "decided in the year" are those whose
# decision_date lies in M's calendar year; "earlier years" before it.
# Periods never cross a year, so the ledger's year is the period's year.


def _decided(frame: pd.DataFrame, *, current: bool) -> pd.Series:
    decided = pd.to_datetime(frame["decision_date"], errors="coerce").dt.year
    ledger = pd.to_numeric(frame["report_month"].astype("string").str.slice(0, 4))
    hit = decided == ledger if current else decided < ledger
    return hit.fillna(False).astype(bool)


def _money(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series, errors="coerce").astype("Float64").fillna(0.0)


@measure(
    "fee_assessed_current",
    kind="stock",
    frame="recon_fees",
    month_column="report_month",
    columns=("decision_date", "assessed"),
)
def fee_assessed_current(frame: pd.DataFrame) -> pd.Series:
    """Assessed amount (元) of cases decided in the ledger month's year; per ledger month."""
    return _money(frame["assessed"]).where(_decided(frame, current=True), 0.0)


@measure(
    "fee_paid_current",
    kind="stock",
    frame="recon_fees",
    month_column="report_month",
    columns=("decision_date", "paid_to_date"),
)
def fee_paid_current(frame: pd.DataFrame) -> pd.Series:
    """Paid to date (元) on cases decided in the ledger month's year; per ledger month."""
    return _money(frame["paid_to_date"]).where(_decided(frame, current=True), 0.0)


@measure(
    "fee_assessed_prior",
    kind="stock",
    frame="recon_fees",
    month_column="report_month",
    columns=("decision_date", "assessed"),
)
def fee_assessed_prior(frame: pd.DataFrame) -> pd.Series:
    """Assessed amount (元) of cases decided before the ledger month's year."""
    return _money(frame["assessed"]).where(_decided(frame, current=False), 0.0)


@measure(
    "fee_paid_prior",
    kind="stock",
    frame="recon_fees",
    month_column="report_month",
    columns=("decision_date", "paid_to_date"),
)
def fee_paid_prior(frame: pd.DataFrame) -> pd.Series:
    """Paid to date (元) on cases decided before the ledger month's year."""
    return _money(frame["paid_to_date"]).where(_decided(frame, current=False), 0.0)


# ---------------------------------------------------------------------- exams


@measure("prepregnancy_exams", kind="flow", frame="recon_exams", month_column="exam_month")
def prepregnancy_exams(frame: pd.DataFrame) -> pd.Series:
    """Distinct couples examined (one recon_exams row per couple and year, at the month
    of their first exam of the year), by exam month."""
    return _ones(frame)


# ------------------------------------------------------------------- accuracy


@measure("village_rows_checked", kind="flow", frame="recon_accuracy", month_column="report_month")
def village_rows_checked(frame: pd.DataFrame) -> pd.Series:
    """Village rows (births and roster) checked for accuracy, by report month."""
    return _ones(frame)


@measure(
    "village_rows_accurate",
    kind="flow",
    frame="recon_accuracy",
    month_column="report_month",
    columns=("accurate",),
)
def village_rows_accurate(frame: pd.DataFrame) -> pd.Series:
    """Village rows checked with no accuracy issue, by report month."""
    return _flag(frame["accurate"])


# -------------------------------------------------------------------- changes


@measure("changes", kind="flow", frame="recon_changes", month_column="event_month")
def changes(frame: pd.DataFrame) -> pd.Series:
    """Changes (births, roster-changing procedures), by event month."""
    return _ones(frame)


@measure(
    "changes_timely",
    kind="flow",
    frame="recon_changes",
    month_column="event_month",
    columns=("timely",),
)
def changes_timely(frame: pd.DataFrame) -> pd.Series:
    """Changes the village recorded by the upload of the month after the event."""
    return _flag(frame["timely"])


# ------------------------------------------------------------------ reporting
# area_code: the village; the township for police stations and for hospitals
# (the institution's township), so those count at township and county only.


@measure("uploads_expected", kind="flow", frame="dq_reporting", month_column="report_month")
def uploads_expected(frame: pd.DataFrame) -> pd.Series:
    """Expected uploads, by report month."""
    return _ones(frame)


@measure(
    "uploads_received",
    kind="flow",
    frame="dq_reporting",
    month_column="report_month",
    columns=("received",),
)
def uploads_received(frame: pd.DataFrame) -> pd.Series:
    """Expected uploads that were received, by report month."""
    return _flag(frame["received"])


@measure(
    "uploads_on_time",
    kind="flow",
    frame="dq_reporting",
    month_column="report_month",
    columns=("on_time",),
)
def uploads_on_time(frame: pd.DataFrame) -> pd.Series:
    """Expected uploads received by the deadline, by report month."""
    return _flag(frame["on_time"])
