"""A tiny county (two townships, three villages, one health centre) for report tests,
and what its units were expected to upload (dq_reporting)."""

from __future__ import annotations

import pandas as pd

T1, T2 = "654226100", "654226101"
V1, V2, V3 = "654226100201", "654226100202", "654226101201"
HOSPITAL = "H654226100"

AREAS = pd.DataFrame(
    {
        "code": ["654226", T1, T2, V1, V2, V3],
        "name": [
            "和布克赛尔蒙古自治县",
            "和什托洛盖镇",
            "查干库勒乡",
            "查干托洛盖村",
            "和什托洛盖村",
            "查干库勒村",
        ],
        "level": ["county", "township", "township", "village", "village", "village"],
        "parent_code": [None, "654226", "654226", T1, T1, T2],
    },
    dtype="string",
)
INSTITUTIONS = pd.DataFrame(
    {"code": [HOSPITAL], "name": ["和什托洛盖镇卫生院"], "township_code": [T1]}, dtype="string"
)
# Expected uploads: one late, one missing, one late at the health centre.
REPORTING = pd.DataFrame(
    {
        "unit": [V1, V1, V2, V3, HOSPITAL],
        "source": ["village", "village", "village", "village", "hospital"],
        "kind": ["women", "women", "births", "births", "births"],
        "report_month": ["2026-08", "2026-09", "2026-09", "2026-09", "2026-09"],
        "area_code": [V1, V1, V2, V3, T1],
        "received": [True, True, False, True, True],
        "on_time": [True, False, False, True, False],
    }
)
