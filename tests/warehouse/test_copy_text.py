"""bulk_insert keeps text as text on both warehouses: `\\N`, tabs, newlines, backslashes."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import Engine, select

from warehouse import schema
from warehouse.load import bulk_insert, read_frame

AWKWARD = ["\\N", "a\tb", "line\nbreak\r\n", "back\\slash", "", "普通文本", "\\\\N"]


def test_awkward_text_and_nulls_round_trip(engine: Engine) -> None:
    n = len(AWKWARD) + 1
    frame = pd.DataFrame(
        {
            "upload_id": range(1, n + 1),
            "file_name": [*AWKWARD, "x"],
            "path": [f"p{i}" for i in range(n)],
            "sha256": ["0" * 64] * n,
            "size_bytes": [1] * n,
            "reason_zh": pd.array([*AWKWARD, None], dtype="string"),
            "late": pd.array([True, False, None, True, False, True, False, None], dtype="boolean"),
            "arrived_at": [datetime(2026, 10, 1, 8, 0)] * n,
            "status": ["quarantined"] * n,
            "run_id": ["r"] * n,
        }
    )
    with engine.begin() as conn:
        bulk_insert(conn, schema.uploads, frame)
    with engine.connect() as conn:
        back = read_frame(conn, select(schema.uploads).order_by(schema.uploads.c.upload_id))
    assert back["file_name"].tolist() == [*AWKWARD, "x"]
    assert back["reason_zh"].iloc[:-1].tolist() == AWKWARD
    assert pd.isna(back["reason_zh"].iloc[-1])
    assert back["late"].tolist() == frame["late"].tolist()
