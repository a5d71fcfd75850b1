"""Shared helpers of the reconciliation: months, deadlines, keys, findings.

Months are handled as integer *month indexes* (`year * 12 + month - 1`), so that
"the month after" is `+ 1` and comparisons are integer comparisons on whole
columns; labels (`YYYY-MM`) are produced only for the output frames. The month
functions live in transforms.periods (their one owner) and are re-exported here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from transforms.periods import (
    as_of_month,
    date_month_index,
    deadline_passed,
    month_end,
    month_index,
    month_label,
)
from transforms.quality.rules import FINDING_COLUMNS
from transforms.templates import STAGED_DTYPES, load_contract

# The month functions are re-exported for the reconciliation modules.
__all__ = [
    "as_of_month",
    "date_month_index",
    "deadline_passed",
    "month_end",
    "month_index",
    "month_label",
]

_FINDING_DTYPES = {c: "string" for c in FINDING_COLUMNS} | {
    "upload_id": "Int64",
    "row_number": "Int64",
}

_STAGED_DTYPES = STAGED_DTYPES
_LINEAGE_DTYPES = {
    "upload_id": "Int64",
    "row_number": "Int64",
    "unit": "string",
    "report_month": "string",
}


# ------------------------------------------------------------------ frames


def conform(frame: pd.DataFrame | None, template: str) -> pd.DataFrame:
    """The staged frame of `template` with every design.md column present.

    Missing columns (a test's minimal frame, an optional `<id>_masked`) are added as
    nulls of the canonical dtype; date columns are coerced to `datetime64[s]`.
    Existing columns are otherwise left as they are. Never copies the data eagerly.
    """
    frame = pd.DataFrame() if frame is None else frame
    spec = load_contract().templates[template]
    wanted: dict[str, str] = dict(_LINEAGE_DTYPES)
    for column in spec.columns:
        wanted[column.name] = _STAGED_DTYPES[column.type]
        if column.type == "id":
            wanted[f"{column.name}_key"] = "string"
            wanted[f"{column.name}_masked"] = "string"
    added: dict[str, Any] = {}
    for name, dtype in wanted.items():
        if name not in frame.columns:
            added[name] = _nulls(frame.index, dtype)
        elif dtype == "datetime64[s]" and frame[name].dtype != "datetime64[s]":
            added[name] = pd.to_datetime(frame[name]).astype("datetime64[s]")
    return frame.assign(**added) if added else frame


def _nulls(index: pd.Index, dtype: str) -> pd.Series:
    if dtype == "datetime64[s]":
        return pd.Series(np.full(len(index), np.datetime64("NaT"), "datetime64[s]"), index=index)
    return pd.Series(pd.NA, index=index, dtype=dtype)


def masked(frame: pd.DataFrame, column: str) -> pd.Series:
    """The masked ID of `column` (`654226********002X`) for display in findings.

    Uses `<column>_masked` when the caller supplied it, else masks the raw ID if the
    frame still carries it, else null. Never returns a raw ID.
    """
    given = frame.get(f"{column}_masked")
    if given is not None and given.notna().any():
        return given.astype("string")
    raw = frame.get(column)
    if raw is not None and raw.notna().any():
        from transforms.landing.identity import mask_id  # display only; keys never come from here

        return mask_id(raw.astype("string"))
    return pd.Series(pd.NA, index=frame.index, dtype="string")


# ------------------------------------------------------------------ months
# Month and deadline arithmetic has one owner, transforms.periods; these names are the
# column forms the reconciliation imports from here.


def timeliness(
    event_month: pd.Series, recorded_month: pd.Series, as_of: date, deadline_day: int
) -> pd.Series:
    """变更及时率 per change: True / False, or null while not yet decided.

    Timely when the village recorded the change by the upload of the month after the
    event (`recorded <= event + 1`). Not timely when it recorded it later, or has not
    recorded it and that upload is due. Undecided (null) when it has not recorded it
    and that upload is not yet due.
    """
    event = event_month.astype("Int64")
    recorded = recorded_month.astype("Int64")
    on_time = (recorded <= event + 1).fillna(False).astype(bool)
    late = (recorded > event + 1).fillna(False).astype(bool)
    overdue = recorded.isna() & deadline_passed(event + 1, as_of, deadline_day)
    out = pd.Series(pd.NA, index=event.index, dtype="boolean")
    out[on_time] = True
    out[late | overdue] = False
    return out


# ------------------------------------------------------------------- keys


def sha256_hex(*parts: pd.Series) -> pd.Series:
    """SHA-256 (hex) of the `|`-joined string form of each row's parts.

    One hash per row (linear); callers pass non-null parts.
    """
    joined = parts[0].astype("string")
    for part in parts[1:]:
        joined = joined + "|" + part.astype("string")
    values = [hashlib.sha256(str(v).encode("utf-8")).hexdigest() for v in joined.tolist()]
    return pd.Series(values, index=joined.index, dtype="string")


def iso_date(dates: pd.Series) -> pd.Series:
    """Dates as `YYYY-MM-DD` text (string dtype; NaT → null)."""
    raw = dates.to_numpy(dtype="datetime64[s]").astype("datetime64[D]")
    labels = np.datetime_as_string(raw, unit="D").astype(object)
    labels[np.isnat(raw)] = pd.NA
    return pd.Series(labels, index=dates.index, dtype="string")


# --------------------------------------------------------------- findings


def empty_findings() -> pd.DataFrame:
    """A findings frame with no rows (design.md "Findings")."""
    return pd.DataFrame({c: pd.Series([], dtype=t) for c, t in _FINDING_DTYPES.items()})


def findings_frame(index: pd.Index, values: Mapping[str, object]) -> pd.DataFrame:
    """Build findings (one per index entry) from columns given as Series or scalars.

    Columns not given are null. Message columns must not be null.
    """
    out = pd.DataFrame(index=index)
    for column in FINDING_COLUMNS:
        value = values.get(column)
        if isinstance(value, pd.Series):
            out[column] = value.reindex(index).astype(_FINDING_DTYPES[column])
        else:
            out[column] = pd.Series(
                value if value is not None else pd.NA, index=index, dtype=_FINDING_DTYPES[column]
            )
    return out.reset_index(drop=True)


def concat_findings(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate findings frames (possibly none) into one, in the canonical dtypes."""
    frames = [f for f in frames if len(f)]
    if not frames:
        return empty_findings()
    out = pd.concat(frames, ignore_index=True)
    return out.astype(_FINDING_DTYPES)[list(FINDING_COLUMNS)]


def text(series: pd.Series, default: str = "") -> pd.Series:
    """A column as string with nulls replaced, for composing messages."""
    return series.astype("string").fillna(default)
