"""End-to-end fixtures: one Prefect test server per session, a small generated county.

The Prefect test harness costs ~15 s to start, so it is session-scoped and only
tests that ask for `prefect_api` start it. Subprocess runs (`popstat run`) are
pointed at the same server through PREFECT_API_URL, so they do not start a
temporary server of their own (~11 s each). Helpers are in `_ops.py`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

# Before Prefect is imported anywhere in the session: no telemetry, a patient server start.
for _name, _value in {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
}.items():
    os.environ.setdefault(_name, _value)

from synthetic.county import generate_county  # noqa: E402
from synthetic.spec import GeneratedCounty  # noqa: E402
from tests.e2e._ops import SMALL_COUNTY  # noqa: E402


@pytest.fixture(scope="session")
def prefect_api() -> Iterator[str]:
    """A Prefect server for the whole session (temporary database); yields its API URL."""
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield str(PREFECT_API_URL.value())


@pytest.fixture(scope="session")
def small_county() -> GeneratedCounty:
    """Six villages, two police stations, their institutions, January to June."""
    return generate_county(SMALL_COUNTY)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def two_warehouses(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    """Two empty warehouses of one kind: the disturbed run's (crashed, hostile) and the clean run's."""
    from tests.e2e._pipeline import warehouse_url  # imports the flows: only for tests that ask

    first = warehouse_url(request.param, tmp_path_factory)
    second = warehouse_url(request.param, tmp_path_factory)
    yield next(first), next(second)
    for generator in (first, second):
        next(generator, None)
