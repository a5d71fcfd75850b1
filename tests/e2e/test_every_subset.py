"""Every subset of an inbox runs: a county's first night must work.

The nightly tasks run on the empty inbox, on each source and each kind alone (hospitals not yet
onboarded, a county with only its villages), and on a single hospital file, on the
embedded warehouse. Each run must complete every stage (publish included) with one
engine, disposed at its end, and a subset with files must land some of them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine

from flows import nightly
from flows.settings import Settings
from synthetic.county import generate_county
from synthetic.spec import GeneratedCounty, GeneratedFile
from tests.e2e._ops import SMALL_COUNTY
from tests.e2e._pipeline import NIGHTLY, SECRET_KEY, read_table, run_tasks
from transforms.templates import load_contract
from warehouse.db import make_engine, migrate
from warehouse.inbox import write_files

SUBSETS: dict[str, Callable[[GeneratedFile], bool]] = {
    "empty": lambda f: False,
    "village": lambda f: f.name.startswith("village_"),
    "police": lambda f: f.name.startswith("police_"),
    "hospital": lambda f: f.name.startswith("hospital_"),
    **{
        name: (lambda f, name=name: f.name.startswith(name + "_"))
        for name in load_contract().templates
    },
    "one_checkup_file": lambda f: (
        f.name.startswith("hospital_checkups_")
        and "_202603" in f.name
        and "(" not in f.name
        and "_v" not in f.name
    ),
}


@pytest.fixture(scope="module")
def county() -> GeneratedCounty:
    return generate_county(SMALL_COUNTY)


@pytest.mark.parametrize("subset", list(SUBSETS))
def test_the_nightly_tasks_complete_on_every_subset(
    subset: str, county: GeneratedCounty, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chosen = [f for f in county.files if SUBSETS[subset](f)]
    if subset == "one_checkup_file":
        chosen = chosen[:1]
    assert subset == "empty" or chosen, f"the generator made no {subset} file"
    inbox, reference = tmp_path / "inbox", tmp_path / "reference"
    inbox.mkdir()
    write_files(inbox, ((f.path, f.data, f.arrived_at) for f in chosen), "Asia/Shanghai")
    write_files(reference, ((n, d, None) for n, d in county.reference.items()), "Asia/Shanghai")
    settings = Settings(
        home=tmp_path / "home",
        inbox=inbox,
        reference=reference,
        as_of=county.spec.effective_as_of,
        secret_key=SECRET_KEY,
    )
    engine = make_engine(settings.effective_warehouse_url)
    migrate(engine)
    opened: list[Engine] = []

    def counted(url: str) -> Engine:
        opened.append(make_engine(url))
        return opened[-1]

    monkeypatch.setattr(nightly, "make_engine", counted)
    result = run_tasks(settings, f"subset-{subset}", NIGHTLY)
    result.require(*NIGHTLY)
    # One engine for the whole run, disposed of when it ends (no pooled connection left).
    assert len(opened) == 1
    assert opened[0].pool.checkedout() == 0
    uploads = read_table(engine, "uploads")
    engine.dispose()
    assert len(uploads) == len(chosen)
    if chosen:
        assert (uploads["status"] == "loaded").any(), uploads[["path", "status", "reason_en"]]
    assert "rows" in result.returned["publish"]
