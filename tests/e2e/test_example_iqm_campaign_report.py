"""``example_iqm_campaign_report`` end to end: real Airflow, real HTTP, the emulator's IQM API."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pendulum
import pytest

from tests.e2e.conftest import DagResult

pytestmark = pytest.mark.e2e


def test_campaign_report_dag_writes_yesterdays_rows(
    run_dag: Callable[..., DagResult], iqm_connection: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow_provider_tealium.testing.emulator.routes_iqm import iqm_state

    monkeypatch.setenv("IQM_REPORT_DIR", str(tmp_path))
    iqm_state(iqm_connection.state).report_rows = 30
    logical_date = pendulum.datetime(2026, 11, 22, tz="UTC")
    result = run_dag("example_iqm_campaign_report", logical_date=logical_date)
    assert result.state == "success", result.task_states
    value = result.xcoms["campaign_performance"]
    assert value["rows"] == 30 and value["no_data"] is False
    assert value["path"] == str(tmp_path / "campaign_performance_2026-11-21.csv")
    with open(value["path"]) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 30 and rows[0]["date"] == "2026-11-21"
    calls = iqm_connection.state.stats()["calls"]
    assert calls == {"POST /api/v3/ua/oauth/token": 1, "POST /api/v3/ra/report/execute": 1}
