"""Run bookkeeping and the warehouse lock that keeps runs from overlapping.

The lock is a row in `run_lock`, taken by an INSERT that only one process can win
(primary key). A lock whose holder is gone — same host and no such process, or no
heartbeat for `stale_after` — is taken over, so a killed run never blocks the next.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from warehouse import schema
from warehouse.clock import DEFAULT_TIME_ZONE, local_now
from warehouse.db import migrate
from warehouse.processes import process_alive

LOCK_NAME = "nightly"


class RunLockedError(RuntimeError):
    """Another run holds the warehouse."""

    def __init__(self, holder: dict[str, Any]) -> None:
        self.holder = holder
        super().__init__(
            f"另一个运行正在进行（{holder['run_id']}，主机 {holder['host']}，进程 {holder['pid']}，"
            f"开始于 {holder['acquired_at']:%Y-%m-%d %H:%M}）。\n"
            f"another run holds the warehouse: {holder['run_id']} on {holder['host']} "
            f"pid {holder['pid']} since {holder['acquired_at']:%Y-%m-%d %H:%M}"
        )


def _is_stale(holder: dict[str, Any], now: datetime, stale_after: timedelta) -> bool:
    if holder["host"] == socket.gethostname() and not process_alive(int(holder["pid"])):
        return True
    return bool(now - holder["heartbeat_at"] > stale_after)


def acquire_lock(
    engine: Engine,
    run_id: str,
    stale_after: timedelta = timedelta(hours=2),
    time_zone: str = DEFAULT_TIME_ZONE,
) -> None:
    """Take the warehouse for `run_id`, or raise RunLockedError at once.

    Lock times are wall time in the configured zone (warehouse.clock), as every time
    an officer reads: the refusal says since when another run holds the warehouse.
    """
    now = local_now(time_zone)
    row = {
        "lock_name": LOCK_NAME,
        "run_id": run_id,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "acquired_at": now,
        "heartbeat_at": now,
    }
    for _attempt in range(2):
        try:
            with engine.begin() as conn:
                conn.execute(insert(schema.run_lock).values(**row))
            return
        except IntegrityError:
            with engine.begin() as conn:
                holder = conn.execute(select(schema.run_lock)).mappings().first()
                if holder is None:
                    continue
                if not _is_stale(dict(holder), now, stale_after):
                    raise RunLockedError(dict(holder)) from None
                # Only the process that still sees the same stale holder removes it.
                conn.execute(
                    delete(schema.run_lock).where(schema.run_lock.c.run_id == holder["run_id"])
                )
    raise RunLockedError({"run_id": "?", "host": "?", "pid": 0, "acquired_at": now})


def heartbeat(engine: Engine, run_id: str, time_zone: str = DEFAULT_TIME_ZONE) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(schema.run_lock)
            .where(schema.run_lock.c.run_id == run_id)
            .values(heartbeat_at=local_now(time_zone))
        )


def release_lock(engine: Engine, run_id: str) -> None:
    with engine.begin() as conn:
        conn.execute(delete(schema.run_lock).where(schema.run_lock.c.run_id == run_id))


def start_run(
    engine: Engine,
    run_id: str,
    as_of: date,
    now: datetime | None = None,
    flow_run_id: str | None = None,
) -> None:
    """Record a run as started `now` (local wall time in the configured zone; warehouse.clock),
    and its Prefect flow run, if any, so that a later run can mark that flow run crashed
    when this process dies."""
    summary = json.dumps({"flow_run_id": flow_run_id}) if flow_run_id else None
    with engine.begin() as conn:
        conn.execute(
            insert(schema.runs).values(
                run_id=run_id,
                started_at=now or datetime.now(),
                as_of=as_of,
                status="running",
                summary=summary,
            )
        )


def finish_run(
    engine: Engine,
    run_id: str,
    status: str,
    summary: dict[str, Any],
    now: datetime | None = None,
) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(schema.runs)
            .where(schema.runs.c.run_id == run_id)
            .values(
                finished_at=now or datetime.now(),
                status=status,
                summary=json.dumps(summary, ensure_ascii=False, default=str),
            )
        )


def new_run_id(now: datetime | None = None) -> str:
    """`run-<local time>-<pid>`; callers pass the configured zone's time (warehouse.clock)."""
    stamp = (now or datetime.now()).strftime("%Y%m%dT%H%M%S")
    return f"run-{stamp}-{os.getpid()}"


def abandon_running(engine: Engine, run_id: str, now: datetime | None = None) -> list[str]:
    """Mark runs left `running` by a process that died as failed; call while holding the lock.

    Whoever holds the lock is the only run there is, so any other `running` row
    belongs to a process that was killed (its lock was taken over as stale).
    """
    return list(abandon_running_flow_runs(engine, run_id, now))


def abandon_running_flow_runs(
    engine: Engine, run_id: str, now: datetime | None = None
) -> dict[str, str | None]:
    """`abandon_running`, answering {run id: its Prefect flow run id or None}."""
    r = schema.runs.c
    with engine.begin() as conn:
        rows = conn.execute(
            select(r.run_id, r.summary).where(r.status == "running", r.run_id != run_id)
        ).all()
        gone: dict[str, str | None] = {}
        for gone_id, summary in rows:
            started = json.loads(summary) if summary else {}
            gone[str(gone_id)] = started.get("flow_run_id")
            conn.execute(
                update(schema.runs)
                .where(r.run_id == gone_id)
                .values(
                    finished_at=now or datetime.now(),
                    status="failed",
                    summary=json.dumps(
                        {**started, "error": f"abandoned: the process died; found by {run_id}"}
                    ),
                )
            )
    return gone


@contextmanager
def lock_unless_held(
    engine: Engine, run_id: str | None, time_zone: str = DEFAULT_TIME_ZONE
) -> Iterator[str]:
    """The caller's run id (it holds the lock), or a new one under a lock taken here.

    `popstat run` takes the lock before it imports Prefect and passes its run id; a
    run started without one (the schedule, the UI) takes it here and gives it back.
    """
    if run_id is not None:
        yield run_id
        return
    migrate(engine)
    own = new_run_id(local_now(time_zone))
    acquire_lock(engine, own, time_zone=time_zone)
    try:
        yield own
    finally:
        release_lock(engine, own)
