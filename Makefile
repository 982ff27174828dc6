# The two commands of the README: `make demo` and `make test`. Each bootstraps its virtualenv on first use.
# The Airflow versions CI tests are pinned here, and only here; .ci/constraints/airflow-<version>.txt, when
# present, caps what that release needs capped.
AIRFLOW_VERSION ?= 3.3.2
AIRFLOW_MIN_VERSION ?= 3.0.6

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(AIRFLOW_VERSION)
CONSTRAINTS := $(wildcard .ci/constraints/airflow-$(AIRFLOW_VERSION).txt)
DAG ?= example_tealium_release

.PHONY: demo test test-deployment test-min lint bench clean venv

venv: $(STAMP)

$(STAMP): pyproject.toml Makefile $(CONSTRAINTS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@# uv resolves Airflow's large dependency tree in seconds; plain pip is the fallback.
	@$(BIN)/python -m pip install -q uv 2>/dev/null || true
	@if [ -x $(BIN)/uv ]; then \
	  $(BIN)/uv pip install -q --python $(BIN)/python "apache-airflow==$(AIRFLOW_VERSION)" -e ".[dev]" \
	    $(if $(CONSTRAINTS),-c $(CONSTRAINTS)); \
	else \
	  $(BIN)/python -m pip install -q "apache-airflow==$(AIRFLOW_VERSION)" -e ".[dev]" \
	    $(if $(CONSTRAINTS),-c $(CONSTRAINTS)); \
	fi
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

demo: $(STAMP)  ## Run an example DAG in real Airflow against the local emulator.
	$(BIN)/python -m airflow_provider_tealium.testing.demo --dags-folder example_dags --dag-id $(DAG)

test: $(STAMP)  ## Run the whole test suite.
	@# Unit and integration tests spread over the cores; the dag.test() suites (e2e, faults) run one
	@# at a time, as Airflow 3.0's in-process dag.test() is not reliable when several run at once;
	@# then the real-deployment suite.
	$(BIN)/python -m pytest -q -n auto tests/unit tests/integration
	$(BIN)/python -m pytest -q tests/e2e tests/faults
	$(MAKE) test-deployment

test-deployment: $(STAMP)  ## The real-deployment suite: PostgreSQL, api-server, scheduler, dag-processor, triggerer.
	@bash tests/deployment/install-postgres.sh
	$(BIN)/python -m pytest -q tests/deployment

test-min:  ## The whole test suite on the lowest supported Airflow, in its own virtualenv.
	$(MAKE) test AIRFLOW_VERSION=$(AIRFLOW_MIN_VERSION) VENV=.venv-airflow-$(AIRFLOW_MIN_VERSION)

lint: $(STAMP)
	$(BIN)/ruff check airflow_provider_tealium tests example_dags benchmarks
	$(BIN)/ruff format --check airflow_provider_tealium tests example_dags benchmarks
	$(BIN)/mypy

bench: $(STAMP)  ## Run the benchmarks; prints each one's table as it finishes and writes benchmarks/results/latest.json.
	@$(BIN)/uv pip install -q --python $(BIN)/python -e ".[dev,bench]" $(if $(CONSTRAINTS),-c $(CONSTRAINTS)) \
	  || $(BIN)/python -m pip install -q -e ".[dev,bench]" $(if $(CONSTRAINTS),-c $(CONSTRAINTS))
	$(BIN)/python -m benchmarks $(BENCH)

clean:
	rm -rf $(VENV) .venv-airflow-* .mypy_cache .ruff_cache .pytest_cache
