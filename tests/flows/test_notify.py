"""The failure notifier: a JSON POST with a timeout, and never an exception."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from flows.notify import failure_line, failure_payload, notify_failure, post_json


class _Handler(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[str, dict[str, Any]]]] = []
    status: ClassVar[int] = 200
    delay: ClassVar[float] = 0.0

    def do_POST(self) -> None:
        time.sleep(_Handler.delay)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        _Handler.received.append((self.headers.get("Content-Type", ""), json.loads(body)))
        self.send_response(_Handler.status)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    _Handler.received, _Handler.status, _Handler.delay = [], 200, 0.0
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/notify"
    httpd.shutdown()
    httpd.server_close()


def test_payload_and_line_name_the_run_stage_and_error() -> None:
    payload = failure_payload("run-1", ValueError("bad areas.csv"), stage="reconcile")
    assert payload["event"] == "popstat.run.failed"
    assert payload["error"] == "ValueError: bad areas.csv"
    assert "run-1" in payload["text"] and "reconcile" in payload["text"]
    line = failure_line(payload)
    assert line.startswith("POPSTAT RUN FAILED")
    assert "run-1 at stage reconcile" in line and "ValueError: bad areas.csv" in line


def test_posts_json_to_the_webhook(server: str) -> None:
    logged: list[str] = []
    payload = failure_payload("run-2", "boom", stage="land", flow_run_id="abc")
    assert notify_failure(server, payload, log=logged.append)
    [(content_type, body)] = _Handler.received
    assert content_type.startswith("application/json")
    assert body["run_id"] == "run-2" and body["flow_run_id"] == "abc"
    assert logged == [failure_line(payload)]


def test_without_a_webhook_it_only_logs() -> None:
    logged: list[str] = []
    assert not notify_failure("", failure_payload("run-3", "boom"), log=logged.append)
    assert len(logged) == 1


def test_server_errors_are_reported_not_raised(server: str) -> None:
    _Handler.status = 500
    logged: list[str] = []
    assert not notify_failure(server, failure_payload("run-4", "boom"), log=logged.append)
    assert "not delivered" in logged[-1]


def test_unreachable_and_slow_webhooks_do_not_raise(server: str) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert not post_json(f"http://127.0.0.1:{port}/x", {"a": 1}, timeout=2)
    _Handler.delay = 1.0
    started = time.perf_counter()
    assert not post_json(server, {"a": 1}, timeout=0.2)
    assert time.perf_counter() - started < 1.0
    assert not post_json("not a url", {"a": 1})


def test_a_failing_logger_does_not_raise(server: str) -> None:
    def broken(_: str) -> None:
        raise RuntimeError("log down")

    assert notify_failure(server, failure_payload("run-5", "boom"), log=broken)
