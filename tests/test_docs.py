"""The repository documents its own contract and reads nothing outside itself."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from transforms.indicators.catalog import load_catalog
from transforms.officer.mart_presentation import indicator_catalog_markdown

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
BEGIN = "<!-- BEGIN generated from transforms/contracts/indicators.toml: make docs -->\n"
END = "<!-- END generated -->\n"
# A path out of the repository into the sibling folder the project was specified in:
# a relative path up into it, or its spec/bench folders joined in code.
_SIBLING = "shared"
_OUTSIDE = re.compile(rf"\.\./(?:\.\./)*{_SIBLING}\b|{_SIBLING}[\"']?\s*/\s*[\"']?(?:spec|bench)\b")


def test_the_indicator_catalog_in_docs_is_generated_from_the_toml() -> None:
    text = (DOCS / "indicators.md").read_text(encoding="utf-8")
    assert text.count(BEGIN) == 1 and text.count(END) == 1
    block = text.split(BEGIN, 1)[1].split(END, 1)[0]
    assert block == indicator_catalog_markdown(load_catalog()), (
        "docs/indicators.md is stale: run make docs"
    )
    for indicator in load_catalog():
        assert f"| `{indicator.code}` | {indicator.name_zh}" in block


def test_docs_generate_writes_the_block_it_checks(tmp_path: Path) -> None:
    from docs.generate import BEGIN as generator_begin
    from docs.generate import END as generator_end
    from docs.generate import split_generated

    assert (generator_begin, generator_end) == (BEGIN, END)
    before, _, after = split_generated(f"intro\n{BEGIN}old table\n{END}outro\n")
    assert (before, after) == ("intro\n", "outro\n")


def _lines_of_the_repository(suffixes: set[str]) -> list[tuple[str, int, str]]:
    """(file, line number, line) of every tracked or new file with one of `suffixes`."""
    names = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert names, "not a git checkout"
    lines = []
    for name in names:
        path = ROOT / name
        if path.suffix in suffixes and path.is_file():
            text = path.read_text("utf-8", errors="replace")
            lines += [(name, n, line) for n, line in enumerate(text.splitlines(), 1)]
    return lines


def test_nothing_in_the_repository_points_outside_it() -> None:
    lines = _lines_of_the_repository({".py", ".md", ".toml", ".cfg", ".ini", ".txt", ""})
    found = [f"{name}:{n}: {line.strip()}" for name, n, line in lines if _OUTSIDE.search(line)]
    assert found == [], "\n".join(found)


def test_no_tracker_numbers_in_code_or_docs() -> None:
    """Docstrings and notes say what a thing is, not which ticket asked for it."""
    tracker = re.compile(r"\b" + "issue" + r"s? \d+\b", re.IGNORECASE)
    lines = _lines_of_the_repository({".py", ".md", ".toml"})
    found = [f"{name}:{n}: {line.strip()}" for name, n, line in lines if tracker.search(line)]
    assert found == [], "\n".join(found)
