# WattChain — one-command setup, run and test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# libp2p pulls in fastecdsa, which builds from source: it needs gcc and GMP headers.
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install run test lint typecheck bench clean

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
	$(BIN)/ruff check wattchain tests bench

typecheck: install
	$(BIN)/mypy wattchain

test: install lint typecheck
	$(BIN)/pytest --cov=wattchain --cov-report=term:skip-covered

bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) localnet .pytest_cache .mypy_cache .ruff_cache .coverage
