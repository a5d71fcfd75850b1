"""A custom Great Expectations expectation: citizen ID numbers (公民身份号码) are valid.

GB 11643-1999 (uploads.md, "Value formats"): 17 digits and an ISO 7064 MOD 11-2
check character, a province code of GB/T 2260 (or 81/82/83), a real birth date from
1900-01-01 on. The rules themselves live in `transforms.landing.identity` (the normaliser
uses them too); this module wraps them as an expectation on *staged* ID columns,
which must already be canonical: a value that `normalise_ids` would still change
(a 15-digit number, a lower-case `x`, a space) is reported as `id_format`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pandas as pd
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.expectation import ColumnMapExpectation
from great_expectations.expectations.metrics.map_metric_provider import (
    ColumnMapMetricProvider,
    column_condition_partial,
)

from transforms.landing.identity import as_text, normalise_ids
from transforms.landing.normalise import on_distinct


def id_problems(ids: pd.Series, latest_birth: pd.Timestamp | None = None) -> pd.Series:
    """Per value: null when it is a valid canonical ID, else the err code of its problem.

    Codes as `transforms.landing.identity.normalise_ids` gives them (`id_scientific`,
    `id_format`, `id_checksum`, `id_region`, `id_birth_date` — the last when the
    encoded birth date is not real, before 1900 or after `latest_birth`), and
    `id_format` for a valid but not canonical value. Null stays null.
    """
    values = as_text(ids)
    # Each distinct value checked once: a roster names every woman each month, so a batch
    # holds each ID several times (a quarter of a county's roster: ~3 times).
    canonical, codes = on_distinct(lambda v: normalise_ids(v, latest_birth), values)
    not_canonical = values.notna() & codes.isna() & (canonical != values).fillna(True)
    return codes.mask(not_canonical, "id_format")


class ColumnValuesValidChineseId(ColumnMapMetricProvider):
    """Metric `column_values.valid_chinese_id`: True where the value is a valid ID."""

    condition_metric_name = "column_values.valid_chinese_id"
    condition_value_keys = ("latest_birth_date",)

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column: pd.Series, latest_birth_date: str | None = None, **kwargs: Any) -> Any:
        latest = None if latest_birth_date is None else pd.Timestamp(latest_birth_date)
        return id_problems(column, latest).isna()


class ExpectColumnValuesToBeValidChineseId(ColumnMapExpectation):
    """Expect column values to be valid, canonical citizen ID numbers (GB 11643-1999).

    Checks the 18-character shape, the ISO 7064 MOD 11-2 check character, the
    province code and the encoded birth date (a real date from 1900-01-01, and not
    after `latest_birth_date` when given). Nulls are skipped, as by every column map
    expectation; the pandas engine only.

    Args:
        column: the ID column.
        latest_birth_date: optional upper bound (ISO date) for the encoded birth date.
    """

    latest_birth_date: str | None = None

    map_metric = "column_values.valid_chinese_id"
    success_keys = ("latest_birth_date", "mostly")
    args_keys = ("column",)
    library_metadata: ClassVar[dict[str, str | list[str] | bool]] = {
        "maturity": "experimental",
        "tags": ["popstat", "identity"],
        "contributors": ["popstat"],
        "requirements": [],
        "has_full_test_suite": False,
        "manually_reviewed_code": True,
    }
