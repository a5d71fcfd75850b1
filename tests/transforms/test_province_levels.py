"""transforms.indicators.achievement above the county: prefectures and a province.

A tiny province: 65 → prefectures 6542 (counties 654226, 654201) and 6543 (county
654301), one township and one village per county.
"""

from __future__ import annotations

import pandas as pd
import pytest

from tests.transforms.test_indicators import births_frame, no_targets, row, targets_frame
from transforms.indicators.achievement import compute_indicators, normalise_areas
from transforms.indicators.catalog import load_catalog
from transforms.periods import periods_for

PROVINCE, PREF_T, PREF_A = "65", "6542", "6543"
C1, C2, C3 = "654226", "654201", "654301"
T1, T2, T3 = "654226100", "654201100", "654301100"
V1, V2, V3 = "654226100201", "654201100201", "654301100201"
COUNTIES = (C1, C2, C3)


def province_areas(levels: dict[str, str] | None = None) -> pd.DataFrame:
    """areas.csv of the tiny province; `levels` overrides the written level of some codes."""
    rows = [
        (PROVINCE, "省", "province", ""),
        (PREF_T, "塔城地区", "prefecture", PROVINCE),
        (PREF_A, "阿勒泰地区", "prefecture", PROVINCE),
        (C1, "和布克赛尔县", "county", PREF_T),
        (C2, "塔城市", "county", PREF_T),
        (C3, "阿勒泰市", "county", PREF_A),
        (T1, "甲镇", "township", C1),
        (T2, "乙镇", "township", C2),
        (T3, "丙镇", "township", C3),
        (V1, "甲村", "village", T1),
        (V2, "乙村", "village", T2),
        (V3, "丙村", "village", T3),
    ]
    frame = pd.DataFrame(rows, columns=["code", "name", "level", "parent_code"])
    for code, level in (levels or {}).items():
        frame.loc[frame["code"] == code, "level"] = level
    return frame


def run_province(
    births: pd.DataFrame,
    codes: list[str],
    targets: pd.DataFrame | None = None,
    areas: pd.DataFrame | None = None,
) -> pd.DataFrame:
    return compute_indicators(
        {"recon_births": births},
        load_catalog().select(codes),
        province_areas() if areas is None else areas,
        no_targets() if targets is None else targets,
        periods_for(["2026-09"]),
        "run-1",
    )


def test_levels_above_the_county_are_derived_from_the_code_length() -> None:
    # blank or unknown levels: 2 digits province, 4 prefecture, 6 county, 9 township, 12 village
    unknown = {PROVINCE: "", PREF_T: "地区", C1: " ", T1: "镇", V1: ""}
    areas = normalise_areas(province_areas(unknown)).set_index("area_code")
    assert areas.loc[PROVINCE, "area_level"] == "province"
    assert pd.isna(areas.loc[PROVINCE, "parent_code"])
    assert areas.loc[PREF_T, "area_level"] == "prefecture"
    assert areas.loc[C1, "area_level"] == "county"
    assert areas.loc[T1, "area_level"] == "township"
    assert areas.loc[V1, "area_level"] == "village"
    # a level written as one of the five is kept even where the length says otherwise
    kept = normalise_areas(province_areas({PREF_A: "county"})).set_index("area_code")
    assert kept.loc[PREF_A, "area_level"] == "county"


def test_province_and_prefectures_sum_their_counties_numerators_and_denominators() -> None:
    # V1: 1 of 1 within policy; V2: 1 of 3; V3: 0 of 2 and one birth of unknown status
    births = births_frame(
        [V1, V2, V2, V2, V3, V3, V3],
        ["2026-09-03"] * 7,
        policy=["政策内", "政策内", "政策外", "政策外", "政策外", "政策外", None],
    )
    out = run_province(births, ["policy_compliance_rate", "births"])
    rate = {
        a: (
            row(out, a, "2026-09", "policy_compliance_rate").numerator,
            row(out, a, "2026-09", "policy_compliance_rate").denominator,
        )
        for a in (*COUNTIES, PREF_T, PREF_A, PROVINCE)
    }
    assert rate[C1] == (1, 1) and rate[C2] == (1, 3) and rate[C3] == (0, 2)
    assert rate[PREF_T] == (rate[C1][0] + rate[C2][0], rate[C1][1] + rate[C2][1]) == (2, 4)
    assert rate[PREF_A] == rate[C3]
    assert rate[PROVINCE] == (2, 6)
    assert row(out, PROVINCE, "2026-09", "policy_compliance_rate").value == pytest.approx(
        100 * 2 / 6
    )
    assert row(out, PROVINCE, "2026-09", "births").numerator == 7
    assert row(out, PREF_T, "2026-09", "births").numerator == 4
    levels = out.drop_duplicates("area_code").set_index("area_code")["area_level"]
    assert levels[PROVINCE] == "province" and levels[PREF_A] == "prefecture"


def test_rows_go_top_down_province_first() -> None:
    out = run_province(births_frame([V1], ["2026-09-03"]), ["births"])
    month = out.loc[out["period"] == "2026-09"]
    assert list(month["area_level"].drop_duplicates()) == [
        "province",
        "prefecture",
        "county",
        "township",
        "village",
    ]


def test_counties_rank_within_their_prefecture_and_the_province_alone() -> None:
    # policy compliance: C1 100 %, C2 1/3, C3 0 %; prefectures 6542 2/4 = 50 %, 6543 0 %
    births = births_frame(
        [V1, V2, V2, V2, V3, V3],
        ["2026-09-03"] * 6,
        policy=["政策内", "政策内", "政策外", "政策外", "政策外", "政策外"],
    )
    targets = targets_frame((2026, PROVINCE, "policy_compliance_rate", ">=", 60.0, None))
    out = run_province(births, ["policy_compliance_rate"], targets)

    def rank(area: str) -> object:
        return row(out, area, "2026-09", "policy_compliance_rate")["rank"]

    # within 6542: C1 before C2; C3 is alone in 6543 (rank 1 though it is the worst county)
    assert (rank(C1), rank(C2), rank(C3)) == (1, 2, 1)
    assert (rank(PREF_T), rank(PREF_A)) == (1, 2)
    assert rank(PROVINCE) == 1


def test_a_province_target_reaches_its_counties_unless_a_county_has_its_own() -> None:
    births = births_frame([V1, V2, V3], ["2026-09-03"] * 3)
    targets = targets_frame(
        (2026, PROVINCE, "policy_compliance_rate", ">=", 90.0, None),
        (2026, PREF_A, "policy_compliance_rate", ">=", 85.0, None),
        (2026, C2, "policy_compliance_rate", ">=", 70.0, None),
        (2026, PROVINCE, "births", "<=", 100.0, None),  # a count: the province's own task
    )
    out = run_province(births, ["policy_compliance_rate", "births"], targets)
    got = {
        a: row(out, a, "2026-09", "policy_compliance_rate").target
        for a in (PROVINCE, PREF_T, PREF_A, C1, C2, C3, T1, T2, T3, V1, V2, V3)
    }
    assert got == {
        PROVINCE: 90.0,
        PREF_T: 90.0,
        PREF_A: 85.0,
        C1: 90.0,
        C2: 70.0,
        C3: 85.0,
        T1: 90.0,
        T2: 70.0,
        T3: 85.0,
        V1: 90.0,
        V2: 70.0,
        V3: 85.0,
    }
    year = out.loc[(out["period"] == "2026") & (out["indicator"] == "births")]
    judged = year.loc[year["target_op"].notna(), "area_code"]
    assert list(judged) == [PROVINCE]
