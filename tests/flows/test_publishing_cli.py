"""`popstat export`, `bulletin` and `grant-dashboard` through the real command line."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text

from flows.cli import main
from tests.mart_samples import sample_mart
from warehouse.db import make_engine
from warehouse.publish import publish

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def published_url(warehouse_url: str) -> str:
    engine = make_engine(warehouse_url)
    publish(engine, {}, sample_mart(), "r1")
    engine.dispose()
    return warehouse_url


def test_export_and_bulletin(
    published_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "a.xlsx"
    args = ["--warehouse", published_url, "--format", "xlsx", "--period", "2026-Q3"]
    assert main(["export", *args, "--area", "654226101", "--out", str(out)]) == 0
    assert len(pd.read_excel(out, engine="calamine")) == 2 * 3
    assert "已导出 exported 6" in capsys.readouterr().out
    assert main(["export", *args, "--indicator", "nope"]) == 2
    assert "unknown indicators" in capsys.readouterr().err
    assert (
        main(["export", "--warehouse", published_url, "--format", "csv", "--period", "2024"]) == 1
    )
    assert "no matching rows" in capsys.readouterr().err
    bulletin = ["bulletin", "--warehouse", published_url, "--out", str(tmp_path)]
    assert main([*bulletin, "--period", "2026-Q3"]) == 0
    assert (tmp_path / "bulletin_2026-Q3.html").exists()
    assert (tmp_path / "bulletin_2026-Q3.xlsx").exists()
    assert main([*bulletin, "--period", "2026-Q9"]) == 2
    assert main([*bulletin, "--period", "2025-Q3"]) == 1


def test_missing_warehouse_is_explained_not_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "nowhere"
    assert main(["export", "--home", str(home), "--format", "csv"]) == 1
    assert "no warehouse" in capsys.readouterr().err
    assert not home.exists()


def test_grant_dashboard_on_sqlite_says_it_needs_postgresql(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    assert main(["grant-dashboard", "dash", "--warehouse", url]) == 2
    err = capsys.readouterr().err
    assert "需要 PostgreSQL" in err and "need a PostgreSQL warehouse" in err


@pytest.mark.postgres
def test_grant_dashboard_on_postgresql(
    postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    role = f"dash_{uuid.uuid4().hex[:8]}"
    try:
        assert main(["grant-dashboard", role, "--warehouse", postgres_url]) == 0
        assert "mart_target_achievement" in capsys.readouterr().out
        assert main(["grant-dashboard", "bad-name;", "--warehouse", postgres_url]) == 2
    finally:
        engine = make_engine(postgres_url)
        with engine.begin() as conn:
            conn.execute(text(f'drop owned by "{role}"'))
            conn.execute(text(f'drop role "{role}"'))
        engine.dispose()


def test_export_and_bulletin_import_neither_prefect_nor_gx(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    engine = make_engine(url)
    from warehouse.db import migrate

    migrate(engine)
    publish(engine, {}, sample_mart(), "r1")
    engine.dispose()
    script = (
        "import sys\n"
        "from flows.cli import main\n"
        f"assert main(['export', '--warehouse', {url!r}, '--format', 'parquet', "
        f"'--out', {str(tmp_path)!r}]) == 0\n"
        f"assert main(['bulletin', '--warehouse', {url!r}, '--period', '2026-Q3', "
        f"'--out', {str(tmp_path)!r}]) == 0\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('prefect', 'great_expectations'))\n"
        "assert not heavy, heavy[:5]\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
