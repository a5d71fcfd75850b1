"""The data officer's commands end to end on a generated county: what they print.

One small county is landed, validated, reconciled and published once per module
(the nightly tasks, no Prefect server); each test then types a command as an
officer would (`main([...])`) and reads what it prints. Expectations come from the
generator's answer key, never from popstat's own tables.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from flows.cli import main
from flows.settings import Settings
from synthetic.spec import GeneratedCounty
from tests.e2e._ops import SECRET
from tests.e2e._pipeline import (
    MASKED_ID_RE,
    NIGHTLY,
    RAW_ID_RE,
    county_settings,
    run_tasks,
    warehouse_url,
    write_county,
)
from warehouse.db import make_engine, migrate

REPO = Path(__file__).parents[2]


@dataclass(frozen=True)
class County:
    """The generated county, its folders, and the warehouse after one nightly run."""

    county: GeneratedCounty
    home: Path
    inbox: Path
    reference: Path
    url: str

    def argv(self, *words: str, lang: str | None = None) -> list[str]:
        extra = ["--lang", lang] if lang else []
        return [*words, "--warehouse", self.url, "--home", str(self.home), *extra]


def _county_run(
    county: GeneratedCounty, url: str, root: Path, inbox: Path, reference: Path
) -> County:
    settings = county_settings(county, root, inbox, reference, url, SECRET)
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    result = run_tasks(settings, "officer-run-1", NIGHTLY)
    result.require(*NIGHTLY)
    return County(county, root / "home", inbox, reference, url)


@pytest.fixture(scope="module")
def county_run(
    small_county: GeneratedCounty, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[County]:
    """The county on the embedded warehouse, where most commands are typed."""
    root = tmp_path_factory.mktemp("officer_county")
    inbox, reference = write_county(small_county, root, Settings().time_zone)
    url = f"sqlite:///{root / 'home' / 'warehouse.db'}"
    yield _county_run(small_county, url, root, inbox, reference)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def any_county_run(
    request: pytest.FixtureRequest,
    county_run: County,
    small_county: GeneratedCounty,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[County]:
    """The county on SQLite (the run above) and on a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        yield county_run
        return
    root = tmp_path_factory.mktemp("officer_county_pg")
    inbox, reference = write_county(small_county, root, Settings().time_zone)
    for url in warehouse_url("postgresql", tmp_path_factory):
        yield _county_run(small_county, url, root, inbox, reference)


def _run(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def expected_issues(county: GeneratedCounty) -> pd.DataFrame:
    """Planted faults the answer key expects in dq_issues (rule given)."""
    faults = county.answer_key.faults
    return faults.loc[(faults["expect_in"] == "dq_issues") & faults["rule"].notna()]


# ------------------------------------------------------------------------ issues list


def test_list_says_how_many_it_shows_of_how_many_errors_first(
    any_county_run: County, capsys: pytest.CaptureFixture[str]
) -> None:
    county_run = any_county_run
    code, out, _ = _run(capsys, county_run.argv("issues", "list", "--format", "json"))
    assert code == 0
    everything = pd.DataFrame(json.loads(out))
    planted = expected_issues(county_run.county)
    assert set(planted["rule"]) <= set(everything["rule"])
    total = len(everything)
    assert total >= len(planted.drop_duplicates(["rule", "path", "row_number"]))

    code, out, _ = _run(capsys, county_run.argv("issues", "list", "--limit", "5"))
    assert code == 0
    assert f"显示 5 / 共 {total} 个问题" in out and "--limit 0" in out
    assert "<NA>" not in out and "nan" not in out.lower().split()
    widest = max(len(line) for line in out.splitlines())
    assert widest <= 200, f"a {widest}-character line"
    # errors first: the first rows shown are the county's errors
    n_errors = int((everything["severity"] == "error").sum())
    assert n_errors >= 1
    assert list(everything["severity"].iloc[:n_errors]) == ["error"] * n_errors
    first_shown = everything["issue_id"].iloc[0]
    assert first_shown in out
    assert "错误" in out and "error" not in out.replace("errors", "")

    code, out, _ = _run(capsys, county_run.argv("issues", "list", "--limit", "0", lang="en"))
    assert f"showing {total} of {total} issues" in out
    assert "状态" not in out and "待处理" not in out and "status" in out


def test_list_csv_holds_every_row_and_masked_people(
    county_run: County, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(capsys, county_run.argv("issues", "list", "--format", "csv"))
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert "共" in err and len(rows) > 50 - 50  # the count goes to stderr, rows to stdout
    keys = [r["record_key"] for r in rows if r["record_key"]]
    assert keys and all(MASKED_ID_RE.match(k) for k in keys)
    code, out, _ = _run(
        capsys, county_run.argv("issues", "list", "--format", "csv", "--severity", "警告")
    )
    assert {r["severity"] for r in csv.DictReader(io.StringIO(out))} == {"warning"}


@pytest.mark.parametrize("word", ["acked", "bogus"])
def test_unknown_status_word_is_refused(
    county_run: County, capsys: pytest.CaptureFixture[str], word: str
) -> None:
    code, out, err = _run(capsys, county_run.argv("issues", "list", "--status", word))
    assert code == 2
    assert f"未知的 --status：{word}" in err and "acknowledged 已确认" in err
    assert out == ""


def test_empty_filter_is_refused(county_run: County, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, county_run.argv("issues", "list", "--unit", ""))
    assert code == 2 and "--unit 为空" in err
    code, _, err = _run(capsys, county_run.argv("issues", "list", "--month", "2026-13"))
    assert code == 2 and "月份格式应为 2026-09" in err


def test_rules_and_months_may_be_written_as_an_officer_says_them(
    county_run: County, capsys: pytest.CaptureFixture[str]
) -> None:
    by_code = county_run.argv("issues", "list", "--format", "json", "--rule", "id_checksum")
    _, out, _ = _run(capsys, by_code)
    expected = pd.DataFrame(json.loads(out))
    assert len(expected) >= 1
    month = str(expected["report_month"].iloc[0])
    by_label = county_run.argv(
        "issues",
        "list",
        "--format",
        "json",
        "--rule",
        "身份证号校验位错误",
        "--month",
        month.replace("-", ""),
    )
    _, out, _ = _run(capsys, by_label)
    found = pd.DataFrame(json.loads(out))
    assert list(found["issue_id"]) == list(
        expected.loc[expected["report_month"] == month, "issue_id"]
    )


# ------------------------------------------------------------------------ issues show


def test_show_prints_every_issue_in_the_officers_words(
    county_run: County, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = _run(capsys, county_run.argv("issues", "list", "--format", "json"))
    everything = pd.DataFrame(json.loads(out))
    # one of each rule, file-level ones (no row) included: the crash was on null fields
    sample = everything.drop_duplicates("rule")
    code, out, err = _run(capsys, county_run.argv("issues", "show", *sample["issue_id"]))
    assert code == 0, err
    for issue in sample.to_dict("records"):
        assert f"编号: {issue['issue_id']}" in out
        assert issue["message_zh"] in out
    assert "<NA>" not in out and "None" not in out
    assert out.count("处理记录:") == len(sample)
    assert "popstat: — → 待处理" in out


def test_show_and_resolve_refuse_unknown_ids(
    county_run: County, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(capsys, county_run.argv("issues", "show", "DQnonexistent"))
    assert code == 1 and "未找到问题：DQnonexistent" in err
    code, out, err = _run(
        capsys, county_run.argv("issues", "resolve", "DQnonexistent", "--note", "已更正")
    )
    assert code == 1 and "DQnonexistent" in err and "已更新" not in out


def test_resolve_and_waive_need_a_note_and_are_kept_with_who_and_when(
    county_run: County, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = _run(
        capsys, county_run.argv("issues", "list", "--format", "json", "--severity", "warning")
    )
    target = pd.DataFrame(json.loads(out))["issue_id"].iloc[0]
    for action in ("resolve", "waive"):
        code, _, err = _run(capsys, county_run.argv("issues", action, target))
        assert code == 2 and "--note" in err
    code, out, err = _run(
        capsys,
        county_run.argv("issues", "waive", target, "--note", "村里核实无误", "--by", "张专干"),
    )
    assert code == 0, err
    assert "已更新 1 个问题为“已豁免”" in out
    _, out, _ = _run(capsys, county_run.argv("issues", "show", target))
    assert "状态: 已豁免" in out and "张专干: 待处理 → 已豁免  村里核实无误" in out
    # the time shown is the district's wall time (Asia/Shanghai), not the machine's UTC
    from warehouse.clock import local_now

    assert f"{local_now('Asia/Shanghai'):%Y-%m-%d %H}" in out
    code, out, _ = _run(capsys, county_run.argv("issues", "reopen", target, "--by", "张专干"))
    assert code == 0 and "已更新 1 个问题为“待处理”" in out


def test_a_filter_that_selects_nothing_changes_nothing_and_says_so(
    county_run: County, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(
        capsys,
        county_run.argv("issues", "ack", "--unit", "999999999999", "--note", "x"),
    )
    assert code == 1 and "没有符合条件的问题" in err


def test_a_resolved_quarantine_reopens_when_the_run_sees_the_file_again(
    county_run: County, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Resolved without a corrected upload, the file problem is found again and reopens."""
    home = tmp_path / "home"
    shutil.copytree(county_run.home, home)
    url = f"sqlite:///{home / 'warehouse.db'}"
    faults = county_run.county.answer_key.faults
    lock_file = faults.loc[faults["rule"] == "lock_file", "path"].iloc[0]
    argv = ["--warehouse", url, "--home", str(home)]
    _, out, _ = _run(
        capsys, ["issues", "list", "--format", "json", "--rule", "file_lock_file", *argv]
    )
    found = pd.DataFrame(json.loads(out))
    assert len(found) == 1 and lock_file.split("/")[-1] == found["file_name"].iloc[0]
    issue_id = found["issue_id"].iloc[0]
    code, _, _ = _run(capsys, ["issues", "resolve", issue_id, "--note", "已删除", *argv])
    assert code == 0

    settings = Settings(
        home=home,
        inbox=county_run.inbox,
        reference=county_run.reference,
        warehouse_url=url,
        as_of=county_run.county.spec.effective_as_of,
        secret_key=SECRET,
    )
    run_tasks(settings, "officer-run-2", ["land"]).require("land")
    _, out, _ = _run(capsys, ["issues", "show", issue_id, *argv])
    assert "状态: 待处理" in out and "已解决 → 待处理" in out

    # once the file is gone from the inbox, a resolution holds
    _run(capsys, ["issues", "resolve", issue_id, "--note", "已删除", *argv])
    moved = tmp_path / "inbox"
    shutil.copytree(county_run.inbox, moved)
    (moved / lock_file).unlink()
    elsewhere = settings.model_copy(update={"inbox": moved})
    run_tasks(elsewhere, "officer-run-3", ["land"]).require("land")
    _, out, _ = _run(capsys, ["issues", "show", issue_id, *argv])
    assert "状态: 已解决" in out


# ------------------------------------------------------------------- the warehouse


def test_a_missing_warehouse_is_refused_and_not_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "elsewhere"
    for argv in (["issues", "list"], ["report", "--reference", str(tmp_path)]):
        code, out, err = _run(capsys, [*argv, "--home", str(home)])
        assert code == 2, out
        assert "数据仓库不存在" in err
        assert str((home / "warehouse.db").resolve()) in err
        assert "--warehouse" in err and "POPSTAT_WAREHOUSE_URL" in err
    assert not (home / "warehouse.db").exists()
    code, _, err = _run(capsys, ["issues", "list", "--home", str(home), "--lang", "en"])
    assert code == 2 and "no warehouse there" in err


def test_a_never_run_warehouse_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    migrate(make_engine(url))
    code, _, err = _run(capsys, ["issues", "list", "--warehouse", url])
    assert code == 2 and "尚未运行" in err and str(tmp_path / "warehouse.db") in err
    code, _, err = _run(capsys, ["report", "--warehouse", url, "--home", str(tmp_path)])
    assert code == 2 and "尚未运行" in err


def test_officer_commands_load_neither_prefect_nor_gx(county_run: County) -> None:
    explain = county_run.argv(
        "explain",
        "--area",
        county_run.county.spec.county_code,
        "--period",
        "2026-06",
        "--indicator",
        "births",
    )
    script = (
        "import sys; from flows.cli import main; "
        f"assert main({county_run.argv('issues', 'list')!r}) == 0; "
        f"assert main({explain!r}) == 0; "
        "heavy = [m for m in sys.modules if m.split('.')[0] in ('prefect', 'great_expectations')]; "
        "assert not heavy, heavy[:5]"
    )
    env = {**os.environ, "COLUMNS": "120"}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, timeout=120, capture_output=True, env=env
    )
    assert done.returncode == 0, done.stderr.decode()


# ------------------------------------------------------------------------------ explain


def _explain_csv(
    capsys: pytest.CaptureFixture[str], county_run: County, area: str, period: str, code: str
) -> pd.DataFrame:
    argv = county_run.argv(
        "explain", "--area", area, "--period", period, "--indicator", code, "--format", "csv"
    )
    status, out, err = _run(capsys, argv)
    assert status == 0, err
    assert not RAW_ID_RE.search(out), "an ID number in clear"
    return pd.read_csv(io.StringIO(out), dtype={"area_code": str, "row_number": "Int64"})


def _mart(county_run: County) -> pd.DataFrame:
    from sqlalchemy import select

    from warehouse import schema
    from warehouse.load import read_frame

    engine = make_engine(county_run.url)
    with engine.connect() as conn:
        frame = read_frame(conn, select(schema.mart_target_achievement))
    engine.dispose()
    return frame


def test_explain_births_lists_the_generated_births_with_their_file_and_row(
    county_run: County, capsys: pytest.CaptureFixture[str]
) -> None:
    county = county_run.county
    births = county.answer_key.births
    county_code = county.spec.county_code
    period = "2026-01..2026-06"
    seen = births.loc[
        births["status"].notna()
        & (pd.to_datetime(births["birth_date"]) < pd.Timestamp("2026-07-01"))
    ]
    found = _explain_csv(capsys, county_run, county_code, period, "births")
    counted = found.loc[found["included"]]
    assert len(counted) == len(seen)
    assert counted["numerator"].sum() == len(seen)
    # every birth the village reported is traced to that file and row: counted there, or
    # (its row an error) counted from the hospital or police with the row left out
    missed = found.loc[~found["included"]]
    places = {
        (str(f), int(r))
        for part in (counted, missed)
        for f, r in zip(part["file_name"], part["row_number"], strict=True)
        if pd.notna(r)
    }
    for other in ";".join(counted["other_sources"].dropna()).split(";"):
        if other.strip():
            name, row = other.strip().rsplit(":", 1)
            places.add((name, int(row)))
    for birth in seen.dropna(subset=["village_path"]).itertuples():
        name = str(birth.village_path).split("/")[-1]
        assert (name, int(birth.village_row)) in places, (name, birth.village_row)
    assert counted["person"].dropna().map(lambda p: bool(MASKED_ID_RE.match(p))).all()
    assert set(counted["status"]) <= {
        "matched",
        "missing_in_village",
        "pending",
        "village_only",
        "conflict",
    }

    # the planted error rows of village birth files in the period are left out, with why
    faults = county.answer_key.faults
    planted = faults.loc[
        (faults["kind"] == "births")
        & (faults["source"] == "village")
        & (faults["severity"] == "error")
        & faults["row_number"].notna()
        & (faults["report_month"] <= "2026-06")
    ]
    assert len(planted) >= 1 and planted["path"].notna().all()
    for fault in planted.itertuples():
        name = str(fault.path).split("/")[-1]
        hit = missed.loc[
            (missed["file_name"] == name) & (missed["row_number"] == int(fault.row_number))
        ]
        assert len(hit) == 1 and hit["reason"].iloc[0] == "error_row", (name, fault.row_number)


def test_explained_records_add_up_to_every_published_figure(
    any_county_run: County, capsys: pytest.CaptureFixture[str]
) -> None:
    county_run = any_county_run
    """For one village and the half-year, each indicator's records sum to the mart row."""
    mart = _mart(county_run)
    village = str(mart.loc[mart["area_level"] == "village", "area_code"].iloc[0])
    rows = mart.loc[(mart["area_code"] == village) & (mart["period"] == "2026-H1")]
    assert len(rows) >= 15
    for figure in rows.itertuples():
        found = _explain_csv(capsys, county_run, village, "2026-H1", str(figure.indicator))
        counted = found.loc[found["included"]]
        assert counted["numerator"].sum() == pytest.approx(float(figure.numerator or 0)), (
            figure.indicator
        )
        if pd.notna(figure.denominator):
            assert counted["denominator"].sum() == pytest.approx(float(figure.denominator)), (
                figure.indicator
            )


def test_explain_prints_the_figure_and_refuses_what_is_not_published(
    county_run: County, capsys: pytest.CaptureFixture[str]
) -> None:
    mart = _mart(county_run)
    row = mart.loc[
        (mart["area_level"] == "township")
        & (mart["indicator"] == "contraceptive_prevalence")
        & (mart["period"] == "2026-06")
    ].iloc[0]
    argv = county_run.argv(
        "explain",
        "--area",
        row["area_code"],
        "--period",
        "2026-06",
        "--indicator",
        "contraceptive_prevalence",
        "--limit",
        "3",
    )
    code, out, err = _run(capsys, argv)
    assert code == 0, err
    assert "指标: 综合避孕率 (contraceptive_prevalence)" in out
    assert f"分子: {int(row['numerator']):,}" in out and f"分母: {int(row['denominator']):,}" in out
    assert f"计入的记录（3 / {int(row['denominator'])}）" in out
    assert "village_women_" in out and "<NA>" not in out
    code, _, err = _run(
        capsys,
        county_run.argv(
            "explain", "--area", row["area_code"], "--period", "2026-06", "--indicator", "bogus"
        ),
    )
    assert code == 1 and "未知指标：bogus" in err
    code, _, err = _run(
        capsys,
        county_run.argv(
            "explain", "--area", "000", "--period", "2026-06", "--indicator", "births", lang="en"
        ),
    )
    assert code == 1 and "no published figures for area '000'" in err


# ------------------------------------------------------------------------------ report


@pytest.fixture(scope="module")
def report_files(county_run: County, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """`popstat report` on the county: the report, the workbook and the explanation pages."""
    home = tmp_path_factory.mktemp("officer_report_home")
    argv = [
        "report",
        "--warehouse",
        county_run.url,
        "--home",
        str(home),
        "--reference",
        str(county_run.reference),
    ]
    assert main(argv) == 0
    return sorted((home / "reports").iterdir())


def test_report_lists_corrections_before_notices_and_links_every_figure(
    county_run: County, report_files: list[Path]
) -> None:
    names = [p.name for p in report_files]
    report = next(p for p in report_files if p.name.startswith("dq-report-"))
    pages = [p for p in report_files if p.name.startswith("dq-explain-")]
    townships = {str(u)[:9] for u in county_run.county.answer_key.uploads["unit"].dropna()}
    townships = {t for t in townships if t.isdigit()}
    assert len(pages) == len(townships), names
    page = report.read_text("utf-8")
    links = re.findall(r'<a class="explain" href="([^"#]+)#([a-z0-9_]+)"', page)
    assert {href for href, _ in links} == {p.name for p in pages}
    assert {code for _, code in links} >= {"births", "contraceptive_prevalence"}
    # per township: the rows to fix come before the late-upload notices
    for section in page.split('<section class="township"')[1:]:
        if "迟报和未报" in section and "需要更正的记录" in section:
            assert section.index("需要更正的记录") < section.index("迟报和未报")
    explained = pages[0].read_text("utf-8")
    assert 'id="births"' in explained and "计入的记录" in explained
    assert not RAW_ID_RE.search(explained)


@pytest.mark.browser
def test_a_figure_in_the_report_opens_its_explanation(
    report_files: list[Path], tmp_path: Path
) -> None:
    from tests.browser import chromium, requests_sent

    report = next(p for p in report_files if p.name.startswith("dq-report-"))
    with chromium(tmp_path) as browser:
        browser.get("about:blank")
        browser.get_log("performance")
        browser.get(report.as_uri())
        link = browser.find_element("css selector", 'a.explain[href$="#contraceptive_prevalence"]')
        row = link.find_element("xpath", "./ancestor::tr")
        numerator = row.find_elements("css selector", "td")[2].text
        browser.execute_script("arguments[0].scrollIntoView()", link)
        link.click()
        assert browser.current_url.endswith("#contraceptive_prevalence")
        assert browser.current_url.split("#")[0].split("/")[-1].startswith("dq-explain-")
        section = browser.find_element("id", "contraceptive_prevalence")
        text = section.text
        assert f"分子: {numerator}" in text
        assert "计入的记录" in text and "village_women_" in text
        top = browser.execute_script(
            "return document.getElementById('contraceptive_prevalence').getBoundingClientRect().top"
        )
        assert abs(top) < 50  # the browser jumped to the figure
        sent = [url for url, _ in requests_sent(browser.get_log("performance"))]
        foreign = [u for u in sent if not u.startswith("file://") and not u.startswith("data:")]
        assert foreign == [], foreign
