"""Opening the warehouse for an officer's command: an existing one that has been run.

The nightly run creates the warehouse; officer commands only read it (and record
reviews). Run from another folder, the default URL points at a file that is not
there: creating an empty one there would make every command answer "no issues".
So an officer command refuses a warehouse that does not exist or was never run,
and says which URL it looked at.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, func, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from warehouse import schema
from warehouse.db import make_engine, migrate


@dataclass(frozen=True)
class WarehouseNotReady(Exception):
    """The warehouse at `url` cannot serve an officer: `reason` is `missing`,
    `unreachable` or `never_run`; `detail` says more."""

    url: str
    reason: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.reason}: {self.url} {self.detail}".strip()


def shown_url(url: str) -> str:
    """The URL as an officer may see it: password hidden, an SQLite file made absolute."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        parsed = parsed.set(database=str(Path(str(parsed.database)).resolve()))
    return parsed.render_as_string(hide_password=True)


def open_for_officer(url: str) -> Engine:
    """An engine on an existing warehouse with at least one completed run (migrated to head).

    Raises `WarehouseNotReady` without creating anything.
    """
    shown = shown_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:") or not Path(database).is_file():
            raise WarehouseNotReady(shown, "missing")
    engine = make_engine(url)
    try:
        if not inspect(engine).has_table(schema.runs.name):
            raise WarehouseNotReady(shown, "never_run")
        with engine.connect() as conn:
            completed = conn.execute(
                select(func.count())
                .select_from(schema.runs)
                .where(schema.runs.c.status == "completed")
            ).scalar_one()
        if not completed:
            raise WarehouseNotReady(shown, "never_run")
        migrate(engine)
    except SQLAlchemyError as error:
        engine.dispose()
        raise WarehouseNotReady(shown, "unreachable", str(error).splitlines()[0]) from error
    except WarehouseNotReady:
        engine.dispose()
        raise
    return engine
