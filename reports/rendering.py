"""The one Jinja2 environment every page is rendered with.

- Templates are files under reports/templates/, loaded as package data.
- Autoescaping is on for every template, and `finalize` is the one escaping path:
  a missing value (None, NaN, pandas NA) prints as nothing, anything else is
  escaped as `html.escape(..., quote=True)` does (quotes as `&#x27;` / `&quot;`,
  so attribute values are safe too). Only `Markup` (a rendered chart, the
  stylesheet) passes through unescaped.
- A line break in a template's source followed by indentation is layout for the
  reader, not output: it is removed when the template loads. A line break before
  a line that starts at column 0 is kept. So a template reads as indented HTML
  and the page comes out as compact as before.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable
from functools import cache
from importlib.resources import files
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "base-uri 'none'; form-action 'none'"
)
"""Forbids every fetch: the pages open offline from a shared folder and must stay private."""

_LAYOUT_BREAK = re.compile(r"\n[ \t]+")


def is_missing(value: object) -> bool:
    """None, NaN, pandas NA or NaT: shown as nothing."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return type(value).__name__ in {"NAType", "NaTType"}


def text_of(value: object) -> str:
    """A value as the page shows it before escaping: missing → empty, else `str`."""
    return "" if is_missing(value) else str(value)


def escape(value: object) -> Markup:
    """The one escaping path: missing → empty, text → HTML-escaped (quotes too)."""
    if isinstance(value, Markup):
        return value
    if is_missing(value):
        return Markup("")
    return Markup(html.escape(str(value), quote=True))


def one_decimal(number: float) -> str:
    """A coordinate or width with one decimal (`12.0`), as the charts and bars write them."""
    return f"{number:.1f}"


class _CompactLoader(PackageLoader):
    """Loads reports/templates/ and drops the layout line breaks (see the module docstring)."""

    def get_source(
        self, environment: Environment, template: str
    ) -> tuple[str, str, Callable[[], bool] | None]:
        source, filename, uptodate = super().get_source(environment, template)
        return _LAYOUT_BREAK.sub("", source), filename, uptodate


@cache
def environment() -> Environment:
    """The Jinja2 environment (built once): autoescaped, strict about unknown names."""
    env = Environment(
        loader=_CompactLoader("reports", "templates"),
        autoescape=True,
        finalize=escape,
        undefined=StrictUndefined,
    )
    env.filters["f1"] = one_decimal
    env.globals["stylesheet"] = stylesheet()
    env.globals["content_security_policy"] = CONTENT_SECURITY_POLICY
    return env


@cache
def stylesheet() -> Markup:
    """popstat.css, the one stylesheet of every page, to inline (nothing is fetched)."""
    text = files("reports").joinpath("templates/popstat.css").read_text(encoding="utf-8")
    return Markup(text)


def render(template: str, **context: Any) -> str:
    """`template` (a file under reports/templates/) rendered with `context`."""
    return environment().get_template(template).render(**context)
