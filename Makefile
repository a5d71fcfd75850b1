# Two commands do everything on a fresh machine:  `make example`  and  `make test`.
# Each builds the environment on first use (and again when pyproject.toml changes).
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTHON ?= python3
AS_OF  ?= 2026-10-06

.PHONY: setup example test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

## Run the nightly job on the example county with the embedded warehouse (popstat-data/).
## The example county is generated on first use: arrival times are file modification
## times, which git does not keep, so the files cannot simply be committed.
example: $(STAMP) examples/inbox
	$(BIN)/popstat run --inbox examples/inbox --reference examples/reference --as-of $(AS_OF)

examples/inbox: | $(STAMP)
	$(BIN)/popstat demo --out examples --seed 7

## Lint, type-check and run every test (PostgreSQL at 127.0.0.1:5432 for the warehouse tests).
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest

## Speed and memory, each in its own process (minutes; the end-to-end one starts its own Prefect server).
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_landing.py
	$(BIN)/python benchmarks/bench_validate.py
	$(BIN)/python benchmarks/bench_reconcile.py
	$(BIN)/python benchmarks/bench_warehouse.py
	$(BIN)/python benchmarks/bench_end_to_end.py

clean:
	rm -rf popstat-data examples/inbox examples/reference .pytest_cache .mypy_cache .ruff_cache
