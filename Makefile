# cyberqms: `make demo` runs the product, `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= $(shell pyenv which python 2>/dev/null || command -v python3.13 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo serve test lint bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 13), "cyberqms needs Python 3.13 (see .python-version)"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	@bash scripts/demo.sh

serve: $(STAMP)
	@bash scripts/serve.sh

test: $(STAMP)
	@bash scripts/test.sh

lint: $(STAMP)
	$(BIN)/ruff check src benchmarks scripts
	$(BIN)/mypy

bench: $(STAMP)
	@for script in benchmarks/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) var test-artifacts
