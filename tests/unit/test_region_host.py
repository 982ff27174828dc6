"""The region host of a v3 auth answer receives the bearer token only if it passes a strict rule (item 3)."""

from __future__ import annotations

import pytest

from airflow_provider_tealium.api import auth
from airflow_provider_tealium.exceptions import TealiumApiError, TealiumValidationError

DEFAULT = auth.DEFAULT_PLATFORM_BASE_URL
EMULATOR = "http://127.0.0.1:8080"
REQ = auth.v3_auth_request("acc", "main", "a@b.c", "key")


@pytest.mark.parametrize(
    "host",
    [
        "us-east-1-platform.tealiumapis.com",
        "eu-central-1-platform.tealiumapis.com",
        "tealiumapis.com",
        "US-EAST-1-PLATFORM.TEALIUMAPIS.COM",
    ],
)
def test_tealium_hosts_pass_with_the_default_platform(host: str) -> None:
    assert auth.region_host_problem(host, DEFAULT) is None
    assert auth.region_base_url(DEFAULT, host) == f"https://{host}"


@pytest.mark.parametrize(
    "host",
    [
        "evil.example",
        "tealiumapis.com.evil.example",
        "eviltealiumapis.com",
        "us-east-1-platform.tealiumapis.com:8443",
        "http://us-east-1-platform.tealiumapis.com",
        "https://evil.example",
        "user:pw@us-east-1-platform.tealiumapis.com",
        "us-east-1-platform.tealiumapis.com/x?y=",
        "us-east-1-platform.tealiumapis.com?y=1",
        "us-east-1-platform.tealiumapis.com#frag",
        "host with space.tealiumapis.com",
        ".tealiumapis.com",
        "-bad.tealiumapis.com",
        "a..tealiumapis.com",
        "",
    ],
)
def test_anything_else_is_refused_with_the_default_platform(host: str) -> None:
    assert auth.region_host_problem(host, DEFAULT) is not None
    with pytest.raises(TealiumValidationError):
        auth.region_base_url(DEFAULT, host)


@pytest.mark.parametrize("host", ["127.0.0.1:8081", "localhost:9", "region.proxy.internal", "evil.example"])
def test_an_overridden_platform_accepts_any_bare_host(host: str) -> None:
    assert auth.region_host_problem(host, EMULATOR) is None
    assert auth.region_base_url(EMULATOR, host) == f"http://{host}"


@pytest.mark.parametrize(
    "host",
    [
        "http://127.0.0.1:8081",
        "https://127.0.0.1:8081",
        "user:pw@127.0.0.1:8081",
        "127.0.0.1:8081/x?y=",
        "127.0.0.1:99999",
        "127.0.0.1:",
        "[::1]:8081",
        "127.0.0.1:8081\r\nX-Injected: 1",
    ],
)
def test_an_overridden_platform_still_needs_a_bare_host(host: str) -> None:
    assert auth.region_host_problem(host, EMULATOR) is not None


def test_the_scheme_is_always_the_platform_urls() -> None:
    # An answer used to be able to choose http://, downgrading the token's transport.
    with pytest.raises(TealiumValidationError):
        auth.region_base_url("https://proxy.example", "http://proxy.example")
    assert (
        auth.region_base_url("https://proxy.example", "region.proxy.example")
        == "https://region.proxy.example"
    )


def test_a_refused_host_fails_the_auth_answer_without_quoting_userinfo() -> None:
    with pytest.raises(TealiumApiError) as caught:
        auth.parse_token_answer(
            REQ, {"token": "t", "host": "user:s3cret@evil.example/x?q=1"}, 0.0, needs_host=True
        )
    message = str(caught.value)
    assert "not a bare host name" in message and "the token is not sent to it" in message
    assert "s3cret" not in message and "q=1" not in message


def test_the_auth_call_reads_the_platform_url_from_the_connection() -> None:
    from airflow_provider_tealium.api.config import config_from_connection
    from airflow_provider_tealium.api.request import ApiResponse, TokenFamily

    config = config_from_connection("c", "a@b.c", "key", {"platform_base_url": EMULATOR})
    call = auth.auth_call(TokenFamily.V3, config, "acc", "main")
    answer = ApiResponse(200, {}, b'{"token": "t", "host": "127.0.0.1:8081"}')
    assert call.read(answer, 0.0).host == "127.0.0.1:8081"
    strict = auth.auth_call(TokenFamily.V3, config_from_connection("c", "a@b.c", "key", {}), "acc", "main")
    with pytest.raises(TealiumApiError, match=r"not under tealiumapis.com"):
        strict.read(answer, 0.0)
