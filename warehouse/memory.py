"""Give the memory a finished stage freed back to the operating system.

A night runs its stages one after another in one process. Python frees a stage's
frames, but the allocators keep the pages for reuse: Arrow's pool (mimalloc) and
glibc's arenas. Without handing them back, the process's resident size only grows
from stage to stage, and its peak is the sum of what every stage ever held, not the
largest of them (the run's peak memory is a target: docs/design.md).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from collections.abc import Callable
from functools import cache
from typing import Any

import pyarrow as pa


@cache
def _trim() -> Callable[[int], Any] | None:
    """glibc's malloc_trim, where there is one (not on macOS or musl)."""
    name = ctypes.util.find_library("c")
    try:
        trim: Callable[[int], Any] = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError, TypeError):
        return None
    return trim


def release_unused() -> None:
    """Collect garbage and return free pages to the system (Arrow's pool, then malloc's).

    What survives the collection is then frozen (`gc.freeze`): it is what outlives a stage
    (modules, Prefect's and GX's machinery, caches), and a full collection walks every
    object there is, ~0.35 s a stage once GX and Prefect are loaded; the next stage's
    collection walks only what was made since.
    """
    gc.collect()
    gc.freeze()
    pa.default_memory_pool().release_unused()
    trim = _trim()
    if trim is not None:
        trim(0)
