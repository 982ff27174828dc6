"""Non-finite and absurd retry settings are refused by name; ``Retry-After: nan`` is ignored (item 9)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from airflow_provider_tealium.api.config import config_from_connection
from airflow_provider_tealium.api.iqm_config import config_from_connection as iqm_config
from airflow_provider_tealium.api.retry import RetryPolicy, decide_on_answer, parse_retry_after
from airflow_provider_tealium.exceptions import TealiumValidationError

IQM_EXTRA = {"client_id": "c", "client_secret": "s", "workspace_host": "app.iqm.com"}


@pytest.mark.parametrize("header", ["nan", "NaN", "inf", "-inf", "Infinity", "1e400"])
def test_a_non_finite_retry_after_is_ignored(header: str) -> None:
    assert parse_retry_after(header) is None
    decision = decide_on_answer(
        RetryPolicy(),
        status=429,
        retry_after=header,
        ok=False,
        idempotent=True,
        uses_token=True,
        refreshed=False,
        retries_used=0,
    )
    assert math.isfinite(decision.delay) and 0 <= decision.delay <= 1.0


def test_a_finite_retry_after_still_wins() -> None:
    assert parse_retry_after("2.5") == 2.5 and parse_retry_after("-3") == 0.0


@pytest.mark.parametrize(
    ("name", "value", "rule"),
    [
        ("timeout", "nan", "must be a finite number of seconds"),
        ("timeout", float("inf"), "must be a finite number of seconds"),
        ("timeout", 0, "must be more than 0 and at most 3600 seconds"),
        ("timeout", 86400, "must be more than 0 and at most 3600 seconds"),
        ("backoff_base", "inf", "must be a finite number of seconds"),
        ("backoff_base", float("nan"), "must be a finite number of seconds"),
        ("backoff_max", -1, "must be 0 or more and at most 3600 seconds"),
        ("backoff_max", "1e9", "must be 0 or more and at most 3600 seconds"),
        ("max_retries", 1_000_000, "must be a whole number from 0 to 100"),
        ("max_retries", "1000000", "must be a whole number from 0 to 100"),
        ("max_retries", -1, "must be a whole number from 0 to 100"),
        ("max_retries", 2.5, "must be a number"),
        ("max_retries", "nan", "must be a number"),
        ("max_retries", "inf", "must be a number"),
        ("max_retries", True, "must be a number"),
        ("timeout", [30], "must be a number"),
    ],
)
def test_connection_extras_are_refused_by_name(name: str, value: Any, rule: str) -> None:
    with pytest.raises(TealiumValidationError) as caught:
        config_from_connection("c", "a@b.c", "k", {name: value})
    assert caught.value.field == f"c.{name}" and caught.value.rule == rule
    with pytest.raises(TealiumValidationError) as caught:
        iqm_config("q", "a@b.c", "pw", {**IQM_EXTRA, name: value})
    assert caught.value.field == f"q.{name}"


def test_hook_overrides_take_the_same_checks() -> None:
    with pytest.raises(TealiumValidationError, match=r"c\.timeout: must be a finite number"):
        config_from_connection("c", "a@b.c", "k", {}, retry_overrides={"timeout": float("nan")})


def test_sensible_values_pass() -> None:
    config = config_from_connection(
        "c", "a@b.c", "k", {"timeout": "2.5", "max_retries": "3", "backoff_base": 0, "backoff_max": 5.0}
    )
    assert config.retry == RetryPolicy(max_retries=3, backoff_base=0.0, backoff_max=5.0, timeout=2.5)
    assert config_from_connection("c", "a@b.c", "k", {"max_retries": 4.0}).retry.max_retries == 4


@pytest.mark.parametrize("value", [float("inf"), "inf", float("nan"), 10**9, 0, 2.5, "x", True, -5])
def test_iqm_requests_per_minute_is_refused_by_name(value: Any) -> None:
    with pytest.raises(TealiumValidationError) as caught:
        iqm_config("q", "a@b.c", "pw", {**IQM_EXTRA, "requests_per_minute": value})
    assert caught.value.field == "q.requests_per_minute"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"timeout": float("nan")},
        {"backoff_max": float("inf")},
        {"max_retries": 10**6},
        {"retry_after_max": float("nan")},
    ],
)
def test_the_policy_itself_refuses_them(kwargs: dict[str, Any]) -> None:
    # Triggers rebuild the policy from their kwargs (RetryPolicy.from_dict): the same rule applies.
    with pytest.raises(ValueError):
        RetryPolicy.from_dict(kwargs)
