"""Issue identity uses the keyed person hash, never the mask."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine, select

from expectations.validate import validate_batch
from transforms.landing.identity import mask_id
from transforms.landing.normalise import normalise_frame
from transforms.templates import load_contract
from warehouse import schema
from warehouse.issues import record_findings
from warehouse.load import read_frame

CONTRACT = load_contract()
WOMEN = CONTRACT.templates["village_women"]
# Two different IDs, both with a wrong check digit, that mask alike: 654226********0021.
BAD_A = "654226199001010021"
BAD_B = "654226198802020021"


def _staged(ids: list[str]) -> pd.DataFrame:
    n = len(ids)
    raw = pd.DataFrame(
        {
            "upload_id": pd.Series([1] * n, dtype="int64"),
            "row_number": pd.Series(range(1, n + 1), dtype="int64"),
            "unit": pd.Series(["654226100201"] * n, dtype="string"),
            "report_month": pd.Series(["2026-09"] * n, dtype="string"),
            "name": pd.Series([f"妇女{i}" for i in range(n)], dtype="string"),
            "id_number": pd.Series(ids, dtype="string"),
            "residence": pd.Series(["常住"] * n, dtype="string"),
            "children": pd.Series(["1"] * n, dtype="string"),
            "method": pd.Series(["无"] * n, dtype="string"),
        }
    )
    return normalise_frame(raw, WOMEN, CONTRACT, raw["report_month"], b"secret")


def test_two_bad_ids_with_the_same_mask_are_two_issues(engine: Engine) -> None:
    assert mask_id(pd.Series([BAD_A])).iloc[0] == mask_id(pd.Series([BAD_B])).iloc[0]
    findings = validate_batch(_staged([BAD_A, BAD_B]), WOMEN)
    id_findings = findings.loc[findings["column"] == "id_number"]
    assert len(id_findings) == 2
    with engine.begin() as conn:
        record_findings(conn, findings, "r1", "validation")
    with engine.connect() as conn:
        issues = read_frame(conn, select(schema.dq_issues))
    on_ids = issues.loc[issues["column_name"] == "id_number"]
    assert len(on_ids) == 2
    assert set(on_ids["row_number"]) == {1, 2}
    # Shown masked, and no keyed hash is stored with the issue.
    assert not {"person_key", "value_key"} & set(issues.columns)


def test_the_same_bad_id_found_again_keeps_its_issue(engine: Engine) -> None:
    with engine.begin() as conn:
        record_findings(conn, validate_batch(_staged([BAD_A]), WOMEN), "r1", "validation")
        counts = record_findings(conn, validate_batch(_staged([BAD_A]), WOMEN), "r2", "validation")
    assert counts["new"] == 0 and counts["seen_again"] >= 1
