"""Headless Debian Chromium for the browser tests, and what it saw.

Debian's `chromium` and `chromium-driver` (`make test` installs them when it can; a
test tool's own browser download fails on these machines). A browser test that cannot
start the browser fails: it never skips.
"""

from __future__ import annotations

import json
import shutil
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# Without the background-networking flags Chromium phones home at start, which this
# closed network refuses and which would pollute the request log.
_ARGUMENTS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--no-first-run",
)


@contextmanager
def chromium(folder: Path, window: str = "1366,900") -> Iterator[Any]:
    """A headless Chromium with performance (network) logging, in a throwaway profile."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.fail(
            f"headless Chromium needed: {missing} missing "
            "(apt-get install chromium chromium-driver)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    profile = folder / "chromium-profile"
    for argument in (*_ARGUMENTS, f"--window-size={window}", f"--user-data-dir={profile}"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def requests_sent(log: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(url, document url) of every request or websocket in a performance log."""
    found = []
    for entry in log:
        message = json.loads(str(entry["message"]))["message"]
        if message["method"] == "Network.requestWillBeSent":
            params = message["params"]
            found.append((str(params["request"]["url"]), str(params.get("documentURL", ""))))
        elif message["method"] == "Network.webSocketCreated":
            found.append((str(message["params"]["url"]), ""))
    return found


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)
