"""Publishing reconciled rows by township partition: only partitions whose inputs changed
are rewritten, gone ones are dropped, and row identities continue (both warehouses)."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
from sqlalchemy import Engine, select

from tests.warehouse.test_publish import _mart
from warehouse import publish, schema
from warehouse.load import bulk_insert, read_frame


def _exams(area: str, couples: list[str]) -> Mapping[str, pd.DataFrame]:
    return {
        "recon_exams": pd.DataFrame(
            {
                "area_code": [area] * len(couples),
                "exam_date": pd.to_datetime(["2026-03-01"] * len(couples)),
                "exam_month": ["2026-03"] * len(couples),
                "couple_key": couples,
            }
        )
    }


class _Loads:
    """A partition's frames, counting how often publish asked for them."""

    def __init__(self, frames: Mapping[str, pd.DataFrame]) -> None:
        self.frames, self.calls = frames, 0

    def __call__(self) -> Mapping[str, pd.DataFrame]:
        self.calls += 1
        return self.frames


def _rows(engine: Engine) -> pd.DataFrame:
    with engine.connect() as conn:
        frame = read_frame(conn, select(schema.recon_exams))
    return frame.sort_values("exam_id").reset_index(drop=True)


def _publish(engine: Engine, run_id: str, parts: dict[str, tuple[str, _Loads]]) -> None:
    rows = [publish.PartitionRows(part, digest, loads) for part, (digest, loads) in parts.items()]
    publish.publish(engine, {}, _mart(90), run_id, partitions=rows)


def test_only_changed_partitions_are_rewritten_and_gone_ones_dropped(engine: Engine) -> None:
    a1, b1 = _Loads(_exams("654226100201", ["a", "b"])), _Loads(_exams("654226101201", ["c"]))
    _publish(engine, "r1", {"654226100": ("da1", a1), "654226101": ("db1", b1)})
    first = _rows(engine)
    assert first["couple_key"].tolist() == ["a", "b", "c"]
    assert first["partition"].tolist() == ["654226100", "654226100", "654226101"]

    # B's inputs changed, A's did not: A is neither read nor rewritten.
    a_again, b2 = _Loads(a1.frames), _Loads(_exams("654226101201", ["c", "d"]))
    _publish(engine, "r2", {"654226100": ("da1", a_again), "654226101": ("db2", b2)})
    second = _rows(engine)
    assert a_again.calls == 0 and b2.calls == 1
    assert second.loc[second["partition"] == "654226100", "exam_id"].tolist() == [1, 2]
    assert second.loc[second["partition"] == "654226101", "couple_key"].tolist() == ["c", "d"]
    assert second["exam_id"].is_unique
    with engine.connect() as conn:
        runs = dict(
            conn.execute(
                select(schema.recon_partitions.c.partition, schema.recon_partitions.c.run_id)
            ).all()
        )
    assert runs == {"654226100": "r1", "654226101": "r2"}

    # B is gone (no uploads any more); a row of no partition (published before
    # partitions existed) goes too.
    with engine.begin() as conn:
        bulk_insert(conn, schema.recon_exams, pd.DataFrame({"exam_id": [99], "area_code": ["x"]}))
    _publish(engine, "r3", {"654226100": ("da1", _Loads(a1.frames))})
    assert _rows(engine)["couple_key"].tolist() == ["a", "b"]


def test_the_partitions_present_are_found_by_their_index(engine: Engine) -> None:
    """`_partitions_present` seeks the index once a partition: it must find exactly the
    distinct ones, none for an empty table, and never the null of rows published before
    partitions (deleted apart)."""
    table = schema.recon_exams
    frames = _exams("654226100201", ["a", "b", "c", "d", "e"])["recon_exams"]
    with engine.begin() as conn:
        assert publish._partitions_present(conn, table) == []
        rows = frames.assign(
            exam_id=range(1, 6),
            partition=["654226101", None, "654226100", "654226101", "654226109"],
        )
        bulk_insert(conn, table, rows)
        assert publish._partitions_present(conn, table) == ["654226100", "654226101", "654226109"]
        publish._delete_partitions_but(conn, table, {"654226101"})
        left = conn.execute(select(table.c.partition)).scalars().all()
    assert sorted(left) == ["654226101", "654226101"]
