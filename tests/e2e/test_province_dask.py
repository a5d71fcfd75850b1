"""A 2-county province on Dask: the same mart, to the byte, as on the default executor.

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
def two_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    from tests.e2e._pipeline import warehouse_url

    first = warehouse_url("postgresql", tmp_path_factory)
    second = warehouse_url("postgresql", tmp_path_factory)
    yield next(first), next(second)
    for generator in (first, second):
        next(generator, None)


def _run(
    prefect_api: str, folders: tuple[Path, Path, str], home: Path, url: str, *extra: str
) -> str:
    inbox, reference, as_of = folders
    args = ["run", "--inbox", str(inbox), "--reference", str(reference), "--as-of", as_of]
    args += ["--home", str(home), "--warehouse", url, *extra]
    done = run_popstat(args, popstat_env(prefect_api, POPSTAT_SECRET_KEY=SECRET), cwd=home.parent)
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
    two_postgres: tuple[str, str],
    tmp_path: Path,
) -> None:
    local_url, dask_url = two_postgres
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
    # Four townships each time: in the run's own process, and in the cluster's two workers.
    townships = 2 * PROVINCE_SIZE["townships"]
    assert _partitions_line(local) == (townships, 1)
    assert _partitions_line(on_dask) == (townships, 2)

    expected, actual = published_mart(local_url), published_mart(dask_url)
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
