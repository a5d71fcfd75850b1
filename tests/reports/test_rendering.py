"""The one Jinja2 environment: autoescaped, one escaping path, templates that load, one
stylesheet that fetches nothing."""

from __future__ import annotations

import math
import re
from importlib.resources import files

import pandas as pd
from markupsafe import Markup

from reports.rendering import environment, escape, render, stylesheet, text_of


def test_escape_writes_quotes_like_html_escape_and_missing_as_nothing() -> None:
    assert escape("<a href='x'>\"&") == "&lt;a href=&#x27;x&#x27;&gt;&quot;&amp;"
    for missing in (None, math.nan, pd.NA, pd.NaT):
        assert escape(missing) == ""
        assert text_of(missing) == ""
    assert escape(Markup("<svg/>")) == "<svg/>"
    assert escape(0) == "0"


def test_every_template_loads_autoescaped() -> None:
    env = environment()
    names = env.list_templates(extensions=["j2"])
    assert {"page.html.j2", "officer_report.html.j2", "bulletin.html.j2"} <= set(names)
    for name in names:
        env.get_template(name)  # a syntax error in any template fails here
    assert env.autoescape is True


def test_a_value_cannot_open_a_tag_or_leave_an_attribute() -> None:
    page = render("charts/no_issues.html.j2", message='<script>x</script>" onload="y')
    assert "<script>" not in page
    assert "&lt;script&gt;" in page
    assert '" onload' not in page


def test_layout_line_breaks_are_not_output() -> None:
    source = files("reports").joinpath("templates/officer_report.html.j2").read_text("utf-8")
    assert "\n    <header>" in source  # the file is indented for the reader
    page = render(
        "page.html.j2",
        html_lang="en",
        body_class="report",
        end_of_page="\n",
        title="t",
    )
    assert page.startswith("<!DOCTYPE html>\n<html")
    assert page.count("\n") == 1 + stylesheet().count("\n") + 1


def test_one_stylesheet_fetches_nothing() -> None:
    css = str(stylesheet())
    assert not re.search(r"url\(|@import|https?:", css)
    assert "body.report" in css and "body.bulletin" in css
