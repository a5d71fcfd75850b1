"""Shared helpers of the reconciliation: months, deadlines, keys, findings.

Months are handled as integer *month indexes* (`year * 12 + month - 1`), so that
"the month after" is `+ 1` and comparisons are integer comparisons on whole
columns; labels (`YYYY-MM`) are produced only for the output frames.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from transforms.rules import FINDING_COLUMNS
from transforms.templates import STAGED_DTYPES, load_contract

# numpy's datetime64[M] counts months from 1970-01: index = that count + 1970 * 12.
_EPOCH_MONTH = 1970 * 12

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
        from transforms.identity import mask_id  # display only; keys never come from here

        return mask_id(raw.astype("string"))
    return pd.Series(pd.NA, index=frame.index, dtype="string")


# ------------------------------------------------------------------ months


def month_index(months: pd.Series) -> pd.Series:
    """`YYYY-MM` labels → month index (`year * 12 + month - 1`, Int64; null stays null)."""
    codes, uniques = pd.factorize(months.astype("string"), use_na_sentinel=True)
    lookup = np.array(
        [int(str(u)[:4]) * 12 + int(str(u)[5:7]) - 1 for u in uniques], dtype=np.int64
    )
    values = (
        lookup[np.where(codes >= 0, codes, 0)] if len(lookup) else np.zeros(len(codes), np.int64)
    )
    return pd.Series(pd.arrays.IntegerArray(values, codes < 0), index=months.index)


def date_month_index(dates: pd.Series) -> pd.Series:
    """Dates → month index of the date (Int64; NaT → null)."""
    raw = dates.to_numpy(dtype="datetime64[s]")
    missing = np.isnat(raw)
    values = raw.astype("datetime64[M]").astype(np.int64) + _EPOCH_MONTH
    return pd.Series(
        pd.arrays.IntegerArray(np.where(missing, 0, values), missing), index=dates.index
    )


def month_label(index: pd.Series) -> pd.Series:
    """Month index → `YYYY-MM` (string dtype; null stays null)."""
    values = index.astype("Int64")
    missing = values.isna().to_numpy()
    months = (values.fillna(_EPOCH_MONTH).to_numpy(np.int64) - _EPOCH_MONTH).astype("datetime64[M]")
    labels = np.datetime_as_string(months, unit="M").astype(object)
    labels[missing] = pd.NA
    return pd.Series(labels, index=index.index, dtype="string")


def month_end(index: pd.Series) -> pd.Series:
    """Month index → the last day of that month, at midnight (`datetime64[s]`)."""
    values = index.astype("Int64")
    missing = values.isna().to_numpy()
    nxt = (values.fillna(_EPOCH_MONTH).to_numpy(np.int64) - _EPOCH_MONTH + 1).astype(
        "datetime64[M]"
    )
    ends = (nxt.astype("datetime64[D]") - np.timedelta64(1, "D")).astype("datetime64[s]")
    ends[missing] = np.datetime64("NaT")
    return pd.Series(ends, index=index.index)


def as_of_month(as_of: date) -> int:
    """The month index of a date."""
    return as_of.year * 12 + as_of.month - 1


def deadline_passed(upload_month: pd.Series, as_of: date, deadline_day: int) -> pd.Series:
    """Whether the upload of each month index is due as of `as_of` (plain bool).

    The upload of month M is due by day `deadline_day` of month M+1 (uploads.md); it
    is *due* once that deadline has passed, i.e. from the next day on.
    """
    current = as_of_month(as_of)
    nxt = upload_month.astype("Int64") + 1
    passed = (nxt < current) | ((nxt == current) & (as_of.day > deadline_day))
    return passed.fillna(False).astype(bool)


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
