"""The Hosted Data Layer backend by plain method calls (no HTTP): landing, listing, failures, limits."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from airflow_provider_tealium.testing.emulator.datalayers.backend import DataLayerStore
from airflow_provider_tealium.testing.emulator.errors import EmulatorHTTPError

T0 = 1_800_000_000.0


def status_of(call: object, *args: object, **kwargs: object) -> tuple[int, int]:
    with pytest.raises(EmulatorHTTPError) as info:
        call(*args, **kwargs)  # type: ignore[operator]
    return info.value.status, info.value.body["returnCode"]


def test_an_upload_lands_after_the_delay_and_a_json_file_is_its_own() -> None:
    store = DataLayerStore(landing_delay=5)
    store.upload("demo", "main", "sku-1", None, b'{"a": 1}', T0)

    assert status_of(store.file_metadata, "demo", "main", "sku-1", None, T0 + 4) == (404, 1404)
    assert store.file_metadata("demo", "main", "sku-1", None, T0 + 5) == {
        "file": "dle/demo/main/sku-1.js",
        "lastModified": "2027-01-15T08:00:00+0000",
        "size": 8,
    }
    assert status_of(store.file_metadata, "demo", "main", "sku-1", "json", T0 + 5) == (404, 1404)
    assert store.uploads == {"demo/main/sku-1.js": 1}


def test_refused_requests_store_nothing() -> None:
    store = DataLayerStore(landing_delay=0)

    assert status_of(store.upload, "demo", "main", "a.b", None, b'{"a": 1}', T0) == (400, 1400)
    assert status_of(store.upload, "demo", "main", "ok", "xml", b'{"a": 1}', T0) == (400, 1400)
    assert status_of(store.upload, "demo", "main", "ok", None, b'{"a.b": 1}', T0) == (400, 1400)
    assert status_of(store.upload, "demo", "main", "new", None, b'{"a": 1}', T0, update=True) == (404, 1404)
    assert store.uploads == {} and store.listing("demo", "main", T0) == []


def test_remove_and_put_need_the_file() -> None:
    store = DataLayerStore(landing_delay=0)
    store.upload("demo", "main", "sku-1", "json", b'{"a": 1}', T0)
    store.upload("demo", "main", "sku-1", "json", b'{"a": 22}', T0 + 1, update=True)

    assert store.file_metadata("demo", "main", "sku-1", "json", T0 + 1)["size"] == 9
    store.remove("demo", "main", "sku-1", "json", T0 + 2)
    assert status_of(store.remove, "demo", "main", "sku-1", "json", T0 + 3) == (404, 1404)


def test_the_listing_pages_with_continuation_tokens() -> None:
    store = DataLayerStore(page_size=2)
    store.seed_files("demo", "main", ["c", "a", "b"], modified=T0)

    first = store.list_page("demo", "main", None, T0)
    assert first["isTruncated"] and [f["file"] for f in first["fileStatuses"]] == [
        "dle/demo/main/a.js",
        "dle/demo/main/b.js",
    ]
    second = store.list_page("demo", "main", unquote(first["continuationToken"]), T0)
    assert second == {"isTruncated": False, "fileStatuses": [store.listing("demo", "main", T0)[2]]}
    assert status_of(store.list_page, "demo", "main", "not base64!", T0) == (400, 1400)


def test_failed_uploads_keep_the_old_version_and_are_reported_by_date() -> None:
    store = DataLayerStore(landing_delay=1, fail_ids={"sku-1": 1})
    store.seed_files("demo", "main", ["sku-1"], size=3, modified=T0 - 100)
    store.upload("demo", "main", "sku-1", None, b'{"a": 1}', T0)

    assert store.file_metadata("demo", "main", "sku-1", None, T0 + 2)["size"] == 3
    report = store.failed_upload_report("demo", "main", "2027-01-15T00:00:00+0000", None, T0 + 2)
    assert report == {
        "account": "demo",
        "profile": "main",
        "count": 1,
        "failedUploads": [{"file": "/dle/demo/main/sku-1.js", "date": "2027-01-15T08:00:00+0000"}],
    }
    assert store.failed_upload_report("demo", "main", None, "2027-01-14T00:00:00+0000", T0 + 2)["count"] == 0
    assert status_of(store.failed_upload_report, "demo", "main", "yesterday", None, T0) == (400, 1400)


def test_the_rate_limit_and_the_forbidden_profiles() -> None:
    store = DataLayerStore()
    store.configure(rate_limit=2, forbidden=["demo/secret"])

    store.admit_request(10.0)
    store.admit_request(10.1)
    assert status_of(store.admit_request, 10.2) == (429, 1429)
    store.admit_request(11.05)  # the first call left the window
    assert store.rate_limited == 1
    assert status_of(store.check_permission, "demo", "secret") == (401, 1469)
    store.check_permission("demo", "main")
