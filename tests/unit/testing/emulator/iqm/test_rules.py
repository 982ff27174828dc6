"""IQM's report, schedule and paging rules, each from API-NOTES and IQM's quickstarts."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest

from airflow_provider_tealium.testing.emulator.iqm import rules


def ms(*parts: int) -> int:
    return int(datetime(*parts, tzinfo=timezone.utc).timestamp()) * 1000  # type: ignore[misc]


REPORT: dict[str, Any] = {
    "reportName": "Campaigns",
    "dimensions": json.dumps([{"filter": "campaign", "value": [287846]}]),
    "columns": ["impressions", "clicks"],
    "startDate": ms(2026, 1, 1),
    "endDate": ms(2026, 1, 31),
    "requestType": 1,
    "reportAggregated": "0",
    "timezoneId": 29,
    "timezoneName": "US/Eastern",
}


def fields(body: dict[str, Any], **kwargs: Any) -> list[str]:
    return [name for name, _ in rules.report_problems(body, **kwargs)]


def test_a_valid_definition_and_what_execute_does_not_need() -> None:
    assert rules.report_problems(REPORT) == []
    nameless = {k: v for k, v in REPORT.items() if k != "reportName"}
    assert fields(nameless) == ["reportName"] and fields(nameless, saved=False) == []


@pytest.mark.parametrize(
    ("change", "field", "error"),
    [
        ({"dimensions": "[]"}, "dimensions", "at least one dimension is required"),
        (
            {"dimensions": [{"filter": "campaign"}]},
            "dimensions",
            "must be a JSON array serialised to a string",
        ),
        ({"dimensions": '[{"value": [1]}]'}, "dimensions[0].filter", "must be a non-empty string"),
        ({"columns": []}, "columns", "at least one column (a metric key string) is required"),
        ({"startDate": "2026-01-01"}, "startDate", "is required, in epoch milliseconds"),
        ({"endDate": ms(2025, 12, 31)}, "endDate", "must be after startDate"),
        ({"endDate": ms(2027, 1, 1) + 1}, "endDate", "the report range must be at most one year"),
        ({"requestType": 5}, "requestType", "must be 1 (daily), 2 (aggregated), 3 (weekly) or 4 (monthly)"),
        (
            {"requestType": True},
            "requestType",
            "must be 1 (daily), 2 (aggregated), 3 (weekly) or 4 (monthly)",
        ),
        ({"reportAggregated": 0}, "reportAggregated", 'must be the string "0" or "1"'),
        ({"timezoneId": None}, "timezoneId", "timezoneId is required"),
        ({"timezoneId": "29"}, "timezoneId", "must be a timezone id (a positive integer)"),
        ({"customerIds": ["a"]}, "customerIds", "must be a list of integer customer ids"),
    ],
)
def test_each_documented_rule(change: dict[str, Any], field: str, error: str) -> None:
    assert rules.report_problems({**REPORT, **change}) == [(field, error)]


def test_the_range_is_one_calendar_year_at_most() -> None:
    assert rules.one_year_after(ms(2026, 3, 1, 12)) == ms(2027, 3, 1, 12)
    assert rules.one_year_after(ms(2024, 2, 29) + 5) == ms(2025, 2, 28) + 5
    assert rules.report_problems({**REPORT, "endDate": ms(2027, 1, 1)}) == []


SCHEDULE: dict[str, Any] = {
    "deliveryFrequency": 3,
    "deliveryDay": "MONDAY",
    "fileType": 2,
    "subscriberEmails": ["a@example.com"],
    "eventEndDate": ms(2026, 6, 1),
}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({}, None),
        ({"deliveryFrequency": 1, "deliveryDay": None, "eventEndDate": None}, None),
        ({"deliveryFrequency": 4, "deliveryDay": "1"}, None),
        ({"deliveryFrequency": 4, "deliveryDay": "Last"}, None),
        ({"deliveryFrequency": 4, "deliveryDay": "30"}, "deliveryDay"),
        ({"deliveryDay": "someday"}, "deliveryDay"),
        ({"deliveryDay": None}, "deliveryDay"),
        ({"eventEndDate": None}, "eventEndDate"),
        ({"deliveryFrequency": 9}, "deliveryFrequency"),
        ({"fileType": 3}, "fileType"),
        ({"subscriberEmails": []}, "subscriberEmails"),
        ({"subscriberEmails": ["nobody"]}, "subscriberEmails[0]"),
        ({"runningTotalEnabled": True}, "earliestCampaignStartDate"),
        ({"runningTotalEnabled": "yes"}, "runningTotalEnabled"),
    ],
)
def test_schedule_rules(change: dict[str, Any], field: str | None) -> None:
    problems = rules.schedule_problems({**SCHEDULE, **change})
    assert [name for name, _ in problems] == ([] if field is None else [field])


def test_a_schedule_inside_a_definition_is_checked_with_its_prefix() -> None:
    body = {**REPORT, "reportSchedulingEventDetails": {**SCHEDULE, "fileType": 0}}
    assert fields(body) == ["reportSchedulingEventDetails.fileType"]
    assert rules.report_problems({**REPORT, "reportSchedulingEventDetails": {}}) == []


@pytest.mark.parametrize(
    ("page_no", "size", "problems"),
    [
        (1, 1, []),
        (3, 1000, []),
        (0, 10, ["pageNo"]),
        (1, 1001, ["noOfEntries"]),
        ("1", 0, ["pageNo", "noOfEntries"]),
    ],
)
def test_paging(page_no: Any, size: Any, problems: list[str]) -> None:
    assert [name for name, _ in rules.page_problems(page_no, size)] == problems
