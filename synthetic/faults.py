"""Planted faults: bad rows, bad files, duplicates and corrections, each recorded for the answer key."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd

from synthetic.files import _Files
from synthetic.rendering import _lock_file_bytes
from synthetic.simulation import _Sim
from synthetic.spec import CHECK_CHARS, _ym

# ------------------------------------------------------------------------- assembly


def _apply_row_faults(records: dict[str, pd.DataFrame]) -> None:
    """Damage the rows the plan marks (bad check digit, scientific notation, duplicates)."""
    W = records["village_women"]
    tag = W["_tag"].to_numpy()
    for i in np.flatnonzero(tag == "bad_check_digit"):
        s = W.at[W.index[i], "id_number"]
        wrong = CHECK_CHARS[(CHECK_CHARS.index(s[-1]) + 3) % 11]
        W.at[W.index[i], "id_number"] = s[:-1] + wrong
    for i in np.flatnonzero(tag == "id_scientific"):
        s = W.at[W.index[i], "id_number"]
        W.at[W.index[i], "id_number"] = f"{s[0]}.{s[1:6]}E+17"
    dup = W[tag == "duplicate_in_file"].copy()
    dup["_order"] = 1e12
    W.loc[W["_tag"] == "duplicate_in_file", "_tag"] = ""
    records["village_women"] = pd.concat([W, dup], ignore_index=True)


def _plant_files(sim: _Sim, files: _Files, records: dict[str, pd.DataFrame]) -> None:
    """File-level faults: forced formats, the correction, the missing upload, late files,
    the bad-name copy and the quarantined v2."""
    F, L, nv = sim.F, sim.L, sim.nv

    def pv(i: int) -> int:
        return i % max(1, nv - 1)

    W = records["village_women"]
    # The scientific-notation row needs a CSV saved by Excel.
    for i in np.flatnonzero(W["_tag"].to_numpy() == "id_scientific"):
        f = files.rows[int(W["_file"].iat[i])]
        f.update(
            fmt="csv",
            enc="gbk",
            eol="\r\n",
            id_quote=False,
            legacy=False,
            date_fmt="slash",
            money_fmt="plain",
            codes_as_numbers=False,
            name=f["name"].rsplit(".", 1)[0] + ".csv",
        )
        f["path"] = f["path"].rsplit("/", 1)[0] + "/" + f["name"]
    # Missing upload: the village's three files of that month.
    assert sim.missing is not None
    mv, mm = sim.missing
    for tpl in ("village_births", "village_women", "village_fees"):
        f = files.get(tpl, mv, mm)
        f.update(status="missing", fault="missing_upload")
    for name, R in records.items():
        if name.startswith("village_"):
            bad = R["_file"].isin(
                [
                    files.index[(t, mv, mm)]
                    for t in ("village_births", "village_women", "village_fees")
                ]
            )
            records[name] = R[~bad.to_numpy()]
    # Late: the whole village month.
    late_v = pv(5)
    for tpl in ("village_births", "village_women", "village_fees"):
        f = files.get(tpl, late_v, F)
        f["arrived_at"] = f["arrived_at"].replace(day=12)
        f["planted_late"] = True
    # The first village writes legacy 15-digit numbers for its older women.
    for m in range(F, L + 1):
        for tpl in ("village_births", "village_women", "village_fees"):
            files.get(tpl, 0, m)["legacy"] = True
    # Correction: original (one row wrong) then `_更正`.
    W = records["village_women"]
    corr = np.flatnonzero(W["_tag"].to_numpy() == "correction")
    for i in corr:
        fi = int(W["_file"].iat[i])
        orig = files.rows[fi]
        orig["arrived_at"] = orig["arrived_at"].replace(day=2)
        stem, ext = orig["name"].rsplit(".", 1)
        new_name = f"{stem}_更正.{ext}"
        nf = files.add(
            orig,
            name=new_name,
            path=orig["path"].rsplit("/", 1)[0] + "/" + new_name,
            arrived_at=orig["arrived_at"].replace(day=4, hour=9),
            fault="correction",
        )
        orig["status"] = "superseded"
        copy = W[W["_file"] == fi].copy()
        copy["_file"] = nf
        W.loc[W["_tag"] == "correction", "_tag"] = ""
        W.loc[W.index[i], "children"] = int(W["children"].iat[i]) + 1
        records["village_women"] = pd.concat([W, copy], ignore_index=True)
        W = records["village_women"]
    # Lock file beside an XLSX roster (the roster is forced to XLSX).
    f = files.get("village_women", pv(6), F + 2)
    if f["fmt"] != "xlsx":
        f.update(
            fmt="xlsx",
            title=True,
            date_fmt="excel",
            money_fmt="number",
            codes_as_numbers=False,
            id_quote=False,
            name=f["name"].rsplit(".", 1)[0] + ".xlsx",
        )
        f["path"] = f["path"].rsplit("/", 1)[0] + "/" + f["name"]
    files.add(
        f,
        name="~$" + f["name"],
        path=f["path"].rsplit("/", 1)[0] + "/~$" + f["name"],
        arrived_at=f["arrived_at"] + timedelta(seconds=5),
        fault="lock_file",
        status="quarantined",
        reason_code="lock_file",
        # Excel writes the PC's user: the same in every county would make the lock files
        # of a province's counties one upload (same bytes), so later counties' PCs are
        # named after the village.
        raw=_lock_file_bytes("Administrator" if sim.spec.names_from == 0 else f["unit_name"]),
    )
    # Unrecognised name: the same roster saved once more in another format and name.
    f = files.get("village_women", pv(7), F + 2)
    y, m0 = divmod(F + 2, 12)
    other = "csv" if f["fmt"] == "xlsx" else "xlsx"
    bad_name = f"{f['unit_name']}{y}年{m0 + 1}月花名册.{other}"
    nf = files.add(
        f,
        name=bad_name,
        path=f["path"].rsplit("/", 1)[0] + "/" + bad_name,
        fmt=other,
        enc="utf-8-sig",
        title=True,
        date_fmt="iso",
        money_fmt="plain",
        codes_as_numbers=False,
        arrived_at=f["arrived_at"] + timedelta(hours=1),
        fault="unrecognised_name",
        status="quarantined",
        reason_code="unrecognised_name",
    )
    W = records["village_women"]
    src = W[W["_file"] == files.index[("village_women", pv(7), F + 2)]].copy()
    src["_file"] = nf
    src["_tag"] = ""
    records["village_women"] = pd.concat([W, src], ignore_index=True)
    # A v2 without a required column: quarantined, the original stays current.
    inst = 1 % len(sim.geo.institution_codes)
    f = files.get("hospital_checkups", inst, F + 2)
    stem, ext = f["name"].rsplit(".", 1)
    name = f"{stem}_v2.{ext}"
    nf = files.add(
        f,
        name=name,
        path=f["path"].rsplit("/", 1)[0] + "/" + name,
        arrived_at=f["arrived_at"] + timedelta(days=3),
        drop=("check_date",),
        fault="missing_required_column",
        status="quarantined",
        reason_code="missing_required_columns",
    )
    C = records["hospital_checkups"]
    src = C[C["_file"] == files.index[("hospital_checkups", inst, F + 2)]].copy()
    src["_file"] = nf
    records["hospital_checkups"] = pd.concat([C, src], ignore_index=True)
    # Byte copies (duplicates) are added after rendering: see _duplicates.


def _duplicates(sim: _Sim, files: _Files) -> None:
    F, nv = sim.F, sim.nv
    v = 8 % max(1, nv - 1)
    f = files.get("village_births", v, F + 1)
    fi = files.index[("village_births", v, F + 1)]
    files.add(
        f,
        path=f"{_ym(F + 1)}/重发/{f['name']}",
        arrived_at=f["arrived_at"] + timedelta(days=1),
        fault="duplicate_upload",
        status="duplicate",
        copy_of=fi,
        note="same bytes, another folder",
    )
    fi = files.index[("hospital_births", 0, F + 2)]
    f = files.rows[fi]
    stem, ext = f["name"].rsplit(".", 1)
    name = f"{stem}(1).{ext}"
    files.add(
        f,
        name=name,
        path=f["path"].rsplit("/", 1)[0] + "/" + name,
        arrived_at=f["arrived_at"] + timedelta(hours=2),
        fault="duplicate_upload",
        status="duplicate",
        copy_of=fi,
        note="same bytes, a browser's (1) copy",
    )
