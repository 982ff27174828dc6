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


# (how the run is made, its dag.test() arguments, the day the report must cover)
RUNS = [
    # A scheduled @daily run (Airflow 3's cron timetable: logical date = run_after = the trigger time,
    # also for backfilled runs) at midnight reports the day that has just ended.
    (
        "scheduled",
        {
            "logical_date": pendulum.datetime(2026, 11, 23, tz="UTC"),
            "run_after": pendulum.datetime(2026, 11, 23, tz="UTC"),
        },
        "2026-11-22",
    ),
    # Triggered by hand with no logical date (Airflow 3's default for the UI, CLI and REST): no ``ds``.
    (
        "manual",
        {"logical_date": None, "run_after": pendulum.datetime(2026, 11, 30, 15, tz="UTC")},
        "2026-11-29",
    ),
]


@pytest.mark.parametrize(("kind", "run", "day"), RUNS, ids=[r[0] for r in RUNS])
def test_campaign_report_dag_writes_the_days_rows(
    run_dag: Callable[..., DagResult],
    iqm_connection: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    run: dict[str, Any],
    day: str,
) -> None:
    from airflow_provider_tealium.testing.emulator.iqm.backend import iqm_state

    monkeypatch.setenv("IQM_REPORT_DIR", str(tmp_path))
    iqm_state(iqm_connection.state).report_rows = 30
    result = run_dag("example_iqm_campaign_report", **run)
    assert result.state == "success", result.task_states
    value = result.xcoms["campaign_performance"]
    assert value["rows"] == 30 and value["no_data"] is False
    assert value["path"] == str(tmp_path / f"campaign_performance_{day}.csv")
    with open(value["path"]) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 30 and rows[0]["date"] == day
    calls = iqm_connection.state.stats()["calls"]
    assert calls == {"POST /api/v3/ua/oauth/token": 1, "POST /api/v3/ra/report/execute": 1}
