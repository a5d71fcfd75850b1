# Two commands do everything on a fresh machine:  `make example`  and  `make test`.
# Each builds the environment on first use (and again when pyproject.toml changes).
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTHON ?= python3
AS_OF  ?= 2026-10-06

.PHONY: setup example test browser docs bench clean

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

## Lint, check the format and the import layers (pyproject: tool.importlinter), type-check
## and run every test (PostgreSQL at 127.0.0.1:5432 for the warehouse tests).
test: $(STAMP) browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/pytest

## The browser tests drive Debian's Chromium and chromedriver (a test tool's own browser
## download fails on closed networks); a CJK font makes screenshots show Chinese, not boxes.
## Installed when missing and we can (root with apt-get); otherwise say what to install.
BROWSER_PACKAGES := chromium chromium-driver fonts-wqy-microhei
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null \
	    && fc-list 2>/dev/null | grep -qi wqy; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing $(BROWSER_PACKAGES) for the browser tests"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq -o DPkg::Lock::Timeout=600 \
	  && apt-get install -y -qq -o DPkg::Lock::Timeout=600 $(BROWSER_PACKAGES) >/dev/null \
	  || echo "could not install $(BROWSER_PACKAGES): the browser tests will fail" >&2; \
	else \
	  echo "The browser tests need: apt-get install $(BROWSER_PACKAGES) (as root);" \
	       "without them they fail and say so." >&2; \
	fi

## Regenerate the documents made from the contracts' TOML (tests fail when they are stale).
docs: $(STAMP)
	$(BIN)/python docs/generate.py

## Speed and memory, each in its own process and as a ratio to the floor (every file read
## the plain way) on the same generated county (minutes; the end-to-end one starts its own
## Prefect server). A smaller county: make bench BENCH_SIZE="--townships 3 --villages 5".
BENCH_SIZE ?=
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_floor.py $(BENCH_SIZE)
	$(BIN)/python benchmarks/bench_landing.py $(BENCH_SIZE)
	$(BIN)/python benchmarks/bench_validate.py $(BENCH_SIZE)
	$(BIN)/python benchmarks/bench_reconcile.py $(BENCH_SIZE)
	$(BIN)/python benchmarks/bench_warehouse.py $(BENCH_SIZE)
	$(BIN)/python benchmarks/bench_end_to_end.py $(BENCH_SIZE)
	$(BIN)/python benchmarks/bench_province.py $(BENCH_SIZE)

clean:
	rm -rf popstat-data examples/inbox examples/reference .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
