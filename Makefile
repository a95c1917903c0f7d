# The README's two commands: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test install check lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## make run: install, migrate the embedded SQLite database, load packs and demo data, serve
run: install
	$(BIN)/formflow serve

## make test: the whole suite on SQLite and PostgreSQL (browser tests need Debian's chromium)
test: install
	$(BIN)/ruff check platform tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest -n 2 --dist loadgroup

check: install
	$(BIN)/formflow check

lint: install
	$(BIN)/ruff check platform tests bench
	$(BIN)/mypy

bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) instance test-artifacts .pytest_cache
