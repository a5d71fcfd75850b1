"""The generated GX suites: every rule gives a finding at the right upload and row.

Staged frames are built inline in their canonical dtypes (docs/design.md), one
batch per template holding two uploads, and validated once per module.
"""

from __future__ import annotations

from typing import Any

import great_expectations as gx
import pandas as pd
import pytest

from expectations.chinese_id import ExpectColumnValuesToBeValidChineseId, id_problems
from expectations.runtime import gx_runtime
from expectations.suites import build_suite
from expectations.validate import validate_batch
from transforms.landing.identity import id_check_digit
from transforms.quality.rules import (
    FINDING_COLUMNS,
    IDENTITY_KEY_COLUMNS,
    RULES_BY_CODE,
    excluded_rows,
)
from transforms.templates import STAGED_DTYPES, Template, load_contract

CONTRACT = load_contract()
DTYPES = STAGED_DTYPES
VILLAGE = "654226100001"


def make_id(first17: str) -> str:
    return first17 + id_check_digit(first17)


def upgrade15(old: str) -> str:
    """A legacy 15-digit number as the normaliser stages it."""
    return make_id(old[:6] + "19" + old[6:])


ID_A = make_id("65422619900101002")
ID_B = make_id("65422619850505004")
ID_C = make_id("65422619920315006")
ID_LEGACY = upgrade15("654226880712003")
ID_BAD_CHECK = ID_A[:-1] + ("0" if ID_A[-1] != "0" else "1")
ID_FUTURE = make_id("65422620261201002")  # born after the 2026-09 report month


def staged(template: Template, rows: list[dict[str, Any]]) -> pd.DataFrame:
    """A staged frame: lineage, every column in its canonical dtype, every `err_` column."""
    data: dict[str, Any] = {
        "upload_id": pd.array([r["upload_id"] for r in rows], dtype="Int64"),
        "row_number": pd.array([r["row_number"] for r in rows], dtype="Int64"),
        "unit": pd.array([r.get("unit", VILLAGE) for r in rows], dtype="string"),
        "report_month": pd.array([r.get("report_month", "2026-09") for r in rows], dtype="string"),
    }
    for col in template.columns:
        values = [r.get(col.name) for r in rows]
        if col.type == "date":
            data[col.name] = pd.to_datetime(pd.Series(values, dtype=object)).astype("datetime64[s]")
        else:
            data[col.name] = pd.array(values, dtype=DTYPES[col.type])
        data[f"err_{col.name}"] = pd.array([r.get(f"err_{col.name}") for r in rows], dtype="string")
    return pd.DataFrame(data)


def found(findings: pd.DataFrame, upload_id: int, row_number: int) -> list[tuple[str, str, str]]:
    """(rule, severity, dimension) of the findings at one row."""
    at = findings[(findings["upload_id"] == upload_id) & (findings["row_number"] == row_number)]
    return sorted(zip(at["rule"], at["severity"], at["dimension"], strict=True))


WOMEN_OK = {
    "name": "古丽",
    "residence": "常住",
    "children": 1,
    "method": "上环",
    "method_date": "2020-03-01",
    "last_check_date": "2026-08-20",
}


@pytest.fixture(scope="module")
def women() -> tuple[pd.DataFrame, pd.DataFrame]:
    t = CONTRACT.templates["village_women"]
    rows = [
        {"upload_id": 1, "row_number": 1, **WOMEN_OK, "id_number": ID_A},
        {"upload_id": 1, "row_number": 2, **WOMEN_OK, "id_number": ID_A},  # repeat
        {"upload_id": 1, "row_number": 3, **WOMEN_OK, "id_number": ID_B, "children": 12},
        {"upload_id": 1, "row_number": 4, **WOMEN_OK, "id_number": ID_C, "residence": "外地"},
        {  # no method date although a method; name unreadable -> err code only
            "upload_id": 1,
            "row_number": 5,
            **WOMEN_OK,
            "id_number": make_id("65422619930101008"),
            "method_date": None,
            "name": None,
            "err_name": "missing",
        },
        {  # method 无: no method date needed
            "upload_id": 1,
            "row_number": 6,
            **WOMEN_OK,
            "id_number": make_id("65422619940101000"),
            "method": "无",
            "method_date": None,
        },
        {  # optional date after the report month: a warning
            "upload_id": 1,
            "row_number": 7,
            **WOMEN_OK,
            "id_number": make_id("65422619950101001"),
            "last_check_date": "2026-10-02",
        },
        # second upload: ID_A again is not a repeat within *this* file
        {"upload_id": 2, "row_number": 1, **WOMEN_OK, "id_number": ID_A},
        {"upload_id": 2, "row_number": 2, **WOMEN_OK, "id_number": ID_BAD_CHECK},
        {  # required value null without a code: the suite's own not-null check
            "upload_id": 2,
            "row_number": 3,
            **WOMEN_OK,
            "id_number": ID_B,
            "name": None,
        },
        {  # unreadable ID: the normaliser's code, the raw value shown masked
            "upload_id": 2,
            "row_number": 4,
            **WOMEN_OK,
            "id_number": None,
            "err_id_number": "id_checksum",
        },
        {"upload_id": 2, "row_number": 5, **WOMEN_OK, "id_number": ID_LEGACY},
        {  # bad optional yes/no: a warning
            "upload_id": 2,
            "row_number": 6,
            **WOMEN_OK,
            "id_number": ID_C,
            "residence": "流入",
            "err_marriage_certificate": "yesno_value",
        },
        {"upload_id": 2, "row_number": 7, **WOMEN_OK, "id_number": ID_FUTURE},
    ]
    frame = staged(t, rows)
    raw = pd.DataFrame(
        {
            "upload_id": [2, 2],
            "row_number": [4, 6],
            "id_number": ["654226199001010021", "654226199203150060"],
            "marriage_certificate": [None, "有"],
        }
    )
    return frame, validate_batch(frame, t, raw=raw)


def test_findings_have_the_design_columns(women: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    _, findings = women
    assert tuple(findings.columns) == FINDING_COLUMNS + IDENTITY_KEY_COLUMNS  # keys: never stored
    assert str(findings["upload_id"].dtype) == "Int64"
    assert set(findings["source"]) == {"village"} and set(findings["kind"]) == {"women"}
    assert set(findings["report_month"]) == {"2026-09"}
    assert findings["message_zh"].notna().all() and findings["message_en"].notna().all()


def test_valid_rows_have_no_findings(women: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    _, findings = women
    for upload_id, row in [(1, 1), (1, 6), (2, 1), (2, 5)]:
        assert found(findings, upload_id, row) == [], (upload_id, row)


def test_every_rule_lands_on_its_row(women: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    _, findings = women
    assert found(findings, 1, 2) == [("duplicate_in_file", "error", "uniqueness")]
    assert found(findings, 1, 3) == [("out_of_range", "error", "validity")]
    assert found(findings, 1, 4) == [("enum_value", "error", "validity")]
    assert found(findings, 1, 5) == [
        ("missing", "error", "completeness"),
        ("required_unless", "error", "completeness"),
    ]
    assert found(findings, 1, 7) == [("date_after_report_month", "warning", "validity")]
    assert found(findings, 2, 2) == [("id_checksum", "error", "validity")]
    assert found(findings, 2, 3) == [("missing", "error", "completeness")]
    assert found(findings, 2, 4) == [("id_checksum", "error", "validity")]
    assert found(findings, 2, 6) == [("yesno_value", "warning", "validity")]
    assert found(findings, 2, 7) == [("id_birth_date", "error", "validity")]


def test_ids_are_masked_and_messages_say_what_to_do(
    women: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    _, findings = women
    raw_checksum = findings[(findings["upload_id"] == 2) & (findings["row_number"] == 4)].iloc[0]
    assert raw_checksum["value"] == "654226********0021"
    assert raw_checksum["message_zh"] == (
        "“身份证号”校验位错误（值：654226********0021），本行暂不计入统计。"
        "请核对原始证件后更正并重新上报。"
    )
    assert "check digit" in raw_checksum["message_en"]
    shown = findings[["value", "record_key", "message_zh", "message_en"]].fillna("")
    text = " ".join(str(cell) for cell in shown.to_numpy().ravel())
    for plain in (ID_A, ID_B, ID_BAD_CHECK, "654226199001010021"):
        assert plain not in text
    dup = findings[findings["rule"] == "duplicate_in_file"].iloc[0]
    assert dup["record_key"] == dup["value"] == ID_A[:6] + "********" + ID_A[-4:]
    assert "第1行" in dup["message_zh"]
    yesno = findings[findings["rule"] == "yesno_value"].iloc[0]
    assert "（值：有）" in yesno["message_zh"] and "仍计入统计" in yesno["message_zh"]


def test_excluded_rows_are_the_error_rows(women: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    _, findings = women
    excluded = excluded_rows(findings)
    assert list(excluded.columns) == ["upload_id", "row_number", "rules"]
    assert excluded["rules"].notna().all()
    rows = excluded[["upload_id", "row_number"]]
    assert list(rows.itertuples(index=False, name=None)) == [
        (1, 2),
        (1, 3),
        (1, 4),
        (1, 5),
        (2, 2),
        (2, 3),
        (2, 4),
        (2, 7),
    ]


def test_police_dates_agree_with_id_and_report_month() -> None:
    t = CONTRACT.templates["police_hukou"]
    ok = {
        "event_type": "出生登记",
        "name": "阿依",
        "id_number": ID_A,
        "sex": "F",
        "birth_date": "1990-01-01",
        "event_date": "2026-09-10",
        "village_code": VILLAGE,
    }
    rows = [
        {"upload_id": 7, "row_number": 1, **ok},
        {"upload_id": 7, "row_number": 2, **ok, "birth_date": "1990-01-02"},
        {"upload_id": 7, "row_number": 3, **ok, "event_date": "2026-08-31"},
        {"upload_id": 7, "row_number": 4, **ok, "event_date": "2026-10-01"},
        {"upload_id": 7, "row_number": 5, **ok, "village_code": "65422610"},
        {"upload_id": 7, "row_number": 6, **ok, "sex": "X"},
    ]
    findings = validate_batch(staged(t, rows), t)
    assert found(findings, 7, 1) == []
    assert found(findings, 7, 2) == [("disagrees_with_id", "error", "consistency")]
    assert found(findings, 7, 3) == [("date_outside_report_month", "error", "validity")]
    assert found(findings, 7, 4) == [("date_outside_report_month", "error", "validity")]
    assert found(findings, 7, 5) == [("area_code_format", "error", "validity")]
    assert found(findings, 7, 6) == [("sex_value", "error", "validity")]
    mismatch = findings[findings["rule"] == "disagrees_with_id"].iloc[0]
    assert "1990-01-02" in mismatch["message_zh"] and "1990-01-01" in mismatch["message_zh"]


def test_fee_ledger_rules() -> None:
    t = CONTRACT.templates["village_fees"]
    ok = {
        "party_id": ID_B,
        "decision_date": "2026-03-01",
        "assessed": 12000.0,
        "paid_this_month": 500.0,
        "paid_to_date": 3000.0,
    }
    rows = [
        {"upload_id": 3, "row_number": 1, **ok, "case_no": "2026-001"},
        {"upload_id": 3, "row_number": 2, **ok, "case_no": "2026-002", "paid_to_date": 12000.5},
        {"upload_id": 3, "row_number": 3, **ok, "case_no": "2026-001"},
        {"upload_id": 3, "row_number": 4, **ok, "case_no": "2026-003", "paid_this_month": -1.0},
    ]
    findings = validate_batch(staged(t, rows), t)
    assert found(findings, 3, 1) == []
    assert found(findings, 3, 2) == [("exceeds_column", "error", "consistency")]
    assert found(findings, 3, 3) == [("duplicate_in_file", "error", "uniqueness")]
    assert found(findings, 3, 4) == [("out_of_range", "error", "validity")]
    over = findings[findings["rule"] == "exceeds_column"].iloc[0]
    assert "12000.50" in over["message_zh"] and "12000.00" in over["message_zh"]


def test_unique_across_units_maps_to_the_later_file() -> None:
    t = CONTRACT.templates["hospital_births"]
    ok = {
        "child_sex": "M",
        "birth_date": "2026-09-02",
        "mother_name": "古丽",
        "mother_id": ID_A,
        "village_code": VILLAGE,
    }
    rows = [
        {"upload_id": 11, "row_number": 1, "unit": "H01", **ok, "cert_no": "Q650001"},
        {
            "upload_id": 11,
            "row_number": 2,
            "unit": "H01",
            **ok,
            "cert_no": "Q650002",
            "birth_weight": 200,
        },
        {"upload_id": 12, "row_number": 1, "unit": "H02", **ok, "cert_no": "Q650001"},
    ]
    findings = validate_batch(staged(t, rows), t)
    assert found(findings, 11, 1) == []
    assert found(findings, 11, 2) == [("out_of_range", "warning", "validity")]
    assert found(findings, 12, 1) == [("duplicate_across_units", "error", "uniqueness")]
    dup = findings[findings["rule"] == "duplicate_across_units"].iloc[0]
    assert dup["unit"] == "H02" and "文件编号11第1行" in dup["message_zh"]


def test_village_births_rules() -> None:
    t = CONTRACT.templates["village_births"]
    ok = {
        "mother_name": "古丽",
        "mother_id": ID_A,
        "child_sex": "F",
        "birth_date": "2026-09-01",
        "birth_order": 1,
        "policy_status": "政策内",
        "report_date": "2026-09-05",
    }
    rows = [
        {"upload_id": 5, "row_number": 1, **ok},
        {"upload_id": 5, "row_number": 2, **ok, "birth_date": "2025-12-30"},  # late report: fine
        {"upload_id": 5, "row_number": 3, **ok, "birth_order": 0},
        {"upload_id": 5, "row_number": 4, **ok, "birth_date": "2026-10-01"},
        {"upload_id": 5, "row_number": 5, **ok, "policy_status": "超生"},
        {"upload_id": 5, "row_number": 6, **ok, "father_id": ID_BAD_CHECK},
    ]
    findings = validate_batch(staged(t, rows), t)
    assert found(findings, 5, 1) == [] and found(findings, 5, 2) == []
    assert found(findings, 5, 3) == [("out_of_range", "error", "validity")]
    assert found(findings, 5, 4) == [("date_after_report_month", "error", "validity")]
    assert found(findings, 5, 5) == [("enum_value", "error", "validity")]
    assert found(findings, 5, 6) == [("id_checksum", "warning", "validity")]
    assert "政策内、政策外" in findings[findings["rule"] == "enum_value"].iloc[0]["message_zh"]


def test_empty_batch_gives_no_findings() -> None:
    t = CONTRACT.templates["hospital_checkups"]
    findings = validate_batch(staged(t, []), t)
    assert findings.empty and tuple(findings.columns) == FINDING_COLUMNS


def test_suites_are_generated_for_every_template() -> None:
    for name, template in CONTRACT.templates.items():
        suite = build_suite(template, CONTRACT)
        assert suite.name == f"suite_{name}"
        assert len(suite.expectations) >= len(template.columns)
        for expectation in suite.expectations:
            meta = expectation.meta or {}
            assert meta["severity"] in ("error", "warning")
            column = template.column(meta["column"])
            assert meta["severity"] == column.default_severity
            if meta["rule_from"] is None:
                assert meta["rule"] in RULES_BY_CODE
                assert meta["dimension"] == RULES_BY_CODE[meta["rule"]].dimension


def test_suite_follows_the_template_data() -> None:
    """Adding a rule to the contract is one edit there: the suite follows."""
    base = CONTRACT.templates["hospital_checkups"]
    changed = Template(
        source=base.source,
        kind=base.kind,
        title_zh=base.title_zh,
        title_en=base.title_en,
        columns=tuple(
            c if c.name != "name" else type(c)(**{**c.__dict__, "unique": "file"})
            for c in base.columns
        ),
    )
    rules = {e.meta["rule"] for e in build_suite(changed).expectations if e.meta}
    assert "duplicate_in_file" in rules
    assert "duplicate_in_file" not in {
        e.meta["rule"] for e in build_suite(base).expectations if e.meta
    }


def test_custom_id_expectation() -> None:
    frame = pd.DataFrame({"id": pd.array([ID_A, ID_LEGACY, None, ID_BAD_CHECK], dtype="string")})
    source = gx_runtime().context.data_sources.add_or_update_pandas("custom_id_test")
    asset = source.add_dataframe_asset("ids")
    batch = asset.add_batch_definition_whole_dataframe("all").get_batch(
        batch_parameters={"dataframe": frame}
    )
    failed = batch.validate(
        ExpectColumnValuesToBeValidChineseId(column="id"), result_format="COMPLETE"
    )
    assert not failed.success
    assert failed.result["unexpected_list"] == [ID_BAD_CHECK]
    passed = batch.validate(ExpectColumnValuesToBeValidChineseId(column="id", mostly=0.6))
    assert passed.success
    assert isinstance(
        ExpectColumnValuesToBeValidChineseId(column="id"), gx.expectations.Expectation
    )


def test_id_problems_names_the_part_that_is_wrong() -> None:
    values = pd.Series(
        [
            ID_A,
            "11010519491231002X",
            ID_BAD_CHECK,
            "6.54226E+17",
            "65422619900101",
            "11010519491231002x",  # valid, but not canonical: staging upper-cases
            "654226880712003",  # valid legacy number, but staging upgrades it
            make_id("99422619900101002"),
            make_id("65422619900230002"),
            None,
        ],
        dtype="string",
    )
    assert id_problems(values).fillna("ok").tolist() == [
        "ok",
        "ok",
        "id_checksum",
        "id_scientific",
        "id_format",
        "id_format",
        "id_format",
        "id_region",
        "id_birth_date",
        "ok",
    ]


def test_id_problems_of_repeated_values_keep_their_rows() -> None:
    """Each distinct ID is checked once; every row still gets its own value's answer, on
    an index of repeated labels too (a batch frame's index is not unique)."""
    once = pd.Series([ID_A, ID_BAD_CHECK, None, "6.54226E+17"], dtype="string")
    repeated = pd.Series(
        [*once, *reversed(list(once)), ID_BAD_CHECK], index=[7, 7, 3, 1, 1, 0, 9, 9, 2]
    ).astype("string")
    answer = dict(zip(once.fillna("<na>"), id_problems(once).fillna("ok"), strict=True))
    got = id_problems(repeated)
    assert got.index.tolist() == repeated.index.tolist()
    assert got.fillna("ok").tolist() == [answer[v] for v in repeated.fillna("<na>")]


def test_gx_is_quiet(capsys: pytest.CaptureFixture[str]) -> None:
    t = CONTRACT.templates["hospital_prepregnancy"]
    rows = [
        {
            "upload_id": 9,
            "row_number": 1,
            "unit": "H01",
            "wife_id": ID_A,
            "husband_id": ID_B,
            "exam_date": "2026-09-03",
            "village_code": VILLAGE,
        }
    ]
    assert validate_batch(staged(t, rows), t).empty
    out = capsys.readouterr()
    assert "Calculating Metrics" not in out.err + out.out


def test_a_validated_batch_is_not_kept_by_gx(
    women: tuple[pd.DataFrame, pd.DataFrame], monkeypatch: pytest.MonkeyPatch
) -> None:
    """GX's execution engine keeps every batch it loads; validate_batch drops its own, so a
    night does not hold the last batch of every template through every later stage."""
    import gc
    import weakref

    import expectations.validate as validate_module

    frame, _ = women
    prepared: list[weakref.ref[pd.DataFrame]] = []
    prepare = validate_module.prepare_batch

    def watched(*args: Any, **kwargs: Any) -> pd.DataFrame:
        batch = prepare(*args, **kwargs)
        prepared.append(weakref.ref(batch))
        return batch

    monkeypatch.setattr(validate_module, "prepare_batch", watched)
    validate_batch(frame, CONTRACT.templates["village_women"])
    gc.collect()
    assert len(prepared) == 1
    assert prepared[0]() is None
