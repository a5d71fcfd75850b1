"""Test-only kill points, injected into a `popstat` process from outside (never in production).

    python -m tests.crash_hooks <popstat arguments>      (POPSTAT_TEST_PAUSE_AT=<point>)

installs the pause point named by the environment, then runs `popstat` as usual. At
the point the process prints `POPSTAT_TEST_PAUSED <point>` on stderr and waits to be
killed (the crash tests send SIGKILL). Points:

- `stage:<name>`: when stage `<name>` starts (one of flows.stages.NIGHTLY_STAGES);
- `insert:<n>`: after the n-th bulk insert of the run (`bulk_insert`, or rows added to
  a `ScratchLoad`), inside its transaction (landing inserts come first: small n are
  inside landing);
- `template:<n>`: after landing has committed its n-th template;
- `publish:insert`: inside the publishing transaction, after the first partition's
  reconciled rows are added and before the mart's;
- `publish:commit`: inside the publishing transaction, everything written, not committed.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import Any

PAUSE_MARKER = "POPSTAT_TEST_PAUSED"
POINT_VARIABLE = "POPSTAT_TEST_PAUSE_AT"


def _pause(point: str) -> None:
    print(f"{PAUSE_MARKER} {point}", file=sys.stderr, flush=True)
    while True:
        time.sleep(60)


def _after_calls(module: Any, name: str, n: int, point: str, counter: list[int]) -> None:
    original: Callable[..., Any] = getattr(module, name)

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        counter[0] += 1
        if counter[0] == n:
            _pause(point)
        return result

    setattr(module, name, wrapped)


def install(point: str) -> None:
    """Make the process pause at `point` (see the module doc)."""
    kind, _, arg = point.partition(":")
    if kind == "stage":
        from flows import progress
        from flows.stages import NIGHTLY_STAGES, Stage

        if Stage(arg) not in NIGHTLY_STAGES:
            raise ValueError(f"no stage {arg!r} in a nightly run")

        def listener(stage: str, event: str, detail: str) -> None:
            if stage == arg and event == "start":
                _pause(point)

        progress.add_listener(listener)
    elif kind == "insert":
        from warehouse import issues, landing, publish, staged
        from warehouse.scratch import ScratchLoad

        counter = [0]
        for module in (landing, issues, staged, publish):
            _after_calls(module, "bulk_insert", int(arg), point, counter)
        _after_calls(ScratchLoad, "add", int(arg), point, counter)
    elif kind == "template":
        from warehouse import landing

        _after_calls(landing, "land_template", int(arg), point, [0])
    elif point == "publish:insert":
        from warehouse import publish

        _after_calls(publish, "_append_rows", 1, point, [0])
    elif point == "publish:commit":
        from warehouse import publish

        original = publish.publish

        def publish_then_pause(*args: Any, **kwargs: Any) -> Any:
            return original(*args, **kwargs, before_commit=lambda: _pause(point))

        publish.publish = publish_then_pause  # type: ignore[assignment]
    else:
        raise ValueError(f"unknown pause point {point!r}")


def main() -> int:
    point = os.environ.get(POINT_VARIABLE, "")
    if point:
        install(point)
    from flows.cli import main as popstat

    sys.argv = ["popstat", *sys.argv[1:]]
    return popstat()


if __name__ == "__main__":
    sys.exit(main())
