"""Indicators, targets, status and rank: the rows of mart_target_achievement.

Grain of the result: one row per (area, period, indicator) — every area of the
areas table (a province, its prefectures and counties, or a county alone; townships;
villages) × every given period × every catalog indicator computed for that period's
kind (indicator.periods).

How a row is made (indicators.md):

1. Each measure the catalog uses is computed per (area_code, month)
   (transforms.indicators.measures).
2. Per area and period: flows are summed over the period's months; stocks take
   the area's snapshot of the last month of the period that has one.
3. Rollup: every (source) area adds into itself and all its ancestors
   (village → township → county → prefecture → province, as far as areas.csv
   goes) by **summing** numerators and denominators.
   Rows whose area_code is not in the areas table are ignored (reconciliation
   reports unknown codes). Police / hospital uploads in dq_reporting carry a
   township code and so count at the township and above only.
4. value = numerator × factor / denominator, unrounded (counts: numerator ×
   factor, denominator published null).
5. Target: the area's own row of targets.csv for the period's year and the
   indicator, else the nearest ancestor's (village → township → county →
   prefecture → province);
   only on period kinds in indicator.target_periods. Targets are in the
   published unit (87 = 87 %).
   A count target (births, prepregnancy_exams) is the annual task of the area it
   names and is never handed down.
6. Status (transforms.indicators.targets.judge): `no_data` when the denominator is 0 (takes
   precedence), else `too_few` when the indicator's base (`minimum_of`, by default
   the denominator) is below its catalog `min_denominator`, else `no_target`
   without a target, else `met` / `not_met` on the unrounded value.
7. Rank within (parent_code, period, indicator), among rows with status
   met/not_met (a too_few row is not ranked), best first in the indicator's
   better direction (its target's op when the catalog gives none): higher → larger value; lower → smaller value;
   range → smaller distance to the target range (0 inside). Ties share the
   smallest rank (method "min"). The root (the area without a parent: the
   province, or the county of a county warehouse) is ranked alone (rank 1);
   counties rank within their prefecture, townships within their county.
8. period_complete: every month of the period is due at the run's as-of date
   (a half-year or year still running is published with the months so far).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from transforms.indicators.catalog import Catalog
from transforms.indicators.measures import MEASURES, empty_measure, sums_by_area_month
from transforms.indicators.signoff import signed_off_shares
from transforms.indicators.targets import RANKED_STATUSES, TARGET_OPS, judge, score
from transforms.periods import PERIOD_KINDS, Period
from transforms.reconcile.common import empty_findings, findings_frame

__all__ = ["TARGET_OPS", "compute_indicators", "judge"]

OUTPUT_COLUMNS: tuple[str, ...] = (
    "area_code",
    "area_name",
    "area_level",
    "parent_code",
    "period",
    "period_start",
    "period_end",
    "indicator",
    "indicator_name",
    "numerator",
    "denominator",
    "value",
    "unit",
    "target_op",
    "target",
    "target_hi",
    "status",
    "rank",
    "period_complete",
    "signed_off_share",
    "run_id",
)
AREA_LEVELS = ("province", "prefecture", "county", "township", "village")
"""The levels, top down: the order of the rows (a higher level first)."""
_LEVEL_BY_LENGTH = {2: "province", 4: "prefecture", 6: "county", 9: "township", 12: "village"}


# ---------------------------------------------------------------------- areas


def normalise_areas(areas: pd.DataFrame) -> pd.DataFrame:
    """areas.csv (`code,name,level,parent_code`) → area_code, area_name, area_level,
    parent_code; one row per area.

    `level` is kept when it is one of AREA_LEVELS (`province`, `prefecture`,
    `county`, `township`, `village`), else derived from the code's length
    (2/4/6/9/12 digits). An empty parent_code is null.
    """
    frame = areas.rename(columns={"code": "area_code", "name": "area_name", "level": "area_level"})
    missing = [c for c in ("area_code", "area_name", "parent_code") if c not in frame.columns]
    if missing:
        raise KeyError(f"areas lacks columns {missing} (expected code,name,level,parent_code)")
    code = frame["area_code"].astype("string").str.strip()
    parent = frame["parent_code"].astype("string").str.strip().replace("", pd.NA)
    given = (
        frame["area_level"].astype("string").str.strip()
        if "area_level" in frame.columns
        else pd.Series(pd.NA, index=frame.index, dtype="string")
    )
    derived = code.str.len().map(_LEVEL_BY_LENGTH).astype("string")
    level = given.where(given.isin(AREA_LEVELS).fillna(False), derived)
    out = pd.DataFrame(
        {
            "area_code": code,
            "area_name": frame["area_name"].astype("string"),
            "area_level": level,
            "parent_code": parent,
        }
    )
    out = out.dropna(subset=["area_code"]).drop_duplicates("area_code", keep="last")
    return out.reset_index(drop=True)


def area_closure(areas: pd.DataFrame) -> pd.DataFrame:
    """Every (area_code, ancestor_code, distance) pair: the area itself at distance 0,
    its parent at 1, and so on up to the root. Input: normalise_areas() output.

    Raises ValueError on a cycle in parent_code.
    """
    parents = areas[["area_code", "parent_code"]].dropna(subset=["parent_code"])
    parents = parents.rename(columns={"area_code": "ancestor_code", "parent_code": "next_code"})
    level = pd.DataFrame(
        {"area_code": areas["area_code"], "ancestor_code": areas["area_code"], "distance": 0}
    )
    pieces = [level]
    for _ in range(len(areas) + 1):
        level = level.merge(parents, on="ancestor_code", how="inner")
        level = pd.DataFrame(
            {
                "area_code": level["area_code"],
                "ancestor_code": level["next_code"],
                "distance": level["distance"] + 1,
            }
        )
        if level.empty:
            break
        pieces.append(level)
    else:
        raise ValueError("areas: parent_code has a cycle")
    closure = pd.concat(pieces, ignore_index=True)
    return closure.astype({"area_code": "string", "ancestor_code": "string", "distance": "int64"})


# -------------------------------------------------------------------- periods


def _period_frame(
    periods: Sequence[Period], as_of: date | None = None, deadline_day: int = 5
) -> pd.DataFrame:
    """One row per period: period, period_kind, period_start, period_end, year, order,
    period_complete (every month of the period is due at `as_of`; null without it)."""
    unique = list(dict.fromkeys(periods))
    complete = [None if as_of is None else p.complete_at(as_of, deadline_day) for p in unique]
    return pd.DataFrame(
        {
            "period": pd.Series([p.label for p in unique], dtype="string"),
            "period_kind": pd.Series([p.kind for p in unique], dtype="string"),
            "period_start": pd.to_datetime([p.start for p in unique]).astype("datetime64[s]"),
            "period_end": pd.to_datetime([p.end for p in unique]).astype("datetime64[s]"),
            "year": pd.Series([p.year for p in unique], dtype="int64"),
            "period_order": np.arange(len(unique), dtype="int64"),
            "period_complete": pd.array(complete, dtype="boolean"),
        }
    )


def _period_months(periods: Sequence[Period]) -> pd.DataFrame:
    """(period, month) for every month of every period."""
    pairs = [(p.label, m) for p in dict.fromkeys(periods) for m in p.months]
    return pd.DataFrame(pairs, columns=["period", "month"]).astype(
        {"period": "string", "month": "string"}
    )


# ------------------------------------------------------------------- measures


def leaf_measures(frames: Mapping[str, pd.DataFrame], measures: Sequence[str]) -> pd.DataFrame:
    """What the reconciled frames contribute to each measure, before any rollup.

    Grain: one row per measure × source area × month (columns measure, stock,
    area_code, month, value). Each partition of a run computes its own; their
    concatenation is what one run over everything would compute (a person's rows
    all lie in one partition: transforms.reconcile.partitions).
    """
    computed: dict[str, pd.DataFrame] = {}
    # Measures of one frame by one month column share their grouping (sums_by_area_month).
    by_source: dict[tuple[str, str], list[str]] = {}
    for name in measures:
        by_source.setdefault((MEASURES[name].frame, MEASURES[name].month_column), []).append(name)
    for (frame_name, month_column), names in by_source.items():
        for n in names:
            MEASURES[n].source(frames)  # each measure checks the columns it reads
        frame = frames[frame_name]
        if frame.empty:
            computed.update({n: empty_measure() for n in names})
            continue
        sums = sums_by_area_month(
            frame, month_column, {n: MEASURES[n].values(frame) for n in names}
        )
        for n in names:
            computed[n] = sums[["area_code", "month", n]].rename(columns={n: "value"})
    parts = [
        computed[name].assign(measure=name, stock=MEASURES[name].kind == "stock")
        for name in measures
    ]
    if not parts:
        parts.append(empty_measure().assign(measure="", stock=False))
    long = pd.concat(parts, ignore_index=True).astype({"measure": "string"})
    return long[["measure", "stock", "area_code", "month", "value"]]


def measure_values(
    leaves: pd.DataFrame,
    closure: pd.DataFrame,
    periods: Sequence[Period],
) -> pd.DataFrame:
    """Measures per (measure, area_code, period), rolled up the hierarchy.

    `leaves`: leaf_measures() of every partition, concatenated.
    Grain: one row per measure × area (any level) × period that has source
    rows; value = the sum over the area's subtree of each source area's
    period value (flows: sum over the months; stocks: last snapshot month).
    """
    # On integer codes (sorted, so code order is text order): a county's leaves fan out
    # to every period and ancestor, and as text that held ~200 MB.
    measure, measures = pd.factorize(leaves["measure"], sort=True)
    area, areas = pd.factorize(leaves["area_code"], sort=True)
    month, months = pd.factorize(leaves["month"], sort=True)
    long = pd.DataFrame(
        {
            "m": measure,
            "a": area,
            "t": month,
            "stock": leaves["stock"].to_numpy(dtype=bool),
            "value": leaves["value"].to_numpy(dtype="float64"),
        }
    )
    long = long.loc[(measure >= 0) & (area >= 0) & (month >= 0)]  # null keys count nowhere
    # Partitions may each hold part of an area's month: add them up first.
    long = long.groupby(["m", "a", "t", "stock"], as_index=False, sort=False)["value"].sum()
    month_map = _period_months(periods)
    period, period_labels = pd.factorize(month_map["period"], sort=True)
    in_periods = pd.DataFrame({"t": pd.Index(months).get_indexer(month_map["month"]), "p": period})
    long = long.merge(in_periods.loc[in_periods["t"] >= 0], on="t", how="inner")
    keys = ["m", "a", "p"]
    last = long.groupby(keys)["t"].transform("max")
    long = long[~long["stock"] | (long["t"] == last)]
    per_area = long.groupby(keys, as_index=False)["value"].sum()
    ancestor, ancestors = pd.factorize(closure["ancestor_code"], sort=True)
    up = pd.DataFrame({"a": pd.Index(areas).get_indexer(closure["area_code"]), "u": ancestor})
    rolled = per_area.merge(up.loc[(up["a"] >= 0) & (up["u"] >= 0)], on="a", how="inner")
    rolled = rolled.groupby(["m", "u", "p"], as_index=False)["value"].sum()
    return pd.DataFrame(
        {
            "measure": pd.Series(measures.take(rolled["m"]), dtype="string"),
            "area_code": pd.Series(ancestors.take(rolled["u"]), dtype="string"),
            "period": pd.Series(period_labels.take(rolled["p"]), dtype="string"),
            "value": rolled["value"].to_numpy(),
        }
    )


@dataclass(frozen=True)
class MeasureLookup:
    """measure_values() keyed by one integer per measure × area × period: the grid of
    compute_indicators finds its numerators, denominators and bases by a binary search
    on integer codes (three merges on three text keys were most of the compute)."""

    measures: pd.Index
    areas: pd.Index
    periods: pd.Index
    keys: np.ndarray
    """Sorted; see `_key`."""
    values: np.ndarray

    @classmethod
    def of(cls, values: pd.DataFrame) -> MeasureLookup:
        measure, measures = pd.factorize(values["measure"], sort=True)
        area, areas = pd.factorize(values["area_code"], sort=True)
        period, periods = pd.factorize(values["period"], sort=True)
        keys = _key(measure, area, period, len(areas), len(periods))
        order = np.argsort(keys, kind="stable")
        numbers = values["value"].to_numpy(dtype="float64")
        return cls(
            pd.Index(measures), pd.Index(areas), pd.Index(periods), keys[order], numbers[order]
        )

    def find(self, measure: np.ndarray, area: np.ndarray, period: np.ndarray) -> np.ndarray:
        """The value of each (measure, area, period), as positions in `measures`, `areas`
        and `periods`; NaN where there is none (a position of -1, or no source rows)."""
        found = np.full(len(measure), np.nan)
        known = (measure >= 0) & (area >= 0) & (period >= 0)
        if not len(self.keys) or not known.any():
            return found
        keys = _key(measure[known], area[known], period[known], len(self.areas), len(self.periods))
        at = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        hit = self.keys[at] == keys
        found[np.flatnonzero(known)[hit]] = self.values[at[hit]]
        return found


def _key(
    measure: np.ndarray, area: np.ndarray, period: np.ndarray, areas: int, periods: int
) -> np.ndarray:
    return (measure.astype("int64") * areas + area) * periods + period


# -------------------------------------------------------------------- targets


def normalise_targets(targets: pd.DataFrame, catalog: Catalog) -> pd.DataFrame:
    """targets.csv → year (int), area_code, indicator, op, target, target_hi (float).

    Rows that cannot apply are left out (see target_problems() to report them):
    an indicator not in the catalog, an op other than >=, <=, between, a missing
    target, a `between` without target_hi. Of repeated (year, area, indicator)
    rows the last wins.
    """
    frame = pd.DataFrame(
        {
            "year": pd.to_numeric(targets["year"], errors="coerce"),
            "area_code": targets["area_code"].astype("string").str.strip(),
            "indicator": targets["indicator"].astype("string").str.strip(),
            "op": targets["op"].astype("string").str.strip(),
            "target": pd.to_numeric(targets["target"], errors="coerce").astype("float64"),
            "target_hi": (
                pd.to_numeric(targets["target_hi"], errors="coerce").astype("float64")
                if "target_hi" in targets.columns
                else np.nan
            ),
        }
    )
    ok = (
        frame["year"].notna()
        & frame["area_code"].notna()
        & frame["indicator"].isin(catalog.codes).fillna(False)
        & frame["op"].isin(TARGET_OPS).fillna(False)
        & frame["target"].notna()
        & ((frame["op"] != "between") | frame["target_hi"].notna()).fillna(False)
    )
    frame = frame[ok.astype(bool)].copy()
    frame["year"] = frame["year"].astype("int64")
    frame.loc[frame["op"] != "between", "target_hi"] = np.nan
    frame = frame.drop_duplicates(["year", "area_code", "indicator"], keep="last")
    return frame.reset_index(drop=True)


TARGETS_FILE = "targets.csv"
# Why a targets.csv row does not apply as written: (English, Chinese) per check.
_TARGET_CHECKS = {
    "year": ("year is not a year", "年份不是年份"),
    "area": ("area_code is not in areas.csv", "区划代码不在 areas.csv 中"),
    "indicator": ("indicator is not in the catalog", "指标代码不在指标目录中"),
    "op": ("op is not one of >=, <=, between", "比较方式不是 >=、<=、between 之一"),
    "target": ("target is missing or not a number", "目标值缺失或不是数字"),
    "hi": ("`between` needs target_hi", "区间目标（between）缺少上限 target_hi"),
    "order": ("target_hi is below target", "目标上限低于目标值"),
    "repeat": (
        "a later row sets the same year, area and indicator (the later row wins)",
        "后面的行设定了同一年份、区划和指标（以后面的行为准）",
    ),
}


def _target_row_checks(
    targets: pd.DataFrame, catalog: Catalog, areas: pd.DataFrame
) -> pd.DataFrame:
    """One row per (targets.csv row, failed check): row_number (1 = first row under the
    header), check, area_code, indicator."""
    known_areas = normalise_areas(areas)["area_code"].dropna()
    year = pd.to_numeric(targets["year"], errors="coerce")
    area = targets["area_code"].astype("string").str.strip()
    indicator = targets["indicator"].astype("string").str.strip()
    op = targets["op"].astype("string").str.strip()
    target = pd.to_numeric(targets["target"], errors="coerce")
    hi = (
        pd.to_numeric(targets["target_hi"], errors="coerce")
        if "target_hi" in targets.columns
        else pd.Series(np.nan, index=targets.index)
    )
    between = (op == "between").fillna(False)
    repeated = pd.DataFrame({"y": year, "a": area, "i": indicator}).duplicated(keep="last")
    masks = {
        "year": year.isna() | (year != year.round(0)).fillna(False),
        "area": ~area.isin(known_areas).fillna(False),
        "indicator": ~indicator.isin(catalog.codes).fillna(False),
        "op": ~op.isin(TARGET_OPS).fillna(False),
        "target": target.isna(),
        "hi": between & hi.isna(),
        "order": between & (hi < target).fillna(False),
        "repeat": repeated,
    }
    numbers = np.arange(1, len(targets) + 1)
    rows = [
        (int(numbers[i]), check, area.iloc[i], indicator.iloc[i])
        for check, mask in masks.items()
        for i in np.flatnonzero(np.asarray(mask, dtype=bool))
    ]
    frame = pd.DataFrame(rows, columns=["row_number", "check", "area_code", "indicator"])
    return frame.sort_values("row_number", kind="stable").reset_index(drop=True)


def target_problems(targets: pd.DataFrame, catalog: Catalog, areas: pd.DataFrame) -> list[str]:
    """Human-readable reasons why rows of targets.csv will not apply as written (for the
    run's log or a quality issue). Row numbers count from 1 = first row under the header."""
    found = _target_row_checks(targets, catalog, areas)
    return [
        f"targets.csv row {r.row_number}: {_TARGET_CHECKS[r.check][0]}"
        for r in found.itertuples(index=False)
    ]


def target_findings(targets: pd.DataFrame, catalog: Catalog, areas: pd.DataFrame) -> pd.DataFrame:
    """targets.csv rows that do not apply as written, as quality findings (design.md
    "Findings"), one per row: rule `target_row_invalid`, the file and row in the message,
    the row number in `row_number`, the failed checks in `value`. A row that sets no
    target (`error`) is kept out of every figure; a row only repeated (`warning`) is
    overridden by the later one."""
    found = _target_row_checks(targets, catalog, areas)
    if found.empty:
        return empty_findings()
    found = found.assign(
        en=found["check"].map(lambda c: _TARGET_CHECKS[c][0]),
        zh=found["check"].map(lambda c: _TARGET_CHECKS[c][1]),
        sets_none=found["check"] != "repeat",
    )
    rows = found.groupby("row_number", sort=True).agg(
        area_code=("area_code", "first"),
        checks=("check", ",".join),
        en=("en", "; ".join),
        zh=("zh", "；".join),
        sets_none=("sets_none", "any"),
    )
    rows = rows.reset_index()
    sets_none = rows["sets_none"].to_numpy(dtype=bool)
    number = rows["row_number"].astype("string")
    then_zh = pd.Series(
        np.where(sets_none, "。该行不设定目标；请更正目标文件。", "。"), index=rows.index
    )
    then_en = pd.Series(
        np.where(sets_none, ". The row sets no target; correct the targets file.", "."),
        index=rows.index,
    )
    out = findings_frame(
        rows.index,
        {
            "rule": "target_row_invalid",
            "severity": pd.Series(
                np.where(sets_none, "error", "warning"), index=rows.index, dtype="string"
            ),
            "dimension": "validity",
            "source": "reference",
            "kind": "targets",
            "unit": rows["area_code"].astype("string"),
            "row_number": rows["row_number"].astype("Int64"),
            "value": rows["checks"],
            "message_zh": "目标文件 targets.csv 第" + number + "行：" + rows["zh"] + then_zh,
            "message_en": "targets.csv row " + number + ": " + rows["en"] + then_en,
        },
    )
    return out.assign(file_name=TARGETS_FILE)


def inherited_targets(
    targets: pd.DataFrame, closure: pd.DataFrame, own_only: Sequence[str] = ()
) -> pd.DataFrame:
    """The target each area gets: its own, else the nearest ancestor's.

    Input: normalise_targets() output and area_closure(). Indicators in `own_only`
    (the counts: an annual task of the area it names, indicators.md "Targets and
    status") are never handed down: only the area named gets them. Grain: one row
    per (area_code, year, indicator) that has a target.
    """
    handed_down = closure["distance"] > 0
    closure_own = closure[~handed_down]
    targets_own = targets[targets["indicator"].isin(list(own_only))]
    targets = targets[~targets["indicator"].isin(list(own_only))]
    own = closure_own.merge(
        targets_own.rename(columns={"area_code": "ancestor_code"}), on="ancestor_code"
    )
    hits = closure.merge(
        targets.rename(columns={"area_code": "ancestor_code"}), on="ancestor_code", how="inner"
    )
    hits = pd.concat([hits, own], ignore_index=True)
    hits = hits.sort_values(["area_code", "year", "indicator", "distance"], kind="stable")
    hits = hits.drop_duplicates(["area_code", "year", "indicator"], keep="first")
    return hits[["area_code", "year", "indicator", "op", "target", "target_hi"]].reset_index(
        drop=True
    )


# ----------------------------------------------------------------------- main


def compute_indicators(
    frames: Mapping[str, pd.DataFrame] | pd.DataFrame,
    catalog: Catalog,
    areas: pd.DataFrame,
    targets: pd.DataFrame,
    periods: Sequence[Period],
    run_id: str,
    as_of: date | None = None,
    deadline_day: int = 5,
    review: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The rows of mart_target_achievement (docs/data-dictionary.md), columns OUTPUT_COLUMNS.

    frames: the reconciled frames by name (docs/design.md) — only those the
    catalog's measures read are needed — or, from a partitioned run, the
    concatenated leaf_measures() of its partitions. areas: areas.csv. targets: targets.csv
    (year, area_code, indicator, op, target, target_hi). periods: e.g.
    periods_for(months). review: the village-months to review and whether each is
    signed off (transforms.indicators.signoff.review_months); None leaves signed_off_share
    null. as_of / deadline_day: the run's date, for period_complete (null without an
    as-of date). Grain: area × period × indicator (see module doc).
    """
    area_table = normalise_areas(areas)
    closure = area_closure(area_table)
    period_table = _period_frame(periods, as_of, deadline_day)

    spec = pd.DataFrame(
        {
            "indicator": [i.code for i in catalog],
            "indicator_name": [i.name_zh for i in catalog],
            "unit": [i.unit for i in catalog],
            "factor": [i.factor for i in catalog],
            "better": pd.Series([i.better for i in catalog], dtype="string"),
            "num_measure": [i.numerator for i in catalog],
            "den_measure": pd.Series([i.denominator for i in catalog], dtype="string"),
            "base_measure": pd.Series([i.minimum_of for i in catalog], dtype="string"),
            "minimum": pd.Series([i.min_denominator for i in catalog], dtype="float64"),
            "indicator_order": np.arange(len(catalog), dtype="int64"),
        }
    ).astype({"indicator": "string", "num_measure": "string"})
    applies = pd.DataFrame(
        [
            (i.code, kind, kind in i.target_periods)
            for i in catalog
            for kind in PERIOD_KINDS
            if kind in i.periods
        ],
        columns=["indicator", "period_kind", "judged"],
    ).astype({"indicator": "string", "period_kind": "string", "judged": "bool"})

    leaves = frames if isinstance(frames, pd.DataFrame) else leaf_measures(frames, catalog.measures)
    values = MeasureLookup.of(measure_values(leaves, closure, periods))
    counts = [i.code for i in catalog if i.unit == "count"]
    inherited = inherited_targets(normalise_targets(targets, catalog), closure, counts)
    shares = signed_off_shares(
        review
        if review is not None
        else pd.DataFrame(columns=["area_code", "month", "signed_off"]),
        closure,
        periods,
    )
    # A few periods at a time: the grid is wide (every indicator × area of a period, with
    # its names, targets and measures), and a county's year of it at once held ~400 MB.
    # Every rule below works within a period (ranks too), and the chunks come in period
    # order, so their concatenation is the mart in its order.
    period_table = period_table.sort_values("period_order", kind="stable")
    chunks = [
        _achievement_rows(
            period_table.iloc[start : start + PERIODS_PER_CHUNK],
            applies,
            spec,
            area_table,
            values,
            inherited,
            shares,
            run_id,
        )
        for start in range(0, max(len(period_table), 1), PERIODS_PER_CHUNK)
    ]
    return pd.concat(chunks, ignore_index=True)


PERIODS_PER_CHUNK = 6
"""How many periods' rows compute_indicators builds at once (memory, not figures)."""


def _achievement_rows(
    period_table: pd.DataFrame,
    applies: pd.DataFrame,
    spec: pd.DataFrame,
    area_table: pd.DataFrame,
    values: MeasureLookup,
    inherited: pd.DataFrame,
    shares: pd.DataFrame,
    run_id: str,
) -> pd.DataFrame:
    """The mart rows of some periods, in the mart's order (compute_indicators)."""
    # Positions in the measure lookup (-1: none), carried through the grid's joins.
    measure_codes = {
        f"_{part}": values.measures.get_indexer(spec[f"{part}_measure"])
        for part in ("num", "den", "base")
    }
    grid = (
        period_table.assign(_period=values.periods.get_indexer(period_table["period"]))
        .merge(applies, on="period_kind", how="inner")
        .merge(spec.assign(**measure_codes), on="indicator", how="inner")
        .merge(
            area_table.assign(_area=values.areas.get_indexer(area_table["area_code"])), how="cross"
        )
    )
    at = (grid["_area"].to_numpy(), grid["_period"].to_numpy())
    for column, part in (("numerator", "_num"), ("denominator", "_den"), ("base", "_base")):
        grid[column] = values.find(grid[part].to_numpy(), *at)
    # Measures are counts or money in yuan and cents: sums of binary floats drift
    # (1,041,427.9999999998), so they are taken to the cent, as the mart stores them.
    grid["numerator"] = grid["numerator"].astype("float64").fillna(0.0).round(2)
    has_den = grid["den_measure"].notna().to_numpy(dtype=bool)
    grid["denominator"] = np.where(
        has_den, grid["denominator"].astype("float64").fillna(0.0).round(2), np.nan
    )
    scaled = grid["numerator"].to_numpy() * grid["factor"].to_numpy()
    den_values = grid["denominator"].to_numpy(dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(den_values > 0, scaled / den_values, np.nan)
    grid["value"] = np.where(has_den, ratio, scaled)

    grid = grid.merge(inherited, on=["area_code", "year", "indicator"], how="left")
    not_judged = ~grid["judged"].to_numpy(dtype=bool)
    grid.loc[not_judged, ["target", "target_hi"]] = np.nan
    grid.loc[not_judged, "op"] = pd.NA
    too_few = grid["base"].astype("float64").fillna(0.0) < grid["minimum"]  # NaN minimum: False
    grid["status"] = judge(
        grid["value"], grid["denominator"], grid["op"], grid["target"], grid["target_hi"], too_few
    )

    grid["score"] = score(
        grid["value"], grid["better"], grid["op"], grid["target"], grid["target_hi"]
    )
    ranked = grid["status"].isin(list(RANKED_STATUSES)).to_numpy(dtype=bool)
    grid["parent_key"] = grid["parent_code"].fillna("")
    ranks = (
        grid.loc[ranked].groupby(["parent_key", "period", "indicator"])["score"].rank(method="min")
    )
    grid["rank"] = pd.Series(pd.NA, index=grid.index, dtype="Int64")
    grid.loc[ranks.index, "rank"] = ranks.astype("int64")

    grid = grid.merge(shares, on=["area_code", "period"], how="left")

    grid["level_order"] = grid["area_level"].map({lvl: i for i, lvl in enumerate(AREA_LEVELS)})
    grid = grid.sort_values(
        ["period_order", "level_order", "area_code", "indicator_order"], kind="stable"
    )
    out = pd.DataFrame(
        {
            "area_code": grid["area_code"].astype("string"),
            "area_name": grid["area_name"].astype("string"),
            "area_level": grid["area_level"].astype("string"),
            "parent_code": grid["parent_code"].astype("string"),
            "period": grid["period"].astype("string"),
            "period_start": grid["period_start"].astype("datetime64[s]"),
            "period_end": grid["period_end"].astype("datetime64[s]"),
            "indicator": grid["indicator"].astype("string"),
            "indicator_name": grid["indicator_name"].astype("string"),
            "numerator": grid["numerator"].astype("Float64"),
            "denominator": grid["denominator"].astype("Float64"),
            "value": grid["value"].astype("Float64"),
            "unit": grid["unit"].astype("string"),
            "target_op": grid["op"].astype("string"),
            "target": grid["target"].astype("Float64"),
            "target_hi": grid["target_hi"].astype("Float64"),
            "status": grid["status"].astype("string"),
            "rank": grid["rank"].astype("Int64"),
            "period_complete": grid["period_complete"].astype("boolean"),
            "signed_off_share": grid["signed_off_share"].astype("Float64"),
            "run_id": pd.Series(run_id, index=grid.index, dtype="string"),
        }
    )
    return out.reset_index(drop=True)
