"""What a message quotes is bounded and never carries a URL's userinfo (issue 11, items 8 and 12)."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_tealium.api.config import config_from_connection
from airflow_provider_tealium.api.iqm_config import config_from_connection as iqm_config
from airflow_provider_tealium.api.urls import safe_url, strip_userinfo
from airflow_provider_tealium.exceptions import TealiumApiError, TealiumValidationError, shown

IQM_EXTRA = {"client_id": "c", "client_secret": "s", "workspace_host": "app.iqm.com"}


@pytest.mark.parametrize(
    "url",
    [
        "https://admin:s3cr3t-pw@platform.example",
        "ftp://admin:s3cr3t-pw@platform.example",
        "https://admin:s3cr3t-pw@platform.example:99999",
        "s3cr3t-pw",  # not even a URL: quoted, but there is no userinfo to find
        "https://admin:p@ss:s3cr3t-pw@host",  # an unencoded "@" in the password
    ],
)
def test_base_url_errors_never_quote_the_password(url: str) -> None:
    for extra_name in ("platform_base_url", "api_base_url"):
        with pytest.raises(TealiumValidationError) as caught:
            config_from_connection("c", "a@b.c", "k", {extra_name: url})
        assert caught.value.field == f"c.{extra_name}"
        if "@" in url:
            assert "s3cr3t" not in str(caught.value) and "admin" not in str(caught.value)
    with pytest.raises(TealiumValidationError) as caught:
        iqm_config("q", "a@b.c", "pw", {**IQM_EXTRA, "base_url": url})
    if "@" in url:
        assert "s3cr3t" not in str(caught.value)


def test_a_base_url_with_userinfo_query_or_fragment_is_refused() -> None:
    for url, rule in [
        ("https://u:p@platform.example", "must not carry a user or password"),
        ("https://platform.example?x=1", "must not carry a query string or fragment"),
        ("https://platform.example/#f", "must not carry a query string or fragment"),
        ("https://", "must name a host"),
        ("https://exa mple.com", "must name a host and contain no spaces"),
    ]:
        with pytest.raises(TealiumValidationError, match=rule):
            config_from_connection("c", "a@b.c", "k", {"platform_base_url": url})
    ok = config_from_connection("c", "a@b.c", "k", {"platform_base_url": "http://127.0.0.1:8080/"})
    assert ok.platform_base_url == "http://127.0.0.1:8080"


def test_every_validation_message_strips_userinfo() -> None:
    error = TealiumValidationError(
        "x", "see https://u:pw@h.example/a", value={"url": "https://bob:hunter2@h/x"}
    )
    assert "pw@" not in str(error) and "hunter2" not in str(error) and "https://h/x" in str(error)


def test_api_messages_strip_userinfo() -> None:
    error = TealiumApiError("GET", "/p", 502, "upstream https://svc:t0ken@internal.example failed")
    assert "t0ken" not in str(error) and "https://internal.example" in str(error)


def test_safe_url_drops_userinfo_query_and_fragment() -> None:
    assert safe_url("https://u:p@files.example:8443/r.csv?X-Sig=abc#x") == "https://files.example:8443/r.csv"
    assert strip_userinfo("a http://u@h b https://u:p@h2/x") == "a http://h b https://h2/x"


class Hostile:
    def __repr__(self) -> str:
        raise RuntimeError("no repr for you")


def deep(levels: int) -> Any:
    value: Any = []
    for _ in range(levels):
        value = [value]
    return value


@pytest.mark.parametrize(
    "value",
    [deep(100_000), "x" * 1_000_000, {"k" * 10_000: list(range(10_000))}, Hostile(), b"\x00" * 10_000],
)
def test_quoted_values_are_bounded_whatever_they_are(value: object) -> None:
    text = shown(value)
    assert len(text) <= 200
    message = str(TealiumValidationError("field", "rule", value=value))
    assert len(message) <= 250 and message.startswith("field: rule (got ")
