"""Great Expectations suites generated from the upload templates.

One `ExpectationSuite` per template (`suite_<source>_<kind>`), built from
`transforms/contracts/templates.toml` — no expectation is written by hand here,
each comes from a field of a column:

| column field | expectation | rule |
| --- | --- | --- |
| every column | `err_<column>` is null | the normaliser's code (`id_checksum`, `date_format`, …) |
| `required` | value not null (rows with an `err_<column>` code already reported) | `missing` |
| `required_unless` | value not null where the other column is set and differs | `required_unless` |
| `type = "id"` | `ExpectColumnValuesToBeValidChineseId` | `id_format`/`id_region`/`id_birth_date`/`id_checksum` |
| `type = "id"` | encoded birth date ≤ end of the report month | `id_birth_date` |
| `type = "enum"`, `"sex"` | value in the canonical set | `enum_value`, `sex_value` |
| `type = "area_code"` | 12 digits | `area_code_format` |
| `min`, `max` | value between | `out_of_range` |
| `unique = "file"` / `"all"` | no earlier row with the value (first kept) | `duplicate_in_file` / `duplicate_across_units` |
| `date_rule` | date ≤ end of / within the report month | `date_after_report_month` / `date_outside_report_month` |
| `at_most_column` | other column ≥ value | `exceeds_column` |
| `agrees_with_id` | date = birth date in that ID | `disagrees_with_id` |

`only_when` adds nothing: a value on another row is ignored downstream, not wrong.

Every expectation's `meta` holds the rule (`rule`, or `rule_from` = `err_column` /
`id_problems` when the code depends on the row), `severity` (the column's
`default_severity`), `dimension`, the `column` and the message parameters.

GX cannot say "the first occurrence is kept" nor read a report month per row, so
`prepare_batch` adds helper columns (prefix `_gx_`) before validation: the report
month's first and last day, the birth date encoded in each ID, and for unique
columns the row (and upload) of the value's first occurrence. The batch is indexed
by (`upload_id`, `row_number`), which is how failures are mapped back to rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import great_expectations as gx
import great_expectations.expectations as gxe
import pandas as pd
from great_expectations.expectations.expectation import Expectation
from great_expectations.expectations.row_conditions import Column as Col

from expectations.chinese_id import ExpectColumnValuesToBeValidChineseId
from transforms.landing.identity import birth_date_from_id
from transforms.landing.normalise import report_month_ends
from transforms.quality.rules import ROW_COLUMNS, rule
from transforms.templates import Column, Contract, Template, load_contract

INDEX = ROW_COLUMNS
MONTH_START = "_gx_month_start"
MONTH_END = "_gx_month_end"
SEX_LABELS = {"M": "男", "F": "女"}


def birth_column(id_column: str) -> str:
    """Helper column: the birth date encoded in `id_column`."""
    return f"_gx_birth__{id_column}"


def first_row_column(column: str) -> str:
    """Helper column: row number of the first occurrence of a repeated value (null if first)."""
    return f"_gx_first_row__{column}"


def first_upload_column(column: str) -> str:
    """Helper column: upload of the first occurrence of a repeated value (null if first)."""
    return f"_gx_first_upload__{column}"


def err_column(column: str) -> str:
    """The normaliser's error-code column of `column` (docs/design.md)."""
    return f"err_{column}"


def suite_name(template: Template) -> str:
    return f"suite_{template.name}"


def allowed_values(column: Column, contract: Contract) -> tuple[str, ...]:
    """The canonical values of an enum or sex column (what the staged column may hold)."""
    if column.type == "sex":
        return tuple(SEX_LABELS)
    if column.type == "enum" and column.enum is not None:
        return tuple(contract.enums[column.enum])
    return ()


def _allowed_text(column: Column, contract: Contract) -> str:
    values = allowed_values(column, contract)
    return "、".join(SEX_LABELS.get(v, v) for v in values)


def _range_text(column: Column) -> tuple[str, str]:
    lo, hi = column.min, column.max

    def num(x: float) -> str:
        return f"{x:g}"

    if lo is not None and hi is not None:
        return f"在{num(lo)}至{num(hi)}之间", f"between {num(lo)} and {num(hi)}"
    if lo is not None:
        return f"不小于{num(lo)}", f"at least {num(lo)}"
    if hi is not None:
        return f"不大于{num(hi)}", f"at most {num(hi)}"
    return "", ""


def _meta(
    code: str | None,
    column: Column,
    *,
    rule_from: str | None = None,
    other_column: str | None = None,
    unless_err: bool = False,
    **params: Any,
) -> dict[str, Any]:
    """An expectation's meta: the rule, its severity and dimension, message parameters.

    `unless_err`: a failing row whose `err_<column>` is set is not a finding of this
    expectation (the parse error already is).
    """
    return {
        "rule": code,
        "rule_from": rule_from,
        "unless_err": unless_err,
        "severity": column.default_severity,
        "dimension": None if code is None else rule(code).dimension,
        "column": column.name,
        "other_column": other_column,
        "params": {
            "column": column.name,
            "column_zh": column.header,
            **({"other_column": other_column} if other_column is not None else {}),
            **params,
        },
    }


def column_expectations(
    template: Template, column: Column, contract: Contract
) -> list[Expectation]:
    """The expectations one template column gets (module docstring, the table)."""
    name, err = column.name, err_column(column.name)
    out: list[Expectation] = [
        gxe.ExpectColumnValuesToBeNull(
            column=err,
            meta=_meta(
                None, column, rule_from="err_column", allowed=_allowed_text(column, contract)
            ),
        )
    ]
    if column.required:
        # No row_condition `err_<column> is null`: GX applies a row condition with
        # DataFrame.query, a copy of the whole batch per metric. Rows whose err column is
        # set (reported by the expectation above) are dropped when findings are built.
        out.append(
            gxe.ExpectColumnValuesToNotBeNull(
                column=name, meta=_meta("missing", column, unless_err=True)
            )
        )
    if column.required_unless is not None:
        cond = column.required_unless
        other = template.column(cond.column)
        out.append(
            gxe.ExpectColumnValuesToNotBeNull(
                column=name,
                row_condition=Col(err).is_null()
                & Col(cond.column).is_not_null()
                & (Col(cond.column) != cond.equals),
                meta=_meta(
                    "required_unless",
                    column,
                    other_column=cond.column,
                    condition_column=cond.column,
                    condition_column_zh=other.header,
                    condition_value=cond.equals,
                ),
            )
        )
    if column.type == "id":
        out.append(
            ExpectColumnValuesToBeValidChineseId(
                column=name, meta=_meta(None, column, rule_from="id_problems")
            )
        )
        out.append(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A=MONTH_END,
                column_B=birth_column(name),
                or_equal=True,
                ignore_row_if="either_value_is_missing",
                meta=_meta("id_birth_date", column),
            )
        )
    if column.type in ("enum", "sex"):
        code = "sex_value" if column.type == "sex" else "enum_value"
        out.append(
            gxe.ExpectColumnValuesToBeInSet(
                column=name,
                value_set=list(allowed_values(column, contract)),
                meta=_meta(code, column, allowed=_allowed_text(column, contract)),
            )
        )
    if column.type == "area_code":
        out.append(
            gxe.ExpectColumnValuesToMatchRegex(
                column=name, regex=r"^[0-9]{12}$", meta=_meta("area_code_format", column)
            )
        )
    if column.min is not None or column.max is not None:
        range_zh, range_en = _range_text(column)
        out.append(
            gxe.ExpectColumnValuesToBeBetween(
                column=name,
                min_value=column.min,
                max_value=column.max,
                meta=_meta("out_of_range", column, range_zh=range_zh, range_en=range_en),
            )
        )
    if column.unique is not None:
        code = "duplicate_in_file" if column.unique == "file" else "duplicate_across_units"
        out.append(
            gxe.ExpectColumnValuesToBeNull(column=first_row_column(name), meta=_meta(code, column))
        )
    if column.date_rule == "not_after_report_month":
        out.append(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A=MONTH_END,
                column_B=name,
                or_equal=True,
                ignore_row_if="either_value_is_missing",
                meta=_meta("date_after_report_month", column),
            )
        )
    elif column.date_rule == "in_report_month":
        for a, b in ((MONTH_END, name), (name, MONTH_START)):
            out.append(
                gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                    column_A=a,
                    column_B=b,
                    or_equal=True,
                    ignore_row_if="either_value_is_missing",
                    meta=_meta("date_outside_report_month", column),
                )
            )
    if column.at_most_column is not None:
        other = template.column(column.at_most_column)
        out.append(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A=other.name,
                column_B=name,
                or_equal=True,
                ignore_row_if="either_value_is_missing",
                meta=_meta(
                    "exceeds_column", column, other_column=other.name, other_column_zh=other.header
                ),
            )
        )
    if column.agrees_with_id is not None:
        other = template.column(column.agrees_with_id)
        out.append(
            gxe.ExpectColumnPairValuesToBeEqual(
                column_A=name,
                column_B=birth_column(other.name),
                ignore_row_if="either_value_is_missing",
                meta=_meta(
                    "disagrees_with_id",
                    column,
                    other_column=other.name,
                    other_column_zh=other.header,
                ),
            )
        )
    return out


def build_suite(template: Template, contract: Contract | None = None) -> gx.ExpectationSuite:
    """The template's suite, generated from its columns (not yet added to a context)."""
    contract = contract or load_contract()
    suite = gx.ExpectationSuite(
        name=suite_name(template),
        meta={"template": template.name, "staging_table": template.staging_table},
    )
    for column in template.columns:
        for expectation in column_expectations(template, column, contract):
            suite.add_expectation(expectation)
    return suite


def _month_bounds(months: pd.Series) -> tuple[pd.Series, pd.Series]:
    """First and last day (`datetime64[s]`) of each row's report month (NaT if unreadable)."""
    ends = report_month_ends(months, months.index)
    starts = ends - pd.to_timedelta(ends.dt.day - 1, unit="D")
    return starts.astype("datetime64[s]"), ends


def _first_occurrence(
    frame: pd.DataFrame, column: str, within_upload: bool
) -> tuple[pd.Series, pd.Series]:
    """For rows repeating an earlier row's value: that first row's number and upload.

    "Earlier" is by (`upload_id`, `row_number`); nulls never repeat. The first
    occurrence itself gets null, so it is kept (uploads.md).
    """
    keys = [*(["upload_id"] if within_upload else []), column]
    present = frame.loc[frame[column].notna(), [*INDEX, column]]
    if not present.set_index(list(INDEX)).index.is_monotonic_increasing:
        present = present.sort_values(list(INDEX))
    repeat = present.duplicated(subset=keys, keep="first")
    nulls = pd.Series(pd.NA, index=frame.index, dtype="Int64")
    if not repeat.any():
        return nulls, nulls.copy()
    # only repeated values need their first row: a small merge, not a group-by of all rows
    first_of = present[~repeat & present.duplicated(subset=keys, keep=False)]
    lookup = first_of[keys].assign(
        _first_upload=first_of["upload_id"], _first_row=first_of["row_number"]
    )
    matched = (
        present.loc[repeat, keys]
        .rename_axis("_pos")
        .reset_index()
        .merge(lookup, on=keys, how="left")
        .set_index("_pos")
    )
    first_row = matched["_first_row"].reindex(frame.index).astype("Int64")
    first_upload = matched["_first_upload"].reindex(frame.index).astype("Int64")
    return first_row, first_upload


def prepare_batch(
    frame: pd.DataFrame,
    template: Template,
    report_month_col: str = "report_month",
) -> pd.DataFrame:
    """The staged frame as the suite expects it: helper columns, (upload, row) index.

    Template and `err_` columns absent from `frame` are added empty (an optional
    column not in the file). Raises ValueError when (`upload_id`, `row_number`)
    does not identify rows.
    """
    batch = frame.reset_index(drop=True)
    missing_cols = {
        c: pd.Series(pd.NA, index=batch.index, dtype="string")
        for c in _expected_columns(template)
        if c not in batch.columns
    }
    if missing_cols:
        batch = batch.assign(**missing_cols)
    if batch.duplicated(subset=list(INDEX)).any():
        raise ValueError(f"{template.name}: (upload_id, row_number) repeats in the batch")
    helpers: dict[str, pd.Series] = {}
    helpers[MONTH_START], helpers[MONTH_END] = _month_bounds(batch[report_month_col])
    for column in template.columns:
        if column.type == "id":
            helpers[birth_column(column.name)] = birth_date_from_id(batch[column.name])
        if column.unique is not None:
            row, upload = _first_occurrence(batch, column.name, column.unique == "file")
            helpers[first_row_column(column.name)] = row
            helpers[first_upload_column(column.name)] = upload
    return batch.assign(**helpers).set_index(list(INDEX))


def _expected_columns(template: Template) -> Iterable[str]:
    for column in template.columns:
        yield column.name
        yield err_column(column.name)
