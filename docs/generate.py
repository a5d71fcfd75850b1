"""Regenerate the documents made from the contracts' TOML: `make docs`.

docs/data-dictionary.md and docs/uploads.md are written whole; docs/indicators.md is hand-written
prose around one generated block (the catalog table), which is replaced in
place. tests/test_docs.py and tests/transforms/test_upload_templates.py fail when one is
out of date.
"""

from __future__ import annotations

from pathlib import Path

from transforms.indicators.catalog import load_catalog
from transforms.officer.mart_presentation import (
    data_dictionary_markdown,
    indicator_catalog_markdown,
)
from transforms.officer.upload_templates import uploads_markdown
from transforms.templates import load_contract

DOCS = Path(__file__).resolve().parent
BEGIN = "<!-- BEGIN generated from transforms/contracts/indicators.toml: make docs -->\n"
END = "<!-- END generated -->\n"


def split_generated(text: str) -> tuple[str, str, str]:
    """(before, generated block, after) of a document with one generated block."""
    before, rest = text.split(BEGIN, 1)
    block, after = rest.split(END, 1)
    return before, block, after


def main() -> None:
    catalog = load_catalog()
    (DOCS / "data-dictionary.md").write_text(data_dictionary_markdown(catalog), encoding="utf-8")
    (DOCS / "uploads.md").write_text(uploads_markdown(load_contract()), encoding="utf-8")
    indicators = DOCS / "indicators.md"
    before, _, after = split_generated(indicators.read_text(encoding="utf-8"))
    block = indicator_catalog_markdown(catalog)
    indicators.write_text(before + BEGIN + block + END + after, encoding="utf-8")


if __name__ == "__main__":
    main()
