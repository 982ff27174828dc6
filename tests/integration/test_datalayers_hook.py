"""Hosted Data Layer hook methods and emulator routes over real sockets."""

from __future__ import annotations

import time

import pytest
import requests

from airflow_provider_tealium.api import datalayers as dle
from airflow_provider_tealium.api.request import TokenFamily
from airflow_provider_tealium.exceptions import TealiumApiError, TealiumAuthError, TealiumValidationError
from airflow_provider_tealium.hooks.tealium import TealiumAsyncHook, TealiumHook
from airflow_provider_tealium.testing.emulator import EmulatorClient, TealiumEmulator
from airflow_provider_tealium.testing.emulator.datalayers.backend import store

FAST = {"backoff_base": 0.01, "backoff_max": 0.05}


def dle_calls(emulator: TealiumEmulator, method: str = "") -> int:
    return sum(
        n for k, n in emulator.state.stats()["calls"].items() if "/v2/dle/" in k and k.startswith(method)
    )


def wait_landed(hook: TealiumHook, datalayer_id: str, file_type: str | None = None) -> dle.DataLayerFile:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        found = hook.get_datalayer_metadata(datalayer_id, file_type=file_type)
        if found is not None:
            return found
        time.sleep(0.02)
    raise AssertionError(f"{datalayer_id} never landed")


def test_upload_lands_after_the_delay_then_update_and_delete(tealium_connection: TealiumEmulator) -> None:
    store(tealium_connection.state).configure(landing_delay=0.3)
    hook = TealiumHook(**FAST)
    before = dle.floor_second(dle.to_datetime(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())))
    assert hook.upload_datalayer("sku-1", {"name": "Shoe", "price": 10}) == "POST"
    assert hook.get_datalayer_metadata("sku-1") is None  # accepted, not landed yet
    found = wait_landed(hook, "sku-1")
    assert found.file == "dle/demo/main/sku-1.js"
    assert found.size == len(b'{"name":"Shoe","price":10}')
    assert found.last_modified >= before
    assert hook.get_datalayer_metadata("sku-1", file_type="json") is None  # a different file

    assert hook.upload_datalayer("sku-1", {"name": "Boot"}, mode="update") == "PUT"
    assert hook.delete_datalayer("sku-1") is True
    assert hook.delete_datalayer("sku-1") is False
    assert hook.get_datalayer_metadata("sku-1") is None


def test_update_of_unknown_id_fails_and_upsert_creates(tealium_connection: TealiumEmulator) -> None:
    hook = TealiumHook(**FAST)
    with pytest.raises(TealiumApiError) as info:
        hook.upload_datalayer("new-1", {"a": 1}, mode="update")
    assert info.value.status == 404 and info.value.return_code == 1404
    assert "Could not locate data layer identified by new-1" in str(info.value)
    assert hook.upload_datalayer("new-1", {"a": 1}, mode="upsert") == "POST"
    assert hook.upload_datalayer("new-1", {"a": 2}, mode="upsert") == "PUT"


def test_json_file_type_and_legacy_201(tealium_connection: TealiumEmulator) -> None:
    store(tealium_connection.state).configure(landing_delay=0)
    tealium_connection.faults.add(
        method="POST", path="/v2/dle/*", status=201, body={"status": "pending"}, times=1
    )
    hook = TealiumHook(**FAST)
    assert (
        hook.upload_datalayer("feed", {"a": 1}, file_type="json") == "POST"
    )  # the injected 201 counts as done
    hook.upload_datalayer("feed", {"a": 1}, file_type="json")
    assert wait_landed(hook, "feed", "json").file == "dle/demo/main/feed.json"


def test_validation_happens_before_any_request(tealium_connection: TealiumEmulator) -> None:
    hook = TealiumHook(**FAST)
    with pytest.raises(
        TealiumValidationError, match=r"datalayers\['a b'\].datalayer_id: must not contain whitespace"
    ):
        hook.upload_datalayer("a b", {"x": 1})
    with pytest.raises(TealiumValidationError, match="keys must not contain a period"):
        hook.upload_datalayer("ok", {"x.y": 1})
    with pytest.raises(TealiumValidationError, match="file_type"):
        hook.upload_datalayer("ok", {"x": 1}, file_type="xml")
    assert dle_calls(tealium_connection) == 0
    assert tealium_connection.state.stats()["mints"] == {}


def test_emulator_answers_documented_400_for_each_rule(tealium_connection: TealiumEmulator) -> None:
    """The emulator applies the same rules (raw HTTP, bypassing the client's checks)."""
    token = TealiumHook().get_token(TokenFamily.V2)
    base = f"{tealium_connection.base_url}/v2/dle/accounts/demo/profiles/main/datalayers"
    headers = {"Authorization": f"Bearer {token.token}", "Content-Type": "application/json"}
    cases = [
        (f"{base}/ok", b'{"a.b": 1}', "keys must not contain a period"),
        (f"{base}/ok", b"", "must not be empty"),
        (f"{base}/ok", b"{not json", "must be valid JSON"),
        (f"{base}/ok", b"{}", "must not be empty"),
        (f"{base}/ok?file-type=xml", b'{"a": 1}', "file_type"),
        (f"{base}/has%20space", b'{"a": 1}', "whitespace"),
        (f"{base}/a%2Bb", b'{"a": 1}', "must not contain any of"),
        (f"{base}/{'x' * 250}", b'{"a": 1}', "at most 250 characters"),
        (f"{base}/big", b'{"a": "' + b"x" * dle.MAX_BODY_BYTES + b'"}', "bytes"),
    ]
    for url, body, detail in cases:
        answer = requests.post(url, data=body, headers=headers, timeout=10)
        assert answer.status_code == 400, (url[:120], answer.text[:200])
        payload = answer.json()
        assert payload["returnCode"] == 1400
        assert payload["message"].startswith(dle.INVALID_REQUEST_MESSAGE)
        assert detail in payload["message"], payload["message"][:300]
    missing = requests.get(f"{base}/nothing", headers=headers, timeout=10)
    assert missing.status_code == 404
    assert missing.json() == {
        "returnCode": 1404,
        "message": "Could not locate data layer identified by nothing",
    }


def test_forbidden_profile_gives_documented_401(tealium_connection: TealiumEmulator) -> None:
    store(tealium_connection.state).configure(forbidden=["demo/secret"])
    hook = TealiumHook(**FAST)
    with pytest.raises(TealiumAuthError) as info:
        hook.get_datalayer_metadata("sku-1", profile="secret")
    assert info.value.status == 401 and info.value.return_code == 1469
    assert dle.NO_PERMISSION_MESSAGE in str(info.value)


def test_listing_follows_continuation_tokens_over_several_pages(tealium_connection: TealiumEmulator) -> None:
    ids = [f"p{i:05d}" for i in range(2500)]
    store(tealium_connection.state).seed_files("demo", "main", ids)
    store(tealium_connection.state).seed_files("demo", "main", ["only-json"], file_type="json")
    hook = TealiumHook(**FAST)
    pages = list(hook.iter_datalayer_pages())
    assert [len(p.files) for p in pages] == [1000, 1000, 501]
    assert [p.is_truncated for p in pages] == [True, True, False]
    # The emulator's tokens are percent-encoded base64 like Tealium's; they must round-trip unchanged.
    assert all("%" in (p.continuation_token or "%") for p in pages)
    files = list(hook.iter_datalayers())
    assert [f.datalayer_id for f in files if f.file_type is dle.FileType.JAVASCRIPT] == ids
    assert [f.datalayer_id for f in files if f.file_type is dle.FileType.JSON] == ["only-json"]
    assert dle_calls(tealium_connection, "GET") == 6


def test_listing_with_smaller_pages(tealium_connection: TealiumEmulator) -> None:
    client = EmulatorClient(tealium_connection.base_url)
    try:
        assert client.configure_datalayers(page_size=2)["page_size"] == 2
        assert client.seed_datalayers("demo", "main", ["a", "b", "c", "d", "e"]) == 5
        pages = list(TealiumHook(**FAST).iter_datalayer_pages())
        assert [[f.datalayer_id for f in p.files] for p in pages] == [["a", "b"], ["c", "d"], ["e"]]
        assert client.datalayer_stats()["files"] == {"demo/main": 5}
    finally:
        client.close()


def test_failed_uploads_in_a_date_range(tealium_connection: TealiumEmulator) -> None:
    store(tealium_connection.state).configure(landing_delay=0, fail_ids={"bad-1": 1})
    hook = TealiumHook(**FAST)
    started = dle.floor_second(dle.to_datetime(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())))
    hook.upload_datalayer("bad-1", {"a": 1})
    hook.upload_datalayer("good-1", {"a": 1})
    failed = hook.get_failed_uploads(start=started)
    assert [(f.datalayer_id, f.file) for f in failed] == [("bad-1", "/dle/demo/main/bad-1.js")]
    assert hook.get_failed_uploads(end="2000-01-01T00:00:00Z") == []
    assert hook.get_datalayer_metadata("bad-1") is None
    assert wait_landed(hook, "good-1").datalayer_id == "good-1"
    # The injected failure was for one upload only: a retry lands.
    hook.upload_datalayer("bad-1", {"a": 1})
    assert wait_landed(hook, "bad-1").datalayer_id == "bad-1"


def test_emulator_rate_limit_answers_429(tealium_connection: TealiumEmulator) -> None:
    store(tealium_connection.state).configure(rate_limit=5)
    hook = TealiumHook(max_retries=0)
    statuses = []
    for _ in range(8):
        try:
            hook.get_datalayer_metadata("x")
            statuses.append(404)
        except TealiumApiError as exc:
            statuses.append(exc.status)
    assert statuses.count(429) >= 2
    assert store(tealium_connection.state).stats()["rate_limited"] >= 2


def test_control_route_rejects_unknown_settings(tealium_connection: TealiumEmulator) -> None:
    client = EmulatorClient(tealium_connection.base_url)
    try:
        with pytest.raises(requests.HTTPError):
            client.configure_datalayers(landing_delays=1)
        with pytest.raises(requests.HTTPError):
            client.configure_datalayers(fail_fraction=2)
    finally:
        client.close()


async def test_async_hook_reads(tealium_connection: TealiumEmulator) -> None:
    emulator_store = store(tealium_connection.state)
    emulator_store.configure(landing_delay=0, fail_ids=["gone"])
    emulator_store.seed_files("demo", "main", [f"s{i}" for i in range(3)])
    sync = TealiumHook(**FAST)
    sync.upload_datalayer("gone", {"a": 1})
    async with TealiumAsyncHook(**FAST) as hook:
        found = await hook.aget_datalayer_metadata("s1")
        assert found is not None and found.datalayer_id == "s1"
        assert await hook.aget_datalayer_metadata("nope") is None
        pages = [page async for page in hook.aiter_datalayer_pages()]
        assert [f.datalayer_id for f in pages[0].files] == ["s0", "s1", "s2"]
        failed = await hook.aget_failed_uploads(start="2000-01-01T00:00:00Z")
        assert [f.datalayer_id for f in failed] == ["gone"]
