"""What `popstat explain` reads: one mart row and the rows behind it.

The figure is the published `mart_target_achievement` row; the records are the
reconciled rows (`recon_*`, `dq_reporting`) of the areas under the figure's area,
traced to the staged rows (`stg_*`, current uploads only) and the upload they came
from; the rows left out are the `stg_exclusions` rows and quarantined uploads of
those areas and months. The selection and tracing are transforms.officer.explain.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar

import pandas as pd
from sqlalchemy import Connection, false, select

from transforms.indicators.achievement import area_closure
from transforms.indicators.catalog import load_catalog
from transforms.indicators.measures import MEASURES
from transforms.officer.explain import (
    FRAME_TEMPLATES,
    LEFT_OUT_COLUMNS,
    RECORD_COLUMNS,
    SOURCES,
    Explanation,
    counted_records,
    error_rows_left_out,
    indicator_frame,
    left_out_in_snapshot,
    pending_left_out,
    quarantined_left_out,
    trace_records,
)
from transforms.periods import parse_period
from transforms.templates import load_contract
from warehouse import schema
from warehouse.load import read_frame
from warehouse.publish import RECON_TABLES

T = TypeVar("T")


class ExplainError(ValueError):
    """The figure asked for does not exist; `words` = (zh, en)."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.words = (zh, en)


def _chunks(items: Sequence[T], size: int = 500) -> Iterable[list[T]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def areas_under(conn: Connection, area: str) -> list[str]:
    """The area and every area below it, from the published mart's hierarchy."""
    m = schema.mart_target_achievement.c
    pairs = read_frame(conn, select(m.area_code, m.parent_code).distinct())
    pairs = pairs.drop_duplicates("area_code").astype("string")
    closure = area_closure(pairs)
    under = closure.loc[closure["ancestor_code"] == area, "area_code"]
    return sorted(set(under.dropna()) | {area})


def figure_row(conn: Connection, area: str, period: str, indicator: str) -> dict[str, object]:
    """The published row, or ExplainError naming what does not exist."""
    m = schema.mart_target_achievement.c
    row = read_frame(
        conn,
        select(schema.mart_target_achievement).where(
            m.area_code == area, m.period == period, m.indicator == indicator
        ),
    )
    if len(row):
        return dict(row.iloc[0])
    codes = {i.code for i in load_catalog()}
    if indicator not in codes:
        known = ", ".join(sorted(codes))
        raise ExplainError(
            f"未知指标：{indicator}；可用：{known}",
            f"unknown indicator {indicator!r}; use one of: {known}",
        )
    has_area = conn.execute(select(m.area_code).where(m.area_code == area).limit(1)).first()
    if has_area is None:
        raise ExplainError(f"未发布该地区：{area}", f"no published figures for area {area!r}")
    raise ExplainError(
        f"未发布该期间：{period}（例如 2026-09、2026-Q3、2026-01..2026-09）",
        f"no published figure for period {period!r} (e.g. 2026-09, 2026-Q3, 2026-01..2026-09)",
    )


def _recon_rows(
    conn: Connection, name: str, areas: list[str], months: Sequence[str]
) -> pd.DataFrame:
    table = RECON_TABLES[name]
    parts = [
        read_frame(conn, select(table).where(table.c.area_code.in_(chunk)))
        for chunk in _chunks(areas)
    ]
    frame = (
        pd.concat(parts, ignore_index=True)
        if parts
        else read_frame(conn, select(table).where(false()))
    )
    return frame


def _staged(conn: Connection, template: str, where: object | None = None) -> pd.DataFrame:
    """Staged rows of current (loaded) uploads of one template, with their file name."""
    table = schema.staging_tables[template]
    u = schema.uploads.c
    query = (
        select(table, u.file_name)
        .join(schema.uploads, u.upload_id == table.c.upload_id)
        .where(u.status == "loaded")
    )
    if where is not None:
        query = query.where(where)  # type: ignore[arg-type]
    return read_frame(conn, query)


def _staged_for_keys(
    conn: Connection, records: pd.DataFrame, frame_name: str
) -> dict[str, pd.DataFrame]:
    """Per template of the frame's traces, the staged rows that may match the records."""
    out: dict[str, pd.DataFrame] = {}
    if frame_name not in SOURCES or records.empty:
        return out
    source = SOURCES[frame_name]
    keys = sorted(set(records[source.key].dropna().astype(str)))
    for trace in source.traces:
        table = schema.staging_tables[trace.template]
        column = f"{trace.id_column}_key"
        if frame_name in ("recon_births", "recon_women") and column in table.c:
            parts = [
                _staged(conn, trace.template, table.c[column].in_(chunk)) for chunk in _chunks(keys)
            ]
            out[trace.template] = (
                pd.concat(parts, ignore_index=True)
                if parts
                else _staged(conn, trace.template, false())
            )
        else:  # keys computed from several columns: narrow by month instead
            months = sorted(set(records["month"].dropna().astype(str)))
            out[trace.template] = _staged(conn, trace.template, table.c.report_month.in_(months))
    return out


def _excluded(
    conn: Connection, template: str, areas: list[str], months: Sequence[str]
) -> pd.DataFrame:
    table = schema.staging_tables[template]
    x = schema.stg_exclusions.c
    u = schema.uploads.c
    area_column = table.c.village_code if "village_code" in table.c else table.c.unit
    query = (
        select(table, u.file_name, x.rules)
        .join(schema.uploads, u.upload_id == table.c.upload_id)
        .join(
            schema.stg_exclusions,
            (x.upload_id == table.c.upload_id) & (x.row_number == table.c.row_number),
        )
        .where(u.status == "loaded", table.c.report_month.in_(list(months)))
    )
    parts = [read_frame(conn, query.where(area_column.in_(chunk))) for chunk in _chunks(areas)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _quarantined(
    conn: Connection, templates: Sequence[str], areas: list[str], months: Sequence[str]
) -> pd.DataFrame:
    u = schema.uploads.c
    contract = load_contract()
    kinds = {(contract.templates[t].source, contract.templates[t].kind) for t in templates}
    files = read_frame(
        conn,
        select(schema.uploads).where(u.status == "quarantined", u.report_month.in_(list(months))),
    )
    pairs = list(zip(files["source"].astype(str), files["kind"].astype(str), strict=True))
    mine = pd.Series([p in kinds for p in pairs], index=files.index, dtype=bool)
    in_area = files["unit"].astype("string").isin(areas).fillna(False).astype(bool)
    return files.loc[mine & in_area].reset_index(drop=True)


def explain(conn: Connection, area: str, period: str, indicator_code: str) -> Explanation:
    """The published figure and every record behind it (see the module docstring)."""
    return explain_many(conn, area, period, [indicator_code])[0]


def _uploads(conn: Connection) -> pd.DataFrame:
    u = schema.uploads.c
    return read_frame(
        conn,
        select(u.upload_id, u.file_name, u.unit, u.source, u.kind, u.report_month, u.status),
    )


def explain_many(
    conn: Connection, area: str, period: str, indicator_codes: Sequence[str]
) -> list[Explanation]:
    """Several figures of one area and period; what indicators share (their recon frame,
    its staged rows and exclusions) is read and traced once."""
    figures = [figure_row(conn, area, period, code) for code in indicator_codes]
    catalog = {i.code: i for i in load_catalog()}
    indicators = [catalog[code] for code in indicator_codes]
    span = parse_period(period)
    areas = areas_under(conn, area)
    uploads = _uploads(conn)
    found: dict[str, Explanation] = {}
    by_frame: dict[str, list[int]] = {}
    for number, indicator in enumerate(indicators):
        by_frame.setdefault(indicator_frame(indicator), []).append(number)
    for frame_name, numbers in by_frame.items():
        frame = _recon_rows(conn, frame_name, areas, span.months)
        frame = frame.assign(_rid=range(len(frame)))
        scoped = {n: counted_records(frame, indicators[n], areas, span) for n in numbers}
        union = pd.concat([s.loc[s["counted"]] for s in scoped.values()], ignore_index=True)
        union = union.drop_duplicates("_rid").assign(counted=True)
        traced = trace_records(union, frame_name, _staged_for(conn, union, frame_name), uploads)
        templates = FRAME_TEMPLATES.get(frame_name, ())
        shared = [
            error_rows_left_out({t: _excluded(conn, t, areas, span.months) for t in templates}),
            quarantined_left_out(_quarantined(conn, templates, areas, span.months)),
        ]
        for n in numbers:
            counted = scoped[n].loc[scoped[n]["counted"], ["_rid", "numerator", "denominator"]]
            records = (
                traced.drop(columns=["numerator", "denominator"])
                .merge(counted, on="_rid")
                .drop(columns="_rid")
                .reindex(columns=list(RECORD_COLUMNS))
            )
            left = [f for f in (*shared, pending_left_out(scoped[n])) if len(f)]
            left_out = (
                pd.concat(left, ignore_index=True)
                if left
                else pd.DataFrame(columns=list(LEFT_OUT_COLUMNS))
            )
            if MEASURES[indicators[n].numerator].kind == "stock":
                left_out = left_out_in_snapshot(left_out, scoped[n])
            found[indicators[n].code] = Explanation(
                figures[n],
                indicators[n],
                span,
                records,
                left_out.reindex(columns=list(LEFT_OUT_COLUMNS)),
            )
    return [found[code] for code in indicator_codes]


def _staged_for(
    conn: Connection, counted: pd.DataFrame, frame_name: str
) -> dict[str, pd.DataFrame]:
    """The staged rows the counted records may come from."""
    staged = _staged_for_keys(conn, counted, frame_name)
    if frame_name == "recon_accuracy":
        ids = sorted({int(i) for i in counted["upload_id"].dropna()})
        for template in ("village_births", "village_women"):
            table = schema.staging_tables[template]
            parts = [
                _staged(conn, template, table.c.upload_id.in_(chunk)) for chunk in _chunks(ids)
            ]
            staged[template] = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    return staged
