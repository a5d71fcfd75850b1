"""Validating in worker processes files what validating in the run's process files.

The validate stage validates its GX batches in worker processes unless told to use the
run's process (`flows/validation_work.py`); the run's process records each batch's
findings, in the order of the batches, and a worker builds the Data Docs from the
results the others hand back. The small county is validated both ways, in many small
batches: the issues, the excluded rows and the Data Docs' pages must be the same.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from synthetic.county import generate_county
from synthetic.spec import GeneratedCounty
from tests.e2e._ops import SMALL_COUNTY
from tests.e2e._pipeline import county_settings, read_table, run_tasks, write_county
from warehouse import staged
from warehouse.db import make_engine, migrate

# What differs between two runs over the same files: when, and the issue's own id.
_PER_RUN = ["issue_id", "status_at"]


@pytest.fixture(scope="module")
def county() -> GeneratedCounty:
    return generate_county(SMALL_COUNTY)


def _validate(county: GeneratedCounty, root: Path, **overrides: Any) -> dict[str, Any]:
    inbox, reference = write_county(county, root, "Asia/Shanghai")
    url = f"sqlite:///{root / 'warehouse.db'}"
    engine = make_engine(url)
    migrate(engine)
    settings = county_settings(county, root, inbox, reference, url).model_copy(update=overrides)
    result = run_tasks(settings, "run-1", ["land", "validate"])
    result.require("land", "validate")
    issues = read_table(engine, "dq_issues").drop(columns=_PER_RUN)
    with engine.connect() as conn:
        excluded = staged.exclusions(conn)
    engine.dispose()
    pages = sorted(p.name for p in (root / "home" / "reports" / "data-docs").rglob("*.html"))
    return {
        "counts": result.returned["validate"],
        "issues": issues.sort_values(list(issues.columns)).reset_index(drop=True),
        "excluded": excluded.sort_values(list(excluded.columns)).reset_index(drop=True),
        "pages": pages,
    }


def test_worker_processes_file_what_the_run_s_process_files(
    county: GeneratedCounty, tmp_path: Path
) -> None:
    small_batches = {"validate_batch_rows": 500}  # many batches per template
    here = _validate(county, tmp_path / "here", validate_workers=1, **small_batches)
    pooled = _validate(
        county,
        tmp_path / "pool",
        validate_workers=2,
        validate_pool_min_rows=0,
        **small_batches,
    )
    assert sum(here["counts"].values()) > 0, "the county plants no quality failure"
    assert pooled["counts"] == here["counts"]
    pd.testing.assert_frame_equal(pooled["issues"], here["issues"])
    assert len(here["excluded"]) > 0
    pd.testing.assert_frame_equal(pooled["excluded"], here["excluded"])
    assert len(here["pages"]) > 2  # an index and a page per batch's result
    assert len(pooled["pages"]) == len(here["pages"])
