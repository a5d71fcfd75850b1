"""The reader entry point (a sandboxed worker) on arbitrary and mutated uploads:
always a frame or a quarantine reason in both languages, never an exception, never a dead run.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synthetic.county import generate_county
from tests.e2e._ops import SMALL_COUNTY
from transforms.landing.filenames import UploadName, parse_upload_name
from transforms.landing.readers import ReadLimits, ReadResult
from transforms.templates import Template, load_contract
from warehouse.sandbox import ParseJob, ReaderPool, SandboxLimits

CONTRACT = load_contract()


def _real_uploads() -> list[tuple[bytes, str, Template]]:
    """A few of the generator's uploads, CSV and XLSX, of several templates."""
    county = generate_county(SMALL_COUNTY)
    picked: dict[tuple[str, str], tuple[bytes, str, Template]] = {}
    for file in county.files:
        name = parse_upload_name(file.name, CONTRACT)
        if isinstance(name, UploadName):
            key = (name.template_name, name.file_format)
            template = CONTRACT.templates[name.template_name]
            picked.setdefault(key, (file.data, name.file_format, template))
    return list(picked.values())


REAL = _real_uploads()


@pytest.fixture(scope="module")
def pool() -> Iterator[ReaderPool]:
    with ReaderPool(SandboxLimits(workers=1, seconds=30)) as readers:
        yield readers


def _check(result: ReadResult) -> None:
    assert isinstance(result, ReadResult)
    if result.problem is None:
        assert "row_number" in result.frame.columns
    else:
        assert result.problem.reason_zh.strip() and result.problem.reason_en.strip()
        # Only a file missing required columns keeps its rows (for the officer to see).
        assert len(result.frame) == 0 or result.problem.code == "missing_required_columns"


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=4096), fmt=st.sampled_from(["csv", "xlsx"]))
def test_arbitrary_bytes_give_a_frame_or_a_reason(pool: ReaderPool, data: bytes, fmt: str) -> None:
    template = CONTRACT.templates["village_women"]
    _check(pool.read_many([ParseJob(data, fmt, template, ReadLimits())])[0])


@st.composite
def mutated(draw: st.DrawFn) -> tuple[bytes, str, Template]:
    data, fmt, template = draw(st.sampled_from(REAL))
    buffer = bytearray(data)
    for _ in range(draw(st.integers(1, 8))):
        action = draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        at = draw(st.integers(0, max(len(buffer) - 1, 0)))
        if action == "flip" and buffer:
            buffer[at] ^= draw(st.integers(1, 255))
        elif action == "cut":
            del buffer[at:]
        elif action == "insert":
            buffer[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif buffer:
            del buffer[at : at + draw(st.integers(1, 64))]
    return bytes(buffer), fmt, template


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(upload=mutated())
def test_mutated_real_uploads_give_a_frame_or_a_reason(
    pool: ReaderPool, upload: tuple[bytes, str, Template]
) -> None:
    data, fmt, template = upload
    _check(pool.read_many([ParseJob(data, fmt, template, ReadLimits())])[0])


def test_the_real_uploads_read_cleanly(pool: ReaderPool) -> None:
    assert {fmt for _, fmt, _ in REAL} == {"csv", "xlsx"}
    results = pool.read_many([ParseJob(d, f, t, ReadLimits()) for d, f, t in REAL])
    assert sum(r.ok for r in results) >= len(REAL) - 2  # the generator plants a few bad files
