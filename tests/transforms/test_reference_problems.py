"""transforms.landing.manifest_rules: units and months checked against the reference."""

from __future__ import annotations

import pandas as pd

from transforms.landing.manifest_rules import default_first_month, reference_problems

KNOWN = {"654226100201", "654226100", "H001"}


def _names(*rows: tuple[str | None, str | None]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["unit", "report_month"], dtype="string")


def test_unknown_units_future_and_early_months_are_problems_and_the_rest_are_not() -> None:
    names = _names(
        ("654226100201", "2026-09"),  # fine
        ("654226100999", "2026-09"),  # unknown village
        ("H001", "2026-10"),  # the as-of month itself: due later, but not after as-of
        ("654226100", "2099-12"),  # not yet due
        ("654226100201", "1900-01"),  # before the first month
        (None, None),  # a name that did not parse: not judged here
    )
    found = reference_problems(names, KNOWN, "2026-10", "2026-01")
    assert found["reason_code"].tolist() == [
        pd.NA,
        "unknown_unit",
        pd.NA,
        "not_yet_due",
        "before_first_month",
        pd.NA,
    ]
    assert "654226100999" in found.loc[1, "reason_zh"] and "areas.csv" in found.loc[1, "reason_en"]
    assert "尚未到期" in found.loc[3, "reason_zh"] and "not yet due" in found.loc[3, "reason_en"]
    assert "2026-01" in found.loc[4, "reason_en"]


def test_without_a_first_month_early_months_pass() -> None:
    found = reference_problems(_names(("H001", "1900-01")), KNOWN, "2026-10", None)
    assert found["reason_code"].isna().all()


def test_the_default_first_month_is_january_of_the_earliest_target_year() -> None:
    targets = pd.DataFrame({"year": pd.array([2027, 2026, 2026], dtype="Int64")})
    assert default_first_month(targets) == "2026-01"
    assert default_first_month(targets.iloc[0:0]) is None
