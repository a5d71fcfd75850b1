"""The manifest rules of uploads.md on tiny frames."""

from __future__ import annotations

from datetime import date

import pandas as pd

from transforms.landing import manifest_rules as rules

T = pd.Timestamp


def _manifest(rows: list[tuple[int, str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["upload_id", "path", "sha256", "arrived_at"]).assign(
        arrived_at=lambda f: pd.to_datetime(f["arrived_at"])
    )


def test_files_already_seen_are_not_new_but_same_bytes_elsewhere_are() -> None:
    manifest = _manifest([(1, "a/x.csv", "h1", "2026-10-01")])
    candidates = pd.DataFrame(
        {
            "path": ["a/x.csv", "b/x.csv", "a/y.csv"],
            "sha256": ["h1", "h1", "h2"],
            "arrived_at": pd.to_datetime(["2026-10-01", "2026-10-02", "2026-10-03"]),
        }
    )
    fresh = rules.new_files(candidates, manifest)
    assert list(fresh["path"]) == ["b/x.csv", "a/y.csv"]


def test_duplicates_point_to_the_first_arrival() -> None:
    manifest = _manifest([(1, "a/x.csv", "h1", "2026-10-01")])
    fresh = pd.DataFrame(
        {
            "upload_id": [2, 3, 4, 5],
            "path": ["b/x.csv", "c.csv", "d.csv", "e.csv"],
            "sha256": ["h1", "h2", "h2", "h3"],
            "arrived_at": pd.to_datetime(["2026-10-02"] * 4),
        }
    )
    assert list(rules.mark_duplicates(fresh, manifest)) == [1, pd.NA, 3, pd.NA]


def test_same_bytes_under_another_identity_are_not_a_duplicate() -> None:
    manifest = _manifest([(1, "a.csv", "empty", "2026-10-01")]).assign(
        source="village", kind="fees", unit="u1", report_month="2026-08"
    )
    fresh = pd.DataFrame(
        {
            "upload_id": [2, 3],
            "path": ["b.csv", "c(1).csv"],
            "sha256": ["empty", "empty"],
            "arrived_at": pd.to_datetime(["2026-10-02"] * 2),
            "source": "village",
            "kind": "fees",
            "unit": "u1",
            "report_month": ["2026-09", "2026-08"],
        }
    )
    assert list(rules.mark_duplicates(fresh, manifest)) == [pd.NA, 1]


def test_latest_arrival_of_an_identity_is_current_and_quarantine_supersedes_nothing() -> None:
    uploads = pd.DataFrame(
        {
            "upload_id": [1, 2, 3, 4],
            "source": "village",
            "kind": "births",
            "unit": ["u1", "u1", "u1", "u2"],
            "report_month": "2026-09",
            "arrived_at": pd.to_datetime(["2026-10-01", "2026-10-09", "2026-10-10", "2026-10-01"]),
            "status": ["loaded", "loaded", "quarantined", "loaded"],
        }
    )
    assert list(rules.current_statuses(uploads)) == [
        "superseded",
        "loaded",
        "quarantined",
        "loaded",
    ]


def test_lateness_is_judged_against_day_five_of_the_next_month() -> None:
    months = pd.Series(["2026-09", "2026-09", "2026-12", None])
    arrived = pd.Series(
        pd.to_datetime(
            ["2026-10-05 23:59", "2026-10-06 00:00", "2027-01-06 08:00", "2026-10-01 00:00"]
        )
    )
    assert list(rules.is_late(months, arrived, 5)) == [False, True, True, pd.NA]
    assert rules.deadline_for("2026-12", 5) == date(2027, 1, 5)
    assert rules.month_is_due("2026-09", date(2026, 10, 6), 5)
    assert not rules.month_is_due("2026-09", date(2026, 10, 5), 5)
