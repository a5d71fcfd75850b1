"""A 2-county province on Dask and in the local pool: the same mart, to the byte, as
in the run's own process.

`popstat run --executor dask --dask-workers 2` reconciles the partitions (the
townships of both counties) in two worker processes of a Dask LocalCluster; `popstat
run` reconciles them one after another in its own process. Both run on PostgreSQL (a Dask run refuses SQLite, tested here too)
against the session's Prefect server. What the person types is what is tested: the
command, what it prints, and what the dashboard then reads.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from synthetic.province import generate_province
from tests.e2e._ops import SECRET, TIME_ZONE, popstat_env, published_mart, run_popstat
from warehouse.inbox import write_files

pytestmark = [pytest.mark.prefect, pytest.mark.postgres]

PROVINCE_SIZE = {
    "townships": 2,
    "villages_per_township": 2,
    "women_per_village": 25,
    "last_month": 4,
}


@pytest.fixture(scope="module")
def province_folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """The province's inbox and reference folders, and its as-of date."""
    province = generate_province(2, seed=5, **PROVINCE_SIZE)
    root = tmp_path_factory.mktemp("province")
    write_files(root / "inbox", ((f.path, f.data, f.arrived_at) for f in province.files), TIME_ZONE)
    write_files(
        root / "reference", ((n, d, None) for n, d in province.reference.items()), TIME_ZONE
    )
    as_of = province.counties[0].spec.effective_as_of.isoformat()
    return root / "inbox", root / "reference", as_of


@pytest.fixture
def three_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, str]]:
    from tests.e2e._pipeline import warehouse_url

    generators = [warehouse_url("postgresql", tmp_path_factory) for _ in range(3)]
    first, second, third = (next(g) for g in generators)
    yield first, second, third
    for generator in generators:
        next(generator, None)


def _run(
    prefect_api: str,
    folders: tuple[Path, Path, str],
    home: Path,
    url: str,
    *extra: str,
    **env: str,
) -> str:
    inbox, reference, as_of = folders
    args = ["run", "--inbox", str(inbox), "--reference", str(reference), "--as-of", as_of]
    args += ["--home", str(home), "--warehouse", url, *extra]
    environment = popstat_env(prefect_api, POPSTAT_SECRET_KEY=SECRET, **env)
    done = run_popstat(args, environment, cwd=home.parent)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _partitions_line(stdout: str) -> tuple[int, int]:
    found = re.search(
        r"分区 partitions: (\d+) 个乡镇 townships, 重算 recomputed (\d+) in (\d+) 个进程 processes",
        stdout,
    )
    assert found, stdout
    assert found.group(1) == found.group(2), "a first run found partitions in a cache"
    return int(found.group(1)), int(found.group(3))


def test_a_province_on_dask_publishes_the_default_executors_mart(
    prefect_api: str,
    province_folders: tuple[Path, Path, str],
    three_postgres: tuple[str, str, str],
    tmp_path: Path,
) -> None:
    local_url, dask_url, pool_url = three_postgres
    # A province this small stays in the run's own process (below the pool's threshold).
    local = _run(prefect_api, province_folders, tmp_path / "local", local_url)
    on_dask = _run(
        prefect_api,
        province_folders,
        tmp_path / "dask",
        dask_url,
        "--executor",
        "dask",
        "--dask-workers",
        "2",
    )
    # The local pool, made to start however little the work: two worker processes.
    in_pool = _run(
        prefect_api,
        province_folders,
        tmp_path / "pool",
        pool_url,
        POPSTAT_PARTITION_WORKERS="2",
        POPSTAT_PARTITION_POOL_MIN_MB="0",
    )
    # Four townships each time: in the run's own process, in the cluster's two workers
    # and in the local pool's two.
    townships = 2 * PROVINCE_SIZE["townships"]
    assert _partitions_line(local) == (townships, 1)
    assert _partitions_line(on_dask) == (townships, 2)
    assert _partitions_line(in_pool) == (townships, 2)

    expected = published_mart(local_url)
    pooled = published_mart(pool_url)
    pd.testing.assert_frame_equal(pooled, expected, check_exact=True)
    actual = published_mart(dask_url)
    counties = set(expected.loc[expected["area_level"] == "county", "area_code"])
    assert len(counties) == 2
    assert (expected["area_level"] == "province").any()
    assert expected["numerator"].fillna(0).gt(0).any()
    pd.testing.assert_frame_equal(actual, expected, check_exact=True)
    assert actual.to_csv(index=False).encode() == expected.to_csv(index=False).encode()


def test_a_dask_run_refuses_the_embedded_warehouse(
    province_folders: tuple[Path, Path, str], tmp_path: Path
) -> None:
    inbox, reference, as_of = province_folders
    args = ["run", "--inbox", str(inbox), "--reference", str(reference), "--as-of", as_of]
    args += ["--home", str(tmp_path / "home"), "--executor", "dask"]
    done = run_popstat(args, popstat_env("http://127.0.0.1:9/api"), cwd=tmp_path)
    assert done.returncode == 2
    assert "需要 PostgreSQL" in done.stderr and "needs a PostgreSQL warehouse" in done.stderr
    assert not (tmp_path / "home" / "warehouse.db").exists()
