"""Indicator computation: catalog, measures, rollup, targets, status, rank.

Frames are built inline in the shapes of docs/design.md ("Reconciled frames").
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from transforms.indicators.achievement import (
    OUTPUT_COLUMNS,
    MeasureLookup,
    compute_indicators,
    normalise_targets,
    target_findings,
    target_problems,
)
from transforms.indicators.catalog import CatalogError, load_catalog, parse_catalog
from transforms.indicators.measures import MEASURES
from transforms.officer.mart_presentation import MART_COLUMNS
from transforms.periods import parse_period, periods_for
from warehouse.schema import mart_target_achievement

COUNTY = "654226"
TOWN_A = "654226100"
TOWN_B = "654226200"
A1, A2, A3 = "654226100001", "654226100002", "654226100003"
B1 = "654226200001"
# The twenty indicators townships are judged on, in the order of the contract
# (docs/indicators.md): a code renamed or dropped breaks what dashboards read.
CONTRACT_CODES = (
    "births",
    "policy_compliance_rate",
    "multi_child_rate",
    "sex_ratio_at_birth",
    "contraceptive_prevalence",
    "long_acting_rate",
    "three_checks_rate",
    "three_checks_rate_2plus",
    "fee_collection_rate",
    "fee_arrears_collection_rate",
    "prepregnancy_exams",
    "migrant_certificate_rate",
    "migrant_file_rate",
    "migrant_verified_rate",
    "migrant_notified_rate",
    "birth_underreport_rate",
    "data_accuracy_rate",
    "change_timeliness_rate",
    "reporting_rate",
    "reporting_rate_on_time",
)


# -------------------------------------------------------------------- builders


def areas_frame() -> pd.DataFrame:
    """County → townships A, B → villages A1..A3, B1 (areas.csv shape)."""
    return pd.DataFrame(
        {
            "code": [COUNTY, TOWN_A, TOWN_B, A1, A2, A3, B1],
            "name": ["县", "甲镇", "乙镇", "甲一村", "甲二村", "甲三村", "乙一村"],
            "level": ["county", "township", "township", "village", "village", "village", "village"],
            "parent_code": ["", COUNTY, COUNTY, TOWN_A, TOWN_A, TOWN_A, TOWN_B],
        }
    )


def no_targets() -> pd.DataFrame:
    return pd.DataFrame(columns=["year", "area_code", "indicator", "op", "target", "target_hi"])


def targets_frame(*rows: tuple[int, str, str, str, float, float | None]) -> pd.DataFrame:
    return pd.DataFrame(
        list(rows), columns=["year", "area_code", "indicator", "op", "target", "target_hi"]
    )


def births_frame(
    area: list[str] | np.ndarray,
    birth_date: list[str] | np.ndarray,
    *,
    sex: list[str] | np.ndarray | None = None,
    order: list[int] | np.ndarray | None = None,
    policy: list[str | None] | np.ndarray | None = None,
    status: list[str] | np.ndarray | None = None,
    on_time: list[bool | None] | None = None,
) -> pd.DataFrame:
    """recon_births rows; unspecified fields get harmless defaults (reported on time
    unless the status says the village has not reported it)."""
    n = len(area)
    dates = pd.to_datetime(pd.Series(birth_date)).astype("datetime64[s]")
    statuses = ["matched"] * n if status is None else list(status)
    by_status = {"missing_in_village": False, "pending": None}
    reported = [by_status.get(s, True) for s in statuses] if on_time is None else on_time
    return pd.DataFrame(
        {
            "birth_key": pd.Series([f"b{i}" for i in range(n)], dtype="string"),
            "area_code": pd.Series(area, dtype="string"),
            "birth_date": dates,
            "birth_month": dates.dt.strftime("%Y-%m").astype("string"),
            "child_sex": pd.Series(["F"] * n if sex is None else sex, dtype="string"),
            "birth_order": pd.array([1] * n if order is None else order, dtype="Int64"),
            "policy_status": pd.Series(
                ["政策内"] * n if policy is None else policy, dtype="string"
            ),
            "in_village": np.ones(n, dtype=bool),
            "in_hospital": np.ones(n, dtype=bool),
            "in_police": np.zeros(n, dtype=bool),
            "status": pd.Series(statuses, dtype="string"),
            "mother_key": pd.Series([f"m{i}" for i in range(n)], dtype="string"),
            "matched_by": pd.Series(["id"] * n, dtype="string"),
            "village_report_month": dates.dt.strftime("%Y-%m").astype("string"),
            "reported_on_time": pd.array(reported, dtype="boolean"),
        }
    )


def women_frame(
    snapshot_month: list[str] | np.ndarray,
    area: list[str] | np.ndarray,
    *,
    method: list[str] | np.ndarray | None = None,
    children: list[int] | np.ndarray | None = None,
    last_check: list[str | None] | np.ndarray | None = None,
    residence: list[str] | np.ndarray | None = None,
    flags: list[bool] | np.ndarray | None = None,
) -> pd.DataFrame:
    """recon_women rows; `flags` sets all four in-migrant yes/no columns alike."""
    n = len(area)
    flag = pd.array([False] * n if flags is None else list(flags), dtype="boolean")
    return pd.DataFrame(
        {
            "snapshot_month": pd.Series(snapshot_month, dtype="string"),
            "area_code": pd.Series(area, dtype="string"),
            "woman_key": pd.Series([f"w{i}" for i in range(n)], dtype="string"),
            "residence": pd.Series(
                ["常住"] * n if residence is None else residence, dtype="string"
            ),
            "children": pd.array([1] * n if children is None else children, dtype="Int64"),
            "method": pd.Series(["上环"] * n if method is None else method, dtype="string"),
            "method_source": pd.Series(["village"] * n, dtype="string"),
            "last_check_date": pd.to_datetime(
                pd.Series([None] * n if last_check is None else last_check, dtype="object")
            ).astype("datetime64[s]"),
            "marriage_certificate": flag,
            "file_created": flag,
            "verified": flag,
            "notified": flag,
        }
    )


def fees_frame(
    report_month: list[str] | np.ndarray,
    area: list[str] | np.ndarray,
    decision_date: list[str] | np.ndarray,
    assessed: list[float] | np.ndarray,
    paid: list[float] | np.ndarray,
) -> pd.DataFrame:
    n = len(area)
    return pd.DataFrame(
        {
            "report_month": pd.Series(report_month, dtype="string"),
            "area_code": pd.Series(area, dtype="string"),
            "case_key": pd.Series([f"c{i}" for i in range(n)], dtype="string"),
            "decision_date": pd.to_datetime(pd.Series(decision_date)).astype("datetime64[s]"),
            "assessed": pd.array(assessed, dtype="Float64"),
            "paid_to_date": pd.array(paid, dtype="Float64"),
        }
    )


def reporting_frame(
    area: list[str], source: list[str], received: list[bool], on_time: list[bool], month: str
) -> pd.DataFrame:
    n = len(area)
    return pd.DataFrame(
        {
            "unit": pd.Series(area, dtype="string"),
            "source": pd.Series(source, dtype="string"),
            "kind": pd.Series(["births"] * n, dtype="string"),
            "report_month": pd.Series([month] * n, dtype="string"),
            "area_code": pd.Series(area, dtype="string"),
            "received": pd.array(received, dtype="boolean"),
            "on_time": pd.array(on_time, dtype="boolean"),
        }
    )


def run(
    frames: dict[str, pd.DataFrame],
    codes: list[str],
    months: list[str],
    targets: pd.DataFrame | None = None,
) -> pd.DataFrame:
    catalog = load_catalog().select(codes)
    return compute_indicators(
        frames,
        catalog,
        areas_frame(),
        no_targets() if targets is None else targets,
        periods_for(months),
        "run-1",
    )


def row(out: pd.DataFrame, area: str, period: str, indicator: str) -> pd.Series:
    hit = out[(out.area_code == area) & (out.period == period) & (out.indicator == indicator)]
    assert len(hit) == 1, (area, period, indicator, len(hit))
    return hit.iloc[0]


# --------------------------------------------------------------------- catalog


def test_catalog_holds_the_twenty_indicators_of_the_contract() -> None:
    catalog = load_catalog()
    assert len(catalog) == 20
    assert tuple(catalog.codes) == CONTRACT_CODES
    assert all(m in MEASURES for m in catalog.measures)
    assert catalog.get("policy_compliance_rate").name_zh == "政策符合率"
    sex = catalog.get("sex_ratio_at_birth")
    assert (sex.unit, sex.factor, sex.better) == ("ratio", 100.0, "range")
    births = catalog.get("births")
    assert (births.unit, births.denominator, births.better, births.flow) == (
        "count",
        None,
        None,
        True,
    )
    assert catalog.get("fee_collection_rate").flow is False


_VALID = """
[indicators.x]
name_zh = "x"
name_en = "x"
numerator = "births_policy_in"
denominator = "births"
unit = "%"
factor = 100
better = "higher"
flow = true
"""


def test_parse_catalog_accepts_a_new_indicator_as_data() -> None:
    catalog = parse_catalog(_VALID)
    assert catalog.codes == ("x",)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('numerator = "births_policy_in"', 'numerator = "no_such"'), "unknown numerator measure"),
        (('denominator = "births"', 'denominator = "nope"'), "unknown denominator measure"),
        (('unit = "%"', 'unit = "permille"'), "unit"),
        (('better = "higher"', 'better = "up"'), "better"),
        (("flow = true", "flow = false"), "is a stock but measure"),
        (('denominator = "births"', 'denominator = "roster_women"'), "is a flow but measure"),
        (('unit = "%"', 'unit = "count"'), "a count has no denominator"),
        (("factor = 100", "factor = 0"), "factor"),
        (("flow = true", 'flow = true\nperiods = ["week"]'), "unknown period kinds"),
        (("flow = true", 'flow = true\ncolour = "red"'), "unknown keys"),
    ],
)
def test_parse_catalog_rejects_bad_definitions(change: tuple[str, str], message: str) -> None:
    with pytest.raises(CatalogError, match=message):
        parse_catalog(_VALID.replace(*change))


# --------------------------------------------------------------------- columns


def test_output_columns_are_exactly_the_published_table_and_its_dictionary() -> None:
    documented = [c.name for c in MART_COLUMNS]  # docs/data-dictionary.md
    assert list(OUTPUT_COLUMNS) == documented
    assert [c.name for c in mart_target_achievement.columns] == documented
    out = run({"recon_births": births_frame([A1], ["2026-09-03"])}, ["births"], ["2026-09"])
    assert list(out.columns) == documented
    assert (out.run_id == "run-1").all()


def test_one_row_per_area_period_indicator() -> None:
    out = run(
        {"recon_births": births_frame([A1], ["2026-09-03"])},
        ["births", "policy_compliance_rate"],
        ["2026-09"],
    )
    assert len(out) == 7 * 5 * 2
    assert not out.duplicated(["area_code", "period", "indicator"]).any()
    county = row(out, COUNTY, "2026-Q3", "births")
    assert pd.isna(county.parent_code) and county.area_level == "county"
    assert county.period_start == pd.Timestamp("2026-07-01")
    assert county.period_end == pd.Timestamp("2026-09-30")
    assert row(out, A1, "2026-09", "births").area_name == "甲一村"


# ---------------------------------------------------------------------- rollup


def test_rollup_sums_numerators_and_denominators_never_averages_rates() -> None:
    # A1: 1 of 1 births within policy (100 %); A2: 0 of 3 (0 %). Township: 1/4 = 25 %, not
    # 50 %. A2's fifth birth has no known status (only the hospital saw it): not counted.
    births = births_frame(
        [A1, A2, A2, A2, A2],
        ["2026-09-01"] * 5,
        policy=["政策内", "政策外", "政策外", "政策外", None],
    )
    out = run({"recon_births": births}, ["policy_compliance_rate", "births"], ["2026-09"])
    town = row(out, TOWN_A, "2026-09", "policy_compliance_rate")
    assert (town.numerator, town.denominator, town.value) == (1, 4, 25.0)
    county = row(out, COUNTY, "2026-09", "policy_compliance_rate")
    assert (county.numerator, county.denominator) == (1, 4)
    assert row(out, COUNTY, "2026-09", "births").numerator == 5
    assert pd.isna(row(out, COUNTY, "2026-09", "births").denominator)
    # a township with nothing: counts are 0, rates have no data
    assert row(out, TOWN_B, "2026-09", "births").value == 0
    assert row(out, TOWN_B, "2026-09", "policy_compliance_rate").status == "no_data"


def test_flows_sum_over_the_months_of_the_period() -> None:
    births = births_frame(
        [A1, A1, A1, A1], ["2026-07-31", "2026-08-01", "2026-09-30", "2026-10-01"]
    )
    out = run({"recon_births": births}, ["births"], ["2026-07", "2026-08", "2026-09", "2026-10"])
    assert row(out, A1, "2026-08", "births").value == 1
    assert row(out, A1, "2026-Q3", "births").value == 3
    assert row(out, A1, "2026-01..2026-09", "births").value == 3
    assert row(out, A1, "2026-H2", "births").value == 4
    assert row(out, A1, "2026", "births").value == 4


def test_stocks_take_the_last_snapshot_of_the_period_per_area() -> None:
    # A1 has July (2 women, 1 with a method) and August (4 women, 3 with a method);
    # A2 only July (1 woman, with a method). Nothing for September.
    women = women_frame(
        ["2026-07", "2026-07", "2026-08", "2026-08", "2026-08", "2026-08", "2026-07"],
        [A1, A1, A1, A1, A1, A1, A2],
        method=["上环", "无", "上环", "药具", "结扎", "无", "皮埋"],
    )
    out = run(
        {"recon_women": women}, ["contraceptive_prevalence"], ["2026-07", "2026-08", "2026-09"]
    )
    q3 = row(out, A1, "2026-Q3", "contraceptive_prevalence")
    assert (q3.numerator, q3.denominator) == (3, 4)  # August, not July + August
    assert (row(out, A2, "2026-Q3", "contraceptive_prevalence").denominator) == 1  # its July
    town = row(out, TOWN_A, "2026-Q3", "contraceptive_prevalence")
    assert (town.numerator, town.denominator, town.value) == (4, 5, 80.0)
    july = row(out, A1, "2026-07", "contraceptive_prevalence")
    assert (july.numerator, july.denominator) == (1, 2)
    sept = row(out, A1, "2026-09", "contraceptive_prevalence")
    assert sept.status == "no_data" and pd.isna(sept.value) and pd.isna(sept["rank"])


def test_roster_measures() -> None:
    women = women_frame(
        ["2026-09"] * 6,
        [A1] * 6,
        method=["上环", "结扎", "皮埋", "药具", "其他", "无"],
        residence=["流入", "流入", "流入", "常住", "流出", "常住"],
        flags=[True, False, True, True, True, True],
    )
    out = run(
        {"recon_women": women},
        [
            "contraceptive_prevalence",
            "long_acting_rate",
            "migrant_certificate_rate",
            "migrant_notified_rate",
        ],
        ["2026-09"],
    )
    assert row(out, A1, "2026-09", "contraceptive_prevalence").numerator == 5
    assert row(out, A1, "2026-09", "long_acting_rate").numerator == 3
    migrant = row(out, A1, "2026-09", "migrant_certificate_rate")
    assert (migrant.numerator, migrant.denominator) == (2, 3)
    assert row(out, A1, "2026-09", "migrant_notified_rate").numerator == 2


def test_three_checks_count_checks_in_the_half_year_of_the_snapshot() -> None:
    women = women_frame(
        ["2026-09"] * 6 + ["2026-05"] * 2,
        [A1] * 8,
        method=["上环", "上环", "上环", "结扎", "无", "药具", "上环", "上环"],
        children=[2, 1, 3, 2, 0, 2, 2, 2],
        last_check=[
            "2026-07-01",  # in H2, up to September: checked
            "2026-06-30",  # H1: not checked in the half-year
            "2026-09-30",  # checked
            "2026-08-01",  # 结扎: not due
            None,  # due, never checked
            "2026-10-01",  # after the snapshot: not counted
            "2026-01-01",  # May snapshot: H1 window
            "2025-12-31",  # May snapshot: last year
        ],
    )
    out = run(
        {"recon_women": women},
        ["three_checks_rate", "three_checks_rate_2plus"],
        ["2026-05", "2026-09"],
    )
    h2 = row(out, A1, "2026-H2", "three_checks_rate")
    assert (h2.numerator, h2.denominator) == (2, 5)
    plus = row(out, A1, "2026-H2", "three_checks_rate_2plus")
    assert (plus.numerator, plus.denominator) == (2, 3)
    h1 = row(out, A1, "2026-H1", "three_checks_rate")
    assert (h1.numerator, h1.denominator) == (1, 2)
    # a half-year campaign: never published for a month, quarter, year-to-date or year
    three = out[out.indicator.str.startswith("three_checks")]
    assert set(three.period) == {"2026-H1", "2026-H2"}


def test_fees_split_cases_of_the_ledger_year_from_earlier_years() -> None:
    fees = fees_frame(
        ["2026-09", "2026-09", "2026-09", "2026-06", "2025-12"],
        [A1, A1, A1, A1, A1],
        ["2026-02-01", "2025-12-31", "2024-05-05", "2026-02-01", "2025-12-31"],
        [1000.0, 500.0, 300.0, 1000.0, 500.0],
        [250.5, 100.0, 300.0, 100.0, 50.0],
    )
    out = run(
        {"recon_fees": fees},
        ["fee_collection_rate", "fee_arrears_collection_rate"],
        ["2025-12", "2026-06", "2026-09"],
    )
    cur = row(out, A1, "2026-01..2026-09", "fee_collection_rate")
    assert (cur.numerator, cur.denominator) == (250.5, 1000.0)
    prior = row(out, A1, "2026-01..2026-09", "fee_arrears_collection_rate")
    assert (prior.numerator, prior.denominator) == (400.0, 800.0)
    assert row(out, A1, "2026-H1", "fee_collection_rate").numerator == 100.0
    # in the 2025 ledger the 2025 case is a case of the year
    assert row(out, A1, "2025", "fee_collection_rate").denominator == 500.0


def test_reporting_at_township_level_counts_for_township_and_county_only() -> None:
    reporting = reporting_frame(
        [A1, A2, TOWN_A, TOWN_A],
        ["village", "village", "police", "hospital"],
        received=[True, False, True, True],
        on_time=[True, False, False, True],
        month="2026-09",
    )
    out = run(
        {"dq_reporting": reporting}, ["reporting_rate", "reporting_rate_on_time"], ["2026-09"]
    )
    assert (row(out, A1, "2026-09", "reporting_rate").denominator) == 1
    assert (row(out, A2, "2026-09", "reporting_rate").value) == 0
    town = row(out, TOWN_A, "2026-09", "reporting_rate")
    assert (town.numerator, town.denominator) == (3, 4)
    on_time = row(out, COUNTY, "2026-09", "reporting_rate_on_time")
    assert (on_time.numerator, on_time.denominator) == (2, 4)


def test_underreport_accuracy_changes_and_exams() -> None:
    # the fourth birth was reported three months late: matched now, 漏报 for good
    births = births_frame(
        [A1, A1, A1, A1],
        ["2026-09-01"] * 4,
        status=["matched", "missing_in_village", "pending", "matched"],
        on_time=[True, False, None, False],
    )
    accuracy = pd.DataFrame(
        {
            "area_code": pd.Series([A1, A1, A2], dtype="string"),
            "report_month": pd.Series(["2026-09"] * 3, dtype="string"),
            "template": pd.Series(["village_women"] * 3, dtype="string"),
            "upload_id": [1, 1, 2],
            "row_number": [1, 2, 1],
            "accurate": pd.array([True, False, True], dtype="boolean"),
            "rule": pd.Series([None, "method_stale", None], dtype="string"),
        }
    )
    changes = pd.DataFrame(
        {
            "area_code": pd.Series([A1, A1], dtype="string"),
            "change_type": pd.Series(["birth", "结扎"], dtype="string"),
            "event_date": pd.to_datetime(["2026-09-02", "2026-09-03"]).astype("datetime64[s]"),
            "event_month": pd.Series(["2026-09"] * 2, dtype="string"),
            "recorded_month": pd.Series(["2026-10", None], dtype="string"),
            "timely": pd.array([True, False], dtype="boolean"),
        }
    )
    exams = pd.DataFrame(
        {
            "area_code": pd.Series([A1, A1, B1], dtype="string"),
            "exam_date": pd.to_datetime(["2026-09-02", "2026-08-03", "2026-09-09"]),
            "exam_month": pd.Series(["2026-09", "2026-08", "2026-09"], dtype="string"),
            "couple_key": pd.Series(["k1", "k2", "k3"], dtype="string"),
        }
    )
    out = run(
        {
            "recon_births": births,
            "recon_accuracy": accuracy,
            "recon_changes": changes,
            "recon_exams": exams,
        },
        [
            "birth_underreport_rate",
            "data_accuracy_rate",
            "change_timeliness_rate",
            "prepregnancy_exams",
        ],
        ["2026-08", "2026-09"],
    )
    under = row(out, A1, "2026-09", "birth_underreport_rate")
    assert (under.numerator, under.denominator) == (2, 4)
    acc = row(out, TOWN_A, "2026-09", "data_accuracy_rate")
    assert (acc.numerator, acc.denominator) == (2, 3)
    chg = row(out, A1, "2026-09", "change_timeliness_rate")
    assert (chg.numerator, chg.denominator, chg.value) == (1, 2, 50.0)
    assert row(out, COUNTY, "2026-Q3", "prepregnancy_exams").value == 3
    assert row(out, A1, "2026-09", "prepregnancy_exams").value == 1


def test_missing_frame_is_a_clear_error() -> None:
    with pytest.raises(KeyError, match="recon_women"):
        run({}, ["contraceptive_prevalence"], ["2026-09"])


def test_empty_frames_give_no_data() -> None:
    out = run({"recon_births": births_frame([], [])}, ["births", "multi_child_rate"], ["2026-09"])
    assert (out[out.indicator == "births"].value == 0).all()
    assert (out[out.indicator == "multi_child_rate"].status == "no_data").all()


# --------------------------------------------------------------------- targets


def test_targets_are_inherited_from_the_nearest_ancestor() -> None:
    births = births_frame([A1, A2, A3, B1], ["2026-09-01"] * 4)
    targets = targets_frame(
        (2026, COUNTY, "policy_compliance_rate", ">=", 80.0, None),
        (2026, TOWN_A, "policy_compliance_rate", ">=", 90.0, None),
        (2026, A1, "policy_compliance_rate", ">=", 95.0, None),
        (2025, A2, "policy_compliance_rate", ">=", 10.0, None),  # another year: ignored
    )
    out = run(
        {"recon_births": births},
        ["policy_compliance_rate", "multi_child_rate"],
        ["2026-09"],
        targets,
    )
    got = {
        a: row(out, a, "2026-09", "policy_compliance_rate").target
        for a in (COUNTY, TOWN_A, TOWN_B, A1, A2, A3, B1)
    }
    assert got == {COUNTY: 80.0, TOWN_A: 90.0, TOWN_B: 80.0, A1: 95.0, A2: 90.0, A3: 90.0, B1: 80.0}
    assert row(out, A2, "2026-09", "policy_compliance_rate").target_op == ">="
    other = row(out, A2, "2026-09", "multi_child_rate")
    assert other.status == "no_target" and pd.isna(other.target_op) and pd.isna(other["rank"])


def test_status_is_decided_on_the_unrounded_value() -> None:
    # 篇五: 2 multi-child births of 199 = 1.005 %, which does not meet <= 1.0 %
    births = births_frame(
        [A1] * 199 + [A2] * 100, ["2026-09-01"] * 299, order=[3, 3] + [1] * 197 + [3] + [2] * 99
    )
    targets = targets_frame((2026, COUNTY, "multi_child_rate", "<=", 1.0, None))
    out = run({"recon_births": births}, ["multi_child_rate"], ["2026-09"], targets)
    a1 = row(out, A1, "2026-09", "multi_child_rate")
    assert (a1.numerator, a1.denominator) == (2, 199)
    assert round(a1.value, 2) == 1.01 and a1.value > 1.0
    assert a1.status == "not_met"
    a2 = row(out, A2, "2026-09", "multi_child_rate")
    assert a2.value == 1.0 and a2.status == "met"  # exactly on the bound meets it


def test_exact_bounds_meet_without_float_noise() -> None:
    # 7 of 100 is 7 % exactly: meets both >= 7 and <= 7
    births = births_frame(
        [A1] * 100 + [A2] * 100, ["2026-09-01"] * 200, order=[3] * 7 + [1] * 93 + [3] * 7 + [1] * 93
    )
    targets = targets_frame(
        (2026, A1, "multi_child_rate", "<=", 7.0, None),
        (2026, A2, "multi_child_rate", ">=", 7.0, None),
    )
    out = run({"recon_births": births}, ["multi_child_rate"], ["2026-09"], targets)
    assert row(out, A1, "2026-09", "multi_child_rate").status == "met"
    assert row(out, A2, "2026-09", "multi_child_rate").status == "met"


def test_between_targets_and_rank_on_distance_to_the_range() -> None:
    # sex ratio target 103..107; A1 105 (inside), A2 110 (3 above), A3 100 (3 below)
    def sexes(male: int, female: int) -> list[str]:
        return ["M"] * male + ["F"] * female

    sex = sexes(105, 100) + sexes(110, 100) + sexes(100, 100) + sexes(106, 100)
    area = [A1] * 205 + [A2] * 210 + [A3] * 200 + [B1] * 206
    births = births_frame(area, ["2026-09-01"] * len(area), sex=sex)
    targets = targets_frame((2026, COUNTY, "sex_ratio_at_birth", "between", 103.0, 107.0))
    out = run({"recon_births": births}, ["sex_ratio_at_birth"], ["2026-09"], targets)
    got = {a: row(out, a, "2026-09", "sex_ratio_at_birth") for a in (A1, A2, A3, B1)}
    assert got[A1].value == 105.0 and got[A1].status == "met"
    assert got[A2].status == "not_met" and got[A3].status == "not_met"
    assert got[A1].target_hi == 107.0 and got[A1].target_op == "between"
    assert [got[a]["rank"] for a in (A1, A2, A3)] == [1, 2, 2]  # 3 above ties 3 below
    assert got[B1]["rank"] == 1  # alone under township B
    town = row(out, TOWN_A, "2026-09", "sex_ratio_at_birth")
    assert (town.numerator, town.denominator) == (315, 300)
    assert row(out, COUNTY, "2026-09", "sex_ratio_at_birth")["rank"] == 1


def test_ranks_best_first_with_ties_sharing_the_smallest_rank() -> None:
    # policy compliance: A1 2/2 = 100 %, A2 1/2 = 50 %, A3 2/4 = 50 %; B1 none → no_data
    births = births_frame(
        [A1, A1, A2, A2, A3, A3, A3, A3],
        ["2026-09-01"] * 8,
        policy=["政策内", "政策内", "政策内", "政策外", "政策内", "政策内", "政策外", "政策外"],
        order=[1, 1, 1, 3, 3, 1, 1, 1],
    )
    targets = targets_frame(
        (2026, COUNTY, "policy_compliance_rate", ">=", 60.0, None),
        (2026, COUNTY, "multi_child_rate", "<=", 10.0, None),
    )
    out = run(
        {"recon_births": births},
        ["policy_compliance_rate", "multi_child_rate", "births"],
        ["2026-09"],
        targets,
    )
    ranks = {a: row(out, a, "2026-09", "policy_compliance_rate")["rank"] for a in (A1, A2, A3)}
    assert ranks == {A1: 1, A2: 2, A3: 2}
    # lower is better: A1 0 %, A3 25 %, A2 50 %
    lower = {a: row(out, a, "2026-09", "multi_child_rate")["rank"] for a in (A1, A2, A3)}
    assert lower == {A1: 1, A3: 2, A2: 3}
    b1 = row(out, B1, "2026-09", "policy_compliance_rate")
    assert b1.status == "no_data" and pd.isna(b1["rank"]) and b1.target == 60.0
    assert out[out.indicator == "births"]["rank"].isna().all()  # no target: no rank
    assert row(out, TOWN_A, "2026-09", "policy_compliance_rate")["rank"] == 1
    assert pd.isna(row(out, TOWN_B, "2026-09", "policy_compliance_rate")["rank"])
    assert out["rank"].dtype == "Int64"


def test_annual_task_is_judged_on_the_year_only() -> None:
    exams = pd.DataFrame(
        {
            "area_code": pd.Series([A1] * 3, dtype="string"),
            "exam_date": pd.to_datetime(["2026-02-01", "2026-09-01", "2026-09-02"]),
            "exam_month": pd.Series(["2026-02", "2026-09", "2026-09"], dtype="string"),
            "couple_key": pd.Series(["k1", "k2", "k3"], dtype="string"),
        }
    )
    targets = targets_frame(
        (2026, TOWN_A, "prepregnancy_exams", ">=", 3.0, None),
        (2026, A2, "prepregnancy_exams", ">=", 1.0, None),
    )
    out = run({"recon_exams": exams}, ["prepregnancy_exams"], ["2026-02", "2026-09"], targets)
    month = row(out, TOWN_A, "2026-09", "prepregnancy_exams")
    assert month.status == "no_target" and pd.isna(month.target)
    year = row(out, TOWN_A, "2026", "prepregnancy_exams")
    assert (year.value, year.target, year.status, year["rank"]) == (3, 3.0, "met", 1)
    # the township's task stays with the township: its villages are not each given it
    a1 = row(out, A1, "2026", "prepregnancy_exams")
    assert a1.status == "no_target" and pd.isna(a1.target)
    assert row(out, A2, "2026", "prepregnancy_exams").status == "not_met"  # its own task


def test_target_problems_and_normalisation() -> None:
    targets = targets_frame(
        (2026, COUNTY, "multi_child_rate", "<=", 1.0, None),
        (2026, "999999", "multi_child_rate", "<=", 1.0, None),
        (2026, COUNTY, "no_such", ">=", 1.0, None),
        (2026, COUNTY, "sex_ratio_at_birth", "between", 103.0, None),
        (2026, COUNTY, "births", "==", 3.0, None),
        (2026, COUNTY, "multi_child_rate", "<=", 2.0, None),
    )
    problems = target_problems(targets, load_catalog(), areas_frame())
    assert any("row 1:" in p and "later row" in p for p in problems)
    assert any("row 2:" in p and "areas.csv" in p for p in problems)
    assert any("row 3:" in p and "catalog" in p for p in problems)
    assert any("row 4:" in p and "target_hi" in p for p in problems)
    assert any("row 5:" in p and "op" in p for p in problems)
    assert not any("row 6:" in p for p in problems)
    usable = normalise_targets(targets, load_catalog())
    kept = usable.set_index(["area_code", "indicator"])["target"].to_dict()
    assert kept == {(COUNTY, "multi_child_rate"): 2.0, ("999999", "multi_child_rate"): 1.0}


# ------------------------------------------------------- the seed's worked example


def _split(total: int, parts: int) -> np.ndarray:
    """`total` split into `parts` integers that differ by at most 1."""
    amounts = np.full(parts, total // parts, dtype=np.int64)
    amounts[: total % parts] += 1
    return amounts


def _worked_example_frames() -> dict[str, pd.DataFrame]:
    """篇五's township (甲镇, villages A1–A3) as reconciled microdata."""
    rng = np.random.default_rng(5)
    villages = np.array([A1, A2, A3])

    # births: 199 in 1—9月, 178 政策内, 2 of order ≥ 3; plus births outside the window
    n = 199
    policy = np.where(np.arange(n) < 178, "政策内", "政策外")
    order = np.where(np.arange(n) < 2, 3, rng.integers(1, 3, n))
    day = rng.integers(0, 273, n)  # 1 Jan .. 30 Sep 2026
    dates = (np.datetime64("2026-01-01") + day).astype(str)
    perm = rng.permutation(n)
    extra = 12
    extra_dates = np.concatenate(
        [
            np.datetime64("2026-10-01") + rng.integers(0, 92, extra // 2),
            np.datetime64("2025-01-01") + rng.integers(0, 365, extra // 2),
        ]
    ).astype(str)
    births = births_frame(
        np.concatenate([villages[rng.integers(0, 3, n)], villages[rng.integers(0, 3, extra)]]),
        np.concatenate([dates[perm], extra_dates]),
        policy=np.concatenate([policy[perm], np.full(extra, "政策外")]),
        order=np.concatenate([order[perm], np.full(extra, 4)]),
        sex=np.where(rng.random(n + extra) < 0.52, "M", "F"),
    )

    # fees: 24 cases of the year, 15 of earlier years; September's ledger holds the
    # worked totals, June's the same cases with less paid
    cur_assessed = _split(1_041_428, 24)
    cur_paid = cur_assessed.copy()
    cur_paid[14:] = _split(754_178 - int(cur_assessed[:14].sum()), 10)
    assert (cur_paid <= cur_assessed).all()
    prior_assessed = _split(621_317, 15)
    prior_paid = _split(336_070, 15)
    decided = np.concatenate(
        [
            (np.datetime64("2026-01-05") + rng.integers(0, 150, 24)).astype(str),
            (np.datetime64("2022-01-05") + rng.integers(0, 1400, 15)).astype(str),
        ]
    )
    assessed = np.concatenate([cur_assessed, prior_assessed]).astype(float)
    paid = np.concatenate([cur_paid, prior_paid]).astype(float)
    case_area = villages[np.arange(39) % 3]
    fees = pd.concat(
        [
            fees_frame(np.full(39, "2026-09"), case_area, decided, assessed, paid),
            fees_frame(np.full(39, "2026-06"), case_area, decided, assessed, np.floor(paid / 2)),
        ],
        ignore_index=True,
    )

    # roster, December: 1,891 women due (method not 结扎), 794 of them with ≥ 2 children;
    # checked in H2: 763 of the 794 and 1,052 of the others (1,815 in all); 600 结扎
    due, due2, sterilised = 1891, 794, 600
    two_plus = np.arange(due) < due2
    checked = np.where(two_plus, np.arange(due) < 763, np.arange(due) - due2 < 1815 - 763)
    children = np.where(two_plus, rng.integers(2, 4, due), rng.integers(0, 2, due))
    method = rng.choice(np.array(["上环", "皮埋", "药具", "无"]), due)
    h2_day = np.datetime64("2026-07-01") + rng.integers(0, 184, due)
    h1_day = np.datetime64("2026-01-01") + rng.integers(0, 181, due)
    check = np.where(checked, h2_day, h1_day).astype("datetime64[D]").astype(str).astype(object)
    check[~checked & (rng.random(due) < 0.3)] = None  # some never checked
    s_check = (np.datetime64("2026-01-01") + rng.integers(0, 365, sterilised)).astype(str)
    area = villages[rng.integers(0, 3, due + sterilised)]
    dec = women_frame(
        np.full(due + sterilised, "2026-12"),
        area,
        method=np.concatenate([method, np.full(sterilised, "结扎")]),
        children=np.concatenate([children, rng.integers(1, 4, sterilised)]),
        last_check=np.concatenate([check, s_check.astype(object)]),
    )
    # September: same women, checks after September not yet made, a third not yet checked
    sep = dec.copy()
    sep["snapshot_month"] = pd.Series("2026-09", index=sep.index, dtype="string")
    late = (sep["last_check_date"] > pd.Timestamp("2026-09-30")) | (rng.random(len(sep)) < 0.33)
    sep.loc[late, "last_check_date"] = pd.NaT
    women = pd.concat([sep, dec], ignore_index=True)
    return {"recon_births": births, "recon_fees": fees, "recon_women": women}


def test_worked_example_of_the_seed() -> None:
    months = [f"2026-{m:02d}" for m in range(1, 13)]
    targets = targets_frame(
        (2026, COUNTY, "policy_compliance_rate", ">=", 87.0, None),
        (2026, COUNTY, "multi_child_rate", "<=", 1.0, None),
        (2026, COUNTY, "fee_collection_rate", ">=", 70.0, None),
        (2026, COUNTY, "fee_arrears_collection_rate", ">=", 40.0, None),
        (2026, COUNTY, "three_checks_rate", ">=", 95.0, None),
        (2026, COUNTY, "three_checks_rate_2plus", ">=", 96.0, None),
    )
    out = run(
        _worked_example_frames(),
        [
            "births",
            "policy_compliance_rate",
            "multi_child_rate",
            "fee_collection_rate",
            "fee_arrears_collection_rate",
            "three_checks_rate",
            "three_checks_rate_2plus",
        ],
        months,
        targets,
    )
    ytd, h2 = "2026-01..2026-09", "2026-H2"
    expected = [
        (ytd, "policy_compliance_rate", 178, 199, 89.45, "met"),
        (ytd, "multi_child_rate", 2, 199, 1.01, "not_met"),
        (ytd, "fee_collection_rate", 754_178, 1_041_428, 72.42, "met"),
        (ytd, "fee_arrears_collection_rate", 336_070, 621_317, 54.09, "met"),
        (h2, "three_checks_rate", 1_815, 1_891, 95.98, "met"),
        (h2, "three_checks_rate_2plus", 763, 794, 96.10, "met"),
    ]
    for area in (TOWN_A, COUNTY):
        for period, code, numerator, denominator, shown, status in expected:
            got = row(out, area, period, code)
            assert (got.numerator, got.denominator) == (numerator, denominator), (period, code)
            assert round(got.value, 2) == shown, (period, code, got.value)
            assert got.status == status, (period, code)
    assert row(out, TOWN_A, ytd, "multi_child_rate").value == pytest.approx(200 / 199)
    assert row(out, TOWN_A, ytd, "births").value == 199
    # villages sum to the township, and the township's rate is not their average
    villages = out[
        (out.parent_code == TOWN_A)
        & (out.period == ytd)
        & (out.indicator == "policy_compliance_rate")
    ]
    assert villages.numerator.sum() == 178 and villages.denominator.sum() == 199
    # 三查 is published for the half-years only
    assert out[(out.indicator == "three_checks_rate") & (out.period == "2026")].empty
    # fees in H1 take June's ledger
    assert row(out, TOWN_A, "2026-H1", "fee_collection_rate").numerator < 754_178
    assert parse_period(ytd).end.isoformat() == "2026-09-30"


def test_sex_ratio_below_a_hundred_births_is_too_few_and_not_ranked() -> None:
    # A1: 3 births (2 boys, 1 girl: 200); A2: 100 births (52 boys, 48 girls).
    sexes = ["M", "M", "F"] + ["M"] * 52 + ["F"] * 48
    births = births_frame([A1] * 3 + [A2] * 100, ["2026-09-01"] * 103, sex=sexes)
    targets = targets_frame((2026, COUNTY, "sex_ratio_at_birth", "between", 103.0, 107.0))
    out = run({"recon_births": births}, ["sex_ratio_at_birth"], ["2026-09"], targets)
    tiny = row(out, A1, "2026-09", "sex_ratio_at_birth")
    assert (tiny.value, tiny.status) == (200.0, "too_few") and pd.isna(tiny["rank"])
    enough = row(out, A2, "2026-09", "sex_ratio_at_birth")
    assert enough.status == "not_met" and enough["rank"] == 1  # 108.3 > 107
    assert load_catalog().get("sex_ratio_at_birth").min_denominator == 100


def test_period_complete_says_whether_every_month_is_due() -> None:
    births = births_frame([A1], ["2026-09-01"])
    out = compute_indicators(
        {"recon_births": births},
        load_catalog().select(["births"]),
        areas_frame(),
        no_targets(),
        periods_for(["2026-09"]),
        "run-1",
        as_of=date(2026, 10, 6),
    )
    complete = out.groupby("period")["period_complete"].first().to_dict()
    assert complete == {
        "2026-09": True,
        "2026-01..2026-09": True,
        "2026-Q3": True,
        "2026-H2": False,
        "2026": False,
    }
    on_deadline = compute_indicators(
        {"recon_births": births},
        load_catalog().select(["births"]),
        areas_frame(),
        no_targets(),
        periods_for(["2026-09"]),
        "run-1",
        as_of=date(2026, 10, 5),
    )
    assert not on_deadline["period_complete"].any()


def test_bad_target_rows_are_quality_findings_with_file_and_row() -> None:
    targets = pd.DataFrame(
        {
            "year": ["2026", "二〇二六", "2026", "2026"],
            "area_code": [COUNTY, COUNTY, COUNTY, TOWN_A],
            "indicator": ["births", "multi_child_rate", "no_such", "policy_compliance_rate"],
            "op": [">=", "<=", ">=", "=>"],
            "target": ["abc", "1.0", "3", "87"],
            "target_hi": [None, None, None, None],
        },
        dtype="string",
    )
    found = target_findings(targets, load_catalog(), areas_frame())
    assert found[["row_number", "value"]].values.tolist() == [
        [1, "target"],
        [2, "year"],
        [3, "indicator"],
        [4, "op"],
    ]
    assert set(found["rule"]) == {"target_row_invalid"} and set(found["severity"]) == {"error"}
    assert (found["file_name"] == "targets.csv").all()
    assert "targets.csv 第2行" in found.iloc[1]["message_zh"]
    assert "row 4" in found.iloc[3]["message_en"]
    # a row with two faults is one issue naming both
    both = targets.assign(year=["x", "2026", "2026", "2026"], target=["abc", "1", "3", "87"])
    first = target_findings(both, load_catalog(), areas_frame()).iloc[0]
    assert (first["row_number"], first["value"]) == (1, "year,target")
    assert "年份不是年份；目标值缺失或不是数字" in first["message_zh"]
    # none of them sets a target, and the run does not crash on them
    assert normalise_targets(targets, load_catalog()).empty


@pytest.mark.parametrize("periods_per_chunk", [1, 5])
def test_the_mart_does_not_depend_on_how_many_periods_are_built_at_once(
    periods_per_chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """compute_indicators builds the mart a few periods at a time (memory): any chunk size
    gives the same rows in the same order as one chunk of every period."""
    months = [f"2026-{m:02d}" for m in range(1, 13)]
    targets = targets_frame((2026, COUNTY, "policy_compliance_rate", ">=", 87.0, None))
    codes = ["births", "policy_compliance_rate", "fee_collection_rate", "three_checks_rate"]
    monkeypatch.setattr("transforms.indicators.achievement.PERIODS_PER_CHUNK", 10_000)
    whole = run(_worked_example_frames(), codes, months, targets)
    monkeypatch.setattr("transforms.indicators.achievement.PERIODS_PER_CHUNK", periods_per_chunk)
    chunked = run(_worked_example_frames(), codes, months, targets)
    assert whole["period"].nunique() > periods_per_chunk
    assert whole["rank"].notna().any()
    pd.testing.assert_frame_equal(chunked, whole)


def test_measure_lookup_finds_each_triple_and_nan_where_there_is_none() -> None:
    values = pd.DataFrame(
        {
            "measure": pd.Series(["births", "births", "women"], dtype="string"),
            "area_code": pd.Series(["654226100", "654226101", "654226100"], dtype="string"),
            "period": pd.Series(["2026-01", "2026-01", "2026-Q1"], dtype="string"),
            "value": [3.0, 4.0, 120.0],
        }
    )
    lookup = MeasureLookup.of(values)
    measure = lookup.measures.get_indexer(["women", "births", "births", "women", "gone"])
    area = lookup.areas.get_indexer(["654226100", "654226101", "654226100", "654226101", "x"])
    period = lookup.periods.get_indexer(["2026-Q1", "2026-01", "2026-Q1", "2026-Q1", "2026-01"])
    found = lookup.find(measure, area, period)
    assert found[:2].tolist() == [120.0, 4.0]
    assert np.isnan(found[2:]).all()  # no such row; no such row; unknown codes
    empty = MeasureLookup.of(values.iloc[0:0])
    assert np.isnan(empty.find(measure, area, period)).all()
