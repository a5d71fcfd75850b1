"""`popstat report` end to end: from a warehouse to files, and the page in a real browser.

The browser part drives Debian's headless Chromium and records every network
request the page makes: the report must work on an office intranet with no
Internet, so it may fetch nothing but itself.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Engine, update

from flows.cli import main
from flows.report_files import write_report
from tests.area_samples import AREAS, HOSPITAL, INSTITUTIONS, REPORTING, V1, V2
from tests.browser import chromium, png_size, requests_sent
from transforms.officer.report import report_file_names
from warehouse import issues, schema
from warehouse.db import make_engine, migrate
from warehouse.load import bulk_insert
from warehouse.report_data import load_report_input

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
INJECTED_FILE = '=HYPERLINK("http://evil.example/","点我")村.xlsx'


def _upload(upload_id: int, file_name: str, source: str | None, unit: str | None) -> dict[str, Any]:
    return {
        "upload_id": upload_id,
        "file_name": file_name,
        "path": f"2026-09/{file_name}",
        "sha256": f"{upload_id:064d}",
        "size_bytes": 100,
        "source": source,
        "kind": None,
        "unit": unit,
        "report_month": "2026-09",
        "arrived_at": datetime(2026, 10, 3, 9, 0),
        "rows": 10,
        "late": False,
        "status": "loaded",
        "run_id": "run-1",
    }


def _finding(rule: str, severity: str, unit: str | None, upload_id: int, **extra: Any) -> dict:
    return {
        "rule": rule,
        "severity": severity,
        "dimension": "validity",
        "source": "village",
        "kind": "women",
        "unit": unit,
        "report_month": "2026-09",
        "upload_id": upload_id,
        "row_number": None,
        "record_key": None,
        "value": None,
        "message_zh": f"{rule} 的说明",
        "message_en": f"about {rule}",
        **extra,
    }


def fill_warehouse(engine: Engine) -> None:
    """A small county's quality state: issues of every kind of unit, reporting rows, one run."""
    uploads = pd.DataFrame(
        [
            _upload(1, f"village_women_{V1}_202609.csv", "village", V1),
            _upload(2, f"village_births_{V2}_202609.xlsx", "village", V2),
            _upload(3, f"hospital_births_{HOSPITAL}_202609.csv", "hospital", HOSPITAL),
            _upload(4, INJECTED_FILE, None, None),
        ]
    )
    findings = pd.DataFrame(
        [
            _finding(
                "id_checksum",
                "error",
                V1,
                1,
                row_number=3,
                message_zh="“身份证号”校验位错误 <script>alert('x')</script>",
            ),
            _finding("id_scientific", "error", V1, 1, row_number=4),
            _finding("missing", "error", V1, 1, row_number=5),  # resolved below
            _finding("date_format", "error", V1, 1, row_number=6),  # gone below
            _finding(
                "birth_sex_conflict",
                "warning",
                V2,
                2,
                kind="births",
                report_month="2026-08",
                row_number=1,
                record_key="654226********7803",
            ),
            _finding("upload_late", "warning", HOSPITAL, 3, source="hospital", kind="births"),
            _finding(
                "file_unrecognised_name",
                "error",
                None,
                4,
                source=None,
                kind=None,
                report_month=None,
            ),
        ]
    )
    reporting = REPORTING
    run = pd.DataFrame(
        {
            "run_id": ["run-1"],
            "started_at": [datetime(2026, 10, 6, 2, 0)],
            "finished_at": [datetime(2026, 10, 6, 2, 5)],
            "as_of": [date(2026, 10, 6)],
            "status": ["completed"],
        }
    )
    with engine.begin() as conn:
        bulk_insert(conn, schema.uploads, uploads)
        bulk_insert(conn, schema.dq_reporting, reporting)
        bulk_insert(conn, schema.runs, run)
        issues.record_findings(conn, findings, "run-1", "validation")
        found = issues.list_issues(conn, issues.IssueFilter()).set_index("rule")["issue_id"]
        issues.set_status(
            conn, issues.IssueFilter(issue_ids=(found["missing"],)), "resolved", "已更正", "村专干"
        )
        issues.set_status(
            conn,
            issues.IssueFilter(issue_ids=(found["birth_sex_conflict"],)),
            "acknowledged",
            "已电话通知 <b>村专干</b>",
            "officer",
        )
        conn.execute(
            update(schema.dq_issues)
            .where(schema.dq_issues.c.issue_id == found["date_format"])
            .values(active=False)
        )


def write_reference(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    AREAS.to_csv(folder / "areas.csv", index=False)
    INSTITUTIONS.to_csv(folder / "institutions.csv", index=False)
    pd.DataFrame(columns=["year", "area_code", "indicator", "op", "target", "target_hi"]).to_csv(
        folder / "targets.csv", index=False
    )
    return folder


def test_report_reads_open_and_acknowledged_active_issues(engine: Engine, tmp_path: Path) -> None:
    fill_warehouse(engine)
    with engine.connect() as conn:
        data = load_report_input(conn, areas=AREAS, institutions=INSTITUTIONS)
    assert sorted(data.issues["rule"]) == [
        "birth_sex_conflict",
        "file_unrecognised_name",
        "id_checksum",
        "id_scientific",
        "upload_late",
    ]
    assert set(data.issues["status"]) == {"open", "acknowledged"}
    assert len(data.reporting) == 5
    assert data.run_id == "run-1" and data.data_as_of == date(2026, 10, 6)

    files = write_report(data, tmp_path / "reports", date(2026, 10, 7))
    assert files.html.name == "dq-report-2026-10-07.html"
    assert files.xlsx.name == "dq-open-issues-2026-10-07.xlsx"
    page = files.html.read_text("utf-8")
    assert "&lt;script&gt;" in page and "<script" not in page
    assert "已电话通知 &lt;b&gt;村专干&lt;/b&gt;" in page
    assert "和什托洛盖镇卫生院" in page and "654226********7803" in page

    sheets = pd.read_excel(files.xlsx, sheet_name=None, engine="calamine")
    assert list(sheets) == ["需要更正的记录", "迟报和未报", "按规则和级别汇总", "上报情况"]
    open_issues = sheets["需要更正的记录"]
    assert len(open_issues) == 4 and len(sheets["迟报和未报"]) == 1
    assert {"乡镇", "村/单位", "文件", "行", "人员（已脱敏）", "说明", "编号"} <= set(
        open_issues.columns
    )
    assert open_issues["文件"].iloc[-1] == "'" + INJECTED_FILE  # formula neutralised
    rates = sheets["上报情况"].set_index("代码")
    assert rates.loc[V1, "按时上报率 (%)"] == 50.0


def test_popstat_report_writes_both_files_and_prints_their_paths(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    engine = make_engine(url)
    migrate(engine)
    fill_warehouse(engine)
    engine.dispose()
    reference = write_reference(tmp_path / "reference")
    home = tmp_path / "home"
    argv = ["report", "--home", str(home), "--warehouse", url, "--reference", str(reference)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    reports = sorted((home / "reports").iterdir(), key=lambda p: p.suffix)
    assert [p.suffix for p in reports] == [".html", ".xlsx"]
    for path in reports:
        assert str(path.resolve()) in printed
    assert "和布克赛尔蒙古自治县 数据质量问题报告" in reports[0].read_text("utf-8")

    # an officer command answers at once: neither Prefect nor Great Expectations is loaded
    script = (
        "import sys; from flows.cli import main; "
        f"assert main({argv!r}) == 0; "
        "heavy = [m for m in sys.modules if m.split('.')[0] in ('prefect', 'great_expectations')]; "
        "assert not heavy, heavy[:5]"
    )
    subprocess.run(
        [sys.executable, "-c", script], check=True, cwd=Path(__file__).parents[2], timeout=120
    )


# ------------------------------------------------------------------------------ browser


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    with chromium(tmp_path) as driver:
        yield driver


def _requests(driver: Any) -> list[str]:
    """URLs of every request the page sent since the last call."""
    return [url for url, _ in requests_sent(driver.get_log("performance"))]


def _png_size(path: Path) -> tuple[int, int]:
    return png_size(path.read_bytes())


@pytest.mark.browser
def test_network_logging_sees_what_a_page_fetches(browser: Any, tmp_path: Path) -> None:
    """The check below is not vacuous: a page that does fetch is caught."""
    leaky = tmp_path / "leaky.html"
    leaky.write_text(
        '<!DOCTYPE html><html><body><img src="http://127.0.0.1:9/x.png"></body></html>',
        encoding="utf-8",
    )
    browser.get(leaky.as_uri())
    assert "http://127.0.0.1:9/x.png" in _requests(browser)


@pytest.mark.browser
def test_report_opens_offline_in_chromium_and_fetches_nothing(browser: Any, tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'warehouse.db'}")
    migrate(engine)
    fill_warehouse(engine)
    with engine.connect() as conn:
        data = load_report_input(conn, areas=AREAS, institutions=INSTITUTIONS)
    engine.dispose()
    files = write_report(data, tmp_path / "reports", date(2026, 10, 7))
    assert files.html.name == report_file_names(date(2026, 10, 7))[0]

    browser.get("about:blank")
    _requests(browser)  # what the browser loaded at start (its new-tab page) is not the report's
    url = files.html.as_uri()
    browser.get(url)
    assert browser.title == "和布克赛尔蒙古自治县 数据质量问题报告"
    shown = browser.execute_script(
        "return {bars: document.querySelectorAll('svg.chart rect').length,"
        " units: document.querySelectorAll('details.unit').length,"
        " scripts: document.scripts.length,"
        " width: document.querySelector('svg.chart').getBoundingClientRect().width,"
        " text: document.body.innerText}"
    )
    assert shown["bars"] >= 4 and shown["units"] == 3 and shown["scripts"] == 0
    assert shown["width"] > 300
    assert "身份证号校验位错误" in shown["text"] and "<script>alert('x')</script>" in shown["text"]

    screenshot = tmp_path / "report.png"
    assert browser.save_screenshot(str(screenshot))
    width, height = _png_size(screenshot)
    assert width >= 800 and height >= 600
    assert screenshot.stat().st_size > 20_000  # a rendered page, not a blank one

    requests = _requests(browser)
    assert url in requests
    foreign = [u for u in requests if u != url and not u.startswith("data:")]
    assert foreign == [], f"the report fetched {foreign}"
