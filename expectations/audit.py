"""The audit of write–audit–publish: a Great Expectations suite over the computed mart.

The mart is audited in memory, before it replaces yesterday's table. Checks that
GX cannot state directly (a value recomputed from its numerator and denominator,
a status recomputed from the target) are computed into helper columns first and
then expected, so every failure is a GX result with a count and examples.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import great_expectations as gx
import great_expectations.expectations as gxe
import numpy as np
import pandas as pd

from expectations.runtime import gx_runtime
from transforms.indicators.achievement import OUTPUT_COLUMNS
from transforms.indicators.catalog import Catalog, load_catalog
from transforms.indicators.targets import STATUSES, judge
from transforms.quality.rules import empty_findings, findings_frame

MART_COLUMNS = OUTPUT_COLUMNS
AUDIT_COLUMNS = (
    "audit_value_gap",
    "audit_expected_status",
    "audit_rate_within",
    "audit_key_repeats",
)
_KEY = ["area_code", "period", "indicator"]
_TEXT = ["area_code", "area_name", "period", "indicator", "indicator_name"]
# An ID number anywhere in a text cell (15 or 18 characters): personal data never published.
_ID_PATTERN = r"[0-9]{15}(?:[0-9]{2}[0-9Xx])?"
_TOLERANCE = 1e-6


@dataclass(frozen=True)
class AuditResult:
    """Whether the mart may be published, and what failed (bilingual lines)."""

    passed: bool
    failures: tuple[str, ...]


def _expected_value(mart: pd.DataFrame, catalog: Catalog) -> pd.Series:
    """numerator × factor / denominator (numerator × factor for counts), from the catalog."""
    factors = {ind.code: ind.factor for ind in catalog}
    factor = mart["indicator"].map(factors).astype("float64")
    numerator = pd.to_numeric(mart["numerator"]).astype("float64")
    denominator = pd.to_numeric(mart["denominator"]).astype("float64")
    ratio = numerator * factor / denominator.where(denominator > 0)
    return pd.Series(np.where(denominator.isna(), numerator * factor, ratio), index=mart.index)


def _expected_status(mart: pd.DataFrame, catalog: Catalog) -> pd.Series:
    """The status the row's own value and target give (transforms.indicators.targets.judge).

    `too_few` is taken as published where the indicator has a catalog minimum (its
    base may be another measure than the row's denominator), and only there.
    """
    has_minimum = {i.code for i in catalog if i.min_denominator is not None}
    too_few = (mart["status"] == "too_few") & mart["indicator"].isin(list(has_minimum))
    return judge(
        pd.to_numeric(mart["value"]).astype("float64"),
        pd.to_numeric(mart["denominator"]).astype("float64"),
        mart["target_op"],
        pd.to_numeric(mart["target"]).astype("float64"),
        pd.to_numeric(mart["target_hi"]).astype("float64"),
        too_few.fillna(False).astype(bool),
    ).astype(object)


def prepare_audit_frame(mart: pd.DataFrame, catalog: Catalog | None = None) -> pd.DataFrame:
    """The mart plus the helper columns the suite checks."""
    frame = mart.copy()
    value = pd.to_numeric(frame["value"]).astype("float64")
    expected = _expected_value(frame, catalog or load_catalog())
    gap = (value - expected).abs()
    both_missing = value.isna() & expected.isna()
    frame["audit_value_gap"] = gap.where(~both_missing, 0.0).fillna(np.inf)
    frame["audit_expected_status"] = _expected_status(frame, catalog or load_catalog())
    is_rate = frame["unit"] == "%"
    numerator = pd.to_numeric(frame["numerator"]).astype("float64")
    denominator = pd.to_numeric(frame["denominator"]).astype("float64")
    frame["audit_rate_within"] = ~is_rate | denominator.isna() | (numerator <= denominator)
    frame["audit_key_repeats"] = frame.duplicated(_KEY, keep=False)
    return frame


@cache
def mart_suite() -> gx.ExpectationSuite:
    expectations: list[gxe.Expectation] = [
        gxe.ExpectTableColumnsToMatchSet(
            column_set=[*MART_COLUMNS, *AUDIT_COLUMNS],
            exact_match=True,
        ),
        *[gxe.ExpectColumnValuesToNotBeNull(column=c) for c in _KEY],
        gxe.ExpectColumnValuesToBeInSet(column="audit_key_repeats", value_set=[False]),
        gxe.ExpectColumnValuesToBeInSet(column="audit_rate_within", value_set=[True]),
        gxe.ExpectColumnValuesToBeBetween(
            column="audit_value_gap", min_value=0, max_value=_TOLERANCE
        ),
        gxe.ExpectColumnPairValuesToBeEqual(column_A="status", column_B="audit_expected_status"),
        gxe.ExpectColumnValuesToBeInSet(column="status", value_set=list(STATUSES)),
        *[gxe.ExpectColumnValuesToNotMatchRegex(column=c, regex=_ID_PATTERN) for c in _TEXT],
        gxe.ExpectColumnValuesToBeBetween(column="signed_off_share", min_value=0, max_value=1),
    ]
    runtime = gx_runtime()
    suite = gx.ExpectationSuite(name="mart_target_achievement_audit", expectations=expectations)
    return runtime.context.suites.add(suite)


_MESSAGES = {
    "expect_table_columns_to_match_set": (
        "发布表的列与约定不符",
        "mart columns differ from the contract",
    ),
    "expect_column_values_to_not_be_null": ("主键列有空值", "a key column has nulls"),
    "expect_column_values_to_be_in_set": (
        "取值不在允许范围（重复键、分子大于分母或状态异常）",
        "values outside the allowed set (repeated key, numerator above denominator or unknown status)",
    ),
    "expect_column_values_to_be_between": (
        "数值与分子/分母不一致",
        "value disagrees with numerator / denominator",
    ),
    "expect_column_pair_values_to_be_equal": (
        "达标状态与目标不一致",
        "status disagrees with the target",
    ),
    "signed_off_share": (
        "审核把关比例不在0到1之间",
        "signed_off_share outside 0..1",
    ),
    "expect_column_values_to_not_match_regex": (
        "发布表中出现身份证号",
        "an ID number appears in the mart",
    ),
}


def audit_mart(mart: pd.DataFrame, catalog: Catalog | None = None) -> AuditResult:
    """Run the audit suite over the computed mart; publish only if it passes."""
    frame = prepare_audit_frame(mart, catalog)
    runtime = gx_runtime()
    source = runtime.source
    asset_name = "mart_audit"
    try:
        asset = source.get_asset(asset_name)
    except LookupError:
        asset = source.add_dataframe_asset(name=asset_name)
    try:
        batch_definition = asset.get_batch_definition("whole")
    except KeyError:
        batch_definition = asset.add_batch_definition_whole_dataframe("whole")
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
    try:
        result = batch.validate(mart_suite(), result_format="SUMMARY")
    finally:
        runtime.forget(batch.id)  # the mart is not held by GX through publishing
    failures = []
    for outcome in result.results:
        if outcome.success:
            continue
        config = outcome.expectation_config
        kind = config.type if config else "?"
        column = (config.kwargs.get("column") or config.kwargs.get("column_A")) if config else None
        zh, en = _MESSAGES.get(
            "signed_off_share" if column == "signed_off_share" else kind,
            ("审核未通过", "audit failed"),
        )
        count = outcome.result.get("unexpected_count", "")
        failures.append(f"{zh} / {en}: {column or ''} ({count})")
    return AuditResult(passed=not failures, failures=tuple(failures))


def audit_findings(failures: Sequence[str]) -> pd.DataFrame:
    """A failed audit as one issue: nothing was published, yesterday's figures stand."""
    if not failures:
        return empty_findings()
    detail = "；".join(failures)
    return findings_frame(
        [
            {
                "rule": "mart_audit_failed",
                "severity": "error",
                "dimension": "consistency",
                "source": None,
                "kind": None,
                "unit": None,
                "report_month": None,
                "upload_id": None,
                "row_number": None,
                "column": None,
                "record_key": None,
                "value": None,
                "message_zh": f"指标结果审核未通过，本次未发布，仪表板仍显示上次发布的结果。请联系系统管理员。{detail}",
                "message_en": f"the computed indicators failed their audit; nothing was published and "
                f"dashboards keep the last good figures. Contact the administrator. {detail}",
            }
        ]
    )
