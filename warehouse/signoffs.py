"""Sign-off per village-month (审核把关): a township officer's review, pinned to the files.

A sign-off says "I reviewed this village's uploads for this month". It is pinned to
the sha256 of every file the village sent for that month (whatever became of the
file: loaded, superseded or quarantined), so any file with new bytes that arrives
later — a correction, a new kind, even an unreadable one — withdraws it: the
village changed what the officer reviewed. A byte-identical copy changes nothing.

`village_signoffs` holds the latest state per village-month; every sign-off and
withdrawal is also an event in `village_signoff_events` (who, when, why), like the
issue events. Times are local times of the configured zone, passed in by the caller.

Which village-months can be signed off, and which count behind a published figure
(`review_months`): those the village uploaded anything for, and those due (an
expected upload in `dq_reporting`, even if nothing arrived).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy import Connection, and_, delete, select, update

from transforms.indicators.signoff import review_months as village_review_months
from warehouse import schema
from warehouse.load import bulk_insert, read_frame

SIGNED_OFF = "signed_off"
WITHDRAWN = "withdrawn"
SYSTEM_USER = "popstat"
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
# Quality issues an officer has not closed: still to be fixed at the source.
UNRESOLVED = ("open", "acknowledged")


class SignOffError(ValueError):
    """A sign-off that cannot be recorded, said in Chinese and English."""

    def __init__(self, message_zh: str, message_en: str) -> None:
        super().__init__(f"{message_zh} / {message_en}")
        self.message_zh = message_zh
        self.message_en = message_en


@dataclass(frozen=True)
class SignOff:
    """What one sign-off covered."""

    unit: str
    report_month: str
    files: tuple[str, ...]
    files_sha256: str
    unresolved_errors: int
    replaced: str | None
    """The status of the row it replaced (`signed_off`, `withdrawn`), None if the first."""


def files_digest(sha256s: Iterable[str]) -> str:
    """One digest for a set of files: the sha256 of their distinct sha256s, sorted."""
    joined = "\n".join(sorted({str(s) for s in sha256s}))
    return hashlib.sha256(joined.encode("ascii")).hexdigest()


def _village_uploads(conn: Connection) -> pd.DataFrame:
    u = schema.uploads.c
    return read_frame(
        conn,
        select(u.unit, u.report_month, u.file_name, u.sha256, u.status, u.arrived_at)
        .where(u.source == "village", u.unit.is_not(None), u.report_month.is_not(None))
        .order_by(u.arrived_at, u.upload_id),
    )


def _digests(uploads: pd.DataFrame) -> pd.DataFrame:
    """unit, report_month, files_sha256, files (names one a line) per village-month.

    A byte-identical copy (`duplicate`) adds no sha256 and is not named.
    """
    uploads = uploads.assign(file_name=uploads["file_name"].where(uploads["status"] != "duplicate"))
    if uploads.empty:
        return pd.DataFrame(columns=["unit", "report_month", "files_sha256", "files"])
    grouped = uploads.groupby(["unit", "report_month"], sort=True)
    return pd.DataFrame(
        {
            "files_sha256": grouped["sha256"].agg(files_digest),
            "files": grouped["file_name"].agg(
                lambda names: "\n".join(dict.fromkeys(names.dropna()))
            ),
        }
    ).reset_index()


def _due_village_months(conn: Connection) -> pd.DataFrame:
    r = schema.dq_reporting.c
    return read_frame(
        conn,
        select(r.unit, r.report_month).where(r.source == "village").distinct(),
    )


def review_inputs(conn: Connection) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(received, signed): village-months with any village upload, and those signed off now.

    Both with columns area_code (the village) and month, for transforms.indicators.signoff.
    """
    uploaded = _village_uploads(conn)[["unit", "report_month"]].drop_duplicates()
    s = schema.village_signoffs.c
    signed = read_frame(conn, select(s.unit, s.report_month).where(s.status == SIGNED_OFF))
    names = {"unit": "area_code", "report_month": "month"}
    return uploaded.rename(columns=names), signed.rename(columns=names)


def review_months(conn: Connection) -> pd.DataFrame:
    """Every village-month there is to review, as published: area_code, month, signed_off.

    Those with any village upload, and those due (village rows of `dq_reporting`).
    """
    r = schema.dq_reporting.c
    due = read_frame(conn, select(r.unit, r.source, r.report_month))
    received, signed = review_inputs(conn)
    return village_review_months(due, received, signed)


def village_names(conn: Connection) -> dict[str, str]:
    """Village code → name, from the published mart (the reference data is not in the warehouse)."""
    m = schema.mart_target_achievement.c
    rows = conn.execute(
        select(m.area_code, m.area_name).where(m.area_level == "village").distinct()
    )
    return {str(code): str(name) for code, name in rows if name is not None}


def _check_month(month: str) -> None:
    if not _MONTH.match(month or ""):
        raise SignOffError(
            f"月份格式无效：{month!r}，应为 YYYY-MM（如 2026-09）",
            f"invalid month {month!r}: expected YYYY-MM (e.g. 2026-09)",
        )


def _check_unit(conn: Connection, unit: str, uploads: pd.DataFrame) -> None:
    known = set(village_names(conn)) | set(uploads["unit"]) | set(_due_village_months(conn)["unit"])
    if unit in known:
        return
    if any(code.startswith(unit) for code in known):
        raise SignOffError(
            f"{unit} 不是村代码：审核把关以村为单位，请逐村签核（12位村代码）",
            f"{unit} is not a village code: sign off village by village (12-digit code)",
        )
    raise SignOffError(
        f"未知的村：{unit}（仓库中没有该村的上报或应报记录）",
        f"unknown village {unit}: the warehouse has no upload or expected upload for it",
    )


def unresolved_errors(conn: Connection) -> pd.DataFrame:
    """unit, report_month, errors: active error-severity issues not yet resolved or waived."""
    c = schema.dq_issues.c
    issues = read_frame(
        conn,
        select(c.unit, c.report_month).where(
            c.active.is_(True),
            c.severity == "error",
            c.status.in_(UNRESOLVED),
            c.unit.is_not(None),
            c.report_month.is_not(None),
        ),
    )
    return issues.groupby(["unit", "report_month"]).size().rename("errors").reset_index()


def sign_off(conn: Connection, unit: str, month: str, note: str, by: str, at: datetime) -> SignOff:
    """Record that `by` reviewed `unit`'s uploads for `month`, pinned to their files.

    Raises SignOffError for a malformed month, an unknown village, a village-month
    with nothing to review (no file and not due), or an empty note.
    """
    if not (note or "").strip():
        raise SignOffError("请用 --note 说明审核情况", "say what was reviewed with --note")
    _check_month(month)
    uploads = _village_uploads(conn)
    _check_unit(conn, unit, uploads)
    mine = uploads.loc[(uploads["unit"] == unit) & (uploads["report_month"] == month)]
    due = _due_village_months(conn)
    if mine.empty and not ((due["unit"] == unit) & (due["report_month"] == month)).any():
        raise SignOffError(
            f"{unit} 在 {month} 没有上报文件，也未到报送期限：没有可审核的内容",
            f"{unit} has no upload for {month} and none is due yet: nothing to review",
        )
    digest = files_digest(mine["sha256"])
    files = tuple(dict.fromkeys(mine.loc[mine["status"] != "duplicate", "file_name"]))
    s = schema.village_signoffs.c
    key = and_(s.unit == unit, s.report_month == month)
    replaced = conn.execute(select(s.status).where(key)).scalar()
    conn.execute(delete(schema.village_signoffs).where(key))
    row = {
        "unit": unit,
        "report_month": month,
        "status": SIGNED_OFF,
        "files_sha256": digest,
        "files": "\n".join(files),
        "note": note.strip(),
        "signed_by": by,
        "signed_at": at,
    }
    conn.execute(schema.village_signoffs.insert().values(**row))
    _add_events(conn, pd.DataFrame([row]), SIGNED_OFF, by, at, note.strip(), None)
    errors = unresolved_errors(conn)
    count = errors.loc[(errors["unit"] == unit) & (errors["report_month"] == month), "errors"]
    return SignOff(
        unit=unit,
        report_month=month,
        files=files,
        files_sha256=digest,
        unresolved_errors=int(count.sum()),
        replaced=None if replaced is None else str(replaced),
    )


def _add_events(
    conn: Connection,
    rows: pd.DataFrame,
    action: str,
    by: str,
    at: datetime,
    note: str | pd.Series | None,
    run_id: str | None,
) -> None:
    events = pd.DataFrame(
        {
            "unit": rows["unit"].to_numpy(),
            "report_month": rows["report_month"].to_numpy(),
            "action": action,
            "at": at,
            "by": by,
            "note": note.to_numpy() if isinstance(note, pd.Series) else note,
            "files_sha256": rows["files_sha256"].to_numpy(),
            "run_id": run_id,
        }
    )
    bulk_insert(conn, schema.village_signoff_events, events)


def withdraw_changed(conn: Connection, run_id: str, at: datetime) -> pd.DataFrame:
    """Withdraw every sign-off whose village-month now has files it did not cover.

    Returns the withdrawn rows (unit, report_month, new_files). Called by each run
    after landing, so the figures it publishes already count them as provisional.
    """
    s = schema.village_signoffs.c
    signed = read_frame(
        conn,
        select(s.unit, s.report_month, s.files, s.files_sha256).where(s.status == SIGNED_OFF),
    )
    if signed.empty:
        return pd.DataFrame(columns=["unit", "report_month", "new_files"])
    current = _digests(_village_uploads(conn))
    both = signed.merge(current, on=["unit", "report_month"], how="left", suffixes=("", "_now"))
    changed = both.loc[both["files_sha256_now"].fillna("") != both["files_sha256"]].copy()
    if changed.empty:
        return pd.DataFrame(columns=["unit", "report_month", "new_files"])
    changed["new_files"] = [
        "、".join(n for n in str(now or "").split("\n") if n and n not in set(old.split("\n")))
        for old, now in zip(changed["files"], changed["files_now"].fillna(""), strict=True)
    ]
    notes = "新的上报文件，需重新审核 new upload, review again: " + changed["new_files"]
    for unit, month in zip(changed["unit"], changed["report_month"], strict=True):
        conn.execute(
            update(schema.village_signoffs)
            .where(s.unit == unit, s.report_month == month)
            .values(status=WITHDRAWN, withdrawn_at=at, withdrawn_run=run_id)
        )
    _add_events(conn, changed, WITHDRAWN, SYSTEM_USER, at, notes, run_id)
    return changed[["unit", "report_month", "new_files"]].reset_index(drop=True)


def pending(conn: Connection) -> pd.DataFrame:
    """What waits for review: every village-month there is to review and not signed off.

    Columns: unit, area_name, report_month, files (files received), errors
    (unresolved error issues), state (`never` or `withdrawn`), withdrawn_at.
    Villages with unresolved errors first, then by unit and month.
    """
    months = review_months(conn)
    waiting = months.loc[~months["signed_off"]].rename(
        columns={"area_code": "unit", "month": "report_month"}
    )[["unit", "report_month"]]
    uploads = _village_uploads(conn)
    counts = uploads.groupby(["unit", "report_month"]).size().rename("files").reset_index()
    s = schema.village_signoffs.c
    withdrawn = read_frame(
        conn, select(s.unit, s.report_month, s.withdrawn_at).where(s.status == WITHDRAWN)
    )
    out = (
        waiting.merge(counts, on=["unit", "report_month"], how="left")
        .merge(unresolved_errors(conn), on=["unit", "report_month"], how="left")
        .merge(withdrawn, on=["unit", "report_month"], how="left")
    )
    out["files"] = out["files"].fillna(0).astype("int64")
    out["errors"] = out["errors"].fillna(0).astype("int64")
    out["state"] = out["withdrawn_at"].notna().map({True: WITHDRAWN, False: "never"})
    names = village_names(conn)
    out["area_name"] = out["unit"].map(names).astype("string")
    out = out.sort_values(
        ["errors", "unit", "report_month"], ascending=[False, True, True], kind="stable"
    )
    columns = ["unit", "area_name", "report_month", "files", "errors", "state", "withdrawn_at"]
    return out[columns].reset_index(drop=True)


def signoff_events(conn: Connection, unit: str | None = None) -> pd.DataFrame:
    """The sign-off history, oldest first (optionally of one village)."""
    e = schema.village_signoff_events.c
    query = select(schema.village_signoff_events).order_by(e.event_id)
    if unit:
        query = query.where(e.unit == unit)
    return read_frame(conn, query)


def last_event_id(conn: Connection) -> int | None:
    """The newest sign-off event (the run fingerprint: a sign-off changes published shares)."""
    e = schema.village_signoff_events.c
    value = conn.execute(select(e.event_id).order_by(e.event_id.desc()).limit(1)).scalar()
    return None if value is None else int(value)
