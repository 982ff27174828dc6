"""TealiumHook and TealiumAsyncHook against the emulator over real sockets (no Airflow DB)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from airflow_provider_tealium.api.request import ApiRequest, Host, TokenFamily
from airflow_provider_tealium.exceptions import TealiumAmbiguousResultError, TealiumApiError, TealiumAuthError
from airflow_provider_tealium.hooks.tealium import TealiumAsyncHook, TealiumHook
from airflow_provider_tealium.testing.emulator import TealiumEmulator

FAST = {"backoff_base": 0.01, "backoff_max": 0.05}


def whoami_v3(account: str = "demo", profile: str = "main") -> ApiRequest:
    return ApiRequest(
        "GET", f"/v3/emulator/accounts/{account}/profiles/{profile}/whoami", TokenFamily.V3, Host.REGION
    )


WHOAMI_V2 = ApiRequest("GET", "/v2/emulator/whoami", TokenFamily.V2, Host.API)
COUNTER = ApiRequest("POST", "/v2/emulator/counter", TokenFamily.V2, Host.API, json_body={}, idempotent=False)


def mints(emulator: TealiumEmulator) -> dict[str, int]:
    return dict(emulator.state.stats()["mints"])


# -- connection test ---------------------------------------------------------------------------------------


def test_test_connection_reports_region_host(tealium_connection: TealiumEmulator) -> None:
    ok, message = TealiumHook().test_connection()
    assert ok, message
    assert tealium_connection.region_host in message
    assert "demo/main" in message


def test_test_connection_fails_clearly_with_wrong_key(
    tealium_connection: TealiumEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = json.loads(tealium_connection.connection_json())
    conn["password"] = "wrong-api-key-123"
    monkeypatch.setenv("AIRFLOW_CONN_TEALIUM_BAD", json.dumps(conn))
    ok, message = TealiumHook("tealium_bad").test_connection()
    assert not ok
    assert "HTTP 401" in message and "1401" in message and "API key" in message
    assert "wrong-api-key-123" not in message
    assert tealium_connection.state.auth_failures == 1  # a refused login is not retried


def test_test_connection_without_profile_uses_v2(
    tealium_connection: TealiumEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = json.loads(tealium_connection.connection_json())
    conn["extra"].pop("profile")
    monkeypatch.setenv("AIRFLOW_CONN_TEALIUM_V2ONLY", json.dumps(conn))
    ok, message = TealiumHook("tealium_v2only").test_connection()
    assert ok and "v2 API" in message


# -- refused keys are remembered ---------------------------------------------------------------------------


def bad_key_connection(emulator: TealiumEmulator, monkeypatch: pytest.MonkeyPatch) -> str:
    conn = json.loads(emulator.connection_json())
    conn["password"] = "wrong-api-key-123"
    monkeypatch.setenv("AIRFLOW_CONN_TEALIUM_BAD", json.dumps(conn))
    return "tealium_bad"


def test_concurrent_threads_send_one_refused_v3_auth(
    tealium_connection: TealiumEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = bad_key_connection(tealium_connection, monkeypatch)
    # A slow answer, so every thread is already waiting on the mint lock when the refusal arrives.
    tealium_connection.faults.add(method="POST", path="/v3/auth/*", latency=0.5, times=1)
    callers = 8
    barrier = threading.Barrier(callers)

    def call(_: int) -> Any:
        hook = TealiumHook(bad, **FAST)
        assert hook.config.email  # read the connection before the race: only the login is raced
        barrier.wait()
        try:
            return hook.get_json(whoami_v3())
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(callers) as pool:
        outcomes = list(pool.map(call, range(callers)))
    assert all(isinstance(o, TealiumAuthError) and o.return_code == 1401 for o in outcomes), outcomes
    assert all("wrong-api-key-123" not in str(o) for o in outcomes)
    assert tealium_connection.state.auth_failures == 1
    # The Test button reports the same refusal without another login...
    ok, message = TealiumHook(bad).test_connection()
    assert not ok and "1401" in message and "Remembered: this login was refused" in message
    assert tealium_connection.state.auth_failures == 1
    # ...and the corrected key (same user and profile, another secret) is used at once.
    assert TealiumHook().get_json(whoami_v3())["profile"] == "main"
    assert mints(tealium_connection) == {"v3:demo/main:user@example.com": 1}


async def test_concurrent_async_tasks_send_one_refused_v2_auth(
    tealium_connection: TealiumEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = bad_key_connection(tealium_connection, monkeypatch)
    tealium_connection.faults.add(method="POST", path="/v2/auth", latency=0.5, times=1)

    async def one() -> Any:
        async with TealiumAsyncHook(bad, **FAST) as hook:
            return await hook.aget_json(WHOAMI_V2)

    outcomes = await asyncio.gather(*(one() for _ in range(8)), return_exceptions=True)
    assert all(isinstance(o, TealiumAuthError) and o.status == 401 for o in outcomes), outcomes
    assert tealium_connection.state.auth_failures == 1
    assert tealium_connection.state.calls["POST /v2/auth"] == 1
    async with TealiumAsyncHook(**FAST) as hook:
        assert (await hook.aget_json(WHOAMI_V2))["family"] == "v2"
    assert mints(tealium_connection) == {"v2:user@example.com": 1}


# -- token economy ------------------------------------------------------------------------------------------


def test_one_mint_per_family_and_profile_over_1000_calls(tealium_connection: TealiumEmulator) -> None:
    calls = [whoami_v3("demo", "main"), whoami_v3("demo", "other"), WHOAMI_V2, whoami_v3("acme", "web")]

    def work(i: int) -> Any:
        hook = TealiumHook()  # a new hook each time: the cache is process-wide, not per hook
        req = calls[i % len(calls)]
        account = req.path.split("/")[4] if req.family is TokenFamily.V3 else None
        profile = req.path.split("/")[6] if req.family is TokenFamily.V3 else None
        return hook.get_json(req, account=account, profile=profile)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(work, range(1000)))
    assert len(answers) == 1000
    assert mints(tealium_connection) == {
        "v3:demo/main:user@example.com": 1,
        "v3:demo/other:user@example.com": 1,
        "v3:acme/web:user@example.com": 1,
        "v2:user@example.com": 1,
    }


def test_short_lived_tokens_are_refreshed_before_expiry(tealium_connection: TealiumEmulator) -> None:
    tealium_connection.state.token_lifetime = 5
    hook = TealiumHook()
    deadline = time.monotonic() + 6.5
    calls = 0
    while time.monotonic() < deadline:
        hook.get_json(whoami_v3())
        calls += 1
        time.sleep(0.02)
    stats = tealium_connection.state.stats()
    assert stats["mints"]["v3:demo/main:user@example.com"] == 2
    # Refreshed ahead of exp, so the emulator never had to refuse a token.
    assert stats["calls"].get("GET /v3/emulator/accounts/demo/profiles/main/whoami") == calls
    assert stats["token_rejections"] == 0


def test_v3_calls_go_to_the_region_host(tealium_connection: TealiumEmulator) -> None:
    hook = TealiumHook()
    assert hook.get_json(whoami_v3())["account"] == "demo"
    assert hook.region_base_url() == f"http://{tealium_connection.region_host}"
    assert tealium_connection.region_host != tealium_connection.base_url.split("//")[1]


# -- 401 handling --------------------------------------------------------------------------------------------


def test_401_refreshes_once(tealium_connection: TealiumEmulator) -> None:
    hook = TealiumHook()
    hook.get_json(whoami_v3())
    tealium_connection.faults.add(method="GET", path="*/whoami", status=401, times=1)
    assert hook.get_json(whoami_v3())["profile"] == "main"
    assert mints(tealium_connection)["v3:demo/main:user@example.com"] == 2


def test_second_401_fails_clearly(tealium_connection: TealiumEmulator) -> None:
    tealium_connection.faults.add(method="GET", path="*/whoami", status=401, times=2)
    with pytest.raises(TealiumAuthError, match=r"refused twice.*freshly minted credentials") as err:
        TealiumHook().get_json(whoami_v3())
    assert err.value.status == 401


def test_expired_token_from_emulator_is_refused(tealium_connection: TealiumEmulator) -> None:
    """The emulator really checks exp: a token kept past its lifetime is answered 401, then refreshed."""
    # iat is whole seconds, so a 1 s token can already be inside its refresh margin when first used;
    # 2 s leaves room, and sleeping past 2 s guarantees the emulator sees it expired.
    tealium_connection.state.token_lifetime = 2
    hook = TealiumHook()
    hook.get_json(WHOAMI_V2)
    key = next(iter(hook.token_cache.mints))
    stale = hook.token_cache.get(key, now=0)
    time.sleep(2.1)
    assert stale is not None
    # Pretend the client believed the token still valid: the emulator must refuse it on its own.
    hook.token_cache.put(key, dataclasses.replace(stale, expires_at=stale.expires_at + 100))
    assert hook.get_json(WHOAMI_V2)["family"] == "v2"
    assert mints(tealium_connection)["v2:user@example.com"] == 2


# -- retries ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_transient_answers_are_retried(tealium_connection: TealiumEmulator, status: int) -> None:
    tealium_connection.faults.add(method="GET", path="/v2/emulator/whoami", status=status, times=2)
    assert TealiumHook(**FAST).get_json(WHOAMI_V2)["family"] == "v2"
    assert tealium_connection.state.calls["GET /v2/emulator/whoami"] == 3


def test_retry_after_is_honoured(tealium_connection: TealiumEmulator) -> None:
    tealium_connection.faults.add(
        method="GET", path="/v2/emulator/whoami", status=429, times=1, headers={"Retry-After": "1"}
    )
    start = time.monotonic()
    TealiumHook(**FAST).get_json(WHOAMI_V2)
    assert time.monotonic() - start >= 1.0


def test_bad_request_is_not_retried(tealium_connection: TealiumEmulator) -> None:
    tealium_connection.faults.add(
        method="GET",
        path="/v2/emulator/whoami",
        status=400,
        times=1,
        body={"returnCode": 1400, "message": "Invalid request submission."},
    )
    with pytest.raises(TealiumApiError) as err:
        TealiumHook(**FAST).get_json(WHOAMI_V2)
    assert (err.value.status, err.value.return_code, err.value.attempts) == (400, 1400, 1)
    assert str(err.value) == (
        "GET /v2/emulator/whoami failed: HTTP 400, returnCode 1400: Invalid request submission."
    )
    assert tealium_connection.state.calls["GET /v2/emulator/whoami"] == 1


def test_retries_run_out_with_a_clear_error(tealium_connection: TealiumEmulator) -> None:
    tealium_connection.faults.add(method="GET", path="/v2/emulator/whoami", status=503, times=None)
    with pytest.raises(TealiumApiError, match="after 3 attempts: HTTP 503") as err:
        TealiumHook(max_retries=2, **FAST).get_json(WHOAMI_V2)
    assert err.value.attempts == 3


def test_auth_5xx_is_retried(tealium_connection: TealiumEmulator) -> None:
    tealium_connection.faults.add(method="POST", path="/v2/auth", status=502, times=2)
    assert TealiumHook(**FAST).get_json(WHOAMI_V2)["family"] == "v2"


def test_connection_reset_is_retried_for_idempotent_calls(tealium_connection: TealiumEmulator) -> None:
    tealium_connection.faults.add(method="GET", path="/v2/emulator/whoami", reset=True, times=2)
    assert TealiumHook(**FAST).get_json(WHOAMI_V2)["family"] == "v2"


def test_timeouts_are_retried_then_reported(tealium_connection: TealiumEmulator) -> None:
    tealium_connection.faults.add(method="GET", path="/v2/emulator/whoami", latency=1.0, times=1)
    assert TealiumHook(timeout=0.3, **FAST).get_json(WHOAMI_V2)["family"] == "v2"
    tealium_connection.faults.add(method="GET", path="/v2/emulator/whoami", latency=1.0, times=None)
    with pytest.raises(TealiumApiError, match="no answer") as err:
        TealiumHook(timeout=0.3, max_retries=1, **FAST).get_json(WHOAMI_V2)
    assert err.value.status is None


def test_lost_answer_to_non_idempotent_call_is_not_resent(tealium_connection: TealiumEmulator) -> None:
    tealium_connection.faults.add(method="POST", path="/v2/emulator/counter", drop_after_apply=True, times=1)
    with pytest.raises(TealiumAmbiguousResultError, match="may have been applied"):
        TealiumHook(**FAST).get_json(COUNTER)
    assert tealium_connection.state.calls["POST /v2/emulator/counter"] == 1
    assert TealiumHook(**FAST).get_json(COUNTER)["count"] == 2  # the first one did apply


def test_not_processed_answer_to_non_idempotent_call_is_resent(tealium_connection: TealiumEmulator) -> None:
    tealium_connection.faults.add(method="POST", path="/v2/emulator/counter", status=503, times=1)
    assert TealiumHook(**FAST).get_json(COUNTER)["count"] == 1


# -- async twin ------------------------------------------------------------------------------------------------


async def test_async_hook_shares_the_cache_and_rules(tealium_connection: TealiumEmulator) -> None:
    TealiumHook().get_json(whoami_v3())
    tealium_connection.faults.add(method="GET", path="*/whoami", status=503, times=1)
    async with TealiumAsyncHook(**FAST) as hook:
        assert (await hook.aget_json(whoami_v3()))["profile"] == "main"
        assert (await hook.aget_json(WHOAMI_V2))["family"] == "v2"
    assert mints(tealium_connection) == {"v3:demo/main:user@example.com": 1, "v2:user@example.com": 1}


async def test_async_hook_refreshes_on_401_and_reports_ambiguity(tealium_connection: TealiumEmulator) -> None:
    tealium_connection.faults.add(method="GET", path="*/whoami", status=401, times=1)
    async with TealiumAsyncHook(**FAST) as hook:
        assert (await hook.aget_json(whoami_v3()))["account"] == "demo"
        tealium_connection.faults.add(method="POST", path="/v2/emulator/counter", drop_after_apply=True)
        with pytest.raises(TealiumAmbiguousResultError):
            await hook.aget_json(COUNTER)
    assert mints(tealium_connection)["v3:demo/main:user@example.com"] == 2


async def test_async_hook_never_blocks_the_event_loop(tealium_connection: TealiumEmulator) -> None:
    """Ten calls that each take a second finish together, and the loop keeps ticking meanwhile.

    Blocking I/O would serialise them (ten seconds) and freeze the loop for a whole second at a time;
    the bounds leave room for a loaded CI machine without admitting either.
    """
    latency, calls = 1.0, 10
    tealium_connection.faults.add(method="GET", path="/v2/emulator/whoami", latency=latency, times=calls)
    gaps: list[float] = []
    done = asyncio.Event()

    async def heartbeat() -> None:
        last = time.monotonic()
        while not done.is_set():
            await asyncio.sleep(0.01)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    async with TealiumAsyncHook(**FAST) as hook:
        await hook.aget_token(TokenFamily.V2)  # mint first: only the slow calls are timed
        ticker = asyncio.create_task(heartbeat())
        start = time.monotonic()
        await asyncio.gather(*(hook.aget_json(WHOAMI_V2) for _ in range(calls)))
        elapsed = time.monotonic() - start
    done.set()
    await ticker
    assert elapsed < calls * latency / 2
    assert max(gaps) < latency * 0.8


async def test_async_single_flight_mint(tealium_connection: TealiumEmulator) -> None:
    async with TealiumAsyncHook() as hook:
        await asyncio.gather(*(hook.aget_json(whoami_v3()) for _ in range(50)))
    assert mints(tealium_connection) == {"v3:demo/main:user@example.com": 1}


# -- secrets ----------------------------------------------------------------------------------------------------


def test_secrets_never_reach_logs_or_errors(
    tealium_connection: TealiumEmulator, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.DEBUG)
    hook = TealiumHook(**FAST)
    hook.get_json(whoami_v3())
    tealium_connection.faults.add(method="GET", path="*/whoami", status=401, times=2)
    messages: list[str] = []
    with pytest.raises(TealiumAuthError) as err:
        hook.get_json(whoami_v3())
    messages.append(str(err.value))
    tokens = [t.token for t in [hook.token_cache.get(k) for k in hook.token_cache.mints] if t]
    tokens += [seen for seen in tealium_connection.state.issued_tokens]
    conn = json.loads(tealium_connection.connection_json())
    conn["password"] = "a-wrong-but-secret-key"
    monkeypatch.setenv("AIRFLOW_CONN_TEALIUM_BAD", json.dumps(conn))
    _ok, msg = TealiumHook("tealium_bad").test_connection()
    messages.append(msg)
    everything = caplog.text + "\n".join(messages) + "\n".join(repr(r.__dict__) for r in caplog.records)
    secrets = [tealium_connection.api_key, "a-wrong-but-secret-key", *tokens]
    assert tokens, "the test must have seen real tokens"
    for secret in secrets:
        assert secret not in everything
