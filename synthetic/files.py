"""Which upload files exist, when they arrive and in what style (encoding, format, headers, dates)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Final

import numpy as np

from synthetic.simulation import _Sim
from synthetic.spec import _next_month, _ym, _yyyymm
from transforms.templates import load_contract

# ------------------------------------------------------------------------------ styles

_ENCODINGS: Final = ("utf-8", "utf-8-sig", "gbk", "gb18030")
_CSV_DATES: Final = ("iso", "slash", "dot", "compact", "zh")
_XLSX_DATES: Final = ("excel", "excel", "serial", "iso", "zh", "slash")
_HEADER_STYLES: Final = ("header", "header", "alias", "star", "space", "english", "header")


def _cycle(rng: np.random.Generator, options: Sequence[Any], n: int) -> list[Any]:
    """Every option appears once n >= len(options); the order is shuffled."""
    perm = rng.permutation(n)
    return [options[int(p) % len(options)] for p in perm]


def _formats(rng: np.random.Generator, n: int, xlsx_share: float) -> list[str]:
    """`xlsx` for about `xlsx_share` of n units (at least one of two or more), else `csv`."""
    n_x = round(n * xlsx_share)
    if n >= 2 and xlsx_share > 0:
        n_x = max(1, n_x)
    return _cycle(rng, ["xlsx"] * n_x + ["csv"] * (n - n_x), n)


def _unit_styles(
    rng: np.random.Generator, fmt: list[str], sources: list[str]
) -> list[dict[str, Any]]:
    """One clerk's habits per unit; every option of every habit is used once there are
    enough units (the options are dealt out, not drawn). Habits that only show in village
    templates (money, ticks, legacy IDs) are dealt among the villages."""
    n = len(fmt)
    csv_units = [i for i in range(n) if fmt[i] == "csv"]
    xl_units = [i for i in range(n) if fmt[i] == "xlsx"]
    villages = [i for i in range(n) if sources[i] == "village"]
    styles: list[dict[str, Any]] = [
        {"fmt": f, "money_fmt": "plain", "yesno_fmt": "zh", "legacy": False} for f in fmt
    ]
    by_format: tuple[tuple[list[int], str, Sequence[Any]], ...] = (
        (villages, "money_fmt", ("plain", "comma", "yuan", "plain")),
        (villages, "yesno_fmt", ("zh", "yn", "tick", "num")),
        (villages, "legacy", (True, True, False)),
        (csv_units, "enc", _ENCODINGS),
        (csv_units, "date_fmt", _CSV_DATES),
        (csv_units, "id_quote", (False, False, True)),
        (csv_units, "title", (False, False, True)),
        (xl_units, "date_fmt", _XLSX_DATES),
        (xl_units, "title", (True, True, True, False)),
        (xl_units, "codes_as_numbers", (False, True)),
    )
    for units, key, options in by_format:
        for u, val in zip(units, _cycle(rng, options, len(units)), strict=True):
            styles[u][key] = val
    every: tuple[tuple[str, Sequence[Any]], ...] = (
        ("sex_fmt", ("zh", "zh", "num", "mf")),
        ("header", _HEADER_STYLES),
        ("enum_alias", (False, False, True)),
        ("seq_col", (False, True, False)),
        ("fullwidth", (False, False, False, True)),
        ("lower_x", (True, False)),
        ("omit", (False, False, False, True)),
        ("eol", ("\r\n", "\n")),
    )
    for key, options in every:
        for u, val in enumerate(_cycle(rng, options, n)):
            styles[u][key] = val
    for s in styles:
        s.setdefault("enc", "utf-8")
        s.setdefault("id_quote", False)
        s.setdefault("title", False)
        s.setdefault("codes_as_numbers", False)
        if s["fmt"] == "xlsx" and s["money_fmt"] == "plain":
            s["money_fmt"] = "number"
    return styles


# ------------------------------------------------------------------------------- files

_KIND_TITLES: Final = {
    "village_births": "出生登记表",
    "village_women": "已婚育龄妇女花名册",
    "village_fees": "社会抚养费征收台账",
    "police_hukou": "户籍变动登记表",
    "hospital_births": "出生医学证明登记表",
    "hospital_procedures": "计划生育手术登记表",
    "hospital_checkups": "三查记录表",
    "hospital_prepregnancy": "免费孕前优生健康检查登记表",
}
_OPTIONAL_OMIT: Final = {
    "village_births": ("remarks", "child_id"),
    "village_women": ("ethnicity",),
    "village_fees": ("party_name",),
    "hospital_births": ("birth_weight", "father_id"),
}


class _Files:
    """The planned files: identity, path, arrival, style and fate, one dict each."""

    def __init__(self, sim: _Sim) -> None:
        self.sim, self.spec, self.geo = sim, sim.spec, sim.geo
        self.rows: list[dict[str, Any]] = []
        self.index: dict[tuple[str, int, int], int] = {}  # (template, unit, month) -> file
        rng = np.random.default_rng([self.spec.seed, 5])
        g = self.geo
        units = (
            [
                ("village", i, c, n)
                for i, (c, n) in enumerate(zip(g.village_codes, g.village_names, strict=True))
            ]
            + [
                ("police", i, c, f"{n}派出所")
                for i, (c, n) in enumerate(zip(g.township_codes, g.township_names, strict=True))
            ]
            + [
                ("hospital", i, c, n)
                for i, (c, n) in enumerate(
                    zip(g.institution_codes, g.institution_names, strict=True)
                )
            ]
        )
        fmt: list[str] = []
        for source, share in (
            ("village", self.spec.xlsx_share),
            ("police", 0.3),
            ("hospital", max(self.spec.xlsx_share, 0.4)),
        ):
            fmt += _formats(rng, sum(u[0] == source for u in units), share)
        unit_styles = _unit_styles(rng, fmt, [u[0] for u in units])
        styles: dict[tuple[str, int], list[dict[str, Any]]] = {}
        for k, (source, i, _, _) in enumerate(units):
            styles[(source, i)] = [unit_styles[k]]
            # A new clerk: some units take another unit's habits from some month on.
            if rng.random() < 0.1:
                other = next(
                    (u for u in range(k + 1, k + len(units)) if units[u % len(units)][0] == source),
                    None,
                )
                if other is not None:
                    styles[(source, i)].append(
                        {
                            **unit_styles[other % len(units)],
                            "_from": int(rng.integers(sim.F, sim.L + 1)),
                        }
                    )
        contract = load_contract()
        for m in range(sim.F, sim.L + 1):
            for source, i, code, uname in units:
                day, hour = self._arrival(rng, m)
                st = styles[(source, i)]
                style = st[-1] if len(st) > 1 and m >= st[-1]["_from"] else st[0]
                for j, kind in enumerate(contract.kinds_of(source)):
                    tpl = f"{source}_{kind}"
                    name = f"{tpl}_{code}_{_yyyymm(m)}.{style['fmt']}"
                    folder = (
                        f"{_ym(m)}/hospital/{uname}"
                        if source == "hospital"
                        else f"{_ym(m)}/{source}"
                    )
                    t = (
                        self.geo.village_township[i]
                        if source == "village"
                        else (i if source == "police" else self.geo.institution_township[i])
                    )
                    self.index[(tpl, i, m)] = len(self.rows)
                    self.rows.append(
                        {
                            "template": tpl,
                            "source": source,
                            "kind": kind,
                            "unit": code,
                            "unit_idx": i,
                            "unit_name": uname,
                            "township_name": self.geo.township_names[t],
                            "month": m,
                            "path": f"{folder}/{name}",
                            "name": name,
                            "arrived_at": datetime(*_next_month(m), day, hour, 0)
                            + timedelta(
                                minutes=int(rng.integers(0, 60)) + 3 * j,
                                seconds=int(rng.integers(0, 60)),
                            ),
                            "status": "loaded",
                            "reason_code": None,
                            "fault": None,
                            "note": "",
                            "drop": (),
                            **style,
                        }
                    )

    def _arrival(self, rng: np.random.Generator, m: int) -> tuple[int, int]:
        late = m < self.sim.L and rng.random() < self.spec.late_share
        on_time = np.arange(1, self.spec.deadline_day + 1)
        weights = 1.0 / on_time  # most arrive in the first days; few on the deadline day
        day = (
            int(rng.integers(self.spec.deadline_day + 1, 21))
            if late
            else int(rng.choice(on_time, p=weights / weights.sum()))
        )
        return day, int(rng.integers(8, 20))

    def get(self, template: str, unit: int, month: int) -> dict[str, Any]:
        return self.rows[self.index[(template, unit, month)]]

    def add(self, base: dict[str, Any], **changes: Any) -> int:
        self.rows.append({**base, **changes})
        return len(self.rows) - 1
