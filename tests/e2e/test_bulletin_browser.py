"""The bulletin in a real browser: headless Debian Chromium renders it, and it asks the
network for nothing but the file itself.

Needs /usr/bin/chromium and /usr/bin/chromedriver (Debian's `chromium` and
`chromium-driver`; `make test` installs them). Without them the test fails, it never
skips. The screenshot is kept in the test's tmp folder (its path is printed), or
in $POPSTAT_SCREENSHOT_DIR when that is set.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By

from reports.bulletin import render_bulletin_html
from tests.browser import chromium, png_size, requests_sent
from tests.mart_samples import sample_mart
from transforms.indicators.catalog import load_catalog

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
pytestmark = pytest.mark.browser


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[WebDriver]:
    with chromium(tmp_path, window="1300,1000") as driver:
        yield driver


def test_bulletin_renders_and_fetches_nothing(browser: WebDriver, tmp_path: Path) -> None:
    mart = sample_mart()
    page = render_bulletin_html(
        mart.loc[mart["period"] == "2026-Q3"],
        mart.loc[mart["period"] == "2026-Q2"],
        "2026-Q3",
        load_catalog(),
        "2026-Q2",
        generated_at="2026-10-06 08:00",
    )
    path = tmp_path / "bulletin_2026-Q3.html"
    path.write_text(page, encoding="utf-8")
    url = path.as_uri()

    browser.get_log("performance")  # drop what the browser did before our page
    browser.get(url)
    assert "季度通报" in browser.title
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith("和布克赛尔蒙古自治县")
    cards = browser.find_elements(By.CSS_SELECTOR, "article.card")
    assert len(cards) == 3 * 2  # 3 parents × 2 indicators with a target
    assert len(browser.find_elements(By.CSS_SELECTOR, "article.card svg rect")) > 0
    assert "<script>alert(1)</script>村" in browser.find_element(By.ID, "area-654226100").text
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0

    height = int(browser.execute_script("return document.documentElement.scrollHeight"))
    browser.set_window_size(1300, min(max(height, 800), 6000))
    png = browser.get_screenshot_as_png()
    shots = Path(os.environ.get("POPSTAT_SCREENSHOT_DIR", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    shot = shots / "bulletin_2026-Q3.png"
    shot.write_bytes(png)
    print(f"screenshot: {shot}")
    width, shot_height = png_size(png)
    assert width >= 1000 and shot_height >= 800
    assert len(png) > 30_000, "the screenshot is nearly blank"

    requests = requests_sent(browser.get_log("performance"))
    ours = {u for u, document in requests if document == url or u == url}
    assert ours == {url}, f"the page requested more than itself: {sorted(ours)}"
    external = sorted(
        u for u, _ in requests if u.split(":", 1)[0] in ("http", "https", "ws", "wss", "ftp")
    )
    assert not external, f"the browser went to the network: {external}"


def test_the_request_check_would_see_a_planted_request(browser: WebDriver, tmp_path: Path) -> None:
    """The network check is not vacuous: a page with one external image is caught."""
    path = tmp_path / "planted.html"
    path.write_text(
        '<!DOCTYPE html><html><body><img src="http://127.0.0.1:9/x.png"></body></html>',
        encoding="utf-8",
    )
    browser.get_log("performance")
    browser.get(path.as_uri())
    urls = {u for u, _ in requests_sent(browser.get_log("performance"))}
    assert "http://127.0.0.1:9/x.png" in urls
