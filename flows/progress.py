"""Per-stage progress of a run, for whoever listens (the `popstat` command's terminal).

The flow's tasks call `emit(stage, event, detail)`; the command adds a listener
that draws it. A task runs in the process that called the flow, so a module-level
list of listeners is enough; a run served by `popstat serve` has no listener and
reports through Prefect's logs only. No Prefect import here: the command draws
progress without paying for it.

In a terminal each stage gets one live line (elapsed seconds and the latest
detail, redrawn in place), finished with ✓ or ✗; elsewhere (cron, systemd, a
pipe) plain lines, one per event.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

from flows.stages import STAGE_LABELS

# (stage, event, detail); event is one of EVENTS.
Listener = Callable[[str, str, str], None]
EVENTS = ("start", "info", "done", "failed", "skipped")


_listeners: list[Listener] = []
_lock = threading.Lock()


def add_listener(listener: Listener) -> None:
    with _lock:
        _listeners.append(listener)


def remove_listener(listener: Listener) -> None:
    with _lock:
        if listener in _listeners:
            _listeners.remove(listener)


def emit(stage: str, event: str, detail: str = "") -> None:
    """Tell every listener; a listener that fails never fails the run."""
    with _lock:
        listeners = list(_listeners)
    for listener in listeners:
        with contextlib.suppress(Exception):  # drawing progress must not break a run
            listener(stage, event, detail)


def label(stage: str) -> str:
    return STAGE_LABELS.get(stage, stage)


def plain_line(stage: str, event: str, detail: str = "") -> str:
    """The line written for one event when the output is not a terminal."""
    words = {
        "start": "开始 started",
        "info": "",
        "done": "完成 done",
        "failed": "失败 failed",
        "skipped": "跳过 skipped",
    }
    parts = [f"[popstat] {label(stage)}:", words.get(event, event), detail]
    return " ".join(p for p in parts if p)


class TerminalProgress:
    """A listener that draws stages on `stream`: live lines on a TTY, plain lines otherwise."""

    def __init__(
        self, stream: TextIO | None = None, live: bool | None = None, tick: float = 0.5
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.live = self.stream.isatty() if live is None else live
        self.tick = tick
        self._stage: str | None = None
        self._detail = ""
        self._started = 0.0
        self._guard = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def __call__(self, stage: str, event: str, detail: str = "") -> None:
        with self._guard:
            if not self.live:
                self.stream.write(plain_line(stage, event, detail) + "\n")
                self.stream.flush()
                return
            if event == "start":
                self._finish_line()
                self._stage, self._detail, self._started = stage, detail, time.monotonic()
                self._draw()
                self._start_ticker()
            elif event == "info":
                if self._stage != stage:
                    self._finish_line()
                    self._stage, self._started = stage, time.monotonic()
                self._detail = detail
                self._draw()
            else:
                mark = {"done": "✓", "failed": "✗", "skipped": "–"}.get(event, "·")
                self._clear()
                self.stream.write(f"{mark} {label(stage)}  {detail}".rstrip() + "\n")
                self.stream.flush()
                self._stage = None

    def close(self) -> None:
        """Stop redrawing and end any open line."""
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=2)
        with self._guard:
            self._finish_line()

    # -- drawing (callers hold the guard)

    def _draw(self) -> None:
        if self._stage is None:
            return
        elapsed = time.monotonic() - self._started
        text = f"… {label(self._stage)}  {elapsed:5.1f} s  {self._detail}".rstrip()
        self.stream.write("\r\x1b[K" + text)
        self.stream.flush()

    def _clear(self) -> None:
        self.stream.write("\r\x1b[K")

    def _finish_line(self) -> None:
        if self._stage is not None and self.live:
            self._draw()
            self.stream.write("\n")
            self.stream.flush()
            self._stage = None

    def _start_ticker(self) -> None:
        if self._ticker is not None:
            return

        def run() -> None:
            while not self._stop.wait(self.tick):
                with self._guard:
                    self._draw()

        self._ticker = threading.Thread(target=run, name="popstat-progress", daemon=True)
        self._ticker.start()
