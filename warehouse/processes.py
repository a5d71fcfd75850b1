"""Is a process alive? Imports nothing heavy: the server watchdog runs it in a tiny process."""

from __future__ import annotations

import contextlib
import os


def process_alive(pid: int) -> bool:
    """Whether process `pid` exists on this host and has not ended.

    A process owned by another user exists (PermissionError); a zombie (ended, not yet
    reaped by its parent) counts as ended: a killed run's lock and its temporary server
    must not wait for the parent to reap it.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with (
        contextlib.suppress(OSError),
        open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat,
    ):
        return stat.read().rsplit(")", 1)[-1].split()[0] != "Z"
    return True
