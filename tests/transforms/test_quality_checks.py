"""Checks across uploads, rows and months: dq_reporting, fee ledger, roster, outliers."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from transforms.quality.checks import (
    expected_uploads,
    fee_ledger_checks,
    modified_z,
    monthly_counts,
    months_due,
    outlier_findings,
    roster_checks,
)
from transforms.quality.rules import FINDING_COLUMNS
from transforms.templates import load_contract

CONTRACT = load_contract()
V1, V2 = "654226100001", "654226100002"
TOWNSHIP = "654226100"


def test_months_due_waits_for_the_deadline_day_to_pass() -> None:
    assert months_due("2026-07", date(2026, 10, 5), 5) == ["2026-07", "2026-08"]
    assert months_due("2026-07", date(2026, 10, 6), 5) == ["2026-07", "2026-08", "2026-09"]
    assert months_due("2025-12", date(2026, 1, 20), 10) == ["2025-12"]
    assert months_due("2026-11", date(2026, 10, 6), 5) == []
    with pytest.raises(ValueError):
        months_due("2026/07", date(2026, 10, 6))


@pytest.fixture(scope="module")
def reporting() -> tuple[pd.DataFrame, pd.DataFrame]:
    areas = pd.DataFrame(
        {
            "code": ["654226", TOWNSHIP, V1, V2],
            "name": ["和布克赛尔县", "和什托洛盖镇", "查斯托洛盖村", "莫特格村"],
            "level": ["county", "township", "village", "village"],
            "parent_code": [None, "654226", TOWNSHIP, TOWNSHIP],
        }
    )
    institutions = pd.DataFrame(
        {"code": ["H01"], "name": ["和什托洛盖镇卫生院"], "township_code": [TOWNSHIP]}
    )
    uploads = pd.DataFrame(
        {
            "upload_id": [1, 2, 3, 4, 5, 6],
            "source": ["village", "village", "village", "police", "hospital", "village"],
            "kind": ["births", "women", "women", "hukou", "births", "fees"],
            "unit": [V1, V1, V1, TOWNSHIP, "H01", V1],
            "report_month": ["2026-09"] * 6,
            "arrived_at": pd.to_datetime(
                [
                    "2026-10-05 23:59",  # on the deadline day: on time
                    "2026-10-07 09:00",  # late ...
                    "2026-10-08 09:00",  # ... and its correction
                    "2026-10-01 10:00",
                    "2026-10-02 10:00",  # quarantined: not received
                    "2026-10-03 10:00",
                ]
            ),
            "status": ["loaded", "superseded", "loaded", "loaded", "quarantined", "loaded"],
        }
    )
    return expected_uploads(areas, institutions, CONTRACT, ["2026-09"], uploads, deadline_day=5)


def test_dq_reporting_has_one_row_per_expected_upload(
    reporting: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    frame, _ = reporting
    # 2 villages x 3 kinds + 1 police station x 1 + 1 institution x 4
    assert len(frame) == 11
    assert list(frame.columns) == [
        "unit",
        "source",
        "kind",
        "report_month",
        "area_code",
        "received",
        "on_time",
    ]
    row = frame.set_index(["unit", "kind"])
    assert row.loc[(V1, "births"), ["received", "on_time"]].tolist() == [True, True]
    assert row.loc[(V1, "women"), ["received", "on_time"]].tolist() == [True, False]
    assert row.loc[(V2, "births"), ["received", "on_time"]].tolist() == [False, False]
    assert row.loc[("H01", "births"), ["received", "on_time"]].tolist() == [False, False]
    assert row.loc[("H01", "births"), "area_code"] == TOWNSHIP
    assert row.loc[(TOWNSHIP, "hukou"), ["area_code", "received", "on_time"]].tolist() == [
        TOWNSHIP,
        True,
        True,
    ]


def test_missing_and_late_uploads_are_warnings(
    reporting: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    _, findings = reporting
    assert tuple(findings.columns) == FINDING_COLUMNS
    assert set(findings["severity"]) == {"warning"}
    late = findings[findings["rule"] == "upload_late"]
    assert late[["unit", "kind", "upload_id", "dimension"]].values.tolist() == [
        [V1, "women", 2, "timeliness"],
    ]
    assert "2026-10-07 09:00" in late.iloc[0]["message_zh"]
    assert "2026-10-05" in late.iloc[0]["message_zh"]
    missing = findings[findings["rule"] == "upload_missing"]
    assert set(missing["dimension"]) == {"completeness"}
    assert missing["upload_id"].isna().all() and missing["row_number"].isna().all()
    assert len(missing) == 11 - 4  # births, women, fees of V1 and the hukou are in
    v2 = missing[(missing["unit"] == V2) & (missing["kind"] == "births")].iloc[0]
    assert v2["message_zh"] == (
        "莫特格村（654226100002）2026-09的《出生登记》还没有上报（截止日期2026-10-05）。请尽快上报。"
    )


def _fees(
    rows: list[tuple[str, str, float, float, float]], upload_of: dict[str, int]
) -> pd.DataFrame:
    """(report_month, case_no, assessed, paid_this_month, paid_to_date) rows of unit V1."""
    frame = pd.DataFrame(
        rows, columns=["report_month", "case_no", "assessed", "paid_this_month", "paid_to_date"]
    )
    frame["unit"] = V1
    frame["upload_id"] = frame["report_month"].map(upload_of)
    frame["row_number"] = frame.groupby("report_month").cumcount() + 1
    frame["party_id"] = "65422619900101002" + frame["case_no"].str[-1]
    return frame.astype(
        {"assessed": "Float64", "paid_this_month": "Float64", "paid_to_date": "Float64"}
    )


def test_fee_ledger_continuity_and_vanished_cases() -> None:
    fees = _fees(
        [
            ("2026-08", "A1", 1000, 100, 300),
            ("2026-08", "B2", 1000, 100, 300),
            ("2026-08", "C3", 1000, 100, 300),
            ("2026-09", "A1", 1000, 200, 500),  # 300 + 200: fine
            ("2026-09", "B2", 1000, 200, 600),  # 300 + 200 = 500 expected
            # C3 vanished
            ("2026-09", "D4", 900, 0, 0),  # new case: nothing to compare
        ],
        {"2026-08": 20, "2026-09": 21},
    )
    findings = fee_ledger_checks(fees)
    assert set(findings["severity"]) == {"warning"}
    cont = findings[findings["rule"] == "fee_paid_to_date_continuity"]
    assert cont[["upload_id", "row_number", "value", "dimension"]].values.tolist() == [
        [21, 2, "600.00", "consistency"],
    ]
    assert "500.00" in cont.iloc[0]["message_zh"] and "B2" in cont.iloc[0]["message_zh"]
    assert cont.iloc[0]["record_key"] == "654226********0022"  # B2's party, masked
    gone = findings[findings["rule"] == "fee_case_vanished"]
    assert gone[["upload_id", "report_month", "value"]].values.tolist() == [[21, "2026-09", "C3"]]
    assert pd.isna(gone.iloc[0]["row_number"])
    assert gone.iloc[0]["record_key"] == "654226********0023"  # C3's party last month


def test_a_case_whose_row_is_an_error_has_not_vanished() -> None:
    fees = _fees(
        [("2026-08", "C3", 1000, 100, 300), ("2026-09", "A1", 1000, 0, 0)],
        {"2026-08": 20, "2026-09": 21},
    )
    # September's C3 row: paid_to_date above assessed, excluded as an error
    error_row = _fees([("2026-09", "C3", 1000, 900, 1200)], {"2026-09": 21})
    assert fee_ledger_checks(fees, error_row).empty
    assert fee_ledger_checks(fees)["rule"].tolist() == ["fee_case_vanished"]


def test_paid_cases_may_leave_the_ledger_in_january() -> None:
    fees = _fees(
        [
            ("2025-12", "P1", 1000, 0, 1000),  # paid in full: leaves in January
            ("2025-12", "O2", 1000, 0, 400),  # outstanding: must stay
            ("2026-01", "X3", 500, 0, 0),
        ],
        {"2025-12": 30, "2026-01": 31},
    )
    findings = fee_ledger_checks(fees)
    assert findings["rule"].tolist() == ["fee_case_vanished"]
    assert findings["value"].tolist() == ["O2"]


def test_no_ledger_no_comparison() -> None:
    fees = _fees(
        [("2026-07", "A1", 1000, 0, 100), ("2026-09", "B2", 1000, 0, 0)],
        {"2026-07": 1, "2026-09": 2},
    )
    assert fee_ledger_checks(fees).empty


def _roster(
    month: str, upload_id: int, people: list[tuple[str, int]], unit: str = V1
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "upload_id": upload_id,
            "row_number": range(1, len(people) + 1),
            "unit": unit,
            "report_month": month,
            "id_number": [p for p, _ in people],
            "children": pd.array([c for _, c in people], dtype="Int64"),
        }
    )


def test_roster_children_decreasing_and_size_jumps() -> None:
    others = [(f"65422619900101{i:03d}0", 1) for i in range(9)]
    aug = _roster("2026-08", 40, [("654226199203150060", 2), *others])
    sep = _roster("2026-09", 41, [*others, ("654226199203150060", 1), *others[:3]])
    steady = _roster("2026-08", 50, others, unit=V2)
    steady_next = _roster("2026-09", 51, [*others, ("654226199501010010", 0)], unit=V2)
    findings = roster_checks(pd.concat([aug, sep, steady, steady_next]), size_jump_share=0.2)
    assert set(findings["severity"]) == {"warning"}
    fewer = findings[findings["rule"] == "roster_children_decreased"]
    assert fewer[["upload_id", "row_number", "value", "record_key"]].values.tolist() == [
        [41, 10, "1", "654226********0060"],
    ]
    assert "由2026-08的2个减少为1个" in fewer.iloc[0]["message_zh"]
    jump = findings[findings["rule"] == "roster_size_jump"]
    # V1: 10 -> 13 women (30%); V2: 9 -> 10 (11%) is not a jump
    assert jump[["unit", "upload_id", "value"]].values.tolist() == [[V1, 41, "13"]]
    assert pd.isna(jump.iloc[0]["row_number"])
    assert "30%" in jump.iloc[0]["message_zh"]
    assert (
        roster_checks(pd.concat([aug, sep]), size_jump_share=0.5)
        .query("rule == 'roster_size_jump'")
        .empty
    )


def test_modified_z_score_and_its_fallbacks() -> None:
    steady = np.array([2.0, 3, 2, 3, 2, 3])
    assert modified_z(steady, 12) == pytest.approx(0.6745 * 9.5 / 0.5)
    assert modified_z(steady, 4) == 0.0  # under the 3-row floor
    # MAD = 0, mean absolute deviation (5/6) > 0: IBM's 1.253314 * MeanAD
    mostly_five = np.array([5.0, 5, 5, 5, 6, 9])
    assert modified_z(mostly_five, 9) == pytest.approx(4 / (1.253314 * 5 / 6))
    assert modified_z(mostly_five, 8) == pytest.approx(3 / (1.253314 * 5 / 6))
    # every month equal: any change of at least 3 is infinitely unusual
    flat = np.zeros(6)
    assert modified_z(flat, 3) == np.inf and modified_z(flat, 2) == 0.0


def test_monthly_counts_fill_months_without_rows() -> None:
    births = pd.DataFrame({"unit": [V1, V1, V1], "report_month": ["2026-01", "2026-01", "2026-03"]})
    counts = monthly_counts(
        births,
        source="village",
        kind="births",
        unit_col="unit",
        month_col="report_month",
        months=["2026-01", "2026-02", "2026-03"],
        units=[V2],
    )
    assert counts[["unit", "report_month", "count"]].values.tolist() == [
        [V1, "2026-01", 2],
        [V1, "2026-02", 0],
        [V1, "2026-03", 1],
        [V2, "2026-01", 0],
        [V2, "2026-02", 0],
        [V2, "2026-03", 0],
    ]
    procedures = pd.DataFrame(
        {"village_code": [V1], "procedure_date": pd.to_datetime(["2026-02-10"])}
    )
    by_date = monthly_counts(
        procedures,
        source="hospital",
        kind="procedures",
        unit_col="village_code",
        month_col="procedure_date",
        months=["2026-02"],
    )
    assert by_date["count"].tolist() == [1]


def test_outliers_need_six_months_of_history() -> None:
    months = [f"2026-{m:02d}" for m in range(1, 10)]
    counts = pd.DataFrame(
        {
            "source": "village",
            "kind": "births",
            "unit": [V1] * 9 + [V2] * 9,
            "report_month": months * 2,
            # V1: a spike in month 7 (history 6 months) and 9; V2: quiet with a single birth
            "count": [*[2, 3, 2, 3, 2, 3, 12, 2, 14], *[0, 0, 0, 0, 0, 0, 1, 0, 0]],
        }
    )
    findings = outlier_findings(counts, CONTRACT)
    assert findings[["unit", "report_month", "value", "severity", "dimension"]].values.tolist() == [
        [V1, "2026-07", "12", "warning", "accuracy"],
        [V1, "2026-09", "14", "warning", "accuracy"],
    ]
    assert "2、3、2、3、2、3" in findings.iloc[0]["message_zh"]
    assert "2, 3, 2, 3, 2, 3" in findings.iloc[0]["message_en"]
    # five months of history are not enough
    early = counts[counts["report_month"] <= "2026-06"].assign(count=[1, 1, 1, 1, 1, 30] * 2)
    assert outlier_findings(early, CONTRACT).empty
