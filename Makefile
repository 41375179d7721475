# communs: `make run` starts a node on embedded defaults, `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
NODE_DIR ?= .communs
NAME ?= Demo Organization
URL ?= http://127.0.0.1:8181
COUNTRY ?= FR-75
REGISTRATION ?= vatID:FR40123456789

.PHONY: run test test-all bench lint clean

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

run: $(BIN)/.installed
	test -f $(NODE_DIR)/communs.toml || $(BIN)/communs init --dir $(NODE_DIR) --dev \
		--name "$(NAME)" --url $(URL) --country $(COUNTRY) --registration-number $(REGISTRATION)
	$(BIN)/communs serve --dir $(NODE_DIR)

test: $(BIN)/.installed
	$(BIN)/python -m pytest -q -m "not slow"

test-all: $(BIN)/.installed
	$(BIN)/python -m pytest -q

bench: $(BIN)/.installed
	$(BIN)/python bench/run.py

lint: $(BIN)/.installed
	$(BIN)/ruff check connector ledger policies vocab tests bench
	$(BIN)/mypy ledger policies vocab

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
