# The two commands of the README: `make demo` and `make test`. Each bootstraps .venv on first use.
# The Airflow versions CI tests are pinned here, and only here.
AIRFLOW_VERSION ?= 3.3.2

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(AIRFLOW_VERSION)

.PHONY: demo test lint bench clean venv

venv: $(STAMP)

$(STAMP): pyproject.toml Makefile
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@# uv resolves Airflow's large dependency tree in seconds; plain pip is the fallback.
	@$(BIN)/python -m pip install -q uv 2>/dev/null || true
	@if [ -x $(BIN)/uv ]; then \
	  $(BIN)/uv pip install -q --python $(BIN)/python "apache-airflow==$(AIRFLOW_VERSION)" -e ".[dev]"; \
	else \
	  $(BIN)/python -m pip install -q "apache-airflow==$(AIRFLOW_VERSION)" -e ".[dev]"; \
	fi
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

DAG ?= example_tealium_connection

demo: $(STAMP)  ## Run an example DAG in real Airflow against the local emulator.
	$(BIN)/python -m airflow_provider_tealium.testing.demo --dags-folder example_dags --dag-id $(DAG)

test: $(STAMP)  ## Run the whole test suite.
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check airflow_provider_tealium tests example_dags
	$(BIN)/ruff format --check airflow_provider_tealium tests example_dags
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
