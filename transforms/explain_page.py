"""One township's figures explained, as a self-contained HTML page next to the report.

Pure: explanations (transforms.explain) in, an HTML string out. Like the report it
fetches nothing (a Content-Security-Policy forbids it) and escapes every value;
persons appear only as masked ID numbers. Each figure is a section whose id is the
indicator code, so the report links to `<page>#<indicator>`.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import date

import pandas as pd

from transforms.explain import Explanation
from transforms.officer_report import _CSP, _CSS
from transforms.officer_views import MART_STATUS_LABELS, explain_header, explain_view

RECORDS_SHOWN = 500
"""Records listed per figure on the page; `popstat explain --format csv` gives them all."""


def explain_page_name(day: date, township_code: str) -> str:
    """`dq-explain-<date>-<township>.html`: ASCII, beside the report of that day."""
    safe = "".join(c if c.isalnum() else "_" for c in township_code)
    return f"dq-explain-{day.isoformat()}-{safe}.html"


def _e(value: object) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return html.escape(str(value), quote=True)


def _table(view: pd.DataFrame) -> str:
    head = "".join(f"<th>{_e(c)}</th>" for c in view.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{_e(v)}</td>" for v in record) + "</tr>"
        for record in view.itertuples(index=False, name=None)
    )
    return f"<div class='scroll'><table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>"


def _figure_section(found: Explanation, lang: str, limit: int) -> str:
    zh = lang == "zh"
    code = found.indicator.code
    name = found.indicator.name_zh if zh else found.indicator.name_en
    header = explain_header(found.figure, found.indicator, len(found.records), lang)
    facts = "".join(f"<li>{_e(line)}</li>" for line in header)
    parts = [
        f'<section class="figure" id="{_e(code)}"><h2>{_e(name)} <span class="meta">{_e(code)}</span></h2>'
    ]
    parts.append(f"<ul class='facts'>{facts}</ul>")
    for included, frame, title in (
        (True, found.records, ("计入的记录", "Records counted")),
        (False, found.left_out, ("未计入的记录及原因", "Left out, and why")),
    ):
        shown = frame.head(limit)
        count = f"{len(shown)} / {len(frame)}" if zh else f"{len(shown)} of {len(frame)}"
        parts.append(f"<h3>{_e(title[0] if zh else title[1])} ({_e(count)})</h3>")
        if len(shown):
            parts.append(_table(explain_view(shown, included, lang)))
        if len(frame) > len(shown):
            command = (
                f"popstat explain --area {found.figure.get('area_code')} "
                f"--period {found.period.label} --indicator {code} --format csv"
            )
            parts.append(f"<p class='note'>{_e(command)}</p>")
    parts.append("</section>")
    return "".join(parts)


def render_explain_page(
    township_code: str,
    township_name: str,
    explanations: Sequence[Explanation],
    lang: str = "zh",
    report_name: str = "",
    limit: int = RECORDS_SHOWN,
) -> str:
    """The page: one section per figure, each with its records and what was left out."""
    zh = lang == "zh"
    period = explanations[0].period.label if explanations else ""
    title = f"{township_name} {'考核数字核实' if zh else 'figures explained'} {period}".strip()
    links = "".join(
        f'<a href="#{_e(f.indicator.code)}">{_e(f.indicator.name_zh if zh else f.indicator.name_en)}'
        f" · {_e(MART_STATUS_LABELS[lang].get(str(f.figure.get('status')), ''))}</a>"
        for f in explanations
    )
    back = (
        f'<a href="{_e(report_name)}">{"返回报告" if zh else "back to the report"}</a>'
        if report_name
        else ""
    )
    privacy = (
        "本页不含身份证号原文和姓名；人员以脱敏身份证号表示。请勿外传。"
        if zh
        else "No ID number in clear and no name: persons appear as masked ID numbers."
    )
    return "".join(
        [
            "<!DOCTYPE html>\n",
            f'<html lang="{"zh-CN" if zh else "en"}"><head><meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{_e(_CSP)}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            '<meta name="referrer" content="no-referrer">',
            f"<title>{_e(title)}</title><style>{_CSS}</style></head><body><main>",
            f"<header><h1>{_e(title)}</h1><div class='meta'>{_e(township_code)} {back}</div></header>",
            f"<nav>{links}</nav>",
            *(_figure_section(f, lang, limit) for f in explanations),
            f"<footer><p>{_e(privacy)}</p><p>popstat</p></footer>",
            "</main></body></html>\n",
        ]
    )
