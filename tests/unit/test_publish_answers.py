"""Answers the provider cannot read, and operator arguments rendered from templates: pure, no network."""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from typing import Any

import pytest

from airflow_provider_tealium.api import profiles as p
from airflow_provider_tealium.api import publish as pub
from airflow_provider_tealium.api.arguments import flag_arg, seconds_arg
from airflow_provider_tealium.api.request import ApiRequest, ApiResponse, Host, TokenFamily
from airflow_provider_tealium.exceptions import (
    TealiumApiError,
    TealiumUnexpectedAnswerError,
    TealiumValidationError,
)
from airflow_provider_tealium.operators.profiles import utc_now_iso
from airflow_provider_tealium.sensors.publish import handle_publish_event, read_publish

STATUS_PATH = "/v3/tiq/accounts/demo/profiles/main/publish/p1/status"


def status_request() -> ApiRequest:
    return pub.publish_status_request("demo", "main", "p1")


# -- answers that are not what the API documents ------------------------------------------------------


def test_non_json_answer_is_a_provider_error_naming_the_request() -> None:
    request = ApiRequest("GET", "/v3/x", TokenFamily.V3, Host.REGION)
    answer = ApiResponse(200, {"content-type": "text/html"}, b"<html>secret-ish proxy page</html>")
    with pytest.raises(TealiumApiError) as info:
        answer.json(request)
    error = info.value
    assert isinstance(error, TealiumUnexpectedAnswerError)
    assert (error.method, error.path, error.status) == ("GET", "/v3/x", 200)
    assert str(error).startswith("GET /v3/x failed: HTTP 200: the answer is not JSON (text/html, 34 bytes")
    assert "proxy page" not in str(error)  # the body may be a truncated token answer: never shown
    # Still a ValueError, so callers that read answers defensively keep working.
    assert isinstance(error, ValueError)


def test_non_json_answer_without_its_request_still_reads_well() -> None:
    with pytest.raises(
        TealiumApiError, match=r"^Unexpected HTTP 200 answer: the answer is not JSON \(no content"
    ):
        ApiResponse(200, {}, b"{truncated").json()
    assert ApiResponse(200, {}, b"").json() is None
    assert ApiResponse(200, {}, b'{"a": 1}').json() == {"a": 1}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"publishTargetState": "exploded"}, "unknown publish state 'exploded' (expected one of queued"),
        ({"publishTargetState": {"dev": "done"}}, "unknown publish state 'done'"),
        ({"publishTargetState": [{"target": "dev", "state": None}]}, "unknown publish state None"),
        ({}, "the publish status answer carries no publishTargetState: {}"),
        (["published"], "unexpected publish status answer: ['published']"),
        ("published", "unexpected publish status answer: 'published'"),
    ],
)
def test_unreadable_status_answer_is_an_api_error(body: Any, message: str) -> None:
    with pytest.raises(TealiumApiError) as info:
        pub.parse_publish_status("p1", body, ["dev"], request=status_request())
    assert isinstance(info.value, TealiumUnexpectedAnswerError)
    assert (info.value.method, info.value.path, info.value.status) == ("GET", STATUS_PATH, 200)
    assert f"GET {STATUS_PATH} failed: HTTP 200: {message}" in str(info.value)


def test_unreadable_status_answer_without_request_is_still_a_provider_error() -> None:
    with pytest.raises(TealiumApiError, match=r"^Unexpected HTTP 200 answer: unknown publish state 'x'"):
        pub.parse_publish_status("p1", {"publishTargetState": "x"})


@pytest.mark.parametrize("body", [{}, {"publishId": ""}, {"publishId": None}, [], None, "p1"])
def test_publish_answer_without_an_id_is_an_api_error(body: Any) -> None:
    request = pub.publish_request(
        "demo",
        "main",
        pub.validate_publish(version_id="1", targets="dev", title="t", notes="", operator_id="a@b.co"),
    )
    with pytest.raises(
        TealiumApiError,
        match="POST /v3/tiq/accounts/demo/profiles/main/publish failed: HTTP 200: "
        "the publish answer carries no publishId",
    ) as info:
        pub.parse_publish_id(body, request)
    assert isinstance(info.value, TealiumUnexpectedAnswerError)
    assert pub.parse_publish_id({"publishId": 42}, request) == "42"


# -- the PATCH request carries its warnings -----------------------------------------------------------


def test_patch_profile_call_returns_the_warnings() -> None:
    value = p.Extension("e", "b.x=1;").to_json()
    body = {"notes": "n", "operationList": [{"op": "replace", "path": "/extensions/86", "value": value}]}
    request, warnings = p.patch_profile_call("demo", "main", body)
    assert request.method == "PATCH" and not request.idempotent
    assert warnings == [
        "operationList[0].value.conditions: absent: replace removes the extension's existing conditions"
    ]
    assert p.patch_profile_request("demo", "main", body) == request


# -- arguments rendered from templates ----------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [(5, 5.0), (1.5, 1.5), ("5", 5.0), (" 2.5 ", 2.5)])
def test_poll_interval_accepts_rendered_numbers(value: Any, expected: float) -> None:
    assert pub.validate_poll_interval(value) == expected


@pytest.mark.parametrize("value", ["abc", "", "0.5", True, None, math.nan, "{{ params.x }}"])
def test_poll_interval_refuses_anything_else(value: Any) -> None:
    with pytest.raises(TealiumValidationError, match="poll_interval: must be at least 1 second"):
        pub.validate_poll_interval(value)


@pytest.mark.parametrize(("value", "expected"), [(0, 0.0), (30, 30.0), ("0.3", 0.3), ("180", 180.0)])
def test_seconds_arg_reads_numbers_and_rendered_strings(value: Any, expected: float) -> None:
    assert seconds_arg(value, "lock_timeout") == expected


@pytest.mark.parametrize(
    ("value", "positive", "message"),
    [
        ("soon", False, "lock_timeout: must be a number (0 or more) of seconds (got 'soon')"),
        (-1, False, "lock_timeout: must be a number (0 or more) of seconds (got -1)"),
        (True, False, "lock_timeout: must be a number (0 or more) of seconds (got True)"),
        (math.inf, False, "lock_timeout: must be a number (0 or more) of seconds (got inf)"),
        (0, True, "lock_timeout: must be a positive number of seconds (got 0)"),
        (None, True, "lock_timeout: must be a positive number of seconds"),
    ],
)
def test_seconds_arg_refuses_with_the_argument_and_rule(value: Any, positive: bool, message: str) -> None:
    with pytest.raises(TealiumValidationError) as info:
        seconds_arg(value, "lock_timeout", positive=positive)
    assert str(info.value) == message
    assert info.value.field == "lock_timeout"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (False, False),
        ("True", True),
        ("false", False),
        (" yes ", True),
        ("0", False),
        ("on", True),
    ],
)
def test_flag_arg_reads_bools_and_rendered_strings(value: Any, expected: bool) -> None:
    assert flag_arg(value, "prune") is expected


@pytest.mark.parametrize("value", ["maybe", "", None, 1, "{{ params.prune }}"])
def test_flag_arg_refuses_anything_else(value: Any) -> None:
    with pytest.raises(TealiumValidationError, match="prune: must be true or false"):
        flag_arg(value, "prune")


def test_utc_now_iso_is_an_iso_utc_time() -> None:
    before = datetime.now(timezone.utc)
    moment = datetime.fromisoformat(utc_now_iso())
    assert moment.utcoffset() is not None and moment.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    assert before <= moment <= datetime.now(timezone.utc)


# -- the publish sensor's upstream result -------------------------------------------------------------


RESULT = {
    "publish_id": "p1",
    "account": "demo",
    "profile": "main",
    "version_id": "1",
    "targets": ["dev", "qa"],
    "state": "started",
    "requested_at": "2026-01-01T12:00:00.000001+00:00",
}


@pytest.mark.parametrize("value", [RESULT, str(RESULT), json.dumps(RESULT)])
def test_sensor_reads_an_upstream_result(value: Any) -> None:
    assert read_publish(value) == ("p1", ["dev", "qa"], RESULT["requested_at"])


def test_sensor_reads_a_plain_id_and_results_without_a_time() -> None:
    assert read_publish("p1") == ("p1", None, None)
    assert read_publish({"publish_id": "p1"}) == ("p1", None, None)
    for bad, message in [
        ({"targets": ["dev"]}, "publish_id: a publish result must carry a publish_id"),
        ("{not a dict", "publish_id: must be a publish id or a TealiumPublishOperator result"),
        ("", "publish_id: is required"),
    ]:
        with pytest.raises(TealiumValidationError, match=message):
            read_publish(bad)


def test_event_result_carries_requested_at_only_when_known() -> None:
    event = {
        "status": "success",
        "publish_id": "p1",
        "targets": ["dev"],
        "target_states": {"dev": "published"},
    }
    assert "requested_at" not in handle_publish_event(event)
    assert (
        handle_publish_event({**event, "requested_at": RESULT["requested_at"]})["requested_at"]
        == (RESULT["requested_at"])
    )
