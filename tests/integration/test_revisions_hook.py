"""Revision hook methods and the v1 login against the emulator over real sockets (no Airflow DB)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from airflow_provider_tealium.api import revisions as rev
from airflow_provider_tealium.exceptions import TealiumApiError, TealiumAuthError, TealiumValidationError
from airflow_provider_tealium.hooks.tealium import TealiumAsyncHook, TealiumHook
from airflow_provider_tealium.testing.emulator import TealiumEmulator
from airflow_provider_tealium.testing.emulator import revisions_store as rs
from airflow_provider_tealium.testing.emulator.revisions_store import configure_revisions

LOGIN = "POST /v1/login"
LIST_V1 = "GET /v1/accounts/demo/main/revisions"


def publish(emulator: TealiumEmulator, targets: list[str] | None = None, **kwargs: Any) -> str:
    fields: dict[str, Any] = {"account": "demo", "profile": "main", "name": "Release", "comment": "tags"}
    fields.update(kwargs)
    return rs.record_publish(
        emulator.state, created_by="user@example.com", targets=targets or ["prod"], **fields
    )


def add_connection(
    emulator: TealiumEmulator, monkeypatch: pytest.MonkeyPatch, conn_id: str, **extra: Any
) -> str:
    conn = json.loads(emulator.connection_json())
    for key, value in extra.items():
        if value is None:
            conn["extra"].pop(key, None)
        else:
            conn["extra"][key] = value
    conn["extra"].update({"backoff_base": 0.01, "backoff_max": 0.05})
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
    return conn_id


def calls(emulator: TealiumEmulator) -> dict[str, int]:
    return dict(emulator.state.stats()["calls"])


# -- v1 session ----------------------------------------------------------------------------------------


def test_v1_lists_details_and_bundle_with_one_login(tealium_connection: TealiumEmulator) -> None:
    first = publish(tealium_connection, name="First")
    second = publish(tealium_connection, ["dev", "prod"], name="Second")
    hook = TealiumHook()
    assert hook.list_revision_ids() == [second, first]
    details = hook.get_revision(second)
    assert details.name == "Second" and details.targets_published == ["dev", "prod"]
    data = hook.download_revision_bundle(second, "prod")
    assert rev.verify_bundle(data, details.checksums["prod"]).ok()
    assert hook.get_latest_revision() == details
    assert calls(tealium_connection)[LOGIN] == 1
    assert tealium_connection.state.stats()["mints"] == {"v1:user@example.com": 1}


def test_session_expiry_logs_in_again_once(tealium_connection: TealiumEmulator) -> None:
    # Long enough that a loaded machine cannot let the fresh session expire before its resend.
    configure_revisions(tealium_connection.state, session_lifetime=2.0)
    publish(tealium_connection)
    hook = TealiumHook()
    hook.list_revision_ids()
    time.sleep(2.2)
    assert len(hook.list_revision_ids()) == 1
    seen = calls(tealium_connection)
    assert seen[LOGIN] == 2
    assert seen[LIST_V1] == 3  # the refused one, and its resend with the new session
    assert tealium_connection.state.token_rejections == 1


def test_async_hook_logs_in_again_after_expiry(tealium_connection: TealiumEmulator) -> None:
    revision_id = publish(tealium_connection)
    configure_revisions(tealium_connection.state, session_lifetime=2.0)

    async def run() -> tuple[list[str], rev.RevisionDetails]:
        async with TealiumAsyncHook() as hook:
            await hook.alist_revision_ids()
            await asyncio.sleep(2.2)
            return await hook.alist_revision_ids(), await hook.aget_revision(revision_id)

    ids, details = asyncio.run(run())
    assert ids == [revision_id] and details.revision_id == revision_id
    assert calls(tealium_connection)[LOGIN] == 2
    # The sync hook shares the process-wide credential cache: no third login.
    assert TealiumHook().list_revision_ids() == [revision_id]
    assert calls(tealium_connection)[LOGIN] == 2


def test_wrong_v1_password_fails_once_with_a_clear_message(
    tealium_connection: TealiumEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn_id = add_connection(tealium_connection, monkeypatch, "tealium_badpw", v1_password="wrong-pw-9876")
    with pytest.raises(TealiumAuthError) as info:
        TealiumHook(conn_id).list_revision_ids()
    message = str(info.value)
    assert "POST /v1/login failed: HTTP 401, returnCode 1401: Authentication Failed" in message
    assert "'v1_password' extra" in message
    assert "wrong-pw-9876" not in message
    assert calls(tealium_connection) == {LOGIN: 1}
    assert tealium_connection.state.auth_failures == 1


def test_lockout_1402_fails_with_its_message_and_is_never_retried(
    tealium_connection: TealiumEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure_revisions(tealium_connection.state, max_failed_logins=2)
    bad = add_connection(tealium_connection, monkeypatch, "tealium_badpw", v1_password="wrong-pw-9876")
    other = add_connection(tealium_connection, monkeypatch, "tealium_badpw2", v1_password="wrong-pw-5432")
    with pytest.raises(TealiumAuthError, match="1401"):
        TealiumHook(bad).list_revision_ids()
    # The same refused password is not sent again (it would count towards the lockout).
    with pytest.raises(TealiumAuthError, match="1401"):
        TealiumHook(bad).list_revision_ids()
    assert calls(tealium_connection) == {LOGIN: 1}
    with pytest.raises(TealiumAuthError) as info:
        TealiumHook(other).list_revision_ids()
    assert info.value.return_code == 1402
    assert "Too many unsuccessful login attempts. Please try again in 10 minutes" in str(info.value)
    # Locked out: even the right password is refused, once, without a retry loop; then from memory.
    for _ in range(2):
        with pytest.raises(TealiumAuthError, match="1402"):
            TealiumHook().list_revision_ids()
    assert calls(tealium_connection) == {LOGIN: 3}


# -- refused logins are remembered --------------------------------------------------------------------------

REFUSED = "POST /v1/login failed: HTTP 401, returnCode 1401: Authentication Failed"


def test_concurrent_threads_send_one_refused_login(
    tealium_connection: TealiumEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = add_connection(tealium_connection, monkeypatch, "tealium_badpw", v1_password="wrong-pw-9876")
    # A slow answer, so every thread is already waiting on the mint lock when the refusal arrives.
    tealium_connection.faults.add(method="POST", path="/v1/login", latency=0.5, times=1)
    callers = 8
    barrier = threading.Barrier(callers)

    def call(_: int) -> BaseException | list[str]:
        hook = TealiumHook(bad)
        assert hook.config.email  # read the connection before the race: only the login is raced
        barrier.wait()
        try:
            return hook.list_revision_ids()
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(callers) as pool:
        outcomes = list(pool.map(call, range(callers)))
    assert all(isinstance(o, TealiumAuthError) and o.return_code == 1401 for o in outcomes), outcomes
    assert all(str(o).startswith(REFUSED) and "wrong-pw-9876" not in str(o) for o in outcomes)
    assert calls(tealium_connection) == {LOGIN: 1}
    assert tealium_connection.state.auth_failures == 1
    # Fixing the password (same user, so the same cache key) logs in at once.
    publish(tealium_connection)
    assert len(TealiumHook().list_revision_ids()) == 1
    assert calls(tealium_connection)[LOGIN] == 2


def test_concurrent_async_tasks_send_one_refused_login(
    tealium_connection: TealiumEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = add_connection(tealium_connection, monkeypatch, "tealium_badpw", v1_password="wrong-pw-9876")
    tealium_connection.faults.add(method="POST", path="/v1/login", latency=0.5, times=1)

    async def one() -> list[str]:
        async with TealiumAsyncHook(bad) as hook:
            return await hook.alist_revision_ids()

    async def run() -> list[Any]:
        return await asyncio.gather(*(one() for _ in range(8)), return_exceptions=True)

    outcomes = asyncio.run(run())
    assert all(isinstance(o, TealiumAuthError) and o.return_code == 1401 for o in outcomes), outcomes
    assert all(str(o).startswith(REFUSED) for o in outcomes)
    assert calls(tealium_connection) == {LOGIN: 1}
    # The memory is process-wide: a sync hook (and a second event loop) do not try either.
    with pytest.raises(TealiumAuthError, match="Remembered: this login was refused"):
        TealiumHook(bad).list_revision_ids()
    assert asyncio.run(run())[0].return_code == 1401
    assert calls(tealium_connection) == {LOGIN: 1}
    # The right password is tried at once, from the async hook too.
    publish(tealium_connection)

    async def good() -> list[str]:
        async with TealiumAsyncHook() as hook:
            return await hook.alist_revision_ids()

    assert len(asyncio.run(good())) == 1
    assert calls(tealium_connection)[LOGIN] == 2


def test_missing_v1_password_fails_before_any_request(
    tealium_connection: TealiumEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn_id = add_connection(tealium_connection, monkeypatch, "tealium_nopw", v1_password=None)
    with pytest.raises(TealiumValidationError, match=r"^tealium_nopw\.v1_password: is required"):
        TealiumHook(conn_id).list_revision_ids()
    assert calls(tealium_connection) == {}
    # The v2 manifest API needs no v1 password.
    publish(tealium_connection)
    assert len(TealiumHook(conn_id).list_revision_ids(revisions_api="v2")) == 1


# -- v1 and v2 give the same answers ------------------------------------------------------------------


def test_v1_and_v2_give_the_same_answers(tealium_connection: TealiumEmulator) -> None:
    ids = [publish(tealium_connection, ["qa", "prod"], name=f"R{i}") for i in range(3)]
    hook = TealiumHook()
    v1_ids, v2_ids = hook.list_revision_ids(revisions_api="v1"), hook.list_revision_ids(revisions_api="v2")
    assert v1_ids == v2_ids == ids[::-1]
    assert hook.get_revision(ids[-1], revisions_api="v1") == hook.get_revision(ids[-1], revisions_api="v2")
    assert hook.download_revision_bundle(ids[-1], "qa", revisions_api="v1") == hook.download_revision_bundle(
        ids[-1], "qa", revisions_api="v2"
    )
    seen = calls(tealium_connection)
    assert seen["POST /v2/auth"] == 1 and seen[LOGIN] == 1
    assert seen["GET /v2/manifest/accounts/demo/profiles/main/revisions"] == 1


def test_connection_extra_selects_v2(
    tealium_connection: TealiumEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn_id = add_connection(
        tealium_connection, monkeypatch, "tealium_v2rev", revisions_api="v2", v1_password=None
    )
    revision_id = publish(tealium_connection)
    hook = TealiumHook(conn_id)
    assert hook.list_revision_ids() == [revision_id]
    assert hook.get_revision(revision_id).revision_id == revision_id

    async def run() -> list[str]:
        async with TealiumAsyncHook(conn_id) as ahook:
            return await ahook.alist_revision_ids()

    assert asyncio.run(run()) == [revision_id]
    assert LOGIN not in calls(tealium_connection)
    # A call's own choice wins over the connection's.
    with pytest.raises(TealiumValidationError, match="v1_password"):
        hook.list_revision_ids(revisions_api="v1")


def test_invalid_revisions_api_extra_is_named(
    tealium_connection: TealiumEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn_id = add_connection(tealium_connection, monkeypatch, "tealium_badapi", revisions_api="v9")
    with pytest.raises(TealiumValidationError, match=r"^tealium_badapi\.revisions_api: must be 'v1' or 'v2'"):
        TealiumHook(conn_id).list_revision_ids()
    assert calls(tealium_connection) == {}


# -- returnCodes ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("api", ["v1", "v2"])
def test_each_return_code_fails_clearly_without_retry(tealium_connection: TealiumEmulator, api: str) -> None:
    old = publish(tealium_connection)
    publish(tealium_connection)
    hook = TealiumHook(backoff_base=0.01)
    configure_revisions(
        tealium_connection.state, unknown_accounts=["ghost"], unknown_profiles=[["demo", "gone"]]
    )
    cases = [
        (
            lambda: hook.list_revision_ids("ghost", "main", revisions_api=api),
            1240,
            "revisions API is not activated",
        ),
        (
            lambda: hook.list_revision_ids("demo", "gone", revisions_api=api),
            1250,
            "does not know this profile",
        ),
        (
            lambda: hook.get_revision("20000101000000", revisions_api=api),
            1260,
            "This revision has no details",
        ),
        (
            lambda: hook.download_revision_bundle(old, "prod", revisions_api=api),
            1270,
            "only for the latest revision",
        ),
    ]
    for call, code, phrase in cases:
        with pytest.raises(TealiumApiError) as info:
            call()
        assert info.value.return_code == code
        assert phrase in str(info.value)
        assert info.value.attempts == 1
    # The older bundle is served once the emulator stops insisting on the latest.
    configure_revisions(tealium_connection.state, latest_only=False)
    assert hook.download_revision_bundle(old, "prod", revisions_api=api)


def test_transient_errors_are_retried(tealium_connection: TealiumEmulator) -> None:
    revision_id = publish(tealium_connection)
    tealium_connection.faults.add(method="GET", path="/v1/accounts/*/details", status=503, times=2)
    assert TealiumHook(backoff_base=0.01).get_revision(revision_id).revision_id == revision_id
    assert calls(tealium_connection)[f"{LIST_V1}/{revision_id}/details"] == 3
