"""One township's figures explained, as a self-contained HTML page next to the report.

Pure: explanations (transforms.officer.explain) in, an HTML string out (template
explain_page.html.j2). Like the report it fetches nothing and escapes every value;
persons appear only as masked ID numbers. Each figure is a section whose id is the
indicator code, so the report links to `<page>#<indicator>`.
"""

from __future__ import annotations

from collections.abc import Sequence

from reports.rendering import render
from transforms.officer.explain import Explanation
from transforms.officer.views import MART_STATUS_LABELS, explain_header, explain_view

RECORDS_SHOWN = 500
"""Records listed per figure on the page; `popstat explain --format csv` gives them all."""


def _figure(found: Explanation, lang: str, limit: int) -> dict[str, object]:
    """One figure's section: its facts, then the records counted and those left out."""
    zh = lang == "zh"
    code = found.indicator.code
    parts = []
    for included, frame, title in (
        (True, found.records, ("计入的记录", "Records counted")),
        (False, found.left_out, ("未计入的记录及原因", "Left out, and why")),
    ):
        shown = frame.head(limit)
        view = explain_view(shown, included, lang) if len(shown) else None
        command = (
            f"popstat explain --area {found.figure.get('area_code')} "
            f"--period {found.period.label} --indicator {code} --format csv"
            if len(frame) > len(shown)
            else ""
        )
        parts.append(
            {
                "title": title[0] if zh else title[1],
                "count": f"{len(shown)} / {len(frame)}" if zh else f"{len(shown)} of {len(frame)}",
                "columns": [] if view is None else list(view.columns),
                "rows": [] if view is None else list(view.itertuples(index=False, name=None)),
                "command": command,
            }
        )
    return {
        "code": code,
        "name": found.indicator.name_zh if zh else found.indicator.name_en,
        "facts": explain_header(found.figure, found.indicator, len(found.records), lang),
        "parts": parts,
    }


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
    links = [
        {
            "code": f.indicator.code,
            "name": f.indicator.name_zh if zh else f.indicator.name_en,
            "status": MART_STATUS_LABELS[lang].get(str(f.figure.get("status")), ""),
        }
        for f in explanations
    ]
    privacy = (
        "本页不含身份证号原文和姓名；人员以脱敏身份证号表示。请勿外传。"
        if zh
        else "No ID number in clear and no name: persons appear as masked ID numbers."
    )
    return render(
        "explain_page.html.j2",
        html_lang="zh-CN" if zh else "en",
        body_class="report",
        end_of_page="\n",
        title=title,
        township_code=township_code,
        report_name=report_name,
        back_label="返回报告" if zh else "back to the report",
        links=links,
        figures=[_figure(f, lang, limit) for f in explanations],
        privacy=privacy,
    )
