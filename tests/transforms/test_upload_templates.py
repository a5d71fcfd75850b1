"""What the upload templates contain, and docs/uploads.md, both from templates.toml."""

from __future__ import annotations

from pathlib import Path

from transforms.officer.upload_templates import (
    AREA_CODE_LENGTH,
    ID_LENGTH,
    template_workbook,
    template_workbooks,
    uploads_markdown,
)
from transforms.templates import load_contract, parse_contract

ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_upload_contract_is_generated_from_the_templates() -> None:
    expected = uploads_markdown(load_contract())
    committed = (ROOT / "docs" / "uploads.md").read_text(encoding="utf-8")
    assert committed == expected, "docs/uploads.md is stale; regenerate it with: make docs"


def test_docs_name_every_kind_column_header_alias_and_coded_value() -> None:
    contract = load_contract()
    text = uploads_markdown(contract)
    for template in contract.templates.values():
        assert f"### {template.name} — {template.title_zh}" in text
        for column in template.columns:
            assert f"`{column.name}`" in text and column.header in text
            assert all(alias in text for alias in column.aliases)
    for values in contract.enums.values():
        for value, spellings in values.items():
            assert value in text and all(s in text for s in spellings)


def test_each_column_gets_the_validation_of_its_type() -> None:
    contract = load_contract()
    women = template_workbook(contract.templates["village_women"], contract)
    by_name = {c.name: c for c in women.columns}
    assert [c.header for c in women.columns][:4] == ["*姓名", "*身份证号", "民族", "*人口类别"]
    assert by_name["name"].validation is None and by_name["name"].number_format == "@"
    rule = by_name["id_number"].validation
    assert rule is not None and (rule.kind, rule.length) == ("length", ID_LENGTH)
    assert by_name["id_number"].number_format == "@"  # never 6.54226E+17
    rule = by_name["method"].validation
    assert rule is not None and rule.values == tuple(contract.enums["method"])
    rule = by_name["children"].validation
    assert rule is not None and (rule.kind, rule.minimum, rule.maximum) == ("whole", 0, 9)
    rule = by_name["verified"].validation
    assert rule is not None and rule.values == ("是", "否")
    assert "仅“人口类别”为“流入”时填写" in by_name["verified"].rules_zh
    assert "必填，除非“避孕措施”为“无”" in by_name["method_date"].rules_zh
    fees = template_workbook(contract.templates["village_fees"], contract)
    paid = {c.name: c for c in fees.columns}["paid_to_date"]
    assert paid.validation is not None and paid.validation.kind == "decimal"
    assert "不得大于“应征金额”" in paid.rules_zh
    hukou = template_workbook(contract.templates["police_hukou"], contract)
    code = {c.name: c for c in hukou.columns}["village_code"]
    assert code.validation is not None and code.validation.length == AREA_CODE_LENGTH
    assert hukou.upload_name == "police_hukou_<9位乡镇代码>_<YYYYMM>.xlsx"
    assert [w.name for w in template_workbooks(contract)] == list(contract.templates)


def test_a_new_allowed_value_is_one_edit_of_the_contract() -> None:
    text = (ROOT / "transforms" / "contracts" / "templates.toml").read_text("utf-8")
    edited = parse_contract(text.replace('"无" = ["无",', '"哺乳期" = ["哺乳期"]\n"无" = ["无",'))
    women = template_workbook(edited.templates["village_women"], edited)
    rule = {c.name: c for c in women.columns}["method"].validation
    assert rule is not None and "哺乳期" in rule.values
    assert "哺乳期" in uploads_markdown(edited)
    explanation = women.explanation_rows()
    assert explanation[0][0] == "表头" and any("哺乳期" in row[4] for row in explanation)
