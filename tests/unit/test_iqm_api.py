"""IQM api layer, pure: every report and schedule rule, date handling, login/refresh parsing, config."""

from __future__ import annotations

import base64
from datetime import date, datetime, timezone
from typing import Any

import pendulum
import pytest

from airflow_provider_tealium.api import iqm
from airflow_provider_tealium.api.iqm_config import LoginFlow, config_from_connection
from airflow_provider_tealium.exceptions import (
    TealiumApiError,
    TealiumValidationError,
    TealiumValidationErrors,
)

GOOD: dict[str, Any] = {
    "reportName": "Campaign by Gender",
    "dimensions": [{"filter": "campaign", "value": [287846]}],
    "columns": ["impressions", "clicks"],
    "startDate": 1650177200000,
    "endDate": 1666938296000,
    "requestType": 1,
}


def errors_of(raw: dict[str, Any]) -> list[str]:
    try:
        iqm.report_body(raw)
    except TealiumValidationErrors as exc:
        return [str(e) for e in exc.errors]
    except TealiumValidationError as exc:
        return [str(exc)]
    return []


def test_seed_example_passes_and_is_serialised_as_the_api_wants() -> None:
    body = iqm.report_body(GOOD)
    assert body["dimensions"] == '[{"filter":"campaign","value":[287846]}]'
    assert body["reportAggregated"] == "0" and body["requestType"] == 1
    assert iqm.report_body({**GOOD, "requestType": "aggregated"})["reportAggregated"] == "1"
    assert iqm.report_body({**GOOD, "reportAggregated": True})["reportAggregated"] == "1"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"reportName": ""}, "reportName: is required (a non-empty string) (got '')"),
        ({"reportName": None}, "reportName: is required (a non-empty string)"),
        ({"dimensions": []}, "dimensions: at least one dimension is required"),
        ({"dimensions": None}, "dimensions: at least one dimension is required"),
        (
            {"dimensions": "not json"},
            "dimensions: must be a JSON array serialised to a string (got 'not json')",
        ),
        ({"dimensions": [{"value": [1]}]}, "dimensions[0].filter: must be a non-empty string"),
        (
            {"dimensions": [{"filter": "campaign", "value": 5}]},
            "dimensions[0].value: must be a list of ids (got 5)",
        ),
        ({"dimensions": ["campaign"]}, 'dimensions[0]: must be an object like {"filter": "campaign"}'),
        ({"columns": []}, "columns: at least one column (metric key) is required (got [])"),
        ({"columns": ["clicks", ""]}, "columns[1]: must be a non-empty string (got '')"),
        ({"endDate": 1650177200000}, "endDate: must be after startDate (got 1650177200000)"),
        ({"endDate": 1650177200000 + 367 * 86400000}, "endDate: the report range must be at most one year"),
        (
            {"startDate": 1650177200},
            "startDate: must be epoch milliseconds (this looks like seconds or is too old)",
        ),
        (
            {"startDate": "yesterday-ish"},
            "startDate: must be a date: a datetime, a date, an ISO 8601 string or epoch milliseconds",
        ),
        ({"startDate": None}, "startDate: must be a date"),
        (
            {"requestType": 9},
            "requestType: must be one of daily (1), aggregated (2), weekly (3), monthly (4) (got 9)",
        ),
        ({"requestType": "hourly"}, "requestType: must be one of daily (1)"),
        ({"reportAggregated": "yes"}, 'reportAggregated: must be the string "0" or "1" (got \'yes\')'),
        ({"timezoneId": 0}, "timezoneId: must be a positive integer (got 0)"),
        ({"timezoneName": " "}, "timezoneName: must be a non-empty string"),
        ({"customerIds": ["200"]}, "customerIds: must be a list of integer customer ids"),
        ({"reportname": "typo"}, "reportname: is not a report definition field"),
        ({"reportSchedulingEventDetails": "weekly"}, "reportSchedulingEventDetails: must be an object"),
        ({"filters": {1, 2}}, "filters: must be JSON-serialisable (got {1, 2})"),
        (
            {"filters": {"campaignId": object}},
            "filters: must be JSON-serialisable (got {'campaignId': <class",
        ),
    ],
)
def test_every_report_rule(change: dict[str, Any], message: str) -> None:
    found = errors_of({**GOOD, **change})
    assert any(m.startswith(message) for m in found), found


def test_all_broken_rules_are_reported_together() -> None:
    found = errors_of({**GOOD, "reportName": "", "columns": [], "requestType": 7})
    assert len(found) == 3


def test_range_of_exactly_one_year_is_allowed() -> None:
    start = pendulum.datetime(2025, 3, 1, tz="UTC")
    iqm.report_body({**GOOD, "startDate": start, "endDate": start.add(years=1)})


SCHEDULE: dict[str, Any] = {
    "subscriberEmails": ["a@example.com"],
    "deliveryFrequency": "monthly",
    "deliveryDay": "last",
    "eventEndDate": "2026-12-31",
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"subscriberEmails": []}, "subscriberEmails: at least one email address is required"),
        ({"subscriberEmails": ["nope"]}, "subscriberEmails[0]: must be an email address (got 'nope')"),
        ({"deliveryFrequency": 6}, "deliveryFrequency: must be one of once (1)"),
        ({"fileType": "pdf"}, "fileType: must be one of csv (1), xls (2) (got 'pdf')"),
        ({"deliveryDay": None}, "deliveryDay: is required unless the delivery frequency is once"),
        (
            {"deliveryDay": "30"},
            "deliveryDay: must be first, last or a day 1-29 for a monthly schedule (got '30')",
        ),
        ({"deliveryFrequency": "weekly", "deliveryDay": "funday"}, "deliveryDay: must be a weekday name"),
        ({"eventEndDate": None}, "eventEndDate: is required unless the delivery frequency is once"),
        (
            {"runningTotalEnabled": True},
            "earliestCampaignStartDate: is required when runningTotalEnabled is true",
        ),
        ({"runningTotalEnabled": "maybe"}, "runningTotalEnabled: must be true or false"),
        ({"eventID": 3}, "eventID: is not a schedule field"),
        (
            {"eventEndDate": "end of year"},
            "eventEndDate: must be a date: a datetime, a date, an ISO 8601 string or epoch milliseconds "
            "(got 'end of year')",
        ),
        (
            {"eventEndDate": 1671148799},  # seconds, as Get Report answers it: from a user, an error
            "eventEndDate: must be epoch milliseconds (this looks like seconds or is too old) (got 1671148799)",
        ),
        (
            {"eventEndDate": "1671148799"},
            "eventEndDate: must be epoch milliseconds (this looks like seconds or is too old) (got 1671148799)",
        ),
    ],
)
def test_every_schedule_rule(change: dict[str, Any], message: str) -> None:
    with pytest.raises(TealiumValidationError) as info:
        iqm.schedule_body({**SCHEDULE, **change}, prefix="")
    assert message in str(info.value)


def test_schedule_once_needs_no_day_and_nested_errors_carry_the_prefix() -> None:
    body = iqm.schedule_body({"subscriberEmails": ["a@example.com"], "deliveryFrequency": "once"}, prefix="")
    assert body == {"deliveryFrequency": 1, "fileType": 1, "subscriberEmails": ["a@example.com"]}
    found = errors_of({**GOOD, "reportSchedulingEventDetails": {**SCHEDULE, "deliveryDay": None}})
    assert found == [
        "reportSchedulingEventDetails.deliveryDay: is required unless the delivery frequency is once"
    ]


@pytest.mark.parametrize(
    ("value", "end", "expected"),
    [
        (pendulum.datetime(2026, 11, 21, tz="UTC"), False, 1795219200000),
        (datetime(2026, 11, 21, tzinfo=timezone.utc), False, 1795219200000),
        (datetime(2026, 11, 21), False, 1795219200000),  # naive: UTC without a report timezone
        (date(2026, 11, 21), False, 1795219200000),
        ("2026-11-21", False, 1795219200000),
        ("2026-11-21", True, 1795305599999),  # a date as an end date: its last millisecond
        ("2026-11-21T06:30:00+00:00", True, 1795219200000 + 6.5 * 3600000),
        ("1795219200000", False, 1795219200000),
        ("20261121", False, 1795219200000),  # {{ ds_nodash }}: yyyyMMdd, not epoch milliseconds
        (" 20261121 ", True, 1795305599999),
    ],
)
def test_dates_become_epoch_milliseconds(value: Any, end: bool, expected: int) -> None:
    errors: list[TealiumValidationError] = []
    assert iqm.to_epoch_ms(value, "startDate", errors, end_of_day=end) == expected
    assert errors == []


def test_date_strings_are_read_in_the_report_timezone() -> None:
    errors: list[TealiumValidationError] = []
    assert iqm.to_epoch_ms("2026-11-21", "startDate", errors, tz="US/Eastern") == 1795219200000 + 5 * 3600000


def test_eight_digit_dates_use_the_report_timezone_and_bad_ones_are_refused() -> None:
    errors: list[TealiumValidationError] = []
    assert iqm.to_epoch_ms("20261121", "startDate", errors, tz="US/Eastern") == 1795219200000 + 5 * 3600000
    body = iqm.report_body({**GOOD, "startDate": "20261101", "endDate": "20261107"})
    assert (body["startDate"], body["endDate"]) == (1793491200000, 1794095999999)
    assert errors_of({**GOOD, "startDate": "20261399"}) == [
        "startDate: must be a date: a datetime, a date, an ISO 8601 string or epoch milliseconds "
        "(got '20261399')"
    ]
    assert errors_of({**GOOD, "startDate": "1650177200"}) == [
        "startDate: must be epoch milliseconds (this looks like seconds or is too old) (got 1650177200)"
    ]


# IQM's documented Get Report answer (Reports API guidelines, "Get Report by ID").
ANSWERED_SCHEDULE: dict[str, Any] = {
    "eventId": 18,
    "deliveryFrequency": 3,
    "fileType": 2,
    "subscriberEmails": ["demoUser1@gmail.com", "demoUser2@iqm.com"],
    "eventEndDate": 1671148799,
    "deliveryDay": "Friday",
    "runningTotalEnabled": 0,
    "earliestCampaignStartDate": 0,
}


def test_answered_schedule_is_read_leniently() -> None:
    assert iqm.schedule_from_answer(ANSWERED_SCHEDULE) == {
        "deliveryFrequency": 3,
        "fileType": 2,
        "subscriberEmails": ["demoUser1@gmail.com", "demoUser2@iqm.com"],
        "eventEndDate": 1671148799000,
        "deliveryDay": "Friday",
        "runningTotalEnabled": False,
    }
    assert iqm.schedule_from_answer({}) == {} and iqm.schedule_from_answer(None) == {}
    assert iqm.schedule_from_answer(
        {"eventEndDate": 1671148799999, "runningTotalEnabled": 1, "earliestCampaignStartDate": "1670674108"}
    ) == {
        "eventEndDate": 1671148799999,
        "runningTotalEnabled": True,
        "earliestCampaignStartDate": 1670674108000,
    }
    assert (
        iqm.schedule_from_answer({"eventEndDate": "", "deliveryDay": "", "runningTotalEnabled": None}) == {}
    )


def test_schedule_update_sends_only_the_change_and_checks_it_strictly() -> None:
    emails = {"subscriberEmails": ["ops@example.com"]}
    assert iqm.schedule_update_body(emails, ANSWERED_SCHEDULE) == emails
    # An id echoed back from an answer is accepted but never sent.
    assert iqm.schedule_update_body({"fileType": "csv", "eventId": 18}, ANSWERED_SCHEDULE) == {"fileType": 1}
    with pytest.raises(TealiumValidationError) as info:
        iqm.schedule_update_body({"eventEndDate": 1671148799}, ANSWERED_SCHEDULE)
    assert str(info.value) == (
        "eventEndDate: must be epoch milliseconds (this looks like seconds or is too old) (got 1671148799)"
    )
    # The rules span fields: monthly needs a monthly day, and the current day is a weekday.
    with pytest.raises(TealiumValidationError) as info:
        iqm.schedule_update_body({"deliveryFrequency": "monthly"}, ANSWERED_SCHEDULE)
    assert str(info.value) == (
        "deliveryDay: must be first, last or a day 1-29 for a monthly schedule (got 'Friday')"
    )
    assert iqm.schedule_update_body(
        {"deliveryFrequency": "monthly", "deliveryDay": "last", "eventEndDate": "20261231"},
        ANSWERED_SCHEDULE,
        tz="US/Eastern",
    ) == {"deliveryFrequency": 4, "deliveryDay": "last", "eventEndDate": 1798779599999}


def test_report_definition_model() -> None:
    definition = iqm.ReportDefinition(
        report_name="r",
        dimensions=[{"filter": "campaign"}],
        columns=["impressions"],
        start_date="2026-11-01",
        end_date="2026-11-01",
        request_type=iqm.RequestType.AGGREGATED,
        schedule=iqm.ReportSchedule(subscriber_emails=["a@example.com"]),
    )
    body = definition.to_body()
    assert body["endDate"] - body["startDate"] == 86400000 - 1
    assert body["reportSchedulingEventDetails"]["deliveryFrequency"] == 1


def test_ids_and_page_sizes() -> None:
    assert iqm.validate_report_id("1001") == 1001
    with pytest.raises(TealiumValidationError, match="report_id: must be a positive integer report id"):
        iqm.validate_report_id("abc")
    with pytest.raises(TealiumValidationError, match="page_size: must be an integer from 1 to 1000"):
        iqm.execute_request(1, page_size=1001)


def config(**extra: Any) -> Any:
    base = {"client_id": "cid", "client_secret": "csecret", "workspace_host": "app.iqm.com", **extra}
    return config_from_connection("iqm_default", "u@example.com", "pw", base)


def test_login_requests_of_both_flows() -> None:
    basic = "Basic " + base64.b64encode(b"cid:csecret").decode()
    oauth = iqm.login_request(config())
    assert oauth.path == "/api/v3/ua/oauth/token"
    assert oauth.form == {"grant_type": "password", "username": "u@example.com", "password": "pw"}
    assert oauth.headers == {"Authorization": basic, "X-IAA-HOST": "app.iqm.com"}
    login = iqm.login_request(config(login_flow="login"))
    assert login.path == "/api/v3/ua/login"
    assert login.json_body == {"grantType": "password", "email": "u@example.com", "password": "pw"}
    refresh = iqm.refresh_request(config(), "r1")
    assert refresh.form == {"grant_type": "refresh_token", "refresh_token": "r1"}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"client_id": None}, "iqm_default.client_id: is required"),
        ({"client_secret": ""}, "iqm_default.client_secret: is required"),
        ({"workspace_host": None}, "iqm_default.workspace_host: is required"),
        ({"login_flow": "saml"}, "iqm_default.login_flow: must be one of ['oauth', 'login']"),
        ({"base_url": "api.iqm.com"}, "iqm_default.base_url: must start with http:// or https://"),
        (
            {"requests_per_minute": 0},
            "iqm_default.requests_per_minute: must be a whole number from 1 to 1000000",
        ),
    ],
)
def test_connection_rules(extra: dict[str, Any], message: str) -> None:
    with pytest.raises(TealiumValidationError) as info:
        config(**extra)
    assert message in str(info.value)
    assert "csecret" not in str(info.value)


def test_connection_defaults() -> None:
    c = config()
    assert (
        c.login_flow is LoginFlow.OAUTH
        and c.base_url == "https://api.iqm.com"
        and c.requests_per_minute == 20
    )
    assert "csecret" not in repr(c) and "'pw'" not in repr(c)


LOGIN = iqm.ApiRequest("POST", iqm.TOKEN_PATH, iqm.TokenFamily.NONE, iqm.Host.IQM)


def test_token_answers_wrapped_and_unwrapped() -> None:
    data = {"access_token": "a1", "refresh_token": "r1", "expires_in": 35999, "owId": 200001}
    wrapped = iqm.parse_token_answer(LOGIN, {"success": True, "data": data}, 1000.0)
    assert wrapped.expires_at == 1000.0 + 35999 and wrapped.ow_id == 200001
    assert dict(wrapped.headers) == {"Authorization": "Bearer a1", "X-IAA-OW-ID": "200001"}
    assert "a1" not in repr(wrapped) and "r1" not in repr(wrapped)
    refreshed = iqm.parse_token_answer(LOGIN, {"access_token": "a2", "expires_in": 100}, 2000.0, wrapped)
    assert (
        refreshed.ow_id == 200001
        and refreshed.refresh_token == "r1"
        and set(refreshed.secrets) == {"a2", "r1"}
    )
    with pytest.raises(TealiumApiError, match="no access_token"):
        iqm.parse_token_answer(LOGIN, {"success": True, "data": {}}, 0.0)


def test_envelope_and_answers() -> None:
    failed = {"success": False, "errorObjects": [{"error": "Bad", "field": "columns", "reason": "empty"}]}
    with pytest.raises(TealiumApiError) as info:
        iqm.unwrap(LOGIN, failed)
    # The error text is said once, not once as a returnCode and again as the message.
    assert str(info.value) == "POST /api/v3/ua/oauth/token failed: HTTP 200: Bad (field columns): empty"
    assert info.value.details == [{"error": "Bad", "reason": "empty", "field": "columns"}]
    assert info.value.status == 200 and info.value.return_code == "Bad"
    with pytest.raises(TealiumApiError) as info:
        iqm.unwrap(LOGIN, {"success": False})
    assert str(info.value).endswith("HTTP 200: success: false without an error") and info.value.details == []
    assert iqm.parse_report_id(LOGIN, 1001) == 1001
    assert iqm.parse_report_id(LOGIN, "Report with id 123 updated successfully") == 123
    page = iqm.parse_execute_page(LOGIN, {"data": [{"a": 1}], "total": {"totalRecords": 135}})
    assert page.total_records == 135 and page.rows == [{"a": 1}]
    assert iqm.parse_download_url({}) is None
    assert iqm.parse_download_url({"url": "https://b.s3/x.csv?sig=1"}) == "https://b.s3/x.csv?sig=1"
    assert iqm.safe_url("https://b.s3/x.csv?sig=1") == "https://b.s3/x.csv"
