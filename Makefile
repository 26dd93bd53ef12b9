# One command runs the demo, one runs the tests. Both build the virtualenv first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test check install bench chaos clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/agentbatch demo

test: $(STAMP)
	PATH="$(abspath $(BIN)):$$PATH" bash scripts/check

# The long proofs (docs/reliability.md): two dozen kills, a 60 s provider outage, hosts cut off.
chaos: $(STAMP)
	$(BIN)/python -m pytest -q -ra tests/chaos

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache agentbatch.db*
