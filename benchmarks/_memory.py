"""Peak memory of this process, measured honestly.

`getrusage(RUSAGE_SELF).ru_maxrss` survives fork and exec on Linux: a benchmark
child started by a parent that had just generated a county reports the parent's
peak. `VmHWM` belongs to the process's own address space, which exec replaces.
"""

from __future__ import annotations

import resource
from pathlib import Path


def peak_rss_mb() -> float:
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
