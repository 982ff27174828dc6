"""IQMHook against the emulator over real sockets: both login flows, refresh, fallback, owId, limits."""

from __future__ import annotations

import json
import time

import pytest

from airflow_provider_tealium.api import iqm
from airflow_provider_tealium.exceptions import TealiumApiError, TealiumAuthError
from airflow_provider_tealium.hooks.iqm import IQMHook, reset_limiters
from airflow_provider_tealium.hooks.token_cache import TOKEN_CACHE
from airflow_provider_tealium.testing.emulator import TealiumEmulator
from airflow_provider_tealium.testing.emulator.iqm.backend import DEFAULT_OW_ID, iqm_state

FAST = {"backoff_base": 0.01, "backoff_max": 0.05}
DEFINITION = {
    "reportName": "Campaigns",
    "dimensions": [{"filter": "campaign"}],
    "columns": ["impressions", "clicks"],
    "startDate": "2026-11-01",
    "endDate": "2026-11-07",
}


def use_connection(monkeypatch: pytest.MonkeyPatch, emulator: TealiumEmulator, **kwargs: object) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_IQM_DEFAULT", emulator.iqm_connection_json(**kwargs))  # type: ignore[arg-type]


def test_test_connection_with_the_oauth_flow(iqm_connection: TealiumEmulator) -> None:
    ok, message = IQMHook().test_connection()
    assert ok, message
    assert f"owId {DEFAULT_OW_ID}" in message and "oauth flow" in message
    assert iqm_connection.state.stats()["calls"] == {"POST /api/v3/ua/oauth/token": 1}


def test_json_login_flow(iqm_connection: TealiumEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    use_connection(monkeypatch, iqm_connection, login_flow="login")
    hook = IQMHook()
    assert hook.create_report(DEFINITION) == 1001
    calls = iqm_connection.state.stats()["calls"]
    assert calls == {"POST /api/v3/ua/login": 1, "POST /api/v3/ra/report/add": 1}


def test_wrong_password_fails_once_with_the_api_message(
    iqm_connection: TealiumEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = json.loads(iqm_connection.iqm_connection_json())
    conn["password"] = "not-the-password-42"
    monkeypatch.setenv("AIRFLOW_CONN_IQM_BAD", json.dumps(conn))
    ok, message = IQMHook("iqm_bad", **FAST).test_connection()  # type: ignore[arg-type]
    assert not ok
    assert "HTTP 401" in message and "Invalid email or password" in message and "client_secret" in message
    assert "not-the-password-42" not in message
    assert iqm_connection.state.auth_failures == 1  # a refused login is never retried


def test_one_login_serves_many_calls_and_owid_is_sent(iqm_connection: TealiumEmulator) -> None:
    hook = IQMHook()
    report_id = hook.create_report(DEFINITION)
    for _ in range(3):
        assert hook.get_report(report_id)["reportName"] == "Campaigns"
    assert IQMHook().get_token().ow_id == DEFAULT_OW_ID  # a second hook reuses the process-wide token
    assert iqm_state(iqm_connection.state).counters["logins"] == 1


def test_missing_owid_header_is_refused(iqm_connection: TealiumEmulator) -> None:
    import requests

    token = IQMHook().get_token()
    resp = requests.get(
        iqm_connection.base_url + "/api/v3/ra/reports/list",
        headers={"Authorization": f"Bearer {token.token}"},
        timeout=5,
    )
    assert resp.status_code == 403
    assert resp.json()["errorObjects"][0]["field"] == "X-IAA-OW-ID"


@pytest.mark.parametrize("unwrapped", [False, True])
def test_refresh_shortly_before_expiry(iqm_connection: TealiumEmulator, unwrapped: bool) -> None:
    state = iqm_state(iqm_connection.state)
    state.token_lifetime = 2  # refreshed a tenth of the lifetime before expiry
    state.unwrapped_refresh = unwrapped
    hook = IQMHook()
    first = hook.get_token()
    time.sleep(1.9)
    second = hook.get_token()
    assert second.token != first.token
    assert second.ow_id == DEFAULT_OW_ID  # carried over even when the refresh answer omits nothing
    assert state.counters["logins"] == 1 and state.counters["refreshes"] == 1
    assert hook.create_report(DEFINITION) == 1001


def test_refused_refresh_falls_back_to_a_full_login(iqm_connection: TealiumEmulator) -> None:
    state = iqm_state(iqm_connection.state)
    state.token_lifetime = 2
    hook = IQMHook()
    hook.get_token()
    state.revoke_refresh_tokens()
    time.sleep(1.9)
    hook.get_token()
    assert state.counters["logins"] == 2 and state.counters["refreshes"] == 0
    assert iqm_connection.state.stats()["calls"]["POST /api/v3/ua/oauth/token"] == 3


def test_refresh_refused_with_200_and_success_false_falls_back_to_a_full_login(
    iqm_connection: TealiumEmulator,
) -> None:
    state = iqm_state(iqm_connection.state)
    state.refused_refresh_status = 200  # IQM may refuse with HTTP 200 and {"success": false, ...}
    hook = IQMHook(**FAST)  # type: ignore[arg-type]
    report_id = hook.create_report(DEFINITION)
    state.revoke_refresh_tokens()
    state.expire_access_tokens()  # the next call gets a 401, so the hook tries its refresh token
    assert hook.get_report(report_id)["id"] == report_id
    assert state.counters["logins"] == 2 and state.counters["refreshes"] == 0
    calls = iqm_connection.state.stats()["calls"]
    assert calls["POST /api/v3/ua/oauth/token"] == 3  # login, the refused refresh, login again
    assert calls["GET /api/v3/ra/report/1001"] == 2


def test_401_mid_call_refreshes_once(iqm_connection: TealiumEmulator) -> None:
    state = iqm_state(iqm_connection.state)
    hook = IQMHook()
    report_id = hook.create_report(DEFINITION)
    state.expire_access_tokens()
    assert hook.get_report(report_id)["id"] == report_id
    assert state.counters["refreshes"] == 1 and state.counters["logins"] == 1


def test_second_401_fails_clearly(iqm_connection: TealiumEmulator) -> None:
    iqm_connection.faults.add(method="GET", path="/api/v3/ra/report/*", status=401, times=2)
    with pytest.raises(TealiumAuthError, match="refused the call again with an access token refreshed"):
        IQMHook(**FAST).get_report(5)  # type: ignore[arg-type]


def test_error_objects_become_the_message(iqm_connection: TealiumEmulator) -> None:
    with pytest.raises(TealiumApiError) as info:
        IQMHook(**FAST).get_report(999)  # type: ignore[arg-type]
    assert info.value.status == 404
    assert str(info.value) == "GET /api/v3/ra/report/999 failed: HTTP 404: Report not found (field reportId)"
    assert info.value.details == [{"error": "Report not found", "reason": None, "field": "reportId"}]
    assert info.value.attempts == 1


def test_429_is_waited_out_and_retried(
    iqm_connection: TealiumEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = iqm_state(iqm_connection.state)
    state.rate_limit, state.rate_window = 3, 1.0
    use_connection(
        monkeypatch, iqm_connection, requests_per_minute=10_000
    )  # the client limiter out of the way
    hook = IQMHook(**FAST)  # type: ignore[arg-type]
    body = iqm.report_body(DEFINITION)
    for _ in range(6):
        assert len(hook.execute_page(body, 1, 10).rows) == 10
    assert state.counters["rate_limited"] >= 1  # the emulator did answer 429, and every call still succeeded


def test_client_limiter_keeps_under_the_limit(
    iqm_connection: TealiumEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = iqm_state(iqm_connection.state)
    state.rate_limit, state.rate_window = 6, 1.0
    use_connection(monkeypatch, iqm_connection, requests_per_minute=6)
    reset_limiters()
    hook = IQMHook(rate_window=1.0, **FAST)  # type: ignore[arg-type]
    body = iqm.report_body(DEFINITION)
    started = time.monotonic()
    for _ in range(11):
        hook.execute_page(body, 1, 10)
    elapsed = time.monotonic() - started
    assert state.counters["rate_limited"] == 0  # paced, never refused
    assert elapsed >= 2.0  # 12 calls (login included) at 6 per second: 3 at once, then 3 a second


def test_the_limiter_is_process_wide(iqm_connection: TealiumEmulator) -> None:
    assert IQMHook().limiter is IQMHook().limiter


def test_cache_key_separates_clients(
    iqm_connection: TealiumEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    IQMHook().get_token()
    keys = [k for k in TOKEN_CACHE.mints if k.family == "iqm"]
    assert keys and keys[0].account == "emulator-client" and keys[0].user == "user@example.com"
