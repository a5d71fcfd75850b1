"""`popstat signoff` on a generated county: what waits, a sign-off, its share, its withdrawal.

Expected numbers come from the generator (its areas, months and planted faults) and
from what the test itself signed off, never from popstat's own output.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from flows.cli import main
from flows.settings import Settings
from synthetic.spec import GeneratedCounty
from tests.e2e._pipeline import NIGHTLY, county_settings, run_tasks, write_county
from warehouse import schema
from warehouse.db import make_engine, migrate
from warehouse.inbox import write_files
from warehouse.load import read_frame

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class County:
    county: GeneratedCounty
    settings: Settings
    url: str
    villages: pd.DataFrame  # code, parent_code of every village
    months: list[str]


@pytest.fixture(scope="module")
def world(small_county: GeneratedCounty, tmp_path_factory: pytest.TempPathFactory) -> County:
    root = tmp_path_factory.mktemp("signoff_county")
    inbox, reference = write_county(small_county, root, Settings().time_zone)
    url = f"sqlite:///{(root / 'warehouse.db').as_posix()}"
    migrate(make_engine(url))
    settings = county_settings(small_county, root, inbox, reference, url)
    run_tasks(settings, "e2e-signoff-1", NIGHTLY).require(*NIGHTLY)
    areas = pd.read_csv(io.BytesIO(small_county.reference["areas.csv"]), dtype=str)
    villages = areas.loc[areas["code"].str.len() == 12, ["code", "parent_code"]]
    spec = small_county.spec
    months = [f"{spec.year}-{m:02d}" for m in range(spec.first_month, spec.last_month + 1)]
    return County(small_county, settings, url, villages.reset_index(drop=True), months)


def _popstat(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _share(url: str, area: str, period: str) -> float:
    m = schema.mart_target_achievement.c
    engine = make_engine(url)
    with engine.connect() as conn:
        shares = read_frame(
            conn,
            select(m.signed_off_share).where(m.area_code == area, m.period == period),
        )["signed_off_share"]
    engine.dispose()
    assert shares.nunique() == 1, shares  # every indicator of a row has the same review
    return float(shares.iloc[0])


def test_signoff_story(world: County, capsys: pytest.CaptureFixture[str]) -> None:
    url = world.url
    total = len(world.villages) * len(world.months)  # every village-month is due by the as-of
    village = str(world.villages["code"].iloc[0])
    township = str(world.villages["parent_code"].iloc[0])
    siblings = int((world.villages["parent_code"] == township).sum())

    # 1. Everything waits; the village-months with planted errors come first, with them.
    code, out, _ = _popstat(capsys, "signoff", "--pending", "--warehouse", url)
    assert code == 0
    assert out.splitlines()[0] == f"待审核 {total} 个村月（共 {total} 个，已签核 0 个）"
    assert out.splitlines()[1].split() == ["村代码", "村名", "月份", "文件数", "未处理错误", "状态"]
    faults = world.county.answer_key.faults
    planted = faults.loc[
        (faults["severity"] == "error")
        & (faults["source"] == "village")
        & (faults["expect_in"] == "dq_issues")
    ]
    first = out.splitlines()[2].split()
    assert (first[0], first[2]) in set(zip(planted["unit"], planted["report_month"], strict=True))
    rows = {(r.split()[0], r.split()[2]): int(r.split()[4]) for r in out.splitlines()[2:]}
    for (unit, month), n in planted.groupby(["unit", "report_month"]).size().items():
        assert rows[(unit, month)] >= n

    # 2. Refusals say why and change nothing.
    for args, message in [
        (["--unit", village, "--month", world.months[0]], "--note"),
        (["--unit", "654226999999", "--month", world.months[0], "--note", "x"], "未知的村"),
        (["--unit", township, "--month", world.months[0], "--note", "x"], "不是村代码"),
        (["--unit", village, "--month", "2026-13", "--note", "x"], "月份格式无效"),
        (["--unit", village, "--month", "2027-01", "--note", "x"], "没有可审核的内容"),
    ]:
        code, out, err = _popstat(capsys, "signoff", "--warehouse", url, *args)
        assert code == 2 and message in err and out == "", (args, err)
    code, _, err = _popstat(
        capsys, "signoff", "--pending", "--warehouse", f"sqlite:///{world.settings.home}/none.db"
    )
    assert code == 1 and "找不到仓库" in err and "POPSTAT_WAREHOUSE_URL" in err

    # 3. The township officer signs off every month of one village.
    for month in world.months:
        code, out, _ = _popstat(
            capsys,
            "signoff",
            "--warehouse",
            url,
            "--unit",
            village,
            "--month",
            month,
            "--note",
            "已与派出所、卫生院核对",
            "--by",
            "王专干",
        )
        assert code == 0
        assert out.startswith(f"已签核: {village} ") and f" {month} — 王专干 " in out
        expected = world.county.answer_key.uploads
        files = expected.loc[
            (expected["unit"] == village)
            & (expected["report_month"] == month)
            & (expected["status"] != "duplicate"),
            "file_name",
        ]
        assert f"文件 ({len(files)}):" in out
        assert all(f"    {name}" in out for name in files)
    code, out, _ = _popstat(capsys, "signoff", "--pending", "--warehouse", url, "--unit", village)
    assert out.splitlines() == [
        f"待审核 0 个村月（共 {len(world.months)} 个，已签核 {len(world.months)} 个）"
    ]

    # 4. The next run publishes the share: the village reviewed, its township in part.
    run_tasks(world.settings, "e2e-signoff-2", NIGHTLY).require(*NIGHTLY)
    assert _share(url, village, world.months[0]) == 1.0
    assert _share(url, township, world.months[0]) == pytest.approx(1 / siblings)
    county = str(world.villages["parent_code"].iloc[0])[:6]
    assert _share(url, county, world.months[0]) == pytest.approx(1 / len(world.villages))

    # 5. A correction for one month withdraws that month's sign-off at the next run.
    month = world.months[2]
    stem = f"village_women_{village}_{month.replace('-', '')}"
    original = next(f for f in world.county.files if Path(f.path).name.startswith(stem))
    corrected = str(Path(original.path).with_name(f"{stem}_复核{Path(original.path).suffix}"))
    write_files(
        world.settings.inbox, [(corrected, original.data + b"\n", None)], world.settings.time_zone
    )
    run_tasks(world.settings, "e2e-signoff-3", NIGHTLY).require(*NIGHTLY)
    assert _share(url, village, month) == 0.0
    quarter = f"{month[:4]}-Q1"
    assert _share(url, village, quarter) == pytest.approx(2 / 3)
    code, out, _ = _popstat(capsys, "signoff", "--pending", "--warehouse", url, "--unit", village)
    lines = out.splitlines()
    assert (
        lines[0]
        == f"待审核 1 个村月（共 {len(world.months)} 个，已签核 {len(world.months) - 1} 个）"
    )
    assert lines[2].split()[2] == month and lines[2].endswith("新文件，签核已撤销")
    code, out, _ = _popstat(capsys, "signoff", "--history", "--warehouse", url, "--unit", village)
    withdrawn = [line for line in out.splitlines() if " 撤销 " in line]
    assert (
        len(withdrawn) == 1 and "popstat" in withdrawn[0] and Path(corrected).name in withdrawn[0]
    )
    code, out, _ = _popstat(
        capsys, "signoff", "--pending", "--warehouse", url, "--unit", village, "--lang", "en"
    )
    assert (
        out.splitlines()[0]
        == f"1 village-months await review ({len(world.months) - 1} of {len(world.months)} signed off)"
    )


def test_signoff_imports_neither_prefect_nor_gx(world: County) -> None:
    script = (
        "import sys\n"
        "from flows.cli import main\n"
        f"assert main(['signoff', '--pending', '--warehouse', {world.url!r}]) == 0\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('prefect', 'great_expectations'))\n"
        "assert not heavy, heavy[:5]\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("POPSTAT_")}
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "待审核" in done.stdout
