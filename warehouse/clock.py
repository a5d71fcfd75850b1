"""The one clock: wall time in the district's configured time zone.

Every time an officer reads (run ids, issue reviews, report stamps) is local wall
time in `POPSTAT_TIME_ZONE`, stored naive, as upload arrival times already are
(warehouse.inbox): a machine whose clock runs in UTC must not shift them by 8 hours.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

DEFAULT_TIME_ZONE = "Asia/Shanghai"


def local_now(time_zone: str = DEFAULT_TIME_ZONE) -> datetime:
    """Now as naive wall time in `time_zone` (whole seconds)."""
    return datetime.now(ZoneInfo(time_zone)).replace(tzinfo=None, microsecond=0)
