"""The indicator catalog (contracts/indicators.toml) as typed, validated objects.

Validation happens at load: an unknown measure name, a unit or direction
outside the allowed set, a count with a denominator (or a rate without one),
or an indicator whose flow/stock kind disagrees with its measures is a
`CatalogError` naming the indicator, not a failure deep inside a run.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal, cast

from transforms.indicators.measures import MEASURES, Measure
from transforms.periods import PERIOD_KINDS, PeriodKind

Unit = Literal["%", "count", "ratio"]
Better = Literal["higher", "lower", "range"]
UNITS: tuple[Unit, ...] = ("%", "count", "ratio")
BETTER: tuple[Better, ...] = ("higher", "lower", "range")

_KEYS = {
    "name_zh",
    "name_en",
    "aka_zh",
    "numerator",
    "denominator",
    "unit",
    "factor",
    "better",
    "flow",
    "periods",
    "target_periods",
    "min_denominator",
    "min_measure",
}


class CatalogError(ValueError):
    """The catalog text is not a valid indicator catalog."""


@dataclass(frozen=True)
class Indicator:
    """One indicator: value = numerator * factor / denominator (or numerator * factor)."""

    code: str
    name_zh: str
    name_en: str
    numerator: str
    denominator: str | None
    unit: Unit
    factor: float
    better: Better | None
    flow: bool
    periods: tuple[PeriodKind, ...] = PERIOD_KINDS
    target_periods: tuple[PeriodKind, ...] = PERIOD_KINDS
    aka_zh: tuple[str, ...] = ()
    min_denominator: float | None = None
    min_measure: str | None = None

    @property
    def minimum_of(self) -> str | None:
        """The measure `min_denominator` is counted on (`min_measure`, else the
        denominator); None without a minimum."""
        if self.min_denominator is None:
            return None
        return self.min_measure or self.denominator

    @property
    def measures(self) -> tuple[str, ...]:
        """The measure names it uses (numerator first)."""
        used = [self.numerator, self.denominator, self.minimum_of]
        return tuple(dict.fromkeys(m for m in used if m is not None))


@dataclass(frozen=True)
class Catalog:
    """The indicators, in catalog order."""

    indicators: tuple[Indicator, ...]

    def __iter__(self) -> Iterator[Indicator]:
        return iter(self.indicators)

    def __len__(self) -> int:
        return len(self.indicators)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(i.code for i in self.indicators)

    def get(self, code: str) -> Indicator:
        for indicator in self.indicators:
            if indicator.code == code:
                return indicator
        raise KeyError(f"no indicator {code!r} in the catalog")

    def select(self, codes: list[str] | tuple[str, ...]) -> Catalog:
        """A catalog of only these indicators (in the order given)."""
        return Catalog(indicators=tuple(self.get(c) for c in codes))

    @property
    def measures(self) -> tuple[str, ...]:
        """Every measure any indicator uses, once, in first-use order."""
        return tuple(dict.fromkeys(m for i in self.indicators for m in i.measures))


def _kinds(code: str, key: str, raw: Any) -> tuple[PeriodKind, ...]:
    if not isinstance(raw, list) or not raw:
        raise CatalogError(f"indicator {code!r}: {key} must be a non-empty list")
    bad = [k for k in raw if k not in PERIOD_KINDS]
    if bad:
        raise CatalogError(f"indicator {code!r}: {key} has unknown period kinds {bad}")
    return tuple(k for k in PERIOD_KINDS if k in raw)


def _indicator(code: str, body: Mapping[str, Any], measures: Mapping[str, Measure]) -> Indicator:
    unknown_keys = sorted(set(body) - _KEYS)
    if unknown_keys:
        raise CatalogError(f"indicator {code!r}: unknown keys {unknown_keys}")
    for key in ("name_zh", "name_en", "numerator", "unit", "factor", "flow"):
        if key not in body:
            raise CatalogError(f"indicator {code!r}: {key} is required")
    numerator = str(body["numerator"])
    denominator = body.get("denominator")
    for role, name in (("numerator", numerator), ("denominator", denominator)):
        if name is not None and name not in measures:
            raise CatalogError(
                f"indicator {code!r}: unknown {role} measure {name!r}; "
                f"known measures: {', '.join(sorted(measures))}"
            )
    unit = body["unit"]
    if unit not in UNITS:
        raise CatalogError(f"indicator {code!r}: unit {unit!r} is not one of {UNITS}")
    if unit == "count" and denominator is not None:
        raise CatalogError(f"indicator {code!r}: a count has no denominator")
    if unit != "count" and denominator is None:
        raise CatalogError(f"indicator {code!r}: unit {unit!r} needs a denominator")
    better = body.get("better")
    if better is not None and better not in BETTER:
        raise CatalogError(f"indicator {code!r}: better {better!r} is not one of {BETTER}")
    factor = body["factor"]
    if isinstance(factor, bool) or not isinstance(factor, int | float) or factor <= 0:
        raise CatalogError(f"indicator {code!r}: factor must be a positive number")
    flow = body["flow"]
    if not isinstance(flow, bool):
        raise CatalogError(f"indicator {code!r}: flow must be true or false")
    wanted = "flow" if flow else "stock"
    for name in (numerator, denominator):
        if name is not None and measures[name].kind != wanted:
            raise CatalogError(
                f"indicator {code!r} is a {wanted} but measure {name!r} is a {measures[name].kind}"
            )
    if denominator is not None and measures[numerator].frame != measures[denominator].frame:
        raise CatalogError(
            f"indicator {code!r}: numerator and denominator come from different frames "
            f"({measures[numerator].frame}, {measures[denominator].frame})"
        )
    minimum, min_measure = _minimum(code, body, measures, wanted, denominator)
    periods = _kinds(code, "periods", body.get("periods", list(PERIOD_KINDS)))
    target_periods = _kinds(code, "target_periods", body.get("target_periods", list(periods)))
    if not set(target_periods) <= set(periods):
        raise CatalogError(f"indicator {code!r}: target_periods must be among periods")
    return Indicator(
        code=code,
        name_zh=str(body["name_zh"]),
        name_en=str(body["name_en"]),
        numerator=numerator,
        denominator=None if denominator is None else str(denominator),
        unit=cast(Unit, unit),
        factor=float(factor),
        better=cast(Better | None, better),
        flow=flow,
        periods=periods,
        target_periods=target_periods,
        aka_zh=tuple(str(a) for a in body.get("aka_zh", ())),
        min_denominator=minimum,
        min_measure=min_measure,
    )


def _minimum(
    code: str,
    body: Mapping[str, Any],
    measures: Mapping[str, Measure],
    kind: str,
    denominator: object,
) -> tuple[float | None, str | None]:
    """`min_denominator` (a positive number) and `min_measure` (a measure of the same kind;
    only with a minimum). A rate's minimum defaults to its denominator."""
    minimum = body.get("min_denominator")
    min_measure = body.get("min_measure")
    if minimum is None:
        if min_measure is not None:
            raise CatalogError(f"indicator {code!r}: min_measure needs min_denominator")
        return None, None
    if isinstance(minimum, bool) or not isinstance(minimum, int | float) or minimum <= 0:
        raise CatalogError(f"indicator {code!r}: min_denominator must be a positive number")
    if min_measure is None and denominator is None:
        raise CatalogError(f"indicator {code!r}: a count's min_denominator needs min_measure")
    if min_measure is not None:
        if min_measure not in measures:
            raise CatalogError(f"indicator {code!r}: unknown min_measure {min_measure!r}")
        if measures[min_measure].kind != kind:
            raise CatalogError(
                f"indicator {code!r} is a {kind} but min_measure {min_measure!r} is a "
                f"{measures[min_measure].kind}"
            )
    return float(minimum), None if min_measure is None else str(min_measure)


def parse_catalog(text: str, measures: Mapping[str, Measure] | None = None) -> Catalog:
    """Build and validate a catalog from TOML text (the packaged file, or a test's own).

    `measures` defaults to the registry of transforms.indicators.measures.
    """
    known = MEASURES if measures is None else measures
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"indicator catalog is not valid TOML: {exc}") from exc
    tables = raw.get("indicators")
    if not isinstance(tables, dict) or not tables:
        raise CatalogError("indicator catalog has no [indicators.<code>] tables")
    return Catalog(indicators=tuple(_indicator(c, b, known) for c, b in tables.items()))


@cache
def load_catalog() -> Catalog:
    """The packaged catalog (transforms/contracts/indicators.toml)."""
    text = resources.files("transforms").joinpath("contracts/indicators.toml").read_text("utf-8")
    return parse_catalog(text)
