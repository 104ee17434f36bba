# WattChain — one-command setup, run and test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# libp2p pulls in fastecdsa, which builds from source: it needs gcc and GMP headers.
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install run test test-fast chaos lint typecheck bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@command -v gcc >/dev/null && ls /usr/include/gmp.h /usr/include/*/gmp.h 2>/dev/null | grep -q . \
		|| ($(SUDO) apt-get update && $(SUDO) apt-get install -y gcc libgmp-dev)
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,sim]'
	@# trio-typing (a libp2p dependency) ships stale stubs for trio that hide
	@# trio's own inline types from mypy; trio >= 0.23 needs no stubs.
	rm -rf $(VENV)/lib/python*/site-packages/trio-stubs
	@touch $(STAMP)

run: install
	$(BIN)/wattchain demo --dir ./localnet --validators 4

lint: install
	$(BIN)/ruff check wattchain tests bench examples

typecheck: install
	$(BIN)/mypy wattchain

# The gate (.ci/run): lint, types, and every test, the slow ones that start
# processes included; chaos runs are left out (tests/conftest.py deselects them).
test: install lint typecheck
	$(BIN)/pytest --cov=wattchain --cov-report=term:skip-covered

# The quick loop while editing: no lint, no test that starts a process.
test-fast: install
	$(BIN)/pytest -m "not slow"

# Long fault and soak runs (tests/chaos/), never part of `make test`.
# pytest exits 5 when it collects nothing: the runs arrive with issue 16.
chaos: install
	@$(BIN)/pytest --chaos -m chaos tests/chaos; status=$$?; \
	if [ $$status -eq 5 ]; then echo "make chaos: no chaos runs collected"; exit 0; fi; \
	exit $$status

bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) localnet .pytest_cache .mypy_cache .ruff_cache .coverage
