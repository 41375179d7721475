# communs: `make run` starts a local federation on embedded defaults, `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FEDERATION_DIR ?= .federation
NODE_DIR ?= .communs
NAME ?= Demo Organization
URL ?= http://127.0.0.1:8181
COUNTRY ?= FR-75
REGISTRATION ?= vatID:FR32123456789
# the identity settings of `make serve-node` given on make's command line (not the defaults above)
GIVEN := $(foreach v,NAME URL COUNTRY REGISTRATION,$(if $(filter command line,$(origin $(v))),$(v)))

# After the first run, settings given on the command line must match the node in NODE_DIR:
# serving the old identity without a word would look as if they had been taken.
define SAME_IDENTITY
import os, sys, tomllib
with open(sys.argv[1], "rb") as file:
    node = tomllib.load(file)
held = {"NAME": node["node"]["name"], "URL": node["public"]["url"],
        "COUNTRY": node["node"].get("country"),
        "REGISTRATION": node["node"].get("registration_number")}
differ = [f"{v}={os.environ[v]} (it holds {held[v]})" for v in os.environ["GIVEN"].split()
          if os.environ[v].strip().rstrip("/") != (held[v] or "")]
folder = os.path.dirname(sys.argv[1])
if differ:
    sys.exit(f"{folder} already holds a node with other settings: " + ", ".join(differ)
             + f". Run `make clean-node NODE_DIR={folder}` to delete it (its keys and data)"
             + " and start afresh, or give the new node its own folder with NODE_DIR=...")
endef
export SAME_IDENTITY

.PHONY: run down demo serve-node node clean-node test test-all bench lint clean

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# several organizations, each with its connector and validator; the first time, the public
# body publishes sample open data; Ctrl-C stops them all
run: $(BIN)/.installed
	$(BIN)/communs federation up --dir $(FEDERATION_DIR) --sample-data $(if $(ORGS),--orgs $(ORGS))

down: $(BIN)/.installed
	$(BIN)/communs federation down --dir $(FEDERATION_DIR)

# the narrated scenario, against the federation that `make run` serves (from another shell)
demo: $(BIN)/.installed
	$(BIN)/communs demo --dir $(FEDERATION_DIR)

# one node alone
serve-node: node
	$(BIN)/communs serve --dir $(NODE_DIR)

# the node in NODE_DIR: initialized the first time, checked against what was given after
node: $(BIN)/.installed
	@if test ! -f $(NODE_DIR)/communs.toml; then \
		$(BIN)/communs init --dir $(NODE_DIR) --dev --name "$(NAME)" --url "$(URL)" \
			--country "$(COUNTRY)" --registration-number "$(REGISTRATION)"; \
	elif test -n "$(GIVEN)"; then \
		GIVEN="$(GIVEN)" $(BIN)/python -c "$$SAME_IDENTITY" $(NODE_DIR)/communs.toml; \
	fi

clean-node:
	rm -rf -- "$(NODE_DIR)"

test: $(BIN)/.installed
	$(BIN)/python -m pytest -q -m "not slow" -n 2

test-all: $(BIN)/.installed
	$(BIN)/python -m pytest -q -n 2

# the official DSP test kit against a fresh node (needs java 17+ and mvn; docs/conformance.md)
conformance: $(BIN)/.installed
	$(BIN)/python conformance/run_dsp_tck.py

bench: $(BIN)/.installed
	$(BIN)/python bench/run.py

lint: $(BIN)/.installed
	$(BIN)/ruff check connector ledger policies vocab tests bench
	$(BIN)/mypy ledger policies vocab

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
