"""``example_tealium_connection`` end to end: real Airflow, real HTTP, the emulator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.conftest import DagResult

pytestmark = pytest.mark.e2e


def test_connection_dag_succeeds(run_dag: Callable[..., DagResult], tealium_connection: Any) -> None:
    result = run_dag("example_tealium_connection")
    assert result.state == "success", result.task_states
    value = result.xcoms["check_connection"]
    assert value["status"] == "ok"
    assert value["region_base_url"] == f"http://{tealium_connection.region_host}"
    mints = tealium_connection.state.stats()["mints"]
    # test_connection mints one v3 token on purpose (it bypasses the cache); the two v2 calls share one.
    assert mints == {"v3:demo/main:user@example.com": 2, "v2:user@example.com": 1}
