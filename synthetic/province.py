"""A seeded synthetic province: several generated counties under their prefectures.

`generate_province(counties, seed, **overrides)` builds `counties` counties with
`county.generate_county`, each from its own `CountySpec` (the overrides apply to every
county: townships, villages_per_township, women_per_village, last_month, faults, ...),
and puts them into one inbox and one reference folder. Pure like the rest of
synthetic/: bytes and frames, nothing on disk.

- Codes: real county codes of Xinjiang (新疆维吾尔自治区 65), 塔城地区 6542 first with
  654226 和布克赛尔蒙古自治县 as the first county, then 阿勒泰地区 6543 and 伊犁哈萨克自治州
  6540 (`PREFECTURES`). Area codes are as long as their level: province 2 digits,
  prefecture 4, county 6, township 9, village 12.
- Seeds and names: the first county has `seed` itself; county k a seed derived from
  (`seed`, k). County k starts at `names_from = k` in the name lists, so no two
  counties share a township or village name.
- What counties must not share (`spec.Taken`, passed to `generate_county`): no
  person's ID number is issued in two counties, and no upload repeats the bytes of
  another county's (a header-only CSV of an empty month would: it gets its title
  line, as a repeat within a county does; uploads.md takes same bytes for one upload).
- Inbox: with more than one county, each county's files are below a folder named by its
  code (`654226/2026-01/village/...`); upload names (the last path component, which is
  all landing reads) are unique anyway, as they hold the unit's code.
- Reference: areas.csv holds the province (level `province`, no parent), the
  prefectures (`prefecture`, parent the province), and every county's rows with the
  county's parent_code = its prefecture; institutions.csv and targets.csv are the
  counties' files one after the other, and targets.csv ends with province targets
  (`PROVINCE_TARGETS`; counties keep their own).

`generate_province(1, seed, ...)` is `generate_county(CountySpec(seed=seed, ...))`:
the same files, paths and reference bytes (a county alone has no province rows).
Each county's answer key is its own, with paths relative to its folder and target
row numbers relative to its own targets.csv; `GeneratedProvince.target_faults` gives
the row numbers in the province's targets.csv.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd

from synthetic.county import generate_county
from synthetic.spec import CountySpec, GeneratedCounty, GeneratedFile, Taken

PROVINCE: Final = ("65", "新疆维吾尔自治区")
# (prefecture code, name, its counties (code, name)), in the order counties are used.
PREFECTURES: Final[tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...]] = (
    (
        "6542",
        "塔城地区",
        (
            ("654226", "和布克赛尔蒙古自治县"),
            ("654201", "塔城市"),
            ("654202", "乌苏市"),
            ("654203", "沙湾市"),
            ("654221", "额敏县"),
            ("654224", "托里县"),
            ("654225", "裕民县"),
        ),
    ),
    (
        "6543",
        "阿勒泰地区",
        (
            ("654301", "阿勒泰市"),
            ("654321", "布尔津县"),
            ("654322", "富蕴县"),
            ("654323", "福海县"),
            ("654324", "哈巴河县"),
            ("654325", "青河县"),
            ("654326", "吉木乃县"),
        ),
    ),
    (
        "6540",
        "伊犁哈萨克自治州",
        (
            ("654002", "伊宁市"),
            ("654003", "奎屯市"),
            ("654004", "霍尔果斯市"),
            ("654021", "伊宁县"),
            ("654022", "察布查尔锡伯自治县"),
            ("654023", "霍城县"),
            ("654024", "巩留县"),
            ("654025", "新源县"),
            ("654026", "昭苏县"),
            ("654027", "特克斯县"),
            ("654028", "尼勒克县"),
        ),
    ),
)
MAX_COUNTIES: Final = sum(len(p[2]) for p in PREFECTURES)
# Targets the province sets for itself (and, by inheritance, for its prefectures):
# (indicator, op, target, target_hi) as written in targets.csv.
PROVINCE_TARGETS: Final[tuple[tuple[str, str, str, str], ...]] = (
    ("policy_compliance_rate", ">=", "90", ""),
    ("sex_ratio_at_birth", "between", "103", "107"),
)
_FIXED: Final = frozenset({"seed", "county_code", "county_name", "names_from"})


@dataclass(frozen=True, eq=False)
class GeneratedProvince:
    """The province's inbox files and reference folder, and its counties.

    `counties[k]` is county k as `generate_county` made it (its files, reference and
    answer key, paths relative to `folders[k]`); `prefecture_of[k]` its prefecture's
    code. `target_faults`: the counties' planted bad targets.csv rows, numbered as
    in the province's targets.csv, with the county's code in `county_code`.
    """

    counties: tuple[GeneratedCounty, ...]
    folders: tuple[str, ...]
    prefecture_of: tuple[str, ...]
    files: tuple[GeneratedFile, ...]
    reference: dict[str, bytes]
    target_faults: pd.DataFrame


def county_places(counties: int) -> list[tuple[str, str, str]]:
    """(prefecture code, county code, county name) of the first `counties` counties."""
    if not 1 <= counties <= MAX_COUNTIES:
        raise ValueError(f"a province has 1 to {MAX_COUNTIES} generated counties, not {counties}")
    places = [(p, c, n) for p, _, members in PREFECTURES for c, n in members]
    return places[:counties]


def county_seed(seed: int, k: int) -> int:
    """County k's seed: `seed` for the first county, else drawn from (seed, k)."""
    if k == 0:
        return seed
    return int(np.random.SeedSequence([seed, k]).generate_state(1, np.uint32)[0])


def _read(data: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)


def _csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")


def _areas(counties: list[GeneratedCounty], prefecture_of: list[str]) -> bytes:
    """areas.csv: the province, the prefectures used, then each county's areas."""
    used = dict.fromkeys(prefecture_of)
    names = {code: name for code, name, _ in PREFECTURES}
    top = [(PROVINCE[0], PROVINCE[1], "province", "")]
    top += [(code, names[code], "prefecture", PROVINCE[0]) for code in used]
    parts = [pd.DataFrame(top, columns=["code", "name", "level", "parent_code"])]
    for county, prefecture in zip(counties, prefecture_of, strict=True):
        areas = _read(county.reference["areas.csv"])
        areas.loc[areas["code"] == county.spec.county_code, "parent_code"] = prefecture
        parts.append(areas)
    return _csv_bytes(pd.concat(parts, ignore_index=True))


def _targets(counties: list[GeneratedCounty]) -> tuple[bytes, pd.DataFrame]:
    """targets.csv (the counties' rows, then the province's) and the planted bad rows
    renumbered for it."""
    parts, faults, offset = [], [], 0
    for county in counties:
        rows = _read(county.reference["targets.csv"])
        parts.append(rows)
        bad = county.answer_key.target_faults.copy()
        bad["row_number"] = (bad["row_number"] + offset).astype("Int64")
        faults.append(bad.assign(county_code=county.spec.county_code))
        offset += len(rows)
    year = str(counties[0].spec.year)
    province = pd.DataFrame(
        [(year, PROVINCE[0], *t) for t in PROVINCE_TARGETS], columns=parts[0].columns
    )
    targets = pd.concat([*parts, province], ignore_index=True)
    key = pd.concat(faults, ignore_index=True).astype({"county_code": "string"})
    return _csv_bytes(targets), key


def generate_province(counties: int, seed: int, **county_spec_overrides: Any) -> GeneratedProvince:
    """`counties` generated counties as one province (deterministic in the arguments).

    `county_spec_overrides` are CountySpec fields every county shares (not seed,
    county_code, county_name nor names_from, which the province sets)."""
    fixed = _FIXED & county_spec_overrides.keys()
    if fixed:
        raise TypeError(f"the province sets {sorted(fixed)} of each county")
    places = county_places(counties)
    taken = Taken()
    generated = [
        generate_county(
            CountySpec(
                seed=county_seed(seed, k),
                county_code=code,
                county_name=name,
                names_from=k,
                **county_spec_overrides,
            ),
            taken=taken,
        )
        for k, (_, code, name) in enumerate(places)
    ]
    prefecture_of = [p for p, _, _ in places]
    if counties == 1:
        only = generated[0]
        return GeneratedProvince(
            (only,),
            ("",),
            (prefecture_of[0],),
            only.files,
            dict(only.reference),
            only.answer_key.target_faults.assign(county_code=only.spec.county_code).astype(
                {"county_code": "string"}
            ),
        )
    folders = [c.spec.county_code for c in generated]
    files = [
        GeneratedFile(f"{folder}/{f.path}", f.data, f.arrived_at)
        for folder, county in zip(folders, generated, strict=True)
        for f in county.files
    ]
    files.sort(key=lambda g: (g.arrived_at, g.path))
    institutions = pd.concat(
        [_read(c.reference["institutions.csv"]) for c in generated], ignore_index=True
    )
    targets, target_faults = _targets(generated)
    reference = {
        "areas.csv": _areas(generated, prefecture_of),
        "institutions.csv": _csv_bytes(institutions),
        "targets.csv": targets,
    }
    return GeneratedProvince(
        tuple(generated),
        tuple(folders),
        tuple(prefecture_of),
        tuple(files),
        reference,
        target_faults,
    )
