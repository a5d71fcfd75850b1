"""Stage progress: plain lines off a terminal, one live line per stage on it."""

from __future__ import annotations

import io

from flows import progress


def test_plain_lines_when_not_a_terminal() -> None:
    out = io.StringIO()
    display = progress.TerminalProgress(out, live=False)
    display("land", "start", "")
    display("land", "info", "村 village_births: 3 个文件 files")
    display("land", "done", "1.5 s")
    display("publish", "skipped", "inputs unchanged")
    display.close()
    assert out.getvalue().splitlines() == [
        "[popstat] 接收 land: 开始 started",
        "[popstat] 接收 land: 村 village_births: 3 个文件 files",
        "[popstat] 接收 land: 完成 done 1.5 s",
        "[popstat] 发布 publish: 跳过 skipped inputs unchanged",
    ]
    assert "\r" not in out.getvalue()


def test_live_line_is_redrawn_in_place_and_finished() -> None:
    out = io.StringIO()
    display = progress.TerminalProgress(out, live=True, tick=60)
    display("land", "start", "")
    display("land", "info", "3 files")
    display("land", "done", "1.5 s")
    display("validate", "start", "")
    display("validate", "failed", "ValueError: x")
    display.close()
    text = out.getvalue()
    finished = text.split("\n")
    assert finished[0].endswith("✓ 接收 land  1.5 s")
    assert "… 接收 land" in finished[0] and "3 files" in finished[0]
    assert finished[1].endswith("✗ 校验 validate  ValueError: x")
    assert text.count("\r\x1b[K") >= 4  # each redraw clears the line first


def test_live_ticker_updates_elapsed_time() -> None:
    out = io.StringIO()
    display = progress.TerminalProgress(out, live=True, tick=0.01)
    display("reconcile", "start", "")
    import time

    time.sleep(0.1)
    display.close()
    assert out.getvalue().count("… 核对 reconcile") >= 3


def test_emit_reaches_listeners_and_survives_broken_ones() -> None:
    seen: list[tuple[str, str, str]] = []

    def broken(stage: str, event: str, detail: str) -> None:
        raise RuntimeError("terminal gone")

    def listen(stage: str, event: str, detail: str) -> None:
        seen.append((stage, event, detail))

    progress.add_listener(broken)
    progress.add_listener(listen)
    try:
        progress.emit("audit", "start")
        progress.emit("audit", "done", "0.1 s")
    finally:
        progress.remove_listener(broken)
        progress.remove_listener(listen)
    progress.emit("audit", "start")  # nobody listens: nothing happens
    assert seen == [("audit", "start", ""), ("audit", "done", "0.1 s")]
