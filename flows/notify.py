"""The failure notice: one clear log line, and a JSON POST where a webhook is configured.

Standard library only (urllib), a 10 s timeout, and it never raises: a broken
notifier must not hide the failure it was reporting.
"""

from __future__ import annotations

import contextlib
import json
import socket
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

TIMEOUT_SECONDS = 10.0


def failure_payload(
    run_id: str, error: BaseException | str, *, stage: str | None = None, **extra: Any
) -> dict[str, Any]:
    """What a failed run reports: which run, where, what went wrong, on which host."""
    message = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    return {
        "event": "popstat.run.failed",
        "run_id": run_id,
        "stage": stage,
        "error": message,
        "host": socket.gethostname(),
        "at": datetime.now().isoformat(timespec="seconds"),
        "text": f"popstat 运行失败 run failed: {run_id}"
        + (f" ({stage})" if stage else "")
        + f" — {message}",
        **extra,
    }


def failure_line(payload: Mapping[str, Any]) -> str:
    """The one log line an operator greps for."""
    stage = f" at stage {payload['stage']}" if payload.get("stage") else ""
    return (
        f"POPSTAT RUN FAILED 运行失败: {payload['run_id']}{stage} on {payload.get('host')}: "
        f"{payload['error']}"
    )


def post_json(
    url: str,
    payload: Mapping[str, Any],
    timeout: float = TIMEOUT_SECONDS,
    warn: Callable[[str], None] | None = None,
) -> bool:
    """POST `payload` as JSON; True on a 2xx answer. Never raises."""
    try:
        body = json.dumps(payload, ensure_ascii=False, default=str).encode("utf-8")
        request = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "popstat"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return 200 <= int(response.status) < 300
    except Exception as error:  # any failure to notify is reported, never raised
        if warn is not None:
            with contextlib.suppress(Exception):
                warn(f"failure notice not delivered to webhook: {type(error).__name__}: {error}")
        return False


def notify_failure(
    webhook_url: str,
    payload: Mapping[str, Any],
    log: Callable[[str], None],
    timeout: float = TIMEOUT_SECONDS,
) -> bool:
    """Log the failure line, then POST it where a webhook is configured. Never raises."""
    with contextlib.suppress(Exception):
        log(failure_line(payload))
    if not webhook_url:
        return False
    return post_json(webhook_url, payload, timeout=timeout, warn=log)
