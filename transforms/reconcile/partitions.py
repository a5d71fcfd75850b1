"""Partitions of a run, and how rows cross them: the one place that says so.

A run reconciles, checks and measures per **partition**: a township (乡镇), named
by the first nine digits of an area code (GB/T 2260 and its extension: 65
province, 6542 prefecture, 654226 county, 654226100 township, 654226100201
village). A partition's work needs only its own rows, so a county of twenty
townships, or a province of two thousand, runs as independent pieces (in parallel
on Dask), and a process holds one township's rows at a time. A township's
figures do not depend on which other townships share the run, and a correction in
one township recomputes that township alone.

Every staged row gets two partitions:

1. **Reconciliation: by person.** Every row about a person goes to the person's
   *home* township, so all of her records meet in one place: a birth seen by a
   hospital or police station anywhere matches the village's report of it, a
   roster woman's deaths, moves, procedures and checks find her roster, her
   duplicate listing on another village's roster is resolved with the others.
   Her home is where a village lists her: the township of her roster rows (where she
   lives — 常住, then 流入, then 流出 — then the lowest village code, the rule that
   picks her keeper among several rosters), else of the village that reported a
   birth of hers, else none. A row whose person has no home (no ID, or not on any
   village's list) stays in its uploader's county: a hospital birth of a mother no
   village lists is the hospital county's unreported birth (漏报).
   Which column names the person: `PERSON_COLUMNS` (for a police 出生登记 the
   guardian — the mother — else the registered person).
2. **Checks: by area.** The cross-row checks (expected uploads, ledger and roster
   size, outliers) judge a unit's uploads, so a row goes to the township of the
   area it describes: a hospital row to its `village_code`'s township (else the
   institution's), every other row to its uploader's. The one check that follows a
   person (`roster_children_decreased`, a woman's snapshots month to month) reads
   the rows routed by person.

A row whose two partitions differ is written to both, marked for the work each
does there. What crosses, as a consequence: a woman on rosters of two townships
(or counties) is reconciled, and counted once, in her home township; a village
birth row whose mother ID is invalid (no key) is matched by the mother's name
among the records of its own township only. Rollups sum the partitions' leaf
measures per village and month, then up the area tree (indicators.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd

from transforms.reconcile.all_sources import ReconInputs
from transforms.reconcile.women import RESIDENCE_PRIORITY

PARTITION_DIGITS: Final = 9  # a township
COUNTY_DIGITS: Final = 6
NO_PARTITION: Final = ""  # rows whose unit names no township; their own partition

# The column(s) naming the person a row is about, first non-null wins; none: by area only.
PERSON_COLUMNS: Final[Mapping[str, tuple[str, ...]]] = {
    "village_women": ("id_number_key",),
    "village_births": ("mother_id_key",),
    "village_fees": (),
    "police_hukou": ("guardian_id_key", "id_number_key"),
    "hospital_births": ("mother_id_key",),
    "hospital_procedures": ("id_number_key",),
    "hospital_checkups": ("id_number_key",),
    "hospital_prepregnancy": ("wife_id_key",),
}
# The column naming the area a row describes, for the checks; none: the uploader's.
AREA_COLUMN: Final[Mapping[str, str | None]] = {
    "village_women": None,
    "village_births": None,
    "village_fees": None,
    "police_hukou": None,
    "hospital_births": "village_code",
    "hospital_procedures": "village_code",
    "hospital_checkups": "village_code",
    "hospital_prepregnancy": "village_code",
}


def partition_of(codes: pd.Series) -> pd.Series:
    """The partition (township) of an area or institution code: the first nine digits it
    holds. Institution codes carry letters (`H654226100`): only digits count. A code
    with fewer than nine digits names no township (NO_PARTITION)."""
    # Worked out once per distinct code: a batch of rows holds a few hundred units.
    positions, distinct = pd.factorize(codes.astype("string"))
    digits = pd.Series(distinct, dtype="string").str.replace(r"\D", "", regex=True)
    part = digits.str.slice(0, PARTITION_DIGITS)
    part = part.where(part.str.len() == PARTITION_DIGITS, NO_PARTITION).fillna(NO_PARTITION)
    known = np.append(part.to_numpy(dtype=object), NO_PARTITION)  # -1 (a null code) → last
    return pd.Series(known[positions], index=codes.index, dtype="string")


def uploader_partitions(units: pd.Series, institutions: pd.DataFrame) -> pd.Series:
    """The uploader's partition per row: an institution's township (institutions.csv),
    else the unit code's own digits."""
    township = institutions.set_index(institutions["code"].astype("string"))["township_code"]
    township = township[~township.index.duplicated()]
    # Worked out once per distinct unit: a batch of rows holds a few hundred uploaders.
    positions, distinct = pd.factorize(units.astype("string"))
    unit = pd.Series(distinct, dtype="string")
    part = partition_of(unit.map(township).astype("string").fillna(unit))
    known = np.append(part.to_numpy(dtype=object), NO_PARTITION)  # -1 (no unit) → last
    return pd.Series(known[positions], index=units.index, dtype="string")


def person_homes(roster: pd.DataFrame, village_births: pd.DataFrame) -> pd.Series:
    """Each person's home partition (index: person key), by the module's rule.

    `roster`: `id_number_key`, `unit`, `residence` of village roster rows;
    `village_births`: `mother_id_key`, `unit` of village birth rows.
    """
    listed = pd.DataFrame(
        {
            "person": roster["id_number_key"].astype("string"),
            "unit": roster["unit"].astype("string"),
            "priority": roster["residence"].map(RESIDENCE_PRIORITY).fillna(9).astype("int64"),
            "source": np.int64(0),
        }
    )
    reported = pd.DataFrame(
        {
            "person": village_births["mother_id_key"].astype("string"),
            "unit": village_births["unit"].astype("string"),
            "priority": np.int64(0),
            "source": np.int64(1),
        }
    )
    people = pd.concat([listed, reported], ignore_index=True).dropna(subset=["person", "unit"])
    people = people.sort_values(["person", "source", "priority", "unit"], kind="stable")
    first = people.drop_duplicates("person")
    # An object index: `route` looks a batch's persons up in it, and pandas keeps the hash
    # table of an object index between lookups (not that of an Arrow string index).
    return pd.Series(
        partition_of(first["unit"]).to_numpy(dtype=object),
        index=pd.Index(first["person"].to_numpy(dtype=object), dtype=object),
        dtype="string",
    )


def person_of(template: str, rows: pd.DataFrame) -> pd.Series:
    """The key of the person each row is about (null: none, or a template without persons)."""
    person = pd.Series(pd.NA, index=rows.index, dtype="string")
    for column in PERSON_COLUMNS[template]:
        if column in rows.columns:
            person = person.fillna(rows[column].astype("string"))
    return person


def route(
    template: str, rows: pd.DataFrame, homes: pd.Series, institutions: pd.DataFrame
) -> pd.DataFrame:
    """Per staged row: `recon_part` (its person's home, else the uploader's partition),
    `check_part` (the partition of the area it describes, else the uploader's), and the
    `person` it is about with that person's `home` (null: none), which the split keeps."""
    uploader = uploader_partitions(rows["unit"], institutions)
    person = person_of(template, rows)
    home = home_of(person, homes)
    area_column = AREA_COLUMN[template]
    described = (
        partition_of(rows[area_column]).replace(NO_PARTITION, pd.NA)
        if area_column is not None and area_column in rows.columns
        else pd.Series(pd.NA, index=rows.index, dtype="string")
    )
    return pd.DataFrame(
        {
            "recon_part": home.fillna(uploader).astype("string"),
            "check_part": described.fillna(uploader).astype("string"),
            "person": person,
            "home": home,
        },
        index=rows.index,
    )


def home_of(persons: pd.Series, homes: pd.Series) -> pd.Series:
    """Each person's home partition (null: no person, or one without a home)."""
    index = homes.index if homes.index.dtype == object else pd.Index(homes.index, dtype=object)
    at = index.get_indexer(persons.to_numpy(dtype=object, na_value=None))
    known = np.append(homes.to_numpy(dtype=object, na_value=None), [None])  # -1 → None
    return pd.Series(known[at], index=persons.index, dtype="string")


def areas_of(areas: pd.DataFrame, part: str) -> pd.DataFrame:
    """The reference areas a partition's checks expect uploads from: the township and its
    villages (a code starting with the township's); none for NO_PARTITION."""
    if part == NO_PARTITION:
        return areas.iloc[0:0]
    codes = areas["code"].astype("string")
    mine = codes.str.startswith(part).fillna(False) & (codes.str.len() >= PARTITION_DIGITS)
    return areas.loc[mine.to_numpy(bool)].reset_index(drop=True)


def institutions_of(institutions: pd.DataFrame, part: str) -> pd.DataFrame:
    """The institutions of the partition's township."""
    township = partition_of(institutions["township_code"])
    return institutions.loc[(township == part).to_numpy(bool)].reset_index(drop=True)


def uploads_of(uploads: pd.DataFrame, part: str, institutions: pd.DataFrame) -> pd.DataFrame:
    """The manifest rows whose uploader lies in the partition's township."""
    township = uploader_partitions(uploads["unit"], institutions)
    return uploads.loc[(township == part).to_numpy(bool)].reset_index(drop=True)


@dataclass(frozen=True, eq=False)
class PartitionInputs:
    """One partition's rows: what its reconciliation reads (rows routed by person, error
    rows left out) and what its checks read (rows routed by area, with `excluded`)."""

    part: str
    recon: ReconInputs
    checks: ReconInputs


def task_groups(parts: list[str], by_county: bool) -> list[list[str]]:
    """Partitions grouped into units of scheduled work, order kept: all in one (a run in
    one process), or a county's townships together (a cluster spreads the counties)."""
    if not by_county:
        return [list(parts)] if parts else []
    groups: dict[str, list[str]] = {}
    for part in parts:
        groups.setdefault(part[:COUNTY_DIGITS], []).append(part)
    return list(groups.values())
