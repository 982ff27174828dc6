"""Credentials never follow a redirect; other calls follow one only within their origin (issue 11, item 2).

The emulator answers the redirects (fault rules with a ``Location``); a second local server stands for
the other origin and records everything that reaches it: it must receive nothing.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from airflow_provider_tealium.exceptions import TealiumApiError
from airflow_provider_tealium.hooks.iqm import IQMHook
from airflow_provider_tealium.hooks.tealium import TealiumAsyncHook, TealiumHook
from airflow_provider_tealium.testing.emulator import TealiumEmulator
from tests.integration.test_tealium_hook import FAST, WHOAMI_V2, whoami_v3


class Capture(ThreadingHTTPServer):
    """An HTTP server that records every request and answers 200 ``{"token": "stolen"}``."""

    daemon_threads = True

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: Capture

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.seen.append(
            {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
        )
        payload = json.dumps({"token": "stolen", "host": "127.0.0.1", "family": "v2"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def other_origin() -> Iterator[Capture]:
    server = Capture()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def redirect(
    emulator: TealiumEmulator, method: str, path: str, status: int, location: str, times: int | None = None
) -> None:
    emulator.faults.add(method=method, path=path, status=status, headers={"Location": location}, times=times)


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_sync_credential_call_never_follows_a_redirect(
    tealium_connection: TealiumEmulator, other_origin: Capture, status: int
) -> None:
    redirect(tealium_connection, "POST", "/v2/auth", status, f"{other_origin.base}/steal?sig=s3cr3t")
    with pytest.raises(TealiumApiError) as caught:
        TealiumHook(**FAST).get_json(WHOAMI_V2)
    message = str(caught.value)
    assert f"HTTP {status}" in message and f"127.0.0.1:{other_origin.server_address[1]}" in message
    assert "credential calls never follow redirects" in message
    assert "sig=" not in message and "s3cr3t" not in message and "/steal" not in message
    assert other_origin.seen == []


def test_sync_credential_call_refuses_even_a_same_origin_redirect(
    tealium_connection: TealiumEmulator,
) -> None:
    redirect(tealium_connection, "POST", "/v3/auth/*", 307, "/v3/auth/accounts/demo/profiles/other", times=1)
    with pytest.raises(TealiumApiError, match=r"HTTP 307.*credential calls never follow redirects"):
        TealiumHook(**FAST).get_json(whoami_v3())
    assert tealium_connection.state.calls["POST /v3/auth/accounts/demo/profiles/other"] == 0


async def test_async_credential_call_never_follows_a_redirect(
    tealium_connection: TealiumEmulator, other_origin: Capture
) -> None:
    redirect(tealium_connection, "POST", "/v2/auth", 307, f"{other_origin.base}/steal")
    async with TealiumAsyncHook(**FAST) as hook:
        with pytest.raises(TealiumApiError, match=r"HTTP 307: redirected to 127.0.0.1"):
            await hook.aget_json(WHOAMI_V2)
    assert other_origin.seen == []


def test_iqm_login_never_follows_a_redirect(iqm_connection: TealiumEmulator, other_origin: Capture) -> None:
    redirect(iqm_connection, "POST", "/api/v3/ua/oauth/token", 308, f"{other_origin.base}/token")
    with pytest.raises(TealiumApiError, match=r"HTTP 308.*credential calls never follow redirects"):
        IQMHook(**FAST).get_token()  # type: ignore[arg-type]
    assert other_origin.seen == []


def test_sync_token_call_does_not_follow_a_cross_origin_redirect(
    tealium_connection: TealiumEmulator, other_origin: Capture
) -> None:
    redirect(tealium_connection, "GET", "/v2/emulator/whoami", 302, f"{other_origin.base}/x?q=1")
    with pytest.raises(TealiumApiError) as caught:
        TealiumHook(**FAST).get_json(WHOAMI_V2)
    assert "HTTP 302: redirected to 127.0.0.1" in str(caught.value) and "another origin" in str(caught.value)
    assert "q=1" not in str(caught.value)
    assert other_origin.seen == []


async def test_async_token_call_does_not_follow_a_cross_origin_redirect(
    tealium_connection: TealiumEmulator, other_origin: Capture
) -> None:
    redirect(tealium_connection, "GET", "/v2/emulator/whoami", 307, f"{other_origin.base}/x")
    async with TealiumAsyncHook(**FAST) as hook:
        with pytest.raises(TealiumApiError, match="another origin"):
            await hook.aget_json(WHOAMI_V2)
    assert other_origin.seen == []


def test_a_scheme_change_is_another_origin(tealium_connection: TealiumEmulator) -> None:
    https = tealium_connection.base_url.replace("http://", "https://")
    redirect(tealium_connection, "GET", "/v2/emulator/whoami", 301, f"{https}/v2/emulator/whoami")
    with pytest.raises(TealiumApiError, match="another origin"):
        TealiumHook(**FAST).get_json(WHOAMI_V2)


def test_sync_same_origin_redirect_is_followed(tealium_connection: TealiumEmulator) -> None:
    redirect(tealium_connection, "GET", "/v2/emulator/whoami", 307, "/v2/emulator/whoami", times=1)
    assert TealiumHook(**FAST).get_json(WHOAMI_V2)["family"] == "v2"
    assert tealium_connection.state.calls["GET /v2/emulator/whoami"] == 2


async def test_async_same_origin_redirect_is_followed(tealium_connection: TealiumEmulator) -> None:
    redirect(tealium_connection, "GET", "/v2/emulator/whoami", 308, "/v2/emulator/whoami", times=1)
    async with TealiumAsyncHook(**FAST) as hook:
        assert (await hook.aget_json(WHOAMI_V2))["family"] == "v2"


def test_a_redirect_that_would_turn_a_post_into_a_get_is_refused(tealium_connection: TealiumEmulator) -> None:
    from tests.integration.test_tealium_hook import COUNTER

    redirect(tealium_connection, "POST", "/v2/emulator/counter", 303, "/v2/emulator/whoami", times=1)
    with pytest.raises(TealiumApiError, match="would change the method"):
        TealiumHook(**FAST).get_json(COUNTER)


def test_a_redirect_loop_stops(tealium_connection: TealiumEmulator) -> None:
    redirect(tealium_connection, "GET", "/v2/emulator/whoami", 307, "/v2/emulator/whoami")
    with pytest.raises(TealiumApiError, match="redirected more than 5 times"):
        TealiumHook(**FAST).get_json(WHOAMI_V2)


def test_presigned_download_does_not_follow_a_cross_origin_redirect(
    iqm_connection: TealiumEmulator, other_origin: Capture
) -> None:
    redirect(iqm_connection, "GET", "/files/report.csv", 302, f"{other_origin.base}/elsewhere")
    with pytest.raises(TealiumApiError, match=r"HTTP 302: redirected to 127.0.0.1.*another origin"):
        IQMHook(**FAST).fetch_file(f"{iqm_connection.base_url}/files/report.csv?X-Sig=abc", io.BytesIO())  # type: ignore[arg-type]
    assert other_origin.seen == []


# -- the region host of the v3 auth answer (item 3) -------------------------------------------------------


@pytest.mark.parametrize("shape", ["http://{hp}", "user:pw@{hp}", "{hp}/x?y=", "https://{hp}"])
def test_an_unacceptable_region_host_never_receives_the_token(
    tealium_connection: TealiumEmulator, other_origin: Capture, shape: str
) -> None:
    host = shape.format(hp=f"127.0.0.1:{other_origin.server_address[1]}")
    tealium_connection.faults.add(
        method="POST", path="/v3/auth/*", status=200, body={"token": "t0ken", "host": host}
    )
    with pytest.raises(TealiumApiError, match="the token is not sent to it"):
        TealiumHook(**FAST).get_json(whoami_v3())
    assert other_origin.seen == []


async def test_an_unacceptable_region_host_never_receives_the_token_async(
    tealium_connection: TealiumEmulator, other_origin: Capture
) -> None:
    host = f"http://127.0.0.1:{other_origin.server_address[1]}"
    tealium_connection.faults.add(
        method="POST", path="/v3/auth/*", status=200, body={"token": "t", "host": host}
    )
    async with TealiumAsyncHook(**FAST) as hook:
        with pytest.raises(TealiumApiError, match="not a bare host name"):
            await hook.aget_json(whoami_v3())
    assert other_origin.seen == []


# -- Retry-After: nan (item 9) ------------------------------------------------------------------------------


def test_retry_after_nan_is_survived(tealium_connection: TealiumEmulator) -> None:
    tealium_connection.faults.add(
        method="GET", path="/v2/emulator/whoami", status=429, headers={"Retry-After": "nan"}, times=2
    )
    assert TealiumHook(**FAST).get_json(WHOAMI_V2)["family"] == "v2"
    assert tealium_connection.state.calls["GET /v2/emulator/whoami"] == 3


async def test_retry_after_nan_is_survived_async(tealium_connection: TealiumEmulator) -> None:
    tealium_connection.faults.add(
        method="GET", path="/v2/emulator/whoami", status=503, headers={"Retry-After": "nan"}, times=1
    )
    async with TealiumAsyncHook(**FAST) as hook:
        assert (await hook.aget_json(WHOAMI_V2))["family"] == "v2"
