"""The IQM backend by plain method calls (no HTTP): logins, tokens, reports, pages, schedules, the limit."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from airflow_provider_tealium.testing.emulator.errors import EmulatorHTTPError
from airflow_provider_tealium.testing.emulator.iqm.backend import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_IQM_PASSWORD,
    DEFAULT_OW_ID,
    IQMEmulatorState,
    iqm_state,
)
from airflow_provider_tealium.testing.emulator.iqm.reports import report_rows
from airflow_provider_tealium.testing.emulator.state import DEFAULT_EMAIL, EmulatorState

BASIC = "Basic " + base64.b64encode(f"{DEFAULT_CLIENT_ID}:{DEFAULT_CLIENT_SECRET}".encode()).decode()
REPORT: dict[str, Any] = {
    "reportName": "Campaigns",
    "dimensions": json.dumps([{"filter": "campaign"}]),
    "columns": ["impressions"],
    "startDate": 1767225600000,
    "endDate": 1769817600000,
    "requestType": 1,
    "reportAggregated": "0",
    "timezoneId": 11,
}


def refusal(call: object, *args: object) -> tuple[int, dict[str, Any]]:
    with pytest.raises(EmulatorHTTPError) as info:
        call(*args)  # type: ignore[operator]
    return info.value.status, info.value.body["errorObjects"][0]


@pytest.fixture
def iqm() -> IQMEmulatorState:
    return iqm_state(EmulatorState())


def test_logins_refreshes_and_token_checks(iqm: IQMEmulatorState) -> None:
    iqm.check_client(BASIC, "emulator.iqm.local")
    assert refusal(iqm.check_client, BASIC, None)[1]["field"] == "X-IAA-HOST"
    assert refusal(iqm.check_client, "Basic bm9wZQ==", "host")[0] == 401
    tokens = iqm.password_login(DEFAULT_EMAIL, DEFAULT_IQM_PASSWORD)
    assert tokens["owId"] == DEFAULT_OW_ID and tokens["expires_in"] == 35999
    assert iqm.verify(f"Bearer {tokens['access_token']}", str(DEFAULT_OW_ID)) == DEFAULT_EMAIL
    assert refusal(iqm.verify, f"Bearer {tokens['access_token']}", "1")[0] == 403
    renewed = iqm.refresh(tokens["refresh_token"])
    assert refusal(iqm.refresh, tokens["refresh_token"])[0] == 401  # used up
    iqm.expire_access_tokens()
    assert refusal(iqm.verify, f"Bearer {renewed['access_token']}", str(DEFAULT_OW_ID))[0] == 401
    assert refusal(iqm.password_login, DEFAULT_EMAIL, "wrong")[0] == 401
    assert iqm.counters == {"logins": 1, "refreshes": 1} and iqm.state.auth_failures == 2


def test_a_saved_report_is_answered_in_iqm_shapes(iqm: IQMEmulatorState) -> None:
    schedule = {"deliveryFrequency": 1, "fileType": 1, "subscriberEmails": ["a@example.com"]}
    report_id = iqm.add_report({**REPORT, "reportSchedulingEventDetails": schedule})

    answer = iqm.get_report(str(report_id))
    assert (answer["startDate"], answer["endDate"]) == (1767225600, 1769817600)  # seconds, as IQM answers
    assert answer["reportSchedulingEventDetails"]["eventId"] == 1
    assert answer["reportSchedulingEventDetails"]["runningTotalEnabled"] == 0
    assert iqm.list_reports()["totalRecords"] == 1
    assert refusal(iqm.get_report, "999")[0] == 404
    status, error = refusal(iqm.add_report, {**REPORT, "dimensions": "[]"})
    assert (status, error) == (422, {"error": "at least one dimension is required", "field": "dimensions"})


def test_execute_pages_rows_with_totals(iqm: IQMEmulatorState) -> None:
    iqm.report_rows = 5
    report_id = iqm.add_report(REPORT)

    first = iqm.execute({"id": report_id, "pageNo": 1, "noOfEntries": 3})
    second = iqm.execute({**REPORT, "pageNo": 2, "noOfEntries": 3})
    assert [len(first["data"]), len(second["data"])] == [3, 2] and first["totalRecords"] == 5
    assert first["data"] + second["data"] == list(report_rows({"id": report_id, **REPORT}, 5, 0, 5))
    assert first["total"]["impressions"] == sum(row["impressions"] for row in first["data"] + second["data"])
    assert iqm.executed_pages == [(1, 3), (2, 3)]
    assert refusal(iqm.execute, {"id": report_id, "noOfEntries": 1001})[1]["field"] == "noOfEntries"
    assert refusal(iqm.execute, {"id": 999})[0] == 404


def test_download_and_schedules(iqm: IQMEmulatorState) -> None:
    report_id = iqm.add_report(REPORT)
    url = iqm.download({"id": report_id}, "http://127.0.0.1:1")["url"]
    assert url.startswith("http://127.0.0.1:1/iqm-files/") and len(iqm.files) == 1
    iqm.report_rows = 0
    assert iqm.download({"id": report_id}, "http://x") == {}

    weekly = {
        "deliveryFrequency": 3,
        "deliveryDay": "monday",
        "fileType": 1,
        "subscriberEmails": ["a@example.com"],
    }
    assert refusal(iqm.schedule, {"reportId": report_id, **weekly})[1]["field"] == "eventEndDate"
    saved = iqm.schedule({"reportId": report_id, **weekly, "eventEndDate": 1780000000000})
    assert saved["scheduledData"]["reportId"] == report_id and "eventId" not in saved["scheduledData"]
    changed = iqm.update_schedule(str(report_id), {"deliveryDay": "friday"})
    assert changed["scheduledData"]["deliveryDay"] == "friday" and iqm.schedule_updates == [
        {"deliveryDay": "friday"}
    ]
    assert refusal(iqm.update_schedule, str(report_id), {"fileType": 7})[1]["field"] == "fileType"
    assert refusal(iqm.update_schedule, "999", {})[0] == 404


def test_the_rate_limit_answers_429_with_retry_after(iqm: IQMEmulatorState) -> None:
    iqm.rate_limit, iqm.rate_window = 2, 30.0
    iqm.admit()
    iqm.admit()
    with pytest.raises(EmulatorHTTPError) as info:
        iqm.admit()
    assert info.value.status == 429 and 1 <= int(info.value.headers["Retry-After"]) <= 30
    assert iqm.counters["rate_limited"] == 1
