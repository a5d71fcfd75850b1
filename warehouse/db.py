"""Engines and migrations: the only way into the warehouse.

The embedded default is SQLite in WAL mode: a dashboard can read while the nightly
run writes (DuckDB locks the whole file against other processes, and Great
Expectations cannot validate DuckDB tables). PostgreSQL is the production target.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

# The names bulk loads' scratch files are attached under start so (warehouse.scratch).
SCRATCH_SCHEMA = "popstat_scratch"


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers in during the nightly write; NORMAL is durable at each checkpoint.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _detach_on_checkin(dbapi_connection: Any, record: Any) -> None:
    """Detach a bulk load's scratch files (a copy lists each in the connection's record):
    they stay attached until their transaction ends; a connection back in the pool has
    ended it, and detaching closes the (already unlinked) files."""
    attached = record.info.pop(SCRATCH_SCHEMA, ())
    if dbapi_connection is not None:
        for schema in attached:
            dbapi_connection.execute(f"DETACH DATABASE {schema}")


def make_engine(url: str) -> Engine:
    """An engine for any SQLAlchemy URL; creates the folder of an SQLite file."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    engine = create_engine(url, future=True)
    if is_sqlite(engine):
        database = engine.url.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "checkin", _detach_on_checkin)
    return engine


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (idempotent)."""
    command.upgrade(alembic_config(engine), "head")
