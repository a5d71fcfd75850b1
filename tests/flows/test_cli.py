"""The `popstat` command's own behaviour, before any run starts."""

from __future__ import annotations

from pathlib import Path

import pytest


def test_run_refuses_at_once_without_its_inputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A missing inbox or reference file is said before Prefect starts, with exit 2."""
    from flows.cli import main

    code = main(
        [
            "run",
            "--home",
            str(tmp_path / "home"),
            "--inbox",
            str(tmp_path / "nowhere"),
            "--reference",
            str(tmp_path),
            "--as-of",
            "2026-10-06",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "inbox folder not found" in err and "areas.csv" in err
    # The lock was taken (a refused second run speaks first) and given back; no run began.
    from sqlalchemy import func, select

    from warehouse import schema
    from warehouse.db import make_engine

    with make_engine(f"sqlite:///{tmp_path / 'home' / 'warehouse.db'}").connect() as conn:
        assert conn.execute(select(func.count()).select_from(schema.run_lock)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(schema.runs)).scalar() == 0
