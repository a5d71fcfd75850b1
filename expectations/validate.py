"""Validate staged frames with the generated suites and turn failures into findings.

All rows of one template — every upload of the run — are validated as ONE batch:
an ephemeral GX context (no files, no analytics, no progress bars), a pandas data
source with one dataframe asset per template and a whole-dataframe batch
definition. The context, the assets and the suites are built once per process
(`expectations/runtime.py`, `gx_runtime`) because importing GX and building suites
costs seconds.

Failures are mapped back to rows through the batch index (`upload_id`,
`row_number`) with `result_format = COMPLETE` and `unexpected_index_column_names`.
GX gotcha: with the index columns as ordinary columns, GX looks up every failing
cell with `DataFrame.at` (about 20 µs a cell: a minute for a million failures);
with them as a named MultiIndex and `exclude_unexpected_values` it only unpacks
index tuples. Values are then read from our own frame, vectorised.

Each batch's result is also kept on the runtime, cut down to summary size, for the
run's Data Docs (`expectations/data_docs.py`: `collect_result` here, `build_data_docs`
once at the end of the validate stage). The findings (→ `dq_issues`) are what officers read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from expectations.chinese_id import id_problems
from expectations.data_docs import collect_result
from expectations.runtime import gx_runtime
from expectations.suites import (
    INDEX,
    SEX_LABELS,
    birth_column,
    err_column,
    first_row_column,
    first_upload_column,
    prepare_batch,
    suite_name,
)
from transforms.landing.identity import mask_id
from transforms.quality.rules import (
    FINDING_COLUMNS,
    IDENTITY_KEY_COLUMNS,
    empty_findings,
    findings_frame,
    rule,
)
from transforms.templates import Column, Contract, Template, load_contract

RESULT_FORMAT: dict[str, Any] = {
    "result_format": "COMPLETE",
    "unexpected_index_column_names": list(INDEX),
    "exclude_unexpected_values": True,  # values come from our frame (see module doc)
    "return_unexpected_index_query": False,
}


class ValidationFailed(RuntimeError):
    """An expectation raised instead of answering: a bug or a frame of the wrong shape."""


def validate_batch(
    frame: pd.DataFrame,
    template: Template,
    report_month_col: str = "report_month",
    *,
    raw: pd.DataFrame | None = None,
    contract: Contract | None = None,
) -> pd.DataFrame:
    """Validate every row of one template as one batch; return the findings.

    `frame`: staged rows (docs/design.md, "Staged frames") of any number of uploads.
    `raw` (optional): the same rows as read — string cells under canonical column
    names plus `upload_id` and `row_number` (the normaliser's input). A cell that
    failed parsing is null in `frame`; with `raw`, its finding shows the value read.

    Pass the rows of *current* uploads only (not superseded or duplicate files): a
    value that must be unique across units (`unique = "all"`) is compared within the
    batch, and the earliest (`upload_id`, `row_number`) holding it is kept.

    Returns findings (docs/design.md, "Findings"); `rules.excluded_rows` lists the rows
    they exclude. Raises `ValidationFailed` when an expectation could not run.
    """
    if frame.empty:
        return empty_findings()
    contract = contract or load_contract()
    runtime = gx_runtime()
    batch_frame = prepare_batch(frame, template, report_month_col)
    suite = runtime.suite(template, contract)
    batch = runtime.batch_definition(template).get_batch(
        batch_parameters={"dataframe": _one_chunk(batch_frame[_suite_columns(suite, batch_frame)])}
    )
    try:
        result = batch.validate(suite, result_format=RESULT_FORMAT)
    finally:
        runtime.forget(batch.id)
    collect_result(result, template.staging_table, runtime)

    context = _RowContext(template, batch_frame, report_month_col, raw)
    parts: list[pd.DataFrame] = []
    for outcome in result.results:
        config = outcome.expectation_config
        if config is None:
            raise ValidationFailed(f"{suite_name(template)}: a result without its expectation")
        if outcome.exception_info.get("raised_exception"):
            raise ValidationFailed(
                f"{suite_name(template)}: {config.type} on {config.kwargs}: "
                f"{outcome.exception_info.get('exception_message')}"
            )
        if outcome.success:
            continue
        positions = _failed_positions(batch_frame, outcome.result)
        if config.meta.get("unless_err"):
            errs = batch_frame[err_column(config.meta["column"])].to_numpy()[positions]
            positions = positions[pd.isna(errs)]
        if len(positions):
            parts.append(context.findings(config.meta, positions))
    if not parts:
        return empty_findings()
    findings = pd.concat(parts, ignore_index=True)
    return findings.sort_values(["upload_id", "row_number"], kind="stable").reset_index(drop=True)


def _one_chunk(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with each Arrow-backed column in one contiguous chunk. GX filters the
    frame for nearly every expectation, and Arrow's take over a column of many chunks (one
    a staged file, a row group) cost a quarter of validation; one copy up front is less."""
    columns: dict[str, Any] = {}
    for name, series in frame.items():
        array = series.array
        chunked = getattr(array, "_pa_array", None)  # ArrowStringArray, ArrowExtensionArray
        if chunked is not None and chunked.num_chunks > 1:
            array = type(array)(chunked.combine_chunks())
        columns[str(name)] = array
    return pd.DataFrame(columns, index=frame.index, copy=False)


def _suite_columns(suite: Any, frame: pd.DataFrame) -> list[str]:
    """The frame's columns the suite's expectations name (as a column or inside a row
    condition), in the frame's order. GX filters the whole batch frame for each
    expectation (a null filter, a row condition): with the raw text and lineage columns,
    that copying was a third of validation. Our own columns (raw values for the
    findings) are read from the full frame, aligned by position."""
    named: set[str] = set()
    for expectation in suite.expectations:
        for value in expectation.configuration.kwargs.values():
            values = value if isinstance(value, list | tuple) else [value]
            named |= {v for v in values if isinstance(v, str)}
    conditions = " ".join(
        str(e.configuration.kwargs.get("row_condition") or "") for e in suite.expectations
    )
    return [c for c in frame.columns if c in named or (conditions and c in conditions)]


def _failed_positions(batch_frame: pd.DataFrame, result: dict[str, Any]) -> np.ndarray:
    """Row positions in `batch_frame` of an expectation's unexpected rows."""
    index_list = result.get("unexpected_index_list") or []
    if not index_list:
        return np.empty(0, dtype=np.intp)
    # exclude_unexpected_values: one dict of parallel lists, {"upload_id": [...], ...}
    columns = index_list[0] if isinstance(index_list[0].get(INDEX[0]), list) else None
    if columns is None:  # GX gave one dict per row
        columns = {name: [row[name] for row in index_list] for name in INDEX}
    wanted = pd.MultiIndex.from_arrays([columns[name] for name in INDEX], names=list(INDEX))
    positions = batch_frame.index.get_indexer(wanted)
    return positions[positions >= 0]


class _RowContext:
    """Turns one expectation's failing rows into findings (values, keys, messages)."""

    def __init__(
        self,
        template: Template,
        batch_frame: pd.DataFrame,
        report_month_col: str,
        raw: pd.DataFrame | None,
    ) -> None:
        self.template = template
        self.frame = batch_frame
        self.report_month_col = report_month_col
        self.raw = None if raw is None else raw.set_index(list(INDEX))
        person = [c for c in template.columns if c.type == "id" and c.required]
        self.person_column = person[0].name if person else None

    def findings(self, meta: dict[str, Any], positions: Any) -> pd.DataFrame:
        rows = self.frame.iloc[positions]
        column = self.template.column(meta["column"])
        index = rows.index
        value = self._value(column, rows, from_raw=meta["rule_from"] == "err_column")
        codes = self._codes(meta, column, rows)
        other = self._other_value(meta, rows)
        first_row = self._optional(rows, first_row_column(column.name))
        first_upload = self._optional(rows, first_upload_column(column.name))
        condition = meta["params"].get("condition_column")
        condition_actual = rows[condition].astype("string") if condition is not None else None
        months = rows[self.report_month_col].astype("string")
        severity = meta["severity"]

        columns = {
            "value": value,
            "report_month": months,
            "other_value": other,
            "first_row": first_row,
            "first_upload": first_upload,
        }
        if condition_actual is not None:
            columns["condition_actual"] = condition_actual
        cells = {k: _cells(v, len(rows)) for k, v in columns.items()}
        zh: list[str] = []
        en: list[str] = []
        for i, code in enumerate(codes.tolist()):
            params = {**meta["params"], **{k: v[i] for k, v in cells.items()}}
            m_zh, m_en = rule(code).render(severity, **params)
            zh.append(m_zh)
            en.append(m_en)

        out = pd.DataFrame(
            {
                "rule": codes.to_numpy(),
                "severity": severity,
                "dimension": [rule(str(c)).dimension for c in codes],
                "source": self.template.source,
                "kind": self.template.kind,
                "unit": rows["unit"].to_numpy() if "unit" in rows else None,
                "report_month": months.to_numpy(),
                "upload_id": index.get_level_values("upload_id"),
                "row_number": index.get_level_values("row_number"),
                "column": column.name,
                "record_key": self._record_key(rows).to_numpy(),
                "value": value.to_numpy(),
                "message_zh": zh,
                "message_en": en,
                "person_key": self._id_key(rows, self.person_column).to_numpy(),
                "value_key": self._id_key(
                    rows, column.name if column.type == "id" else None
                ).to_numpy(),
            },
            columns=[*FINDING_COLUMNS, *IDENTITY_KEY_COLUMNS],
        )
        return findings_frame(out)

    def _codes(self, meta: dict[str, Any], column: Column, rows: pd.DataFrame) -> pd.Series:
        if meta["rule_from"] == "err_column":
            return rows[err_column(column.name)].astype("string")
        if meta["rule_from"] == "id_problems":
            return id_problems(rows[column.name]).fillna("id_format")
        return pd.Series(meta["rule"], index=rows.index, dtype="string")

    def _value(self, column: Column, rows: pd.DataFrame, from_raw: bool) -> pd.Series:
        """The offending value as shown to people: the raw cell for a parse error."""
        if from_raw:
            kept = f"raw_{column.name}"  # the normaliser keeps the text of a failed cell
            if self.raw is not None and column.name in self.raw.columns:
                cells = self.raw[column.name].reindex(rows.index).astype("string")
            elif kept in rows.columns:
                cells = rows[kept].astype("string")
            else:
                return pd.Series(pd.NA, index=rows.index, dtype="string")
            cells = cells.mask(cells.str.strip() == "")
            return mask_id(cells) if column.type == "id" else cells
        return display(rows[column.name], column)

    def _other_value(self, meta: dict[str, Any], rows: pd.DataFrame) -> pd.Series | None:
        other = meta.get("other_column")
        code = meta["rule"]
        if code == "disagrees_with_id" and other is not None:
            return _dates(rows[birth_column(other)])
        if other is not None and other in self.template_columns:
            return display(rows[other], self.template.column(other))
        return None

    @property
    def template_columns(self) -> set[str]:
        return {c.name for c in self.template.columns}

    def _record_key(self, rows: pd.DataFrame) -> pd.Series:
        if self.person_column is None:
            return pd.Series(pd.NA, index=rows.index, dtype="string")
        ids = rows[self.person_column].astype("string")
        kept = f"raw_{self.person_column}"
        if self.raw is not None and self.person_column in self.raw.columns:
            ids = ids.fillna(self.raw[self.person_column].reindex(rows.index).astype("string"))
        elif kept in rows.columns:
            # A mistyped ID still points at a person; an Excel-destroyed one (6.54226E+17)
            # points at nobody, and its text is in `value`.
            text = rows[kept].astype("string").str.strip()
            ids = ids.fillna(text.where(text.str.len().isin([15, 18])))
        return mask_id(ids)

    @staticmethod
    def _id_key(rows: pd.DataFrame, column: str | None) -> pd.Series:
        """The keyed hash of an ID cell: of the ID, or of the text that failed to parse."""
        missing = pd.Series(pd.NA, index=rows.index, dtype="string")
        if column is None:
            return missing
        valid = rows[f"{column}_key"] if f"{column}_key" in rows.columns else missing
        failed = rows[f"raw_{column}_key"] if f"raw_{column}_key" in rows.columns else missing
        return valid.astype("string").fillna(failed.astype("string"))

    @staticmethod
    def _optional(rows: pd.DataFrame, name: str) -> pd.Series | None:
        return rows[name].astype("string") if name in rows.columns else None


def display(values: pd.Series, column: Column) -> pd.Series:
    """Canonical values as a data officer reads them (`string`; IDs masked)."""
    match column.type:
        case "id":
            return mask_id(values)
        case "date":
            return _dates(values)
        case "money":
            return _formatted(values, lambda v: f"{float(v):.2f}")
        case "sex":
            return values.astype("string").map(SEX_LABELS, na_action="ignore").astype("string")
        case "yesno":
            return _formatted(values, lambda v: "是" if bool(v) else "否")
    return values.astype("string")


def _dates(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, errors="coerce").dt.strftime("%Y-%m-%d").astype("string")


def _formatted(values: pd.Series, fmt: Callable[[Any], str]) -> pd.Series:
    return values.astype(object).map(lambda v: None if pd.isna(v) else fmt(v)).astype("string")


def _cells(series: pd.Series | None, n: int) -> list[Any]:
    """A column as a list of Python values, None for null (for message parameters)."""
    if series is None:
        return [None] * n
    return [None if pd.isna(v) else v for v in series.astype(object).tolist()]
