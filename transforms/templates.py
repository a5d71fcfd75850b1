"""The upload templates (contracts/templates.toml) as typed objects.

Everything that needs to know what an upload looks like — readers, normalisers,
staging tables, quality suites — asks this module; none of them spells out a
header or an allowed value itself.
"""

from __future__ import annotations

import tomllib
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Literal

ColumnType = Literal["text", "id", "date", "sex", "yesno", "money", "integer", "enum", "area_code"]
SOURCES = ("village", "police", "hospital")

# The pandas dtype of each column type once staged (docs/design.md, "Canonical values").
STAGED_DTYPES: dict[str, str] = {
    "text": "string",
    "id": "string",
    "date": "datetime64[s]",
    "sex": "string",
    "yesno": "boolean",
    "money": "Float64",
    "integer": "Int64",
    "enum": "string",
    "area_code": "string",
}


@dataclass(frozen=True)
class Condition:
    """`column` holds the canonical value `equals`."""

    column: str
    equals: str


@dataclass(frozen=True)
class Column:
    """One column of an upload template."""

    name: str
    header: str
    type: ColumnType
    aliases: tuple[str, ...] = ()
    required: bool = False
    enum: str | None = None
    min: float | None = None
    max: float | None = None
    unique: Literal["file", "all"] | None = None
    date_rule: Literal["not_after_report_month", "in_report_month"] | None = None
    required_unless: Condition | None = None
    at_most_column: str | None = None
    agrees_with_id: str | None = None
    only_when: Condition | None = None
    severity: Literal["error", "warning"] | None = None

    @property
    def spellings(self) -> tuple[str, ...]:
        """Every header accepted for this column, the canonical name included."""
        return (self.header, *self.aliases, self.name)

    @property
    def default_severity(self) -> Literal["error", "warning"]:
        """uploads.md: a bad required value excludes the row; a bad optional one is flagged."""
        if self.severity is not None:
            return self.severity
        return "error" if self.required or self.required_unless is not None else "warning"


@dataclass(frozen=True)
class Template:
    """One upload kind: `<source>_<kind>` files and their `stg_<source>_<kind>` table."""

    source: str
    kind: str
    title_zh: str
    title_en: str
    columns: tuple[Column, ...] = field(default_factory=tuple)

    @property
    def name(self) -> str:
        return f"{self.source}_{self.kind}"

    @property
    def staging_table(self) -> str:
        return f"stg_{self.name}"

    @property
    def required_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.name} has no column {name!r}")


@dataclass(frozen=True)
class Contract:
    """All templates and the enumerations their columns use."""

    templates: dict[str, Template]
    enums: dict[str, dict[str, tuple[str, ...]]]

    def template(self, source: str, kind: str) -> Template:
        return self.templates[f"{source}_{kind}"]

    def kinds_of(self, source: str) -> tuple[str, ...]:
        return tuple(t.kind for t in self.templates.values() if t.source == source)

    def enum_lookup(self, enum: str) -> dict[str, str]:
        """Folded spelling -> canonical value, for one enumeration."""
        return {
            fold_header(spelling): canonical
            for canonical, spellings in self.enums[enum].items()
            for spelling in (canonical, *spellings)
        }


def fold_header(text: str) -> str:
    """Fold a header (or enumeration spelling) for matching.

    NFKC turns full-width forms into ASCII; spaces (any width) and `*` markers go;
    case is ignored so that `Mother_ID` matches `mother_id`.
    """
    folded = unicodedata.normalize("NFKC", str(text))
    return "".join(ch for ch in folded if not ch.isspace() and ch != "*").casefold()


def _condition(raw: dict[str, str] | None) -> Condition | None:
    return None if raw is None else Condition(column=raw["column"], equals=raw["equals"])


def _column(raw: dict[str, Any]) -> Column:
    return Column(
        name=raw["name"],
        header=raw["header"],
        type=raw["type"],
        aliases=tuple(raw.get("aliases", ())),
        required=bool(raw.get("required", False)),
        enum=raw.get("enum"),
        min=raw.get("min"),
        max=raw.get("max"),
        unique=raw.get("unique"),
        date_rule=raw.get("date_rule"),
        required_unless=_condition(raw.get("required_unless")),
        at_most_column=raw.get("at_most_column"),
        agrees_with_id=raw.get("agrees_with_id"),
        only_when=_condition(raw.get("only_when")),
        severity=raw.get("severity"),
    )


def parse_contract(text: str) -> Contract:
    """Build the contract from TOML text (the packaged file, or a test's own)."""
    raw = tomllib.loads(text)
    enums = {
        name: {canonical: tuple(spellings) for canonical, spellings in values.items()}
        for name, values in raw.get("enums", {}).items()
    }
    templates: dict[str, Template] = {}
    for key, body in raw["templates"].items():
        template = Template(
            source=body["source"],
            kind=body["kind"],
            title_zh=body["title_zh"],
            title_en=body["title_en"],
            columns=tuple(_column(c) for c in body["columns"]),
        )
        if template.name != key:
            raise ValueError(f"template {key!r} must be named <source>_<kind>")
        templates[key] = template
    return Contract(templates=templates, enums=enums)


@cache
def load_contract() -> Contract:
    """The packaged contract (transforms/contracts/templates.toml), checked against the
    enumeration values the code gives a meaning to (`enum_value`)."""
    text = resources.files("transforms").joinpath("contracts/templates.toml").read_text("utf-8")
    contract = parse_contract(text)
    check_enum_meanings(contract)
    return contract


# Canonical enumeration values that Python code gives a meaning to (政策内 counts as
# compliant, 上环/结扎/皮埋 are long-acting, ...): registered by `enum_value`, checked
# against every contract loaded, so renaming a value in templates.toml fails at once
# instead of silently zeroing an indicator.
_MEANINGS: dict[str, set[str]] = {}


class ContractError(ValueError):
    """The contract and the code disagree on an enumeration value."""


def check_enum_meanings(contract: Contract, meanings: dict[str, set[str]] | None = None) -> None:
    """Raise ContractError when a value the code relies on is not a canonical value of
    its enumeration in `contract`."""
    wanted = _MEANINGS if meanings is None else meanings
    for enum, values in sorted(wanted.items()):
        known = contract.enums.get(enum)
        if known is None:
            raise ContractError(f"templates.toml has no enumeration {enum!r}; the code uses it")
        missing = sorted(values - set(known))
        if missing:
            raise ContractError(
                f"templates.toml enumeration {enum!r} lacks {missing}, which the code gives a "
                f"meaning to; canonical values: {sorted(known)}"
            )


def enum_value(enum: str, *values: str) -> tuple[str, ...]:
    """Register canonical `values` of `enum` that code relies on, and check them now."""
    _MEANINGS.setdefault(enum, set()).update(values)
    check_enum_meanings(load_contract(), {enum: set(values)})
    return values
