"""The bulletin in a real browser: headless Debian Chromium renders it, and it asks the
network for nothing but the file itself.

Needs /usr/bin/chromium and /usr/bin/chromedriver (Debian's `chromium` and
`chromium-driver`; .ci/run installs them). Without them the test fails, it never
skips. The screenshot is kept in the test's tmp folder (its path is printed), or
in $POPSTAT_SCREENSHOT_DIR when that is set.
"""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By

from tests.mart_samples import sample_mart
from transforms.bulletin import render_bulletin_html
from transforms.catalog import load_catalog

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
pytestmark = pytest.mark.browser


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[WebDriver]:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.fail(
            f"browser test needs {', '.join(missing)}: apt-get install chromium chromium-driver"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-default-apps",
        "--disable-extensions",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1300,1000",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = WebDriver(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _requests(log: list[dict[str, object]]) -> list[tuple[str, str]]:
    """(url, document url) of every request the browser was about to send."""
    found = []
    for entry in log:
        message = json.loads(str(entry["message"]))["message"]
        if message["method"] == "Network.requestWillBeSent":
            params = message["params"]
            found.append((params["request"]["url"], params.get("documentURL", "")))
        elif message["method"] == "Network.webSocketCreated":
            found.append((message["params"]["url"], ""))
    return found


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
    width, shot_height = _png_size(png)
    assert width >= 1000 and shot_height >= 800
    assert len(png) > 30_000, "the screenshot is nearly blank"

    requests = _requests(browser.get_log("performance"))
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
    urls = {u for u, _ in _requests(browser.get_log("performance"))}
    assert "http://127.0.0.1:9/x.png" in urls
