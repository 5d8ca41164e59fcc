# Two commands on a fresh clone:  `make run` (server with demo data) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: run test lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@ $(VENV)/.installed-run

## run: create .venv, install, migrate the database, load demo data if empty, serve
run: $(VENV)/.installed-run
	$(BIN)/hermes-groupware db upgrade
	$(BIN)/hermes-groupware demo-data --if-empty
	exec $(BIN)/hermes-groupware serve

## test: create .venv, install with test extras, run the whole suite
## (SQLite by default; HERMES_DATABASE_URL=postgresql+psycopg://... for PostgreSQL)
test: $(VENV)/.installed-test
	$(BIN)/pytest $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests"; status=0; fi; exit $$status

## lint: ruff, import contracts and mypy
lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
