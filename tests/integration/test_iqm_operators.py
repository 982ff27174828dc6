"""IQM operators against the emulator: create, run (paged and download), schedule, memory, secrets."""

from __future__ import annotations

import csv
import json
import logging
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_tealium.api.iqm import ReportSchedule
from airflow_provider_tealium.exceptions import TealiumError, TealiumValidationError
from airflow_provider_tealium.operators.iqm import (
    IQMCreateReportOperator,
    IQMRunReportOperator,
    IQMScheduleReportOperator,
)
from airflow_provider_tealium.testing.emulator import TealiumEmulator
from airflow_provider_tealium.testing.emulator.iqm.backend import (
    DEFAULT_CLIENT_SECRET,
    DEFAULT_IQM_PASSWORD,
    iqm_state,
)

DEFINITION: dict[str, Any] = {
    "reportName": "Campaigns",
    "dimensions": [{"filter": "campaign", "value": [287846]}],
    "columns": ["impressions", "clicks", "spent"],
    "startDate": "2026-11-01",
    "endDate": "2026-11-07",
    "requestType": "daily",
}
CONTEXT: Any = {}


@pytest.fixture
def fast_iqm(iqm_connection: TealiumEmulator, monkeypatch: pytest.MonkeyPatch) -> TealiumEmulator:
    """The emulator with both limits raised, so page-heavy tests run at full speed."""
    iqm_state(iqm_connection.state).rate_limit = 100_000
    monkeypatch.setenv(
        "AIRFLOW_CONN_IQM_DEFAULT",
        iqm_connection.iqm_connection_json(requests_per_minute=100_000, backoff_base=0.01),
    )
    return iqm_connection


def test_create_returns_the_report_id(iqm_connection: TealiumEmulator) -> None:
    report_id = IQMCreateReportOperator(task_id="create", report=DEFINITION).execute(CONTEXT)
    assert report_id == 1001
    saved = iqm_state(iqm_connection.state).reports[1001]
    assert saved["dimensions"] == '[{"filter":"campaign","value":[287846]}]'
    assert (
        saved["startDate"] == 1793491200000 and saved["requestType"] == 1 and saved["reportAggregated"] == "0"
    )


def test_invalid_definition_is_refused_before_any_request(iqm_connection: TealiumEmulator) -> None:
    bad = {**DEFINITION, "columns": [], "endDate": "2028-01-01"}
    with pytest.raises(TealiumValidationError) as info:
        IQMCreateReportOperator(task_id="create", report=bad).execute(CONTEXT)
    assert "columns: at least one column" in str(info.value) and "at most one year" in str(info.value)
    assert iqm_connection.state.stats()["total_calls"] == 0


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_run_saved_report_over_several_pages(fast_iqm: TealiumEmulator, tmp_path: Path, fmt: str) -> None:
    state = iqm_state(fast_iqm.state)
    state.report_rows = 2345
    report_id = IQMCreateReportOperator(task_id="create", report=DEFINITION).execute(CONTEXT)
    out = tmp_path / "nested" / f"report.{fmt}"
    result = IQMRunReportOperator(
        task_id="run", report_id=str(report_id), output_path=str(out), output_format=fmt
    ).execute(CONTEXT)
    assert result["rows"] == 2345 and result["pages"] == 3 and result["total_records"] == 2345
    assert result["path"] == str(out) and result["no_data"] is False
    assert state.executed_pages == [(1, 1000), (2, 1000), (3, 1000)]
    if fmt == "csv":
        with out.open() as f:
            rows = list(csv.DictReader(f))
        assert list(rows[0]) == ["date", "campaignId", "campaignName", "impressions", "clicks", "spent"]
    else:
        rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 2345
    assert [int(r["campaignId"]) for r in rows] == list(range(287000, 287000 + 2345))
    assert result["totals"]["impressions"] == sum(int(r["impressions"]) for r in rows)


def test_run_a_definition_without_saving_it(fast_iqm: TealiumEmulator, tmp_path: Path) -> None:
    iqm_state(fast_iqm.state).report_rows = 7
    result = IQMRunReportOperator(
        task_id="run", report=DEFINITION, output_path=str(tmp_path / "r.csv"), page_size=3
    ).execute(CONTEXT)
    assert result["rows"] == 7 and result["pages"] == 3
    assert iqm_state(fast_iqm.state).reports == {}


def test_run_writes_to_object_storage_path(fast_iqm: TealiumEmulator, tmp_path: Path) -> None:
    from airflow.sdk import ObjectStoragePath

    iqm_state(fast_iqm.state).report_rows = 5
    target = ObjectStoragePath(f"file://{tmp_path}/os.jsonl")
    result = IQMRunReportOperator(
        task_id="run", report=DEFINITION, output_path=target, output_format="jsonl"
    ).execute(CONTEXT)
    assert result["rows"] == 5
    assert len((tmp_path / "os.jsonl").read_text().splitlines()) == 5


def test_memory_stays_flat_however_many_rows(fast_iqm: TealiumEmulator, tmp_path: Path) -> None:
    state = iqm_state(fast_iqm.state)

    def peak(rows: int) -> int:
        state.report_rows = rows
        tracemalloc.start()
        try:
            IQMRunReportOperator(
                task_id="run", report=DEFINITION, output_path=str(tmp_path / f"{rows}.csv")
            ).execute(CONTEXT)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small, large = peak(1000), peak(5000)
    # Five times the rows, about the same peak: only one page of 1,000 rows is ever held.
    assert large < small * 1.5, (small, large)
    assert sum(1 for _ in (tmp_path / "5000.csv").open()) == 5001


def test_download_fetches_the_file(fast_iqm: TealiumEmulator, tmp_path: Path) -> None:
    iqm_state(fast_iqm.state).report_rows = 12
    report_id = IQMCreateReportOperator(task_id="create", report=DEFINITION).execute(CONTEXT)
    out = tmp_path / "download.csv"
    result = IQMRunReportOperator(
        task_id="run", report_id=report_id, output_path=str(out), use_download=True
    ).execute(CONTEXT)
    assert result["no_data"] is False and result["bytes"] == out.stat().st_size
    assert len(out.read_text().splitlines()) == 13


def test_download_without_data_is_reported_not_failed(fast_iqm: TealiumEmulator, tmp_path: Path) -> None:
    iqm_state(fast_iqm.state).report_rows = 0
    out = tmp_path / "none.csv"
    result = IQMRunReportOperator(
        task_id="run", report=DEFINITION, output_path=str(out), use_download=True
    ).execute(CONTEXT)
    assert result == {"path": None, "format": "csv", "bytes": 0, "no_data": True}
    assert not out.exists()


def test_run_needs_exactly_one_report(iqm_connection: TealiumEmulator, tmp_path: Path) -> None:
    with pytest.raises(TealiumValidationError, match="exactly one of report_id and report"):
        IQMRunReportOperator(task_id="run", output_path=str(tmp_path / "x.csv")).execute(CONTEXT)
    with pytest.raises(TealiumValidationError, match="output_format: must be csv with use_download"):
        IQMRunReportOperator(
            task_id="run", report_id=1, output_path="x", output_format="jsonl", use_download=True
        ).execute(CONTEXT)
    assert iqm_connection.state.stats()["total_calls"] == 0


def test_schedule_create_then_update(iqm_connection: TealiumEmulator) -> None:
    report_id = IQMCreateReportOperator(task_id="create", report=DEFINITION).execute(CONTEXT)
    created = IQMScheduleReportOperator(
        task_id="schedule",
        report_id=report_id,
        schedule=ReportSchedule(
            subscriber_emails=["ops@example.com"],
            delivery_frequency="weekly",
            delivery_day="Friday",
            event_end_date="2026-12-31",
        ),
    ).execute(CONTEXT)
    assert created["deliveryFrequency"] == 3 and created["deliveryDay"] == "Friday"
    assert created["eventEndDate"] == 1798761599999
    updated = IQMScheduleReportOperator(
        task_id="update", report_id=report_id, schedule={"deliveryDay": "monday"}, update=True
    ).execute(CONTEXT)
    assert updated["deliveryDay"] == "monday" and updated["subscriberEmails"] == ["ops@example.com"]
    with pytest.raises(TealiumValidationError, match="deliveryDay: must be a weekday name"):
        IQMScheduleReportOperator(
            task_id="bad", report_id=report_id, schedule={"deliveryDay": "someday"}, update=True
        ).execute(CONTEXT)
    assert "PATCH /api/v3/ra/report/email/schedule/1001" in iqm_connection.state.stats()["calls"]


def test_secrets_never_reach_logs_errors_or_xcom(
    fast_iqm: TealiumEmulator,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    iqm_state(fast_iqm.state).token_lifetime = 2
    results: list[Any] = []
    messages: list[str] = []
    report_id = IQMCreateReportOperator(task_id="create", report=DEFINITION).execute(CONTEXT)
    results.append(report_id)
    iqm_state(fast_iqm.state).expire_access_tokens()  # a 401 mid-run, then a refresh
    op = IQMRunReportOperator(task_id="run", report_id=report_id, output_path=str(tmp_path / "a.csv"))
    results.append(op.execute(CONTEXT))
    results.append(op.report_id)
    dl = IQMRunReportOperator(
        task_id="dl", report_id=report_id, output_path=str(tmp_path / "b.csv"), use_download=True
    )
    results.append(dl.execute(CONTEXT))
    # failure paths: a refused login, and a file URL that went away
    conn = json.loads(fast_iqm.iqm_connection_json())
    conn["extra"]["client_id"] = "another-client"  # a client of its own: no cached token to reuse
    conn["extra"]["client_secret"] = "wrong-" + DEFAULT_CLIENT_SECRET
    monkeypatch.setenv("AIRFLOW_CONN_IQM_BAD", json.dumps(conn))
    with pytest.raises(TealiumError) as info:
        IQMCreateReportOperator(task_id="bad", report=DEFINITION, iqm_conn_id="iqm_bad").execute(CONTEXT)
    messages.append(str(info.value))
    fast_iqm.faults.add(method="GET", path="/iqm-files/*", status=403)
    with pytest.raises(TealiumError) as info:
        IQMRunReportOperator(
            task_id="dl2",
            report_id=report_id,
            output_path=str(tmp_path / "c.csv"),
            use_download=True,
            max_retries=0,
        ).execute(CONTEXT)
    messages.append(str(info.value))
    assert "X-Emulator-Signature" not in messages[-1]
    secrets = [DEFAULT_IQM_PASSWORD, DEFAULT_CLIENT_SECRET, *fast_iqm.state.issued_tokens]
    assert len(fast_iqm.state.issued_tokens) >= 4  # access and refresh tokens of a login and a refresh
    everything = caplog.text + "\n".join(messages) + json.dumps(results, default=str)
    everything += "\n".join(repr(r.__dict__) for r in caplog.records)
    for secret in secrets:
        assert secret not in everything


def weekly_schedule(**extra: Any) -> dict[str, Any]:
    return {
        "subscriberEmails": ["ops@example.com"],
        "deliveryFrequency": "weekly",
        "deliveryDay": "Friday",
        "eventEndDate": "2026-12-31",
        "fileType": "xls",
        **extra,
    }


def test_update_with_a_dict_reads_iqms_documented_answer_and_sends_only_the_change(
    fast_iqm: TealiumEmulator,
) -> None:
    from airflow_provider_tealium.hooks.iqm import IQMHook

    state = iqm_state(fast_iqm.state)
    report_id = IQMCreateReportOperator(task_id="create", report=DEFINITION).execute(CONTEXT)
    IQMScheduleReportOperator(task_id="schedule", report_id=report_id, schedule=weekly_schedule()).execute(
        CONTEXT
    )
    # The emulator answers Get Report as IQM documents it: dates in seconds, unset values 0.
    answered = IQMHook().get_report(report_id)["reportSchedulingEventDetails"]
    assert answered["eventEndDate"] == 1798761599
    assert answered["runningTotalEnabled"] == 0 and answered["earliestCampaignStartDate"] == 0
    updated = IQMScheduleReportOperator(
        task_id="update",
        report_id=report_id,
        schedule={"subscriberEmails": ["new@example.com"]},
        update=True,
    ).execute(CONTEXT)
    assert state.schedule_updates == [{"subscriberEmails": ["new@example.com"]}]
    assert updated["subscriberEmails"] == ["new@example.com"]
    assert (updated["deliveryFrequency"], updated["fileType"], updated["deliveryDay"]) == (3, 2, "Friday")
    assert updated["eventEndDate"] == 1798761599999  # untouched: the stored value, not the answered seconds


def test_update_with_a_dict_still_refuses_a_users_date_in_seconds(fast_iqm: TealiumEmulator) -> None:
    report_id = IQMCreateReportOperator(
        task_id="create", report={**DEFINITION, "reportSchedulingEventDetails": weekly_schedule()}
    ).execute(CONTEXT)
    with pytest.raises(TealiumValidationError) as info:
        IQMScheduleReportOperator(
            task_id="update", report_id=report_id, schedule={"eventEndDate": 1671148799}, update=True
        ).execute(CONTEXT)
    assert str(info.value) == (
        "eventEndDate: must be epoch milliseconds (this looks like seconds or is too old) (got 1671148799)"
    )
    assert iqm_state(fast_iqm.state).schedule_updates == []


def test_update_with_a_report_schedule_replaces_the_whole_schedule(fast_iqm: TealiumEmulator) -> None:
    state = iqm_state(fast_iqm.state)
    running = weekly_schedule(runningTotalEnabled=True, earliestCampaignStartDate="2026-10-01")
    report_id = IQMCreateReportOperator(task_id="create", report=DEFINITION).execute(CONTEXT)
    IQMScheduleReportOperator(task_id="schedule", report_id=report_id, schedule=running).execute(CONTEXT)
    calls_before = fast_iqm.state.stats()["total_calls"]
    # Checked on its own as a complete schedule: the stored deliveryDay does not make up for a missing one.
    with pytest.raises(TealiumValidationError) as info:
        IQMScheduleReportOperator(
            task_id="bad",
            report_id=report_id,
            schedule=ReportSchedule(
                subscriber_emails=["b@example.com"], delivery_frequency="weekly", event_end_date="2026-12-31"
            ),
            update=True,
        ).execute(CONTEXT)
    assert str(info.value) == "deliveryDay: is required unless the delivery frequency is once"
    assert fast_iqm.state.stats()["total_calls"] == calls_before  # refused before any request
    replaced = IQMScheduleReportOperator(
        task_id="replace",
        report_id=report_id,
        schedule=ReportSchedule(subscriber_emails=["b@example.com"]),
        update=True,
    ).execute(CONTEXT)
    # Sent whole, defaults included: once, CSV and no running total replace weekly, XLS and running total.
    assert state.schedule_updates == [
        {
            "deliveryFrequency": 1,
            "fileType": 1,
            "subscriberEmails": ["b@example.com"],
            "runningTotalEnabled": False,
        }
    ]
    assert (replaced["deliveryFrequency"], replaced["fileType"], replaced["runningTotalEnabled"]) == (
        1,
        1,
        False,
    )
    assert "GET /api/v3/ra/report/1001" not in fast_iqm.state.stats()["calls"]  # a replacement reads nothing


def test_schedule_given_when_creating_a_report_is_visible_and_updatable(fast_iqm: TealiumEmulator) -> None:
    from airflow_provider_tealium.api.iqm import ReportDefinition
    from airflow_provider_tealium.hooks.iqm import IQMHook

    report_id = IQMCreateReportOperator(
        task_id="create",
        report=ReportDefinition(
            report_name="With schedule",
            dimensions=[{"filter": "campaign"}],
            columns=["impressions"],
            start_date="20261101",  # {{ ds_nodash }} renders dates like this
            end_date="20261107",
            schedule=ReportSchedule(
                subscriber_emails=["ops@example.com"],
                delivery_frequency="monthly",
                delivery_day="last",
                event_end_date="20261231",
            ),
        ),
    ).execute(CONTEXT)
    answered = IQMHook().get_report(report_id)
    assert answered["startDate"] == 1793491200  # seconds, as IQM answers
    schedule = answered["reportSchedulingEventDetails"]
    assert (schedule["deliveryFrequency"], schedule["deliveryDay"], schedule["eventEndDate"]) == (
        4,
        "last",
        1798761599,
    )
    updated = IQMScheduleReportOperator(
        task_id="update", report_id=report_id, schedule={"deliveryDay": "15"}, update=True
    ).execute(CONTEXT)
    assert updated["deliveryDay"] == "15" and updated["subscriberEmails"] == ["ops@example.com"]
    assert fast_iqm.state.stats()["calls"]["PATCH /api/v3/ra/report/email/schedule/1001"] == 1
