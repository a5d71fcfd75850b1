"""The synthetic province: deterministic, its counties distinct, its area tree sound, no
person's ID number in two counties, and one county exactly the county generator's.

Files are read back with the small reader of tests/synthetic/test_synthetic.py (csv and
python-calamine), not with the pipeline's readers.
"""

from __future__ import annotations

import io
import re
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from flows.cli import main
from synthetic.county import generate_county
from synthetic.population import _Ids
from synthetic.province import (
    MAX_COUNTIES,
    PROVINCE,
    PROVINCE_TARGETS,
    GeneratedProvince,
    county_places,
    county_seed,
    generate_province,
)
from synthetic.spec import CountySpec, upgrade_id15
from tests.synthetic.test_synthetic import _grid, _valid_id

TINY = {"townships": 2, "villages_per_township": 2, "women_per_village": 25, "last_month": 5}
ID_RE = re.compile(r"^(?:\d{17}[\dX]|\d{15})$")


@pytest.fixture(scope="module")
def province() -> GeneratedProvince:
    return generate_province(3, 5, **TINY)


def _csv(data: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)


def _ids_in(files: list[tuple[str, bytes]]) -> set[str]:
    """Every valid ID number in the cells of these files, as 18 characters."""
    found: set[str] = set()
    for path, data in files:
        if not path.endswith((".csv", ".xlsx")) or path.rsplit("/", 1)[-1].startswith("~$"):
            continue
        grid, _ = _grid(path, data)
        for cell in (c for r in grid for c in r):
            text = unicodedata.normalize("NFKC", str(cell)).strip().lstrip("'").upper()
            if ID_RE.match(text) and _valid_id(text):
                found.add(upgrade_id15(text) if len(text) == 15 else text)
    return found


def test_same_arguments_same_province_other_seed_other_bytes(
    province: GeneratedProvince,
) -> None:
    again = generate_province(3, 5, **TINY)
    assert [(f.path, f.data, f.arrived_at) for f in again.files] == [
        (f.path, f.data, f.arrived_at) for f in province.files
    ]
    assert again.reference == province.reference
    for a, b in zip(again.counties, province.counties, strict=True):
        pd.testing.assert_frame_equal(a.answer_key.births, b.answer_key.births)
    other = generate_province(3, 6, **TINY)
    assert other.reference["areas.csv"] == province.reference["areas.csv"]
    assert [f.data for f in other.files] != [f.data for f in province.files]


def test_one_county_is_the_county_generator_byte_for_byte() -> None:
    one = generate_province(1, 5, **TINY)
    county = generate_county(CountySpec(seed=5, **TINY))
    assert [(f.path, f.data, f.arrived_at) for f in one.files] == [
        (f.path, f.data, f.arrived_at) for f in county.files
    ]
    assert one.reference == county.reference
    assert len(one.counties) == 1
    pd.testing.assert_frame_equal(one.counties[0].answer_key.uploads, county.answer_key.uploads)
    # and the first county of a larger province is that county too
    first = generate_province(2, 5, **TINY).counties[0]
    assert [f.data for f in first.files] == [f.data for f in county.files]


def test_counties_have_distinct_codes_seeds_names_and_paths(province: GeneratedProvince) -> None:
    specs = [c.spec for c in province.counties]
    codes = [s.county_code for s in specs]
    assert codes[0] == "654226" and len(set(codes)) == 3
    assert all(c.startswith("6542") for c in codes)
    assert len({s.seed for s in specs}) == 3 and specs[0].seed == 5
    assert len({s.county_name for s in specs}) == 3
    areas = _csv(province.reference["areas.csv"])
    assert areas["code"].is_unique
    below = areas.loc[areas["level"].isin(["township", "village"])]
    assert below["name"].is_unique, "two counties share a township or village name"
    paths = [f.path for f in province.files]
    assert len(paths) == len(set(paths))
    assert sum(len(c.files) for c in province.counties) == len(paths)
    for folder, county in zip(province.folders, province.counties, strict=True):
        assert folder == county.spec.county_code
        mine = {f.path for f in province.files if f.path.startswith(folder + "/")}
        assert mine == {f"{folder}/{f.path}" for f in county.files}
    # upload names alone (all that landing reads) are never shared between counties
    names = [{f.name for f in county.files} for county in province.counties]
    assert not (names[0] & names[1]) and not (names[0] & names[2]) and not (names[1] & names[2])


def test_the_area_tree_is_a_province_over_prefectures_over_counties(
    province: GeneratedProvince,
) -> None:
    areas = _csv(province.reference["areas.csv"])
    assert list(areas.columns) == ["code", "name", "level", "parent_code"]
    root = areas.loc[areas["parent_code"] == ""]
    assert list(zip(root["code"], root["name"], root["level"], strict=True)) == [
        (*PROVINCE, "province")
    ]
    width = {"province": 2, "prefecture": 4, "county": 6, "township": 9, "village": 12}
    assert (areas["code"].str.len() == areas["level"].map(width)).all()
    parent_level = areas.set_index("code")["level"]
    child = areas.loc[areas["parent_code"] != ""]
    assert child["parent_code"].isin(areas["code"]).all()
    assert all(c.startswith(p) for c, p in zip(child["code"], child["parent_code"], strict=True))
    order = list(width)
    steps = {
        (parent_level[p], lvl) for p, lvl in zip(child["parent_code"], child["level"], strict=True)
    }
    assert steps == {(order[i], order[i + 1]) for i in range(4)}
    counties = areas.loc[areas["level"] == "county"]
    assert set(counties["parent_code"]) == {"6542"}
    assert province.prefecture_of == ("6542",) * 3
    # every county's own areas are there, its county row under the prefecture
    for county in province.counties:
        own = _csv(county.reference["areas.csv"])
        mine = areas.loc[areas["code"].isin(own["code"])].reset_index(drop=True)
        own.loc[own["level"] == "county", "parent_code"] = "6542"
        pd.testing.assert_frame_equal(mine, own)


def test_institutions_and_targets_are_the_counties_and_the_province(
    province: GeneratedProvince,
) -> None:
    inst = _csv(province.reference["institutions.csv"])
    own = [_csv(c.reference["institutions.csv"]) for c in province.counties]
    pd.testing.assert_frame_equal(inst, pd.concat(own, ignore_index=True))
    assert inst["code"].is_unique
    targets = _csv(province.reference["targets.csv"])
    counties = [_csv(c.reference["targets.csv"]) for c in province.counties]
    assert len(targets) == sum(len(t) for t in counties) + len(PROVINCE_TARGETS)
    top = targets.loc[targets["area_code"] == PROVINCE[0]]
    assert list(top["indicator"]) == [t[0] for t in PROVINCE_TARGETS]
    # the planted bad rows, renumbered: row n (1 = under the header) is the planted row
    faults = province.target_faults
    assert len(faults) == sum(len(c.answer_key.target_faults) for c in province.counties) > 0
    for fault in faults.itertuples():
        written = targets.iloc[int(fault.row_number) - 1]
        assert written["indicator"] == fault.indicator
        assert written["area_code"].startswith(str(fault.county_code))


def test_no_id_number_is_in_two_counties(province: GeneratedProvince) -> None:
    ids = [_ids_in([(f.path, f.data) for f in county.files]) for county in province.counties]
    assert all(len(found) > 100 for found in ids), [len(found) for found in ids]
    for i in range(len(ids)):
        for j in range(i + 1, len(ids)):
            both = ids[i] & ids[j]
            assert not both, f"counties {i} and {j} share {sorted(both)[:5]}"


def test_no_upload_repeats_the_bytes_of_another_countys(province: GeneratedProvince) -> None:
    # a header-only CSV of an empty month would, in the same style (uploads.md takes
    # same bytes for one upload): it carries its title line instead
    contents = [{f.data for f in county.files} for county in province.counties]
    for i in range(len(contents)):
        for j in range(i + 1, len(contents)):
            assert not contents[i] & contents[j], f"counties {i} and {j} share uploads"


def test_two_default_counties_made_apart_would_share_an_upload_made_together_not() -> None:
    # demo's default county size and seed: made apart, the two counties hold one header-only
    # CSV with the same bytes (an empty month, the same clerk habits); the province's
    # `Taken` gives the second its title line, so landing does not take it for a duplicate
    apart = [
        generate_county(
            CountySpec(seed=county_seed(7, k), county_code=code, county_name=name, names_from=k)
        )
        for k, (_, code, name) in enumerate(county_places(2))
    ]
    assert {f.data for f in apart[0].files} & {f.data for f in apart[1].files}
    together = generate_province(2, 7)
    assert [f.data for f in together.counties[0].files] == [f.data for f in apart[0].files]
    contents = [{f.data for f in county.files} for county in together.counties]
    assert not contents[0] & contents[1]
    assert len(together.counties[1].files) == len(apart[1].files)


def test_a_shared_registry_keeps_ids_apart_that_would_collide() -> None:
    # Two counties drawing with the same generator state give the same numbers; the
    # province's registry (a shared set) makes the second draw others.
    region = np.array(["654201"] * 200, dtype=object)
    birth = np.array(["1990-05-17"] * 200, dtype="datetime64[D]")
    female = np.ones(200, bool)

    def draw(issued: set[str] | None) -> set[str]:
        return set(_Ids(np.random.default_rng([1, 2]), issued).make(region, birth, female))

    assert draw(None) == draw(None)  # apart, they collide
    shared: set[str] = set()
    first, second = draw(shared), draw(shared)
    assert len(first) == len(second) == 200 and not first & second
    assert shared == first | second


def test_the_province_has_a_limit_and_keeps_its_own_fields() -> None:
    with pytest.raises(ValueError, match="1 to"):
        generate_province(MAX_COUNTIES + 1, 5, **TINY)
    with pytest.raises(TypeError, match="county_code"):
        generate_province(2, 5, county_code="654201", **TINY)


def test_demo_writes_a_province_and_one_county_as_before(tmp_path: Path) -> None:
    args = ["--seed", "5", "--townships", "2", "--villages-per-township", "2", "--months", "4"]
    assert main(["demo", "--out", str(tmp_path / "one"), *args]) == 0
    county = generate_county(CountySpec(seed=5, townships=2, villages_per_township=2, last_month=4))
    written = {
        p.relative_to(tmp_path / "one" / "inbox").as_posix(): p.read_bytes()
        for p in (tmp_path / "one" / "inbox").rglob("*")
        if p.is_file()
    }
    assert written == {f.path: f.data for f in county.files}
    assert (tmp_path / "one" / "reference" / "areas.csv").read_bytes() == county.reference[
        "areas.csv"
    ]
    assert main(["demo", "--out", str(tmp_path / "two"), *args, "--counties", "2"]) == 0
    folders = {p.name for p in (tmp_path / "two" / "inbox").iterdir()}
    assert folders == {"654226", "654201"}
    areas = _csv((tmp_path / "two" / "reference" / "areas.csv").read_bytes())
    assert set(areas.loc[areas["level"].isin(["province", "prefecture"]), "code"]) == {"65", "6542"}
    assert main(["demo", "--out", str(tmp_path / "bad"), "--counties", "0"]) == 2
