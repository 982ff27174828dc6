"""Fault-injection suite setup: the e2e ``run_dag`` fixtures, fast connections, and the summary table.

Every test appends one row per run (operator or DAG) to :data:`tests.faults.report.ROWS`; when any
fault test ran, :func:`pytest_terminal_summary` prints them as one table at the end of the session.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_tealium.testing.emulator import TealiumEmulator
from airflow_provider_tealium.testing.emulator.profiles.backend import store as profiles_store
from tests.e2e.conftest import airflow_db, run_dag  # noqa: F401  (re-exported fixtures)
from tests.faults.report import dump_rows

# Small backoffs keep every scenario fast; the retry count stays the production default (5).
FAST_RETRY: dict[str, Any] = {"backoff_base": 0.01, "backoff_max": 0.05}


def set_tealium_extra(emulator: TealiumEmulator, monkeypatch: pytest.MonkeyPatch, **extra: Any) -> None:
    """Point ``tealium_default`` at the emulator with these extras on top of the fast retry policy."""
    conn = json.loads(emulator.connection_json())
    conn["extra"].update(FAST_RETRY, **extra)
    monkeypatch.setenv("AIRFLOW_CONN_TEALIUM_DEFAULT", json.dumps(conn))


@pytest.fixture
def tealium(
    tealium_connection: TealiumEmulator, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TealiumEmulator]:
    """The reset emulator, ``tealium_default`` with small backoffs, Tealium's real 15 s post-update lock."""
    set_tealium_extra(tealium_connection, monkeypatch)
    profiles_store(tealium_connection.state).configure(lock_seconds=15)
    yield tealium_connection


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "faults: fault-injection scenarios against the emulator (tests/faults)"
    )


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Hand this process's rows to the run's table (printed by ``tests/conftest.py``)."""
    dump_rows(os.environ.get("PYTEST_XDIST_WORKER", "main"))
