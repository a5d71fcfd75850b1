"""transforms.landing.filenames: upload names, their identity and the reasons a name is refused."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.landing.filenames import NameProblem, UploadName, is_ignorable, parse_upload_name
from transforms.templates import Contract, load_contract

CONTRACT = load_contract()


def ok(name: str, contract: Contract = CONTRACT) -> UploadName:
    parsed = parse_upload_name(name, contract)
    assert isinstance(parsed, UploadName), parsed
    return parsed


def problem(name: str) -> NameProblem:
    parsed = parse_upload_name(name, CONTRACT)
    assert isinstance(parsed, NameProblem), parsed
    assert parsed.reason_zh and parsed.reason_en
    return parsed


def test_village_name() -> None:
    name = ok("village_births_654226101001_202609.csv")
    assert (name.source, name.kind, name.unit) == ("village", "births", "654226101001")
    assert name.report_month == "2026-09"
    assert name.suffix == ""
    assert name.file_format == "csv"
    assert name.template_name == "village_births"
    assert name.identity == ("village", "births", "654226101001", "2026-09")


def test_police_and_hospital_names() -> None:
    police = ok("police_hukou_654226101_202612.xlsx")
    assert police.unit == "654226101"
    assert police.report_month == "2026-12"
    assert police.file_format == "xlsx"
    hospital = ok("hospital_prepregnancy_H654226001_202601.csv")
    assert hospital.unit == "H654226001"
    assert hospital.template_name == "hospital_prepregnancy"


@pytest.mark.parametrize(
    ("file_name", "suffix"),
    [
        ("village_women_654226101001_202609_v2.csv", "_v2"),
        ("village_women_654226101001_202609_更正.xlsx", "_更正"),
        ("village_women_654226101001_202609(1).csv", "(1)"),
        ("village_women_654226101001_202609（1）.csv", "(1)"),
        ("village_women_654226101001_202609 (2).csv", "(2)"),
    ],
)
def test_suffix_is_not_identity(file_name: str, suffix: str) -> None:
    name = ok(file_name)
    assert name.suffix == suffix
    assert name.identity == ok("village_women_654226101001_202609.csv").identity


@pytest.mark.parametrize(
    "file_name",
    [
        "village_fees_654226101001_202609.CSV",
        "village_fees_654226101001_202609.Xlsx",
        "Village_Fees_654226101001_202609.csv",
        "inbox/2026-09/village_fees_654226101001_202609.csv",
        "C:\\上传\\village_fees_654226101001_202609.csv",
        "village_fees_６５４２２６１０１００１_２０２６０９.csv",  # full-width digits
    ],
)
def test_lenient_spellings(file_name: str) -> None:
    assert ok(file_name).identity == ("village", "fees", "654226101001", "2026-09")


def test_lock_file() -> None:
    found = problem("~$village_births_654226101001_202609.xlsx")
    assert found.code == "lock_file"
    assert "Excel" in found.reason_zh


@pytest.mark.parametrize(
    "file_name",
    ["village_births_654226101001_202609.xls", "village_births_654226101001_202609.txt", "a.pdf"],
)
def test_unsupported_format(file_name: str) -> None:
    found = problem(file_name)
    assert found.code == "unsupported_format"
    assert ".xlsx" in found.reason_zh


@pytest.mark.parametrize(
    "file_name",
    [
        "出生登记.csv",
        "village_births_654226101001.csv",
        "village_births_654226101001_202609 - 副本.csv",
        "village_births_654226101001_202609-v2.csv",
        "no_extension",
        ".csv",
    ],
)
def test_unrecognised_name(file_name: str) -> None:
    found = problem(file_name)
    assert found.code == "unrecognised_name"
    assert "<来源>_<类别>_<单位代码>_<年月>.csv" in found.reason_zh
    assert "<source>_<kind>_<unit>_<YYYYMM>.csv" in found.reason_en


@pytest.mark.parametrize(
    "file_name",
    ["village_deaths_654226101001_202609.csv", "school_births_654226101001_202609.csv"],
)
def test_unknown_kind(file_name: str) -> None:
    found = problem(file_name)
    assert found.code == "unknown_kind"
    assert "village_births" in found.reason_zh


@pytest.mark.parametrize(
    "file_name",
    [
        "village_births_654226101_202609.csv",  # township code for a village report
        "police_hukou_654226101001_202609.csv",  # village code for a police report
        "hospital_births_县医院_202609.csv",
    ],
)
def test_bad_unit(file_name: str) -> None:
    found = problem(file_name)
    assert found.code == "bad_unit"


def test_bad_unit_reason_names_the_rule() -> None:
    found = problem("village_births_654226101_202609.csv")
    assert "12 位" in found.reason_zh
    assert "654226101" in found.reason_zh
    assert "12-digit" in found.reason_en


@pytest.mark.parametrize(
    "month", ["202613", "202600", "2026-09", "20269", "2026091", "九月", "189912"]
)
def test_bad_month(month: str) -> None:
    found = problem(f"village_births_654226101001_{month}.csv")
    assert found.code == "bad_month"
    assert "YYYYMM" in found.reason_zh


@pytest.mark.parametrize(
    "file_name",
    [
        ".DS_Store",
        "Thumbs.db",
        "desktop.ini",
        "._village_births_654226101001_202609.csv",
        "__MACOSX/village_births_654226101001_202609.csv",
        "sub/.hidden",
    ],
)
def test_ignorable(file_name: str) -> None:
    assert is_ignorable(file_name)


@pytest.mark.parametrize(
    "file_name",
    [
        "village_births_654226101001_202609.csv",
        "~$village_births_654226101001_202609.xlsx",  # quarantined, not skipped
        "出生登记.csv",
        "",
    ],
)
def test_not_ignorable(file_name: str) -> None:
    assert not is_ignorable(file_name)


@given(st.text())
@settings(max_examples=300)
def test_never_raises(text: str) -> None:
    parsed = parse_upload_name(text, CONTRACT)
    assert isinstance(parsed, UploadName | NameProblem)
    is_ignorable(text)


_UNITS = {
    "village": st.from_regex(r"\A[0-9]{12}\Z"),
    "police": st.from_regex(r"\A[0-9]{9}\Z"),
    "hospital": st.from_regex(r"\A[0-9A-Za-z]{1,12}\Z"),
}


@st.composite
def valid_names(draw: st.DrawFn) -> tuple[str, tuple[str, str, str, str], str, str]:
    template = draw(st.sampled_from(sorted(CONTRACT.templates.values(), key=lambda t: t.name)))
    unit = draw(_UNITS[template.source])
    year = draw(st.integers(1900, 2100))
    month = draw(st.integers(1, 12))
    suffix = draw(
        st.sampled_from(["", "_v2", "_更正", "(1)", "_2026年10月补报", "_"])
        | st.text(alphabet=st.characters(exclude_characters="./\\"), max_size=8).map(
            lambda s: "_" + s.strip()
        )
    )
    ext = draw(st.sampled_from(["csv", "xlsx", "CSV", "XLSX", "Csv"]))
    name = f"{template.source}_{template.kind}_{unit}_{year:04d}{month:02d}{suffix}.{ext}"
    identity = (template.source, template.kind, unit, f"{year:04d}-{month:02d}")
    return name, identity, ext.lower(), template.name


@given(valid_names())
@settings(max_examples=300)
def test_valid_names_round_trip(case: tuple[str, tuple[str, str, str, str], str, str]) -> None:
    name, identity, file_format, template_name = case
    parsed = ok(name)
    assert parsed.identity == identity
    assert parsed.file_format == file_format
    assert parsed.template_name == template_name
