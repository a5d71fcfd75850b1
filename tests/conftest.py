"""Shared fixtures: a real warehouse per test, on SQLite and on PostgreSQL.

The same warehouse tests run against the embedded default (SQLite, WAL) and the
production database. PostgreSQL tests get a schema of their own, dropped after.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine, create_engine, text

from warehouse.db import make_engine, migrate

# Property tests check behaviour, not speed (speed is measured in benchmarks/): no deadline,
# so a busy CI machine cannot fail them.
hypothesis_settings.register_profile("popstat", deadline=None)
hypothesis_settings.load_profile("popstat")

POSTGRES_URL = os.environ.get(
    "POPSTAT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _postgres_available() -> str | None:
    try:
        with create_engine(POSTGRES_URL).connect() as conn:
            conn.execute(text("select 1"))
    except Exception as error:  # any failure means: not reachable
        return str(error).splitlines()[0]
    return None


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def warehouse_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """An empty, migrated warehouse URL: SQLite file, or a fresh PostgreSQL schema."""
    yield from _warehouse(request.param, tmp_path_factory)


@pytest.fixture
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An empty, migrated PostgreSQL schema, for what only PostgreSQL has (roles)."""
    yield from _warehouse("postgresql", tmp_path_factory)


def _warehouse(kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('wh') / 'warehouse.db'}"
        migrate(make_engine(url))
        yield url
        return
    problem = _postgres_available()
    if problem:
        # CI starts PostgreSQL; a warehouse test that cannot reach it is a failure, not a skip.
        pytest.fail(f"PostgreSQL not reachable at {POSTGRES_URL}: {problem}")
    schema_name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'create schema "{schema_name}"'))
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema_name}"
    migrate(make_engine(url))
    yield url
    with admin.begin() as conn:
        conn.execute(text(f'drop schema "{schema_name}" cascade'))
    admin.dispose()


@pytest.fixture
def engine(warehouse_url: str) -> Iterator[Engine]:
    eng = make_engine(warehouse_url)
    yield eng
    eng.dispose()
