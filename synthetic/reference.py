"""The county's geography and reference files: areas, institutions, targets (with their planted bad rows)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import pandas as pd

from synthetic.spec import (
    _TOWNSHIP_PREFIX,
    _TOWNSHIP_SUFFIX,
    _VILLAGE_PREFIX,
    _VILLAGE_SUFFIX,
    TOWNSHIP_NAMES,
    VILLAGE_NAMES,
    CountySpec,
)

# -------------------------------------------------------------------------- geography


@dataclass(frozen=True)
class Geography:
    """Codes and names of the county's townships, villages and institutions."""

    county_code: str
    county_name: str
    township_codes: tuple[str, ...]
    township_names: tuple[str, ...]
    village_codes: tuple[str, ...]
    village_names: tuple[str, ...]
    village_township: tuple[int, ...]
    institution_codes: tuple[str, ...]
    institution_names: tuple[str, ...]
    institution_township: tuple[int, ...]

    @property
    def county_hospital(self) -> int:
        return len(self.township_codes)

    @property
    def mch(self) -> int:
        """The county 妇幼保健院."""
        return len(self.township_codes) + 1


def _name_list(
    base: Sequence[str], prefixes: Sequence[str], suffixes: Sequence[str], tail: str, n: int
) -> list[str]:
    names = list(dict.fromkeys(base))
    for p in prefixes:
        for s in suffixes:
            if len(names) >= n:
                return names[:n]
            name = p + s + tail
            if name not in names:
                names.append(name)
    first = list(names)
    for prefix in "新东西南北前后上下中":
        names.extend(prefix + x for x in first)
        if len(names) >= n:
            break
    return names[:n]


def _from(names: list[str], skip: int, n: int) -> list[str]:
    """`n` names from position `skip` on; past the end of the list (only in a large
    province, `spec.names_from`) the list starts over. A county's own `n` names are
    never cut short here (the list holds them all or the county is too large)."""
    if skip == 0 or len(names) >= skip + n:
        return names[skip : skip + n]
    return [names[(skip + i) % len(names)] for i in range(n)]


def build_geography(spec: CountySpec) -> Geography:
    """The areas and institutions of `spec` (deterministic, no randomness)."""
    n_t, per = spec.townships, spec.villages_per_township
    skip_t, skip_v = spec.names_from * n_t, spec.names_from * n_t * per
    t_names = _from(
        _name_list(TOWNSHIP_NAMES, _TOWNSHIP_PREFIX, _TOWNSHIP_SUFFIX, "", skip_t + n_t),
        skip_t,
        n_t,
    )
    t_codes = [f"{spec.county_code}{100 + i:03d}" for i in range(n_t)]
    v_names = _from(
        _name_list(VILLAGE_NAMES, _VILLAGE_PREFIX, _VILLAGE_SUFFIX, "村", skip_v + n_t * per),
        skip_v,
        n_t * per,
    )
    v_codes = [f"{t_codes[t]}{201 + j:03d}" for t in range(n_t) for j in range(per)]
    v_town = [t for t in range(n_t) for _ in range(per)]
    i_codes = [f"H{c}" for c in t_codes] + [f"H{spec.county_code}001", f"H{spec.county_code}002"]
    i_names = [f"{n}卫生院" for n in t_names] + [
        f"{spec.county_name}人民医院",
        f"{spec.county_name}妇幼保健院",
    ]
    i_town = [*range(n_t), 0, 0]
    return Geography(
        spec.county_code,
        spec.county_name,
        tuple(t_codes),
        tuple(t_names),
        tuple(v_codes),
        tuple(v_names),
        tuple(v_town),
        tuple(i_codes),
        tuple(i_names),
        tuple(i_town),
    )


# ------------------------------------------------------------------- reference files


def _csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")


def areas_csv(spec: CountySpec) -> bytes:
    """reference/areas.csv: `code,name,level,parent_code`."""
    g = build_geography(spec)
    rows = [(g.county_code, g.county_name, "county", "")]
    rows += [
        (c, n, "township", g.county_code)
        for c, n in zip(g.township_codes, g.township_names, strict=True)
    ]
    rows += [
        (c, n, "village", g.township_codes[t])
        for c, n, t in zip(g.village_codes, g.village_names, g.village_township, strict=True)
    ]
    return _csv_bytes(pd.DataFrame(rows, columns=["code", "name", "level", "parent_code"]))


def institutions_csv(spec: CountySpec) -> bytes:
    """reference/institutions.csv: `code,name,township_code`."""
    g = build_geography(spec)
    rows = [
        (c, n, g.township_codes[t])
        for c, n, t in zip(
            g.institution_codes, g.institution_names, g.institution_township, strict=True
        )
    ]
    return _csv_bytes(pd.DataFrame(rows, columns=["code", "name", "township_code"]))


COUNTY_TARGETS: Final[tuple[tuple[str, str, float, float | None], ...]] = (
    ("policy_compliance_rate", ">=", 87, None),
    ("multi_child_rate", "<=", 1.0, None),
    ("fee_collection_rate", ">=", 70, None),
    ("fee_arrears_collection_rate", ">=", 40, None),
    ("three_checks_rate", ">=", 95, None),
    ("three_checks_rate_2plus", ">=", 96, None),
    ("sex_ratio_at_birth", "between", 103, 107),
    ("contraceptive_prevalence", ">=", 85, None),
    ("long_acting_rate", ">=", 70, None),
    ("data_accuracy_rate", ">=", 99, None),
    ("change_timeliness_rate", ">=", 99, None),
    ("reporting_rate", ">=", 100, None),
    ("reporting_rate_on_time", ">=", 95, None),
    ("birth_underreport_rate", "<=", 1, None),
    ("migrant_certificate_rate", ">=", 90, None),
    ("migrant_file_rate", ">=", 90, None),
    ("migrant_verified_rate", ">=", 90, None),
    ("migrant_notified_rate", ">=", 90, None),
)
_EXAM_RATE: Final = 0.12  # monthly probability for an eligible woman (see _Sim.run)
SEX_RATIO: Final = 106  # boys per 100 girls


def prepregnancy_task(spec: CountySpec) -> int:
    """A township's annual 孕前优生 task (about what its couples do in a year)."""
    return max(1, round(spec.villages_per_township * spec.women_per_village * 0.12))


def targets_csv(spec: CountySpec) -> bytes:
    """reference/targets.csv: county targets of indicators.md, township exam tasks and one
    township override (the second township's pastoral contraceptive target)."""
    g = build_geography(spec)

    def num(x: float | None) -> str:
        return "" if x is None else (f"{x:g}" if x != int(x) or x >= 10 else f"{x:.1f}")

    rows = [
        (spec.year, g.county_code, ind, op, num(t), num(hi)) for ind, op, t, hi in COUNTY_TARGETS
    ]
    rows += [
        (spec.year, c, "prepregnancy_exams", ">=", str(prepregnancy_task(spec)), "")
        for c in g.township_codes
    ]
    rows.append(
        (
            spec.year,
            g.township_codes[min(1, len(g.township_codes) - 1)],
            "contraceptive_prevalence",
            ">=",
            "80",
            "",
        )
    )
    if spec.faults:
        rows += [tuple(r[:6]) for r in _bad_target_rows(spec)]
    frame = pd.DataFrame(
        rows, columns=["year", "area_code", "indicator", "op", "target", "target_hi"]
    )
    return _csv_bytes(frame)


def _bad_target_rows(spec: CountySpec) -> list[tuple[Any, ...]]:
    """Planted bad rows of targets.csv: (year, area_code, indicator, op, target, target_hi,
    what is wrong). Each is a `target_row_invalid` issue and sets no target."""
    g = build_geography(spec)
    return [
        (spec.year, g.county_code, "births", "=>", "100", "", "op"),
        (spec.year, g.township_codes[0], "migrant_file_rate", ">=", "九十", "", "target"),
        ("二〇二六", g.county_code, "data_accuracy_rate", ">=", "99", "", "year"),
        (spec.year, g.county_code, "birth_rate", ">=", "1", "", "indicator"),
    ]


def target_faults_key(spec: CountySpec) -> pd.DataFrame:
    """Where the planted bad rows sit in targets.csv (row 1 = first row under the header)."""
    if not spec.faults:
        return pd.DataFrame(columns=["row_number", "indicator", "check", "rule", "severity"])
    first = len(COUNTY_TARGETS) + len(build_geography(spec).township_codes) + 2
    bad = _bad_target_rows(spec)
    return pd.DataFrame(
        {
            "row_number": pd.array(range(first, first + len(bad)), dtype="Int64"),
            "indicator": pd.array([r[2] for r in bad], dtype="string"),
            "check": pd.array([r[6] for r in bad], dtype="string"),
            "rule": pd.array(["target_row_invalid"] * len(bad), dtype="string"),
            "severity": pd.array(["error"] * len(bad), dtype="string"),
        }
    )


def reference_files(spec: CountySpec) -> dict[str, bytes]:
    """The reference folder: areas.csv, institutions.csv, targets.csv (UTF-8, LF)."""
    return {
        "areas.csv": areas_csv(spec),
        "institutions.csv": institutions_csv(spec),
        "targets.csv": targets_csv(spec),
    }
