"""How rows are routed to county partitions (transforms.reconcile.partitions), on tiny frames."""

from __future__ import annotations

import pandas as pd

from transforms.indicators.achievement import leaf_measures, measure_values
from transforms.reconcile.partitions import (
    NO_PARTITION,
    areas_of,
    partition_of,
    person_homes,
    route,
    uploader_partitions,
)

A, B = "654226100", "654226101"  # two townships (partitions)
VA, VB = f"{A}201", f"{B}201"  # a village in each
INSTITUTIONS = pd.DataFrame(
    {"code": ["H654226100", "H654226101"], "name": ["甲院", "乙院"], "township_code": [A, B]}
)


def _s(values: list[object]) -> pd.Series:
    return pd.Series(values, dtype="string")


def test_a_partition_is_the_first_nine_digits_of_a_code_institution_letters_aside() -> None:
    codes = _s([VA, A, "H654226101", "654226", None])
    assert partition_of(codes).tolist() == [A, A, B, NO_PARTITION, NO_PARTITION]


def test_an_institution_lies_in_its_township_whatever_its_code_says() -> None:
    institutions = pd.DataFrame({"code": ["H654226001"], "name": ["x"], "township_code": [B]})
    assert uploader_partitions(_s(["H654226001", VA]), institutions).tolist() == [B, A]


def test_home_is_where_she_lives_then_the_lowest_village_then_a_birth_report() -> None:
    roster = pd.DataFrame(
        {
            "id_number_key": _s(["w1", "w1", "w2", "w2"]),
            "unit": _s([VA, VB, VB, VA]),
            "residence": _s(["流出", "常住", "常住", "常住"]),
        }
    )
    births = pd.DataFrame({"mother_id_key": _s(["w3", "w1"]), "unit": _s([VB, VA])})
    homes = person_homes(roster, births)
    # w1 lives (常住) in B though listed as 流出 by A; w2 is 常住 in both: the lowest village
    # code (A's); w3 is on no roster: where a village reported her birth.
    assert homes.to_dict() == {"w1": B, "w2": A, "w3": B}


def test_rows_about_a_person_go_to_her_home_and_the_checks_stay_with_the_area() -> None:
    homes = pd.Series({"w1": B})
    hospital = pd.DataFrame(
        {
            "unit": _s(["H654226100", "H654226100", "H654226100"]),  # A's hospital
            "mother_id_key": _s(["w1", "w9", None]),
            "village_code": _s([VB, VA, None]),
        }
    )
    routed = route("hospital_births", hospital, homes, INSTITUTIONS)
    # w1's home is B; w9 has none and stays with the hospital (county A); checks by village.
    assert routed["recon_part"].tolist() == [B, A, A]
    assert routed["check_part"].tolist() == [B, A, A]


def test_a_police_birth_follows_the_mother_and_a_death_the_person() -> None:
    homes = pd.Series({"mother": B, "dead": A})
    police = pd.DataFrame(
        {
            "unit": _s([A, B]),
            "guardian_id_key": _s(["mother", None]),
            "id_number_key": _s(["child", "dead"]),
        }
    )
    routed = route("police_hukou", police, homes, INSTITUTIONS)
    assert routed["recon_part"].tolist() == [B, A]
    assert routed["check_part"].tolist() == [A, B]


def test_fee_rows_stay_with_their_village() -> None:
    fees = pd.DataFrame({"unit": _s([VA, VB]), "party_id_key": _s(["p", "p"])})
    routed = route("village_fees", fees, pd.Series({"p": A}, dtype="string"), INSTITUTIONS)
    assert routed["recon_part"].tolist() == [A, B]


def test_a_partitions_checks_expect_uploads_from_its_own_township_only() -> None:
    areas = pd.DataFrame(
        {
            "code": ["65", "654226", A, VA, B, VB],
            "name": list("abcdef"),
            "level": ["province", "county", "township", "village", "township", "village"],
            "parent_code": [None, "65", "654226", A, "654226", B],
        }
    )
    assert areas_of(areas, A)["code"].tolist() == [A, VA]
    assert areas_of(areas, NO_PARTITION).empty


def test_leaf_measures_of_partitions_add_up_to_those_of_the_whole() -> None:
    """A village whose women are reconciled in two partitions: the stock adds up per month,
    so the sum of the parts' leaves rolls up to what one run over everything gives."""
    women = pd.DataFrame(
        {
            "snapshot_month": _s(["2026-01", "2026-01", "2026-02"]),
            "area_code": _s([VA, VA, VA]),
            "woman_key": _s(["w1", "w2", "w1"]),
        }
    )
    from transforms.periods import periods_for

    closure = pd.DataFrame(
        {"area_code": _s([VA, VA]), "ancestor_code": _s([VA, A]), "distance": [0, 1]}
    )
    periods = periods_for(["2026-01", "2026-02"])
    whole = measure_values(
        leaf_measures({"recon_women": women}, ["roster_women"]), closure, periods
    )
    parts = pd.concat(
        [
            leaf_measures({"recon_women": women.iloc[[0, 2]]}, ["roster_women"]),
            leaf_measures({"recon_women": women.iloc[[1]]}, ["roster_women"]),
        ],
        ignore_index=True,
    )
    summed = measure_values(parts, closure, periods)
    key = ["measure", "area_code", "period"]
    pd.testing.assert_frame_equal(
        whole.sort_values(key).reset_index(drop=True),
        summed.sort_values(key).reset_index(drop=True),
    )
    january = summed[(summed["period"] == "2026-01") & (summed["area_code"] == A)]
    assert january["value"].tolist() == [2.0]


def test_one_task_holds_every_township_or_a_countys_on_a_cluster() -> None:
    from transforms.reconcile.partitions import task_groups

    parts = ["654221100", "654221101", "654226100", NO_PARTITION]
    assert task_groups(parts, by_county=False) == [parts]
    assert task_groups(parts, by_county=True) == [
        ["654221100", "654221101"],
        ["654226100"],
        [NO_PARTITION],
    ]
    assert task_groups([], by_county=False) == []
