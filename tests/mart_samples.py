"""A tiny published mart for export and bulletin tests: a county, two townships, four
villages, two quarters, three indicators (one without a target).

Between 2026-Q2 and 2026-Q3 the village 654226100201 turns met on 政策符合率 and
654226100202 turns not met (and is not signed off: its figures are provisional);
654226100203 has no births (no_data). Names carry HTML and a spreadsheet formula, to
test escaping and formula neutralisation.
"""

from __future__ import annotations

import pandas as pd

from transforms.periods import parse_period

SCRIPT_NAME = "<script>alert(1)</script>村"
FORMULA_NAME = '=HYPERLINK("x","村")'

AREAS: dict[str, tuple[str, str, str | None]] = {
    "654226": ("和布克赛尔蒙古自治县", "county", None),
    "654226100": ("和什托洛盖镇", "township", "654226"),
    "654226101": ("查干库勒乡", "township", "654226"),
    "654226100201": ("查干托洛盖村", "village", "654226100"),
    "654226100202": (SCRIPT_NAME, "village", "654226100"),
    "654226100203": (FORMULA_NAME, "village", "654226100"),
    "654226101201": ("塔斯特村", "village", "654226101"),
}

# (area, births, births within policy, births of order 3+) per quarter
_BIRTHS: dict[str, dict[str, tuple[int, int, int]]] = {
    "2026-Q2": {
        "654226100201": (50, 40, 0),
        "654226100202": (50, 45, 1),
        "654226100203": (0, 0, 0),
        "654226101201": (99, 88, 1),
    },
    "2026-Q3": {
        "654226100201": (50, 45, 0),
        "654226100202": (50, 40, 1),
        "654226100203": (0, 0, 0),
        "654226101201": (99, 88, 1),
    },
}
# Share of village-months signed off (审核把关): all of 2026-Q2; in 2026-Q3 none of
# 654226100202's three months, so its township has 6 of 9 and the county 9 of 12.
_SIGNED_OFF: dict[str, dict[str, float]] = {
    "2026-Q2": {},
    "2026-Q3": {"654226100202": 0.0, "654226100": 6 / 9, "654226": 9 / 12},
}
_INDICATORS = {
    # code: (name, target_op, target, better)
    "births": ("出生人数", None, None, None),
    "policy_compliance_rate": ("政策符合率", ">=", 87.0, "higher"),
    "multi_child_rate": ("多孩率", "<=", 1.0, "lower"),
}


def _totals(period: str) -> dict[str, tuple[int, int, int]]:
    """Village figures summed up to townships and the county."""
    out = dict(_BIRTHS[period])
    for code in ("654226100", "654226101", "654226"):
        parts = [v for a, v in _BIRTHS[period].items() if a.startswith(code)]
        out[code] = tuple(sum(x) for x in zip(*parts, strict=True))
    return out


def sample_mart(periods: tuple[str, ...] = ("2026-Q2", "2026-Q3")) -> pd.DataFrame:
    """Every column of mart_target_achievement, ranked within parent as the pipeline does."""
    rows = []
    for label in periods:
        period = parse_period(label)
        for code, (births, policy_in, order3) in _totals(label).items():
            name, level, parent = AREAS[code]
            for indicator, (ind_name, op, target, _) in _INDICATORS.items():
                numerator = {
                    "births": births,
                    "policy_compliance_rate": policy_in,
                    "multi_child_rate": order3,
                }[indicator]
                denominator = None if indicator == "births" else births
                if denominator is None:
                    value, status = float(numerator), "no_target"
                elif denominator == 0:
                    value, status = None, "no_data"
                else:
                    value = numerator * 100 / denominator
                    assert target is not None
                    ok = value >= target if op == ">=" else value <= target
                    status = "met" if ok else "not_met"
                rows.append(
                    {
                        "area_code": code,
                        "area_name": name,
                        "area_level": level,
                        "parent_code": parent,
                        "period": label,
                        "period_start": pd.Timestamp(period.start),
                        "period_end": pd.Timestamp(period.end),
                        "indicator": indicator,
                        "indicator_name": ind_name,
                        "numerator": float(numerator),
                        "denominator": None if denominator is None else float(denominator),
                        "value": value,
                        "unit": "count" if indicator == "births" else "%",
                        "target_op": op,
                        "target": target,
                        "target_hi": None,
                        "status": status,
                        "rank": None,
                        "period_complete": True,
                        "signed_off_share": _SIGNED_OFF[label].get(code, 1.0),
                        "run_id": "r1",
                    }
                )
    frame = pd.DataFrame(rows)
    frame["value"] = frame["value"].astype("Float64")
    frame["denominator"] = frame["denominator"].astype("Float64")
    frame["target"] = frame["target"].astype("Float64")
    frame["target_hi"] = frame["target_hi"].astype("Float64")
    ranked = frame["status"].isin(["met", "not_met"]) & frame["parent_code"].notna()
    for (_, _, indicator), part in frame.loc[ranked].groupby(
        ["parent_code", "period", "indicator"]
    ):
        higher = _INDICATORS[str(indicator)][3] == "higher"
        frame.loc[part.index, "rank"] = part["value"].rank(method="min", ascending=not higher)
    frame["rank"] = frame["rank"].astype("Int64")
    return frame
