# Two commands for a fresh machine with Python 3.11+ and make:
#   make demo   - virtualenv, install, load the bundled lists, screen a sample
#   make test   - dev dependencies and the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
export CLEARANCE_HOME ?= $(CURDIR)/.clearance-home

.PHONY: demo test install dev bench bench-quick clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Clearance needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# the matcher modules compiled by the install (hatch_build.py): rebuilt when they change
COMPILED = hatch_build.py $(wildcard src/clearance/match/*.pxd) $(patsubst %.pxd,%.py,$(wildcard src/clearance/match/*.pxd)) $(wildcard src/clearance/match/*.pyx)

$(VENV)/.installed: pyproject.toml $(COMPILED) | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml $(COMPILED) | $(BIN)/python
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

# The speed, accuracy, batch, ownership, assets, fuzz, import, load and long
# fault benchmarks (about 45 minutes); writes docs/benchmarks.md.
bench: $(VENV)/.installed-dev
	@PG_URL="$$(scripts/pg-test-server start)"; \
	CLEARANCE_TEST_PG="$$PG_URL" CLEARANCE_KILL_TRIALS=50 $(BIN)/python -m pytest -q -p no:cacheprovider tests/test_crash.py && \
	CLEARANCE_TEST_PG="$$PG_URL" $(BIN)/python benchmarks/report.py --run; status=$$?; \
	scripts/pg-test-server stop; exit $$status

bench-quick: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/report.py --run --quick

clean:
	rm -rf $(VENV) .clearance-home .pytest_cache build src/clearance/match/*.so src/clearance/match/_compiled.json
