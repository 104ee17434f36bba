# WattChain — one-command setup, run and test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test lint typecheck bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@touch $(STAMP)

run: install
	$(BIN)/wattchain devnet --home ./localnet

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
