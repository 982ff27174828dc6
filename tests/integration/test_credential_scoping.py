"""A cached credential is used only by the credential that minted it (issue 11, item 1).

The token cache is process-wide: a triggerer or worker runs many teams' connections in one process. A
connection with the right email but a wrong secret must be refused by the API, never handed the token
that another connection minted.
"""

from __future__ import annotations

import json

import pytest

from airflow_provider_tealium.exceptions import TealiumAuthError
from airflow_provider_tealium.hooks.iqm import IQMHook
from airflow_provider_tealium.hooks.tealium import TealiumAsyncHook, TealiumHook
from airflow_provider_tealium.testing.emulator import TealiumEmulator
from tests.integration.test_tealium_hook import FAST, WHOAMI_V2, whoami_v3


def connection_with(
    emulator: TealiumEmulator, monkeypatch: pytest.MonkeyPatch, name: str, **changes: str
) -> str:
    conn = json.loads(emulator.connection_json())
    for key, value in changes.items():
        if key in ("password", "login"):
            conn[key] = value
        else:
            conn["extra"][key] = value
    monkeypatch.setenv(f"AIRFLOW_CONN_{name.upper()}", json.dumps(conn))
    return name


def test_a_wrong_api_key_never_gets_the_cached_v3_token(
    tealium_connection: TealiumEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert TealiumHook().get_json(whoami_v3())["email"] == tealium_connection.email
    bad = connection_with(tealium_connection, monkeypatch, "tealium_wrong_key", password="wrong-api-key-123")
    with pytest.raises(TealiumAuthError) as caught:
        TealiumHook(bad, **FAST).get_json(whoami_v3())
    assert caught.value.status == 401 and caught.value.path.startswith("/v3/auth/")
    assert tealium_connection.state.auth_failures == 1


def test_a_wrong_api_key_never_gets_the_cached_v2_token(
    tealium_connection: TealiumEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert TealiumHook().get_json(WHOAMI_V2)["family"] == "v2"
    bad = connection_with(tealium_connection, monkeypatch, "tealium_wrong_key", password="wrong-api-key-123")
    with pytest.raises(TealiumAuthError):
        TealiumHook(bad, **FAST).get_json(WHOAMI_V2)
    assert tealium_connection.state.auth_failures == 1


async def test_a_wrong_api_key_never_gets_the_cached_token_async(
    tealium_connection: TealiumEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with TealiumAsyncHook(**FAST) as good:
        assert (await good.aget_json(WHOAMI_V2))["family"] == "v2"
    bad = connection_with(tealium_connection, monkeypatch, "tealium_wrong_key", password="wrong-api-key-123")
    async with TealiumAsyncHook(bad, **FAST) as hook:
        with pytest.raises(TealiumAuthError):
            await hook.aget_json(WHOAMI_V2)


def test_a_wrong_v1_password_never_gets_the_cached_v1_session(
    tealium_connection: TealiumEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    TealiumHook().list_revision_ids(revisions_api="v1")
    bad = connection_with(tealium_connection, monkeypatch, "tealium_wrong_v1", v1_password="not-the-password")
    with pytest.raises(TealiumAuthError) as caught:
        TealiumHook(bad, **FAST).list_revision_ids(revisions_api="v1")
    assert caught.value.path == "/v1/login"


def test_the_right_key_still_shares_one_token(
    tealium_connection: TealiumEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two connections with the same user and the same key are the same credential: one mint.
    twin = connection_with(tealium_connection, monkeypatch, "tealium_twin", account="demo")
    TealiumHook().get_json(WHOAMI_V2)
    TealiumHook(twin).get_json(WHOAMI_V2)
    assert tealium_connection.state.stats()["mints"] == {"v2:user@example.com": 1}


def iqm_variant(emulator: TealiumEmulator, monkeypatch: pytest.MonkeyPatch, name: str, **changes: str) -> str:
    conn = json.loads(emulator.iqm_connection_json())
    for key, value in changes.items():
        if key == "password":
            conn["password"] = value
        else:
            conn["extra"][key] = value
    monkeypatch.setenv(f"AIRFLOW_CONN_{name.upper()}", json.dumps(conn))
    return name


def test_wrong_iqm_password_and_secret_never_get_the_cached_login(
    iqm_connection: TealiumEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    IQMHook().get_token()
    bad = iqm_variant(
        iqm_connection, monkeypatch, "iqm_wrong", password="not-the-password-42", client_secret="nope"
    )
    with pytest.raises(TealiumAuthError):
        IQMHook(bad, **FAST).get_token()  # type: ignore[arg-type]
    assert iqm_connection.state.auth_failures == 1


def test_iqm_login_flow_is_part_of_the_key(
    iqm_connection: TealiumEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    IQMHook().get_token()
    other = iqm_variant(iqm_connection, monkeypatch, "iqm_json_login", login_flow="login")
    IQMHook(other).get_token()
    calls = iqm_connection.state.stats()["calls"]
    assert calls == {"POST /api/v3/ua/oauth/token": 1, "POST /api/v3/ua/login": 1}


def test_a_dot_segment_account_sends_nothing(tealium_connection: TealiumEmulator) -> None:
    # Item 7: "/v3/tiq/accounts/../profiles/.." would collapse to "/v3/tiq/"; refused before the login.
    from airflow_provider_tealium.exceptions import TealiumValidationError

    with pytest.raises(TealiumValidationError, match="account: must be a Tealium name"):
        TealiumHook().get_profile("..", "..")
    with pytest.raises(TealiumValidationError, match=r"publish_id: must not be '.' or '..'"):
        TealiumHook().get_publish_status("..")
    assert tealium_connection.state.stats()["calls"] == {}


# -- one async hook, several event loops (item 11) ----------------------------------------------------------


def test_an_async_hook_works_on_a_second_event_loop(tealium_connection: TealiumEmulator) -> None:
    import asyncio

    hook = TealiumAsyncHook(**FAST)
    first = asyncio.run(hook.aget_json(WHOAMI_V2))  # the loop ends without aclose, as dag.test() runs do
    second = asyncio.run(hook.aget_json(WHOAMI_V2))  # a new loop: its own client, not the dead one's

    async def third_and_close() -> object:
        try:
            return await hook.aget_json(whoami_v3())
        finally:
            await hook.aclose()

    third = asyncio.run(third_and_close())
    assert first["family"] == second["family"] == "v2" and third["family"] == "v3"  # type: ignore[index]
    # One v2 mint across the loops: the process-wide cache; the mint lock is per loop.
    assert tealium_connection.state.stats()["mints"]["v2:user@example.com"] == 1


def test_single_flight_minting_on_each_loop(tealium_connection: TealiumEmulator) -> None:
    import asyncio

    from airflow_provider_tealium.hooks.token_cache import TOKEN_CACHE

    async def many() -> None:
        hooks = [TealiumAsyncHook(**FAST) for _ in range(5)]
        await asyncio.gather(*(h.aget_json(WHOAMI_V2) for h in hooks))
        for h in hooks:
            await h.aclose()

    tealium_connection.faults.add(method="POST", path="/v2/auth", latency=0.3, times=1)
    asyncio.run(many())
    TOKEN_CACHE.clear()  # a fresh mint on the next loop, raced by five hooks again
    tealium_connection.faults.add(method="POST", path="/v2/auth", latency=0.3, times=1)
    asyncio.run(many())
    assert tealium_connection.state.calls["POST /v2/auth"] == 2
