"""Reconciliation on tiny inline frames.

`staged()` fabricates a staged frame with the design.md columns of a template
(lineage, template columns, `<id>_key`, `err_<col>`); person keys are plain
labels (`"M1"`) standing for the HMAC keys staging would compute.
"""

from __future__ import annotations

import hashlib
from datetime import date
from importlib import resources
from typing import Any

import pandas as pd
import pytest

from transforms.reconcile.all_sources import ReconInputs, ReconResult, reconcile
from transforms.reconcile.common import FINDING_COLUMNS
from transforms.templates import load_contract

V1, V2, V3 = "654226101001", "654226101002", "654226102001"
STATION = "654226101"
AS_OF = date(2026, 11, 20)  # September and October uploads are due; November not yet.

_DTYPES = {
    "text": "string",
    "id": "string",
    "sex": "string",
    "enum": "string",
    "area_code": "string",
    "date": "datetime64[s]",
    "yesno": "boolean",
    "money": "Float64",
    "integer": "Int64",
}


def staged(
    template: str,
    rows: list[dict[str, Any]],
    *,
    unit: str = V1,
    month: str = "2026-09",
    upload_id: int = 1,
) -> pd.DataFrame:
    """A stg_<template> frame; each row may override unit/report_month/upload_id."""
    spec = load_contract().templates[template]
    data: dict[str, pd.Series] = {
        "upload_id": pd.Series([r.get("upload_id", upload_id) for r in rows], dtype="Int64"),
        "row_number": pd.Series(
            [r.get("row_number", i + 1) for i, r in enumerate(rows)], dtype="Int64"
        ),
        "unit": pd.Series([r.get("unit", unit) for r in rows], dtype="string"),
        "report_month": pd.Series([r.get("report_month", month) for r in rows], dtype="string"),
    }
    for col in spec.columns:
        values = [r.get(col.name) for r in rows]
        if col.type == "date":
            data[col.name] = pd.Series(
                pd.to_datetime(pd.Series(values, dtype="object")), dtype="datetime64[s]"
            )
        else:
            data[col.name] = pd.Series(values, dtype=_DTYPES[col.type])
        if col.type == "id":
            data[f"{col.name}_key"] = pd.Series(
                [r.get(f"{col.name}_key") for r in rows], dtype="string"
            )
        data[f"err_{col.name}"] = pd.Series(
            [r.get(f"err_{col.name}") for r in rows], dtype="string"
        )
    return pd.DataFrame(data)


AREAS = pd.DataFrame(
    {
        "code": ["654226", "654226101", "654226102", V1, V2, V3],
        "name": ["县", "镇一", "镇二", "村一", "村二", "村三"],
        "level": ["county", "township", "township", "village", "village", "village"],
        "parent_code": [None, "654226", "654226", "654226101", "654226101", "654226102"],
    }
)


def inputs(**frames: pd.DataFrame | None) -> ReconInputs:
    """ReconInputs with empty staged frames for every template not given."""
    templates = [
        "village_births",
        "village_women",
        "village_fees",
        "police_hukou",
        "hospital_births",
        "hospital_procedures",
        "hospital_checkups",
        "hospital_prepregnancy",
    ]
    given = {t: frames.get(t) if frames.get(t) is not None else staged(t, []) for t in templates}
    return ReconInputs(
        **given,
        uploads=frames.get("uploads", pd.DataFrame()),
        areas=AREAS,
    )


def vbirth(mother: str | None, day: str, sex: str, **extra: Any) -> dict[str, Any]:
    row = {
        "mother_name": "阿依古丽",
        "mother_id_key": mother,
        "child_sex": sex,
        "birth_date": day,
        "birth_order": 1,
        "policy_status": "政策内",
        "report_date": day,
    }
    return row | extra


def hbirth(mother: str, day: str, sex: str, cert: str, **extra: Any) -> dict[str, Any]:
    row = {
        "cert_no": cert,
        "child_sex": sex,
        "birth_date": day,
        "mother_name": "阿依古丽",
        "mother_id_key": mother,
        "village_code": V1,
        "unit": "H001",
    }
    return row | extra


def pbirth(mother: str, day: str, sex: str, child: str, **extra: Any) -> dict[str, Any]:
    row = {
        "event_type": "出生登记",
        "name": "婴儿",
        "id_number_key": child,
        "sex": sex,
        "birth_date": day,
        "event_date": day,
        "village_code": V1,
        "guardian_id_key": mother,
        "unit": STATION,
    }
    return row | extra


def woman(key: str, month: str, **extra: Any) -> dict[str, Any]:
    row = {
        "name": "帕提古丽",
        "id_number_key": key,
        "residence": "常住",
        "children": 2,
        "method": "上环",
        "method_date": "2020-01-01",
        "report_month": month,
    }
    return row | extra


def hukou(event_type: str, key: str, day: str, village: str, **extra: Any) -> dict[str, Any]:
    """A police household event (迁出, 迁入, 死亡注销) of a woman born 1985."""
    row = {
        "event_type": event_type,
        "name": "x",
        "id_number_key": key,
        "sex": "F",
        "birth_date": "1985-01-01",
        "event_date": day,
        "village_code": village,
    }
    return row | extra


def run(as_of: date = AS_OF, **frames: pd.DataFrame | None) -> ReconResult:
    return reconcile(inputs(**frames), as_of)


def only(frame: pd.DataFrame) -> pd.Series:
    assert len(frame) == 1, frame
    return frame.iloc[0]


def rules(result: ReconResult) -> list[str]:
    return sorted(result.findings["rule"].tolist())


# ------------------------------------------------------------------ births


def test_a_birth_seen_by_all_three_sources_is_one_matched_birth() -> None:
    result = run(
        village_births=staged(
            "village_births", [vbirth("M1", "2026-09-10", "F", birth_order=2)], month="2026-09"
        ),
        hospital_births=staged("hospital_births", [hbirth("M1", "2026-09-10", "F", "C1")]),
        police_hukou=staged(
            "police_hukou", [pbirth("M1", "2026-09-10", "F", "K1", event_date="2026-09-20")]
        ),
    )
    birth = only(result.recon_births)
    assert birth["status"] == "matched"
    assert (birth["in_village"], birth["in_hospital"], birth["in_police"]) == (True, True, True)
    assert birth["matched_by"] == "id"
    assert birth["area_code"] == V1 and birth["birth_month"] == "2026-09"
    assert birth["birth_order"] == 2 and birth["policy_status"] == "政策内"
    assert birth["mother_key"] == "M1"
    assert birth["birth_key"] == hashlib.sha256(b"M1|2026-09-10|1").hexdigest()
    assert result.findings.empty
    assert only(result.recon_accuracy)["accurate"]


def test_police_not_yet_registered_still_matches_village_and_hospital() -> None:
    result = run(
        village_births=staged("village_births", [vbirth("M1", "2026-09-12", "M")]),
        hospital_births=staged("hospital_births", [hbirth("M1", "2026-09-10", "M", "C1")]),
    )
    birth = only(result.recon_births)
    assert birth["status"] == "matched"
    assert not birth["in_police"]
    # hospital wins the date; ±3 days is no conflict
    assert birth["birth_date"] == pd.Timestamp("2026-09-10")


def test_twins_are_two_births_paired_by_sex() -> None:
    result = run(
        village_births=staged(
            "village_births",
            [
                vbirth("M1", "2026-09-10", "F", birth_order=2),
                vbirth("M1", "2026-09-10", "M", birth_order=3),
            ],
        ),
        hospital_births=staged(
            "hospital_births",
            [hbirth("M1", "2026-09-10", "M", "C2"), hbirth("M1", "2026-09-10", "F", "C1")],
        ),
        police_hukou=staged(
            "police_hukou",
            [pbirth("M1", "2026-09-10", "M", "K1"), pbirth("M1", "2026-09-10", "F", "K2")],
        ),
    )
    births = result.recon_births.sort_values("child_sex")
    assert len(births) == 2
    assert births["status"].tolist() == ["matched", "matched"]
    assert births["child_sex"].tolist() == ["F", "M"]
    assert births["birth_order"].tolist() == [2, 3]
    assert births["birth_key"].nunique() == 2
    assert result.findings.empty


def test_twins_reported_by_the_village_as_one_leave_the_other_missing() -> None:
    result = run(
        village_births=staged("village_births", [vbirth("M1", "2026-09-10", "F")]),
        hospital_births=staged(
            "hospital_births",
            [hbirth("M1", "2026-09-10", "M", "C2"), hbirth("M1", "2026-09-10", "F", "C1")],
        ),
    )
    status = dict(zip(result.recon_births["child_sex"], result.recon_births["status"], strict=True))
    assert status == {"F": "matched", "M": "missing_in_village"}


def test_an_error_row_with_an_invalid_mother_id_does_not_report_the_birth() -> None:
    # The staged row of an invalid mother ID has no key: it is an error row, excluded
    # from every figure, so the birth the hospital saw stays 漏报 (missing_in_village).
    bad = vbirth(
        None, "2026-08-12", "M", mother_name="阿依古丽", err_mother_id="id_checksum", row_number=4
    )
    result = run(
        village_births=staged("village_births", [bad], month="2026-08"),
        hospital_births=staged(
            "hospital_births", [hbirth("M9", "2026-08-10", "M", "C1")], month="2026-08"
        ),
    )
    birth = only(result.recon_births)
    assert (birth["status"], birth["in_village"]) == ("missing_in_village", False)
    assert pd.isna(birth["policy_status"]) and pd.isna(birth["village_report_month"])
    assert not birth["reported_on_time"]
    assert rules(result) == ["birth_missing_in_village"]
    assert result.recon_accuracy.empty


def test_valid_but_wrong_mother_id_also_falls_back_to_the_name() -> None:
    result = run(
        village_births=staged("village_births", [vbirth("TYPO", "2026-09-10", "F")]),
        hospital_births=staged("hospital_births", [hbirth("M9", "2026-09-10", "F", "C1")]),
    )
    birth = only(result.recon_births)
    assert (birth["status"], birth["matched_by"], birth["mother_key"]) == ("matched", "name", "M9")
    assert rules(result) == ["birth_mother_id_mismatch"]


def test_unplaceable_row_without_mother_key_creates_no_birth() -> None:
    result = run(village_births=staged("village_births", [vbirth(None, "2026-09-12", "M")]))
    assert result.recon_births.empty and result.recon_accuracy.empty


def test_unreported_birth_is_missing_in_village_with_a_completeness_finding() -> None:
    result = run(
        hospital_births=staged(
            "hospital_births",
            [hbirth("M1", "2026-08-15", "M", "C1", village_code=V2)],
            month="2026-08",
        ),
    )
    birth = only(result.recon_births)
    assert birth["status"] == "missing_in_village" and birth["area_code"] == V2
    finding = only(result.findings)
    assert finding["rule"] == "birth_missing_in_village"
    assert finding["dimension"] == "completeness" and finding["severity"] == "warning"
    assert finding["unit"] == V2 and finding["report_month"] == "2026-09"
    assert "漏报" in finding["message_zh"] and "2026-08-15" in finding["message_en"]


def test_missing_birth_area_prefers_the_mothers_roster_village() -> None:
    result = run(
        hospital_births=staged(
            "hospital_births", [hbirth("M1", "2026-08-15", "M", "C1", village_code=V2)]
        ),
        village_women=staged("village_women", [woman("M1", "2026-08")], unit=V3),
    )
    assert only(result.recon_births)["area_code"] == V3


@pytest.mark.parametrize(
    ("as_of", "status"), [(date(2026, 11, 5), "pending"), (date(2026, 11, 6), "missing_in_village")]
)
def test_a_birth_is_pending_until_the_next_months_deadline_has_passed(
    as_of: date, status: str
) -> None:
    # born in September: the October upload is due by 5 November
    result = run(
        as_of, hospital_births=staged("hospital_births", [hbirth("M1", "2026-09-30", "F", "C1")])
    )
    assert only(result.recon_births)["status"] == status
    assert rules(result) == ([] if status == "pending" else ["birth_missing_in_village"])


@pytest.mark.parametrize(
    ("report_month", "status", "on_time"),
    [
        ("2026-03", "matched", True),
        ("2026-04", "matched", True),
        ("2026-06", "matched", False),  # three months late: stays 漏报 for March
        (None, "missing_in_village", False),
    ],
)
def test_a_late_village_report_does_not_erase_its_underreport(
    report_month: str | None, status: str, on_time: bool
) -> None:
    village = (
        staged("village_births", [vbirth("M1", "2026-03-10", "F")], month=report_month)
        if report_month
        else None
    )
    result = run(
        village_births=village,
        hospital_births=staged(
            "hospital_births", [hbirth("M1", "2026-03-10", "F", "C1")], month="2026-03"
        ),
    )
    birth = only(result.recon_births)
    assert birth["status"] == status and bool(birth["reported_on_time"]) is on_time
    assert (birth["village_report_month"] if report_month else None) == report_month


def test_an_unreported_birth_whose_next_upload_is_not_due_is_undecided() -> None:
    result = run(
        date(2026, 10, 5),
        hospital_births=staged("hospital_births", [hbirth("M1", "2026-09-20", "F", "C1")]),
    )
    birth = only(result.recon_births)
    assert birth["status"] == "pending" and pd.isna(birth["reported_on_time"])


def test_village_only_birth() -> None:
    result = run(village_births=staged("village_births", [vbirth("M1", "2026-09-10", "M")]))
    birth = only(result.recon_births)
    assert birth["status"] == "village_only"
    assert (birth["in_village"], birth["in_hospital"], birth["in_police"]) == (True, False, False)
    assert pd.isna(birth["matched_by"])
    assert result.findings.empty


def test_sex_disagreement_is_one_conflicting_birth_where_the_hospital_wins() -> None:
    result = run(
        village_births=staged("village_births", [vbirth("M1", "2026-09-10", "M")]),
        hospital_births=staged("hospital_births", [hbirth("M1", "2026-09-11", "F", "C1")]),
        police_hukou=staged("police_hukou", [pbirth("M1", "2026-09-11", "F", "K1")]),
    )
    birth = only(result.recon_births)
    assert birth["status"] == "conflict" and birth["child_sex"] == "F"
    finding = only(result.findings)
    assert (finding["rule"], finding["source"], finding["dimension"]) == (
        "birth_sex_conflict",
        "village",
        "consistency",
    )
    assert finding["value"] == "M" and "医院" in finding["message_zh"]
    assert only(result.recon_accuracy)["rule"] == "birth_sex_conflict"


def test_date_more_than_three_days_apart_is_a_conflict_not_two_births() -> None:
    result = run(
        village_births=staged("village_births", [vbirth("M1", "2026-08-10", "F")]),
        hospital_births=staged("hospital_births", [hbirth("M1", "2026-09-10", "F", "C1")]),
    )
    birth = only(result.recon_births)
    assert birth["status"] == "conflict" and birth["birth_date"] == pd.Timestamp("2026-09-10")
    assert rules(result) == ["birth_date_conflict"]


def test_police_disagreeing_with_the_hospital_is_flagged_on_the_police_row() -> None:
    result = run(
        village_births=staged("village_births", [vbirth("M1", "2026-09-10", "F")]),
        hospital_births=staged("hospital_births", [hbirth("M1", "2026-09-10", "F", "C1")]),
        police_hukou=staged("police_hukou", [pbirth("M1", "2026-09-10", "M", "K1")]),
    )
    assert only(result.recon_births)["status"] == "conflict"
    finding = only(result.findings)
    assert (finding["rule"], finding["source"], finding["kind"]) == (
        "birth_sex_conflict",
        "police",
        "hukou",
    )
    assert only(result.recon_accuracy)["accurate"]  # the village row agrees with the winner


def test_births_of_one_mother_a_year_apart_stay_apart() -> None:
    result = run(
        village_births=staged(
            "village_births", [vbirth("M1", "2025-09-01", "F"), vbirth("M1", "2026-09-10", "M")]
        ),
        hospital_births=staged("hospital_births", [hbirth("M1", "2026-09-10", "M", "C1")]),
    )
    assert sorted(result.recon_births["status"]) == ["matched", "village_only"]


def test_a_birth_repeated_in_two_village_uploads_is_one_birth_recorded_at_the_first() -> None:
    rows = [
        vbirth("M1", "2026-09-10", "F", report_month="2026-09", upload_id=1),
        vbirth("M1", "2026-09-10", "F", report_month="2026-10", upload_id=2),
    ]
    result = run(
        village_births=staged("village_births", rows),
        hospital_births=staged("hospital_births", [hbirth("M1", "2026-09-10", "F", "C1")]),
    )
    assert only(result.recon_births)["status"] == "matched"
    assert only(result.recon_changes)["recorded_month"] == "2026-09"
    assert len(result.recon_accuracy) == 2


# ------------------------------------------------------------------ roster


def test_a_dead_woman_leaves_the_roster_and_late_rosters_are_inaccurate() -> None:
    roster = staged(
        "village_women",
        [woman("W1", m, upload_id=i) for i, m in enumerate(["2026-08", "2026-09", "2026-10"], 1)],
    )
    police = staged(
        "police_hukou",
        [hukou("死亡注销", "W1", "2026-08-20", V1, name="帕提古丽", unit=STATION)],
    )
    result = run(village_women=roster, police_hukou=police)
    assert result.recon_women.empty
    late = result.findings
    assert late["rule"].tolist() == ["roster_dead_or_moved_out"] * 2
    assert sorted(late["report_month"]) == ["2026-09", "2026-10"]
    assert "死亡注销" in late["message_zh"].iloc[0]
    acc = result.recon_accuracy.set_index("report_month")["accurate"]
    assert acc.to_dict() == {"2026-08": True, "2026-09": False, "2026-10": False}


def test_a_moved_out_woman_leaves_that_village_only() -> None:
    roster = staged(
        "village_women",
        [
            woman("W2", "2026-09", upload_id=1),
            woman("W2", "2026-10", upload_id=2),
            woman("W2", "2026-10", unit=V2, residence="常住", upload_id=3),
        ],
    )
    police = staged(
        "police_hukou",
        [
            hukou("迁出", "W2", "2026-09-10", V1),
            hukou("迁入", "W2", "2026-09-12", V2),
        ],
    )
    result = run(village_women=roster, police_hukou=police)
    women = only(result.recon_women)
    assert (women["area_code"], women["snapshot_month"]) == (V2, "2026-10")
    finding = only(result.findings)
    assert finding["rule"] == "roster_dead_or_moved_out"
    assert (finding["unit"], finding["report_month"]) == (V1, "2026-10")


def test_a_woman_who_moved_back_in_stays() -> None:
    roster = staged("village_women", [woman("W2", "2026-10")])
    police = staged(
        "police_hukou",
        [
            hukou("迁出", "W2", "2026-09-10", V1),
            hukou("迁入", "W2", "2026-10-02", V1),
        ],
    )
    result = run(village_women=roster, police_hukou=police)
    assert len(result.recon_women) == 1 and result.findings.empty


def test_sterilisation_overrides_a_stale_method_and_flags_it_from_the_next_month() -> None:
    roster = staged(
        "village_women",
        [
            woman("W3", "2026-08", upload_id=1),
            woman("W3", "2026-09", upload_id=2),
            woman("W3", "2026-10", upload_id=3),
        ],
    )
    procedures = staged(
        "hospital_procedures",
        [
            {
                "id_number_key": "W3",
                "name": "x",
                "procedure": "结扎",
                "procedure_date": "2026-09-15",
                "village_code": V1,
                "unit": "H001",
            }
        ],
    )
    result = run(village_women=roster, hospital_procedures=procedures)
    women = result.recon_women.set_index("snapshot_month")
    assert women["method"].to_dict() == {"2026-08": "上环", "2026-09": "结扎", "2026-10": "结扎"}
    assert women["method_source"].to_dict() == {
        "2026-08": "village",
        "2026-09": "hospital",
        "2026-10": "hospital",
    }
    finding = only(result.findings)
    assert (finding["rule"], finding["report_month"]) == ("roster_stale_method", "2026-10")
    assert "结扎" in finding["message_zh"] and "sterilisation" in finding["message_en"]
    change = only(result.recon_changes)
    assert (change["change_type"], change["event_month"]) == ("结扎", "2026-09")
    assert pd.isna(change["recorded_month"]) and not change["timely"]


def test_a_procedure_older_than_the_villages_method_date_does_not_win() -> None:
    roster = staged(
        "village_women", [woman("W3", "2026-10", method="皮埋", method_date="2026-10-01")]
    )
    procedures = staged(
        "hospital_procedures",
        [
            {
                "id_number_key": "W3",
                "name": "x",
                "procedure": "取环",
                "procedure_date": "2026-09-15",
                "village_code": V1,
            }
        ],
    )
    result = run(village_women=roster, hospital_procedures=procedures)
    assert only(result.recon_women)["method"] == "皮埋"
    assert result.findings.empty


def test_a_check_known_only_to_the_hospital_counts_up_to_the_snapshot() -> None:
    roster = staged(
        "village_women",
        [
            woman("W4", "2026-09", last_check_date="2026-03-01", upload_id=1),
            woman("W4", "2026-10", last_check_date="2026-03-01", upload_id=2),
        ],
    )
    checks = staged(
        "hospital_checkups",
        [
            {"id_number_key": "W4", "name": "x", "check_date": "2026-09-05", "village_code": V1},
            {"id_number_key": "W4", "name": "x", "check_date": "2026-10-03", "village_code": V1},
        ],
    )
    result = run(village_women=roster, hospital_checkups=checks)
    checked = result.recon_women.set_index("snapshot_month")["last_check_date"]
    assert checked.to_dict() == {
        "2026-09": pd.Timestamp("2026-09-05"),
        "2026-10": pd.Timestamp("2026-10-03"),
    }


def test_a_woman_on_two_rosters_counts_once_where_she_lives() -> None:
    roster = staged(
        "village_women",
        [
            woman("W5", "2026-09", residence="流出", upload_id=1),
            woman("W5", "2026-09", unit=V2, residence="常住", upload_id=2),
        ],
    )
    result = run(village_women=roster)
    assert only(result.recon_women)["area_code"] == V2
    assert rules(result) == ["roster_duplicate_person"] * 2
    assert set(result.findings["unit"]) == {V1, V2}
    assert result.findings["dimension"].eq("uniqueness").all()


# ----------------------------------------------------------------- changes


def test_change_timeliness_of_births_and_procedures() -> None:
    births = staged(
        "village_births",
        [
            vbirth("M1", "2026-09-10", "F", report_month="2026-10", upload_id=1),  # next month
            vbirth("M2", "2026-08-10", "F", report_month="2026-10", upload_id=1),  # two late
            vbirth("M3", "2026-10-20", "F", report_month="2026-10", upload_id=1),  # same month
        ],
    )
    hospital = staged("hospital_births", [hbirth("M4", "2026-10-25", "M", "C4")])  # undecided
    roster = staged(
        "village_women",
        [
            woman("W6", "2026-09", method="无", method_date=None, upload_id=2),
            woman("W6", "2026-10", method="上环", method_date="2026-09-20", upload_id=3),
            woman("W7", "2026-09", method="无", method_date=None, upload_id=2),
            woman("W7", "2026-10", method="无", method_date=None, upload_id=3),
            woman("W7", "2026-11", method="上环", method_date="2026-09-21", upload_id=4),
        ],
    )
    procedures = staged(
        "hospital_procedures",
        [
            {
                "id_number_key": "W6",
                "name": "x",
                "procedure": "放环",
                "procedure_date": "2026-09-20",
                "village_code": V1,
            },
            {
                "id_number_key": "W7",
                "name": "x",
                "procedure": "放环",
                "procedure_date": "2026-09-21",
                "village_code": V1,
            },
            {
                "id_number_key": "NOT_ON_ROSTER",
                "name": "x",
                "procedure": "放环",
                "procedure_date": "2026-09-21",
                "village_code": V1,
            },
        ],
    )
    result = run(
        village_births=births,
        hospital_births=hospital,
        village_women=roster,
        hospital_procedures=procedures,
    )
    got = sorted(
        result.recon_changes[["change_type", "event_month", "recorded_month", "timely"]].itertuples(
            index=False, name=None
        )
    )
    assert got == [
        ("birth", "2026-08", "2026-10", False),  # reported two months late
        ("birth", "2026-09", "2026-10", True),  # by the next month's upload
        ("birth", "2026-10", "2026-10", True),
        ("放环", "2026-09", "2026-10", True),
        ("放环", "2026-09", "2026-11", False),
    ]  # M4 (born 2026-10-25, not reported) is undecided until 5 December: left out


# ------------------------------------------------------- fees, exams, shapes


def test_fees_and_exams_are_keyed_by_hashes() -> None:
    fees = staged(
        "village_fees",
        [
            {
                "case_no": "2026-01",
                "party_id_key": "P1",
                "decision_date": "2026-03-01",
                "assessed": 12000.0,
                "paid_this_month": 0.0,
                "paid_to_date": 3000.0,
            }
        ],
    )
    exams = staged(
        "hospital_prepregnancy",
        [
            {
                "wife_id_key": "W1",
                "husband_id_key": "H1",
                "exam_date": "2026-09-03",
                "village_code": V2,
                "unit": "H001",
            }
        ],
    )
    result = run(village_fees=fees, hospital_prepregnancy=exams)
    fee = only(result.recon_fees)
    assert fee["case_key"] == hashlib.sha256(f"{V1}|2026-01".encode()).hexdigest()
    assert (fee["area_code"], fee["assessed"], fee["paid_to_date"]) == (V1, 12000.0, 3000.0)
    exam = only(result.recon_exams)
    assert exam["couple_key"] == hashlib.sha256(b"W1|H1").hexdigest()
    assert (exam["area_code"], exam["exam_month"]) == (V2, "2026-09")


def test_a_couple_examined_twice_in_a_year_counts_once() -> None:
    exam = {"wife_id_key": "W1", "husband_id_key": "H1", "village_code": V2, "unit": "H001"}
    exams = staged(
        "hospital_prepregnancy",
        [
            exam | {"exam_date": "2026-09-03"},
            exam | {"exam_date": "2026-05-20", "village_code": V1, "report_month": "2026-05"},
            exam | {"exam_date": "2025-11-02", "report_month": "2025-11"},
            exam | {"exam_date": "2026-09-04", "husband_id_key": "H2"},
        ],
    )
    got = run(hospital_prepregnancy=exams).recon_exams.sort_values("exam_date")
    assert got[["area_code", "exam_month"]].values.tolist() == [
        [V2, "2025-11"],
        [V1, "2026-05"],  # the first exam of 2026; September's repeat is not a new couple
        [V2, "2026-09"],  # another couple
    ]


def test_rows_of_superseded_uploads_are_ignored() -> None:
    births = staged("village_births", [vbirth("M1", "2026-09-10", "F", upload_id=7)])
    uploads = pd.DataFrame({"upload_id": [7], "status": ["superseded"]})
    assert run(village_births=births, uploads=uploads).recon_births.empty


def test_outputs_have_the_design_columns_and_no_raw_ids() -> None:
    raw = "65422619850101002X"
    births = staged("village_births", [vbirth("TYPO", "2026-09-12", "M", mother_id=raw)])
    births["mother_id_masked"] = pd.Series(["654226********002X"], dtype="string")
    result = run(
        village_births=births,
        hospital_births=staged(
            "hospital_births",
            [hbirth("M9", "2026-09-10", "M", "C1", mother_id="65422619850101003X")],
        ),
    )
    assert list(result.recon_births.columns) == [
        "birth_key",
        "area_code",
        "birth_date",
        "birth_month",
        "child_sex",
        "birth_order",
        "policy_status",
        "in_village",
        "in_hospital",
        "in_police",
        "status",
        "mother_key",
        "matched_by",
        "village_report_month",
        "reported_on_time",
    ]
    assert list(result.recon_women.columns) == [
        "snapshot_month",
        "area_code",
        "woman_key",
        "residence",
        "children",
        "method",
        "method_source",
        "last_check_date",
        "marriage_certificate",
        "file_created",
        "verified",
        "notified",
    ]
    assert list(result.recon_changes.columns) == [
        "area_code",
        "change_type",
        "event_date",
        "event_month",
        "recorded_month",
        "timely",
    ]
    assert list(result.recon_accuracy.columns) == [
        "area_code",
        "report_month",
        "template",
        "upload_id",
        "row_number",
        "accurate",
        "rule",
    ]
    assert list(result.findings.columns) == list(FINDING_COLUMNS)
    assert only(result.findings)["record_key"] == "654226********002X"
    for frame in (
        result.recon_births,
        result.recon_accuracy,
        result.recon_changes,
        result.findings,
    ):
        text = frame.astype(str).to_string()
        assert raw not in text and "65422619850101003X" not in text


def test_reconciliation_does_not_depend_on_row_order() -> None:
    rows = [
        vbirth("M1", "2026-09-10", "F"),
        vbirth("M1", "2026-09-10", "M"),
        vbirth("M2", "2026-09-01", "M"),
        vbirth("M3", "2026-09-03", "F"),
    ]
    certs = [
        hbirth("M1", "2026-09-10", "M", "C2"),
        hbirth("M1", "2026-09-10", "F", "C1"),
        hbirth("M3", "2026-09-05", "M", "C3"),
        hbirth("M5", "2026-08-01", "F", "C5"),
    ]
    a = run(
        village_births=staged("village_births", rows),
        hospital_births=staged("hospital_births", certs),
    ).recon_births
    b = run(
        village_births=staged("village_births", rows[::-1]),
        hospital_births=staged("hospital_births", certs[::-1]),
    ).recon_births
    pd.testing.assert_frame_equal(a, b)


def test_enum_values_the_code_relies_on_are_checked_against_the_contract() -> None:
    # The meanings are registered when the modules that use them are imported.
    import transforms.indicators.measures
    import transforms.reconcile.women  # noqa: F401
    from transforms.templates import ContractError, check_enum_meanings, parse_contract

    text = resources.files("transforms").joinpath("contracts/templates.toml").read_text("utf-8")
    check_enum_meanings(parse_contract(text))  # the packaged contract agrees
    renamed = text.replace('"政策内" = [', '"符合" = [', 1)
    with pytest.raises(ContractError, match="政策内"):
        check_enum_meanings(parse_contract(renamed))
    dropped = text.replace('"皮埋" = ["皮埋", "皮下埋植"]\n"药具"', '"药具"', 1)
    with pytest.raises(ContractError, match="皮埋"):
        check_enum_meanings(parse_contract(dropped))
