# Two commands for a fresh machine with Python 3.11+ and make:
#   make demo   - virtualenv, install, load the bundled lists, screen a sample
#   make test   - dev dependencies and the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
export CLEARANCE_HOME ?= $(CURDIR)/.clearance-home

.PHONY: demo test install dev bench clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Clearance needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed
dev: $(VENV)/.installed-dev

demo: $(VENV)/.installed
	$(BIN)/clearance store init
	$(BIN)/clearance lists status
	$(BIN)/clearance demo data/samples/counterparties.csv

# PostgreSQL: a throwaway server for the store tests (skipped, with the reason
# shown, only when none can be installed).
test: $(VENV)/.installed-dev
	@scripts/ensure-chromium
	@PG_URL="$$(scripts/pg-test-server start)"; \
	CLEARANCE_TEST_PG="$$PG_URL" $(BIN)/python -m pytest -q $(PYTEST_ARGS); status=$$?; \
	scripts/pg-test-server stop; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi; \
	exit $$status

bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/import_bench.py
	$(BIN)/python benchmarks/assets.py

clean:
	rm -rf $(VENV) .clearance-home .pytest_cache
