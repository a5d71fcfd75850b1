"""Data Docs of a run: results kept at summary size per batch, one site built per call.

Two small templates are validated and the site built once per module (the GX
context is the process's; building takes a fraction of a second).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from great_expectations.core.expectation_validation_result import (
    ExpectationSuiteValidationResult,
    ExpectationValidationResult,
)

from expectations.data_docs import (
    SAMPLE_ROWS,
    build_data_docs,
    collect_result,
    collected,
    discard_collected,
    summary_copy,
)
from expectations.runtime import MAX_KEPT, gx_runtime
from expectations.validate import validate_batch
from transforms.landing.identity import id_check_digit
from transforms.templates import Template, load_contract

CONTRACT = load_contract()
FEES = CONTRACT.templates["village_fees"]
CHECKUPS = CONTRACT.templates["hospital_checkups"]
RUN_ID = "run-20260930T023000-4242"
ID_OK = "65422619850505004" + id_check_digit("65422619850505004")
ID_BAD = ID_OK[:-1] + ("0" if ID_OK[-1] != "0" else "1")  # wrong check digit: a finding


def staged(template: Template, rows: list[dict[str, Any]]) -> pd.DataFrame:
    """A staged frame (docs/design.md): lineage, canonical dtypes, every `err_` column."""
    dtypes = {"date": "datetime64[s]", "yesno": "boolean", "money": "Float64", "integer": "Int64"}
    data: dict[str, Any] = {
        "upload_id": pd.array([r["upload_id"] for r in rows], dtype="Int64"),
        "row_number": pd.array([r["row_number"] for r in rows], dtype="Int64"),
        "unit": pd.array(["654226100001"] * len(rows), dtype="string"),
        "report_month": pd.array(["2026-09"] * len(rows), dtype="string"),
    }
    for col in template.columns:
        values = [r.get(col.name) for r in rows]
        if col.type == "date":
            data[col.name] = pd.to_datetime(pd.Series(values, dtype=object)).astype("datetime64[s]")
        else:
            data[col.name] = pd.array(values, dtype=dtypes.get(col.type, "string"))
        data[f"err_{col.name}"] = pd.array([None] * len(rows), dtype="string")
    return pd.DataFrame(data)


@dataclass
class Built:
    index: Path
    kept: list[ExpectationSuiteValidationResult]
    builds_while_validating: int
    builds: int
    findings: int


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    context = gx_runtime().context
    discard_collected()  # what other test modules validated
    calls: list[object] = []
    original = context.build_data_docs

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        return original(*args, **kwargs)

    fee = {"decision_date": "2026-03-01", "assessed": 12000.0, "paid_to_date": 3000.0}
    fees = staged(
        FEES,
        [
            {"upload_id": 1, "row_number": 1, **fee, "case_no": "A1", "party_id": ID_OK},
            {"upload_id": 1, "row_number": 2, **fee, "case_no": "A2", "party_id": ID_BAD},
            {"upload_id": 1, "row_number": 3, **fee, "case_no": "A1", "party_id": ID_OK},
        ],
    )
    checkups = staged(CHECKUPS, [{"upload_id": 2, "row_number": 1}])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(context, "build_data_docs", counting)
        findings = len(validate_batch(fees, FEES)) + len(validate_batch(checkups, CHECKUPS))
        kept = collected()
        while_validating = len(calls)
        index = build_data_docs(tmp_path_factory.mktemp("home") / "reports", RUN_ID)
    return Built(index, kept, while_validating, len(calls), findings)


def test_index_exists_in_the_run_folder(built: Built) -> None:
    assert built.index.is_file()
    assert built.index.parent.name == RUN_ID
    assert built.index.parent.parent.name == "data-docs"
    assert built.index.parent.parent.parent.name == "reports"


def test_index_lists_each_templates_validation(built: Built) -> None:
    text = built.index.read_text(encoding="utf-8")
    assert "suite_village_fees" in text and "suite_hospital_checkups" in text
    # the plain list (offline, without the CDN scripts) links to both validation pages
    plain = text[text.index('<div id="popstat-validations">') :]
    pages = [
        p
        for p in built.index.parent.glob("validations/**/*.html")
        if p.parent.parent.name == RUN_ID
    ]
    assert len(pages) == 2
    for page in pages:
        assert page.relative_to(built.index.parent).as_posix() in plain


def test_built_once_per_call_not_per_batch(built: Built) -> None:
    assert built.builds_while_validating == 0
    assert built.builds == 1
    assert [r.suite_name for r in built.kept] == ["suite_village_fees", "suite_hospital_checkups"]
    assert collected() == []  # the build took them


def test_context_is_left_as_found(built: Built) -> None:
    context = gx_runtime().context
    assert not any(name.startswith("popstat_docs") for name in context.list_data_docs_sites())
    assert not any(name.startswith("popstat_docs") for name in context.stores)


def test_no_id_number_reaches_the_site(built: Built) -> None:
    assert built.findings > 0
    for path in built.index.parent.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert ID_BAD not in text and ID_OK not in text, path


def test_kept_results_are_summary_size() -> None:
    rows = 100_000
    complete = {
        "element_count": rows,
        "unexpected_count": rows,
        "unexpected_percent": 100.0,
        "unexpected_list": [ID_BAD] * rows,
        "partial_unexpected_list": [ID_BAD] * 20,
        "unexpected_index_list": [{"upload_id": [1] * rows, "row_number": list(range(rows))}],
        "partial_unexpected_index_list": [
            {"upload_id": [1] * rows, "row_number": list(range(rows))}
        ],
    }
    result = ExpectationSuiteValidationResult(
        success=False,
        results=[ExpectationValidationResult(success=False, result=complete)],
        suite_name="suite_big",
    )
    small = summary_copy(result).results[0].result
    assert small["unexpected_count"] == rows and small["unexpected_percent"] == 100.0
    assert "unexpected_index_list" not in small
    assert "unexpected_list" not in small and "partial_unexpected_list" not in small
    assert small["partial_unexpected_index_list"] == [
        {"upload_id": 1, "row_number": i} for i in range(SAMPLE_ROWS)
    ]
    assert result.results[0].result["unexpected_index_list"] is complete["unexpected_index_list"]


def test_collecting_is_bounded_and_can_be_discarded() -> None:
    discard_collected()
    result = ExpectationSuiteValidationResult(success=True, results=[], suite_name="suite_x")
    for _ in range(MAX_KEPT + 5):
        collect_result(result)
    assert len(collected()) == MAX_KEPT
    assert discard_collected() == MAX_KEPT and collected() == []


@pytest.mark.parametrize("run_id", ["", "..", "a/b", "a\\b"])
def test_run_id_must_be_a_folder_name(tmp_path: Path, run_id: str) -> None:
    with pytest.raises(ValueError, match="run id"):
        build_data_docs(tmp_path, run_id)
