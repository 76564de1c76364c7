# cyberqms: `make demo` runs the product, `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= $(shell pyenv which python 2>/dev/null || command -v python3.13 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Hashed, pinned installs (installation qualification): requirements.lock is what production
# runs; requirements-dev.lock adds the test, lint and benchmark tools at the same versions.
LOCK := requirements-dev.lock
UV := $(VENV)-tools/bin/uv

.PHONY: install demo serve test lint bench lock clean

$(STAMP): $(LOCK) pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 13), "cyberqms needs Python 3.13 (see .python-version)"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes --no-deps -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
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

# Resolve both lock files from pyproject.toml with uv in a tool environment of its own:
# pins already locked stay unless `make lock UPGRADE=1` (newest releases the ranges allow).
# Review the diff, then `make install`.
lock:
	@[ -x $(UV) ] || { $(PYTHON) -m venv $(VENV)-tools && $(VENV)-tools/bin/pip install --quiet uv; }
	$(UV) pip compile pyproject.toml --extra test --extra bench --group build \
	  --python-version 3.13 --python-platform x86_64-manylinux_2_28 --generate-hashes \
	  $(if $(UPGRADE),--upgrade) --quiet --custom-compile-command "make lock" -o requirements-dev.lock
	$(UV) pip compile pyproject.toml --constraint requirements-dev.lock \
	  --python-version 3.13 --python-platform x86_64-manylinux_2_28 --generate-hashes \
	  --quiet --custom-compile-command "make lock" -o requirements.lock

clean:
	rm -rf $(VENV) $(VENV)-tools var test-artifacts
