"""Shared test setup.

The emulator fixtures (``tealium_emulator``, ``tealium_connection``...) come from the provider's pytest
plugin, registered through the ``pytest11`` entry point when the package is installed (as ``make test``
does), exactly as users' own test suites get them.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Airflow reads its home at import time: every test process gets a throwaway one (sqlite, no user config).
# Assigned, not defaulted: pytest-xdist workers inherit the controller's environment, and two workers
# running dag.test() on the same DAG must not share a metadata database.
os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="airflow-home-")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
# dag.test() syncs the DAG bundle that owns the DAG: the example DAGs are that bundle.
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(Path(__file__).resolve().parents[1] / "example_dags"))


def pytest_configure(config: pytest.Config) -> None:
    # Before any xdist worker starts, so every worker inherits the folder the fault rows go to.
    from tests.faults.report import ROWS_DIR_ENV

    os.environ.setdefault(ROWS_DIR_ENV, tempfile.mkdtemp(prefix="tealium-fault-rows-"))


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """Print the fault-injection table when fault tests ran (from any xdist worker)."""
    from tests.faults.report import load_rows, render_table

    rows = load_rows()
    if not rows:
        return
    terminalreporter.section("fault injection")
    for line in render_table(rows):
        terminalreporter.write_line(line)


@pytest.fixture(autouse=True)
def _fresh_token_cache() -> Iterator[None]:
    """Each test starts with no cached credentials, so mint counts are per test."""
    from airflow_provider_tealium.hooks.token_cache import TOKEN_CACHE

    TOKEN_CACHE.clear()
    yield
    TOKEN_CACHE.clear()
