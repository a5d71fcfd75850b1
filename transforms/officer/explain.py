"""Explain one published figure: the records behind its numerator and denominator.

Pure: frames in, frames out. The warehouse side (warehouse/explain_data.py) reads
the mart row, the reconciled rows of the areas under the figure's area, the staged
rows they came from and what was excluded; this module decides which records count
and traces each to its file and row.

A record's contribution is the indicator's own measure function applied to it
(transforms.indicators.measures), so the records listed here add up to the published numerator
and denominator by construction of the same rule: flows count the period's months,
stocks the last snapshot month of the period per source area (as
transforms.indicators.achievement.measure_values does).

Grain of `records`: one row per reconciled record that counts (contributes to the
numerator or the denominator), traced to one source row (the village's first, then
the hospital's, then the police's); `other_sources` names the rest. Grain of
`left_out`: one row per source row or file kept out of the figure, with the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from transforms.indicators.catalog import Indicator
from transforms.indicators.measures import MEASURES
from transforms.landing.identity import mask_id
from transforms.periods import Period
from transforms.reconcile.common import sha256_hex

RECORD_COLUMNS: tuple[str, ...] = (
    "area_code",
    "month",
    "person",
    "numerator",
    "denominator",
    "status",
    "source",
    "file_name",
    "row_number",
    "other_sources",
)
LEFT_OUT_COLUMNS: tuple[str, ...] = (
    "area_code",
    "month",
    "person",
    "reason",
    "detail",
    "source",
    "file_name",
    "row_number",
)
REASONS = {
    "error_row": ("错误行，未计入", "error row, not counted"),
    "quarantined": ("文件已隔离，未读取", "file quarantined, not read"),
    "pending": ("待核实：村报表尚未到期", "pending: the village's upload is not yet due"),
    "too_few": ("人数太少，不作考核", "too few to judge"),
}
"""Why a record or a figure is left out (`left_out.reason`), in both languages."""


@dataclass(frozen=True)
class Trace:
    """How a reconciled record finds its source rows in one staging template.

    `key` computes, from staged rows, the value the recon frame holds in
    `Source.key`; `stg_when`/`recon_when` are compared by date (within
    `Source.days`) or, for months, by equality.
    """

    template: str
    id_column: str
    key: Callable[[pd.DataFrame], pd.Series]
    stg_when: str


def _column(name: str) -> Callable[[pd.DataFrame], pd.Series]:
    def get(frame: pd.DataFrame) -> pd.Series:
        return frame[name].astype("string")

    return get


@dataclass(frozen=True)
class Source:
    """The staging templates a recon frame is built from, and how to match them."""

    key: str
    recon_when: str
    by_month: bool
    traces: tuple[Trace, ...]
    days: int = 31


SOURCES: dict[str, Source] = {
    "recon_births": Source(
        key="mother_key",
        recon_when="birth_date",
        by_month=False,
        traces=(
            Trace("village_births", "mother_id", _column("mother_id_key"), "birth_date"),
            Trace("hospital_births", "mother_id", _column("mother_id_key"), "birth_date"),
            Trace("police_hukou", "guardian_id", _column("guardian_id_key"), "birth_date"),
        ),
    ),
    "recon_women": Source(
        key="woman_key",
        recon_when="snapshot_month",
        by_month=True,
        traces=(Trace("village_women", "id_number", _column("id_number_key"), "report_month"),),
    ),
    "recon_fees": Source(
        key="case_key",
        recon_when="report_month",
        by_month=True,
        traces=(
            Trace(
                "village_fees",
                "party_id",
                lambda f: sha256_hex(f["unit"], f["case_no"]),
                "report_month",
            ),
        ),
    ),
    "recon_exams": Source(
        key="couple_key",
        recon_when="exam_date",
        by_month=False,
        traces=(
            Trace(
                "hospital_prepregnancy",
                "wife_id",
                lambda f: sha256_hex(f["wife_id_key"], f["husband_id_key"]),
                "exam_date",
            ),
        ),
        days=0,
    ),
}
"""Recon frames traced by person key. `recon_accuracy` carries its upload and row;
`dq_reporting` is traced to the upload; `recon_changes` is shown as reconciled."""

FRAME_TEMPLATES: dict[str, tuple[str, ...]] = {
    "recon_births": ("village_births", "hospital_births", "police_hukou"),
    "recon_women": (
        "village_women",
        "hospital_procedures",
        "hospital_checkups",
        "police_hukou",
    ),
    "recon_fees": ("village_fees",),
    "recon_exams": ("hospital_prepregnancy",),
    "recon_changes": ("village_births", "hospital_procedures"),
    "recon_accuracy": ("village_births", "village_women"),
    "dq_reporting": (),
}
"""The staging templates whose excluded rows and quarantined files a frame's figures miss."""


@dataclass(frozen=True)
class Explanation:
    """One figure (its published mart row as a dict), the records that count
    (`RECORD_COLUMNS`) and those left out (`LEFT_OUT_COLUMNS`)."""

    figure: dict[str, object]
    indicator: Indicator
    period: Period
    records: pd.DataFrame
    left_out: pd.DataFrame = field(default_factory=lambda: _empty(LEFT_OUT_COLUMNS))


def indicator_frame(indicator: Indicator) -> str:
    """The recon frame an indicator's measures read."""
    return MEASURES[indicator.numerator].frame


def month_column(indicator: Indicator) -> str:
    return MEASURES[indicator.numerator].month_column


def counted_records(
    frame: pd.DataFrame, indicator: Indicator, areas: Sequence[str], period: Period
) -> pd.DataFrame:
    """The frame's rows in `areas` and `period` with their `numerator` and `denominator`
    contributions (0 where they do not count), stocks at each area's last snapshot.

    Keeps every column of `frame`; adds `month`, `numerator`, `denominator`, `counted`.
    """
    numerator = MEASURES[indicator.numerator]
    month = frame[numerator.month_column].astype("string")
    scope = frame.loc[
        frame["area_code"].astype("string").isin(list(areas)) & month.isin(period.months)
    ].copy()
    scope["month"] = scope[numerator.month_column].astype("string")
    if numerator.kind == "stock" and len(scope):
        last = scope.groupby(scope["area_code"].astype("string"))["month"].transform("max")
        scope = scope.loc[scope["month"] == last].copy()
    scope["numerator"] = _contribution(numerator.func, scope)
    if indicator.denominator:
        scope["denominator"] = _contribution(MEASURES[indicator.denominator].func, scope)
    else:  # a count has no denominator: null, as published
        scope["denominator"] = float("nan")
    scope["counted"] = (scope["numerator"] != 0) | (scope["denominator"].fillna(0) != 0)
    return scope.reset_index(drop=True)


def _contribution(func: Callable[[pd.DataFrame], pd.Series], frame: pd.DataFrame) -> pd.Series:
    if frame.empty:
        return pd.Series([], dtype="float64")
    values = pd.Series(func(frame), index=frame.index)
    return values.astype("Float64").fillna(0.0).astype("float64")


def _staged_matches(
    records: pd.DataFrame, source: Source, staged: Mapping[str, pd.DataFrame]
) -> pd.DataFrame:
    """(record index, priority, person, source, file_name, row_number) per matching staged row."""
    parts = []
    for priority, trace in enumerate(source.traces):
        rows = staged.get(trace.template)
        if rows is None or rows.empty:
            continue
        keyed = pd.DataFrame(
            {
                "key": trace.key(rows).astype("string"),
                "when": rows[trace.stg_when],
                "person": mask_id(rows[trace.id_column].astype("string")),
                "file_name": rows["file_name"].astype("string"),
                "row_number": pd.to_numeric(rows["row_number"]).astype("Int64"),
            }
        ).dropna(subset=["key"])
        left = pd.DataFrame(
            {
                "record": records.index,
                "key": records[source.key].astype("string"),
                "recon_when": records[source.recon_when],
            }
        )
        hit = left.merge(keyed, on="key")
        if source.by_month:
            near = hit["recon_when"].astype("string") == hit["when"].astype("string")
        else:
            gap = pd.to_datetime(hit["recon_when"], errors="coerce") - pd.to_datetime(
                hit["when"], errors="coerce"
            )
            near = gap.abs() <= pd.Timedelta(days=source.days)
        hit = hit.loc[near.fillna(False).astype(bool)].copy()
        # Twins: two records share mother and date, so each matches both rows; pair the
        # n-th record with the n-th row (by row number) and drop the crossed pairs.
        order = left.sort_values("record").groupby(["key", "recon_when"], dropna=False).cumcount()
        hit["record_rank"] = hit["record"].map(order).to_numpy()
        rows_per_file = hit.groupby(["key", "file_name"])["row_number"].transform("nunique")
        records_per_key = hit.groupby(["key", "file_name"])["record"].transform("nunique")
        paired = (rows_per_file > 1) & (rows_per_file == records_per_key)
        crossed = paired & (
            hit.groupby(["key", "file_name"])["row_number"].rank(method="dense").astype(int) - 1
            != hit["record_rank"]
        )
        hit = hit.loc[~crossed]
        parts.append(hit.assign(priority=priority, source=trace.template))
    columns = ["record", "priority", "person", "source", "file_name", "row_number"]
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat(parts, ignore_index=True)[columns]


def trace_records(
    records: pd.DataFrame,
    frame_name: str,
    staged: Mapping[str, pd.DataFrame],
    uploads: pd.DataFrame,
) -> pd.DataFrame:
    """The counted records as `RECORD_COLUMNS`: masked person, file and row they came from.

    `staged`: per template, staged rows (with `file_name`) whose keys may match;
    `uploads`: the manifest (for `dq_reporting` and `recon_accuracy`).
    """
    mine = records.loc[records["counted"]].reset_index(drop=True)
    out = pd.DataFrame(
        {
            "area_code": mine["area_code"].astype("string"),
            "month": mine["month"].astype("string"),
            "person": pd.Series(pd.NA, index=mine.index, dtype="string"),
            "numerator": mine["numerator"],
            "denominator": mine["denominator"],
            "status": _status(mine, frame_name),
            "source": pd.Series(pd.NA, index=mine.index, dtype="string"),
            "file_name": pd.Series(pd.NA, index=mine.index, dtype="string"),
            "row_number": pd.Series(pd.NA, index=mine.index, dtype="Int64"),
            "other_sources": pd.Series(pd.NA, index=mine.index, dtype="string"),
        }
    )
    if "_rid" in mine.columns:  # the caller's row id, to share one trace among indicators
        out["_rid"] = mine["_rid"].to_numpy()
    if frame_name in SOURCES and len(mine):
        hits = _staged_matches(mine, SOURCES[frame_name], staged)
        hits = hits.sort_values(["record", "priority", "file_name", "row_number"])
        first = hits.drop_duplicates("record").set_index("record")
        for column in ("person", "source", "file_name", "row_number"):
            out.loc[first.index, column] = first[column].to_numpy()
        rest = hits.loc[hits.duplicated("record")]
        if len(rest):
            where = rest["file_name"].astype(str) + ":" + rest["row_number"].astype(str)
            joined = where.groupby(rest["record"]).agg("; ".join)
            out.loc[joined.index, "other_sources"] = joined.to_numpy()
    elif frame_name == "recon_accuracy" and len(mine):
        names = uploads.set_index("upload_id")["file_name"]
        ids = pd.to_numeric(mine["upload_id"]).astype("int64")
        out["file_name"] = ids.map(names).astype("string").to_numpy()
        out["row_number"] = pd.to_numeric(mine["row_number"]).astype("Int64").to_numpy()
        out["source"] = mine["template"].astype("string").to_numpy()
        accuracy = staged_people(mine, staged)
        out["person"] = accuracy.to_numpy()
    elif frame_name == "dq_reporting" and len(mine):
        out["source"] = (mine["source"].astype(str) + "_" + mine["kind"].astype(str)).to_numpy()
        out["file_name"] = _upload_names(mine, uploads).to_numpy()
    return out.sort_values(
        ["area_code", "month", "file_name", "row_number"], na_position="last"
    ).reset_index(drop=True)


def staged_people(rows: pd.DataFrame, staged: Mapping[str, pd.DataFrame]) -> pd.Series:
    """Masked person of (upload_id, row_number) rows, from their template's first ID column."""
    person = pd.Series(pd.NA, index=rows.index, dtype="string")
    ids = {"village_births": "mother_id", "village_women": "id_number"}
    for template, column in ids.items():
        stg = staged.get(template)
        if stg is None or stg.empty:
            continue
        masked = pd.Series(
            mask_id(stg[column].astype("string")).to_numpy(),
            index=pd.MultiIndex.from_arrays(
                [pd.to_numeric(stg["upload_id"]), pd.to_numeric(stg["row_number"])]
            ),
        )
        masked = masked[~masked.index.duplicated()]
        keys = pd.MultiIndex.from_arrays(
            [pd.to_numeric(rows["upload_id"]), pd.to_numeric(rows["row_number"])]
        )
        found = pd.Series(masked.reindex(keys).to_numpy(), index=rows.index, dtype="string")
        person = person.fillna(found)
    return person


def _upload_names(rows: pd.DataFrame, uploads: pd.DataFrame) -> pd.Series:
    keys = ["unit", "source", "kind", "report_month"]
    current = uploads.loc[uploads["status"] == "loaded", [*keys, "file_name"]].astype("string")
    current = current.drop_duplicates(keys, keep="last")
    left = rows[keys].astype("string").reset_index()
    merged = left.merge(current, on=keys, how="left").set_index("index")
    return merged["file_name"].reindex(rows.index).astype("string")


def _status(records: pd.DataFrame, frame_name: str) -> pd.Series:
    """The record's reconciliation status, where its frame has one."""
    if "status" in records.columns:
        return records["status"].astype("string")
    if frame_name == "dq_reporting":
        received = records["received"].astype("boolean").fillna(False)
        on_time = records["on_time"].astype("boolean").fillna(False)
        words = received.map({True: "received", False: "missing"}).astype("string")
        return words.where(~(received & on_time), "on_time")
    if frame_name == "recon_accuracy":
        ok = records["accurate"].astype("boolean").fillna(False)
        words = ok.map({True: "accurate", False: "inaccurate"}).astype("string")
        rule = records["rule"].astype("string")
        return words.where(rule.isna(), words + ": " + rule)
    return pd.Series(pd.NA, index=records.index, dtype="string")


def pending_left_out(records: pd.DataFrame) -> pd.DataFrame:
    """In-scope records that count nowhere because they are still pending."""
    if "status" not in records.columns:
        return _empty(LEFT_OUT_COLUMNS)
    pending = records.loc[(~records["counted"]) & (records["status"] == "pending")]
    return pd.DataFrame(
        {
            "area_code": pending["area_code"].astype("string"),
            "month": pending["month"].astype("string"),
            "person": pd.Series(pd.NA, index=pending.index, dtype="string"),
            "reason": "pending",
            "detail": pending["status"].astype("string"),
            "source": pd.Series(pd.NA, index=pending.index, dtype="string"),
            "file_name": pd.Series(pd.NA, index=pending.index, dtype="string"),
            "row_number": pd.Series(pd.NA, index=pending.index, dtype="Int64"),
        }
    ).reset_index(drop=True)


def error_rows_left_out(excluded: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Excluded staged rows (`stg_exclusions` joined to their staged row, with `file_name`),
    per template, as `LEFT_OUT_COLUMNS`."""
    parts = []
    for template, rows in excluded.items():
        if rows.empty:
            continue
        id_column = next(
            (c for c in ("mother_id", "id_number", "party_id", "wife_id") if c in rows), None
        )
        person = (
            mask_id(rows[id_column].astype("string"))
            if id_column
            else pd.Series(pd.NA, index=rows.index, dtype="string")
        )
        area = rows["village_code"] if "village_code" in rows else rows["unit"]
        parts.append(
            pd.DataFrame(
                {
                    "area_code": area.astype("string"),
                    "month": rows["report_month"].astype("string"),
                    "person": person,
                    "reason": "error_row",
                    "detail": rows["rules"].astype("string"),
                    "source": template,
                    "file_name": rows["file_name"].astype("string"),
                    "row_number": pd.to_numeric(rows["row_number"]).astype("Int64"),
                }
            )
        )
    if not parts:
        return _empty(LEFT_OUT_COLUMNS)
    return pd.concat(parts, ignore_index=True)


def quarantined_left_out(files: pd.DataFrame) -> pd.DataFrame:
    """Quarantined uploads (manifest rows) as `LEFT_OUT_COLUMNS`: the whole file is missing."""
    return pd.DataFrame(
        {
            "area_code": files["unit"].astype("string"),
            "month": files["report_month"].astype("string"),
            "person": pd.Series(pd.NA, index=files.index, dtype="string"),
            "reason": "quarantined",
            "detail": files["reason_zh"].astype("string")
            + " / "
            + files["reason_en"].astype("string"),
            "source": (files["source"].astype(str) + "_" + files["kind"].astype(str)),
            "file_name": files["file_name"].astype("string"),
            "row_number": pd.Series(pd.NA, index=files.index, dtype="Int64"),
        }
    ).reset_index(drop=True)


def _empty(columns: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype="string") for c in columns})


def reason_text(reason: str, lang: str) -> str:
    words = REASONS.get(reason)
    if words is None:
        return reason
    return words[0] if lang == "zh" else words[1]


EXPLAIN_COLUMNS: tuple[str, ...] = (
    "included",
    "area_code",
    "month",
    "person",
    "numerator",
    "denominator",
    "status",
    "reason",
    "detail",
    "source",
    "file_name",
    "row_number",
    "other_sources",
)
"""`popstat explain --format csv`: the records that count, then those left out."""


def explanation_frame(records: pd.DataFrame, left_out: pd.DataFrame) -> pd.DataFrame:
    """One frame of both (`EXPLAIN_COLUMNS`): `included` tells them apart."""
    counted = records.assign(included=True)
    missed = left_out.assign(included=False)
    parts = [f for f in (counted, missed) if len(f)]
    if not parts:
        return _empty(EXPLAIN_COLUMNS)
    both = pd.concat(parts, ignore_index=True)
    return both.reindex(columns=list(EXPLAIN_COLUMNS)).reset_index(drop=True)


def left_out_in_snapshot(left_out: pd.DataFrame, scoped: pd.DataFrame) -> pd.DataFrame:
    """For a stock: only what the figure's snapshots miss. Error rows of the snapshot month
    each area's figure uses, and quarantined files of that month or later (why an older
    snapshot is used); an area with no snapshot keeps all."""
    if left_out.empty or scoped.empty:
        return left_out
    used = scoped.groupby(scoped["area_code"].astype("string"))["month"].max()
    month = left_out["month"].astype("string")
    snapshot = left_out["area_code"].astype("string").map(used)
    keep = snapshot.isna() | (month == snapshot)
    keep |= (left_out["reason"] == "quarantined") & (month >= snapshot).fillna(True)
    return left_out.loc[keep.astype(bool)].reset_index(drop=True)
