"""The manifest's rules (uploads.md): what is new, what is a duplicate, what is current.

Pure decisions over small frames (one row per file); the warehouse applies them.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from transforms.periods import deadline_for as deadline_for  # re-exported: callers and tests
from transforms.periods import deadline_moments, month_due

IDENTITY = ["source", "kind", "unit", "report_month"]


def new_files(candidates: pd.DataFrame, manifest: pd.DataFrame) -> pd.DataFrame:
    """Candidates (path, sha256, …) whose (path, sha256) the manifest has not seen.

    A file already in the manifest is never read again; the same bytes at a new
    path are a new manifest row (a duplicate), decided by `mark_duplicates`.
    """
    seen = set(zip(manifest["path"], manifest["sha256"], strict=True))
    keys = pd.Series(list(zip(candidates["path"], candidates["sha256"], strict=True)), dtype=object)
    fresh = ~keys.isin(seen).to_numpy()
    return candidates.loc[fresh].sort_values(["arrived_at", "path"], kind="stable")


def _duplicate_key(frame: pd.DataFrame) -> pd.Series:
    """Same bytes *for the same upload identity*: two empty months share bytes, not identity."""
    parts = frame.reindex(columns=["sha256", *IDENTITY]).astype("string").fillna("")
    return parts["sha256"].str.cat([parts[c] for c in IDENTITY], sep="|")


def mark_duplicates(fresh: pd.DataFrame, manifest: pd.DataFrame) -> pd.Series:
    """For each fresh file, the upload_id of the first file with the same bytes, or NA.

    The same bytes count as one upload when they claim the same (source, kind, unit,
    month) — a re-sent file or a `(1)` copy; the same bytes under another identity
    (an empty month like the last) are a separate upload. The first to arrive counts:
    a file already in the manifest, else the earliest fresh one (`fresh` is sorted
    by arrival and carries its new `upload_id`).
    """
    known = manifest.assign(_key=_duplicate_key(manifest)).sort_values(["arrived_at", "upload_id"])
    first_seen = known.drop_duplicates("_key").set_index("_key")["upload_id"]
    keys = _duplicate_key(fresh)
    earlier_in_batch = (
        fresh.assign(_key=keys).drop_duplicates("_key").set_index("_key")["upload_id"]
    )
    original = keys.map(first_seen)
    in_batch = keys.map(earlier_in_batch)
    in_batch = in_batch.where(in_batch != fresh["upload_id"])
    return original.fillna(in_batch).astype("Int64")


def current_statuses(uploads: pd.DataFrame) -> pd.Series:
    """Status of each `loaded`/`superseded` upload: the latest arrival of an identity is current.

    Ties in arrival time go to the later upload_id. Quarantined and duplicate files
    keep their status and supersede nothing.
    """
    status = uploads["status"].copy()
    competing = uploads["status"].isin(["loaded", "superseded"])
    ranked = uploads.loc[competing].sort_values(["arrived_at", "upload_id"])
    latest = ~ranked.duplicated(IDENTITY, keep="last")
    status.loc[ranked.index] = latest.map({True: "loaded", False: "superseded"})
    return status


def is_late(report_months: pd.Series, arrived_at: pd.Series, deadline_day: int) -> pd.Series:
    """True where a file arrived after its month's deadline day (NA when the month is unknown)."""
    deadlines = deadline_moments(report_months, deadline_day)
    arrived = pd.to_datetime(arrived_at).to_numpy(dtype="datetime64[s]")
    late = pd.Series(arrived >= deadlines.to_numpy(), index=report_months.index)
    return late.astype("boolean").where(deadlines.notna())


def month_is_due(report_month: str, as_of: date, deadline_day: int) -> bool:
    """A month is due once its deadline has passed as of `as_of` (transforms.periods)."""
    return month_due(report_month, as_of, deadline_day)


REFERENCE_PROBLEM_COLUMNS = ["reason_code", "reason_zh", "reason_en"]


def default_first_month(targets: pd.DataFrame) -> str | None:
    """January of the earliest year in targets.csv (`year` column), or None without targets."""
    years = pd.to_numeric(targets.get("year", pd.Series(dtype="float")), errors="coerce").dropna()
    return f"{int(years.min()):04d}-01" if len(years) else None


# Why a well-named upload is refused against the reference, in the officer's two
# languages; `{unit}`, `{month}`, `{as_of}` and `{first}` are filled per file.
REFERENCE_REASONS: dict[str, tuple[str, str]] = {
    "unknown_unit": (
        "文件名中的单位代码 {unit} 不在区划代码表（areas.csv）或机构表（institutions.csv）中。"
        "请核对单位代码后改名重新上传；如是新设单位，请联系区里更新参考数据。",
        "The unit code {unit} in the file name is in neither areas.csv nor "
        "institutions.csv. Check the code and upload the file again under the right name; "
        "for a new unit, ask the district to update the reference data.",
    ),
    "not_yet_due": (
        "报告月份 {month} 晚于统计截止月份 {as_of}（尚未到期）。"
        "请检查文件名中的年月是否写错，改正后重新上传。",
        "The report month {month} is after the as-of month {as_of} (not yet due). "
        "Check the year and month in the file name and upload it again.",
    ),
    "before_first_month": (
        "报告月份 {month} 早于系统启用月份 {first}，不再接收。"
        "请检查文件名中的年月是否写错，改正后重新上传。",
        "The report month {month} is before the first month {first} the system takes. "
        "Check the year and month in the file name and upload it again.",
    ),
}


def reference_problems(
    names: pd.DataFrame,
    known_units: set[str],
    as_of_month: str,
    first_month: str | None,
) -> pd.DataFrame:
    """Why each well-named upload cannot be taken (uploads.md, "What bad input gets"), or NA.

    `names`: `unit`, `report_month` (`YYYY-MM`), NA for a file whose name did not parse.
    An upload's unit must be in areas.csv or institutions.csv (`known_units`); its month
    must not be after the as-of month (`not_yet_due`) nor before `first_month`.
    Returns `reason_code`, `reason_zh`, `reason_en` on `names`' index.
    """
    out = pd.DataFrame(index=names.index, columns=REFERENCE_PROBLEM_COLUMNS, dtype="string")
    named = names["unit"].notna() & names["report_month"].notna()
    unit = names["unit"].astype("string")
    month = names["report_month"].astype("string")
    unknown = named & ~unit.isin(known_units)
    future = named & ~unknown & (month > as_of_month)
    early = named & ~unknown & ~future & (month < first_month if first_month else False)
    values = {"as_of": as_of_month, "first": first_month}
    for code, flagged in (
        ("unknown_unit", unknown),
        ("not_yet_due", future),
        ("before_first_month", early),
    ):
        zh, en = REFERENCE_REASONS[code]
        for index in names.index[flagged]:
            at = {**values, "unit": unit[index], "month": month[index]}
            out.loc[index, REFERENCE_PROBLEM_COLUMNS] = [code, zh.format(**at), en.format(**at)]
    return out
