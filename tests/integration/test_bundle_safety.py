"""The bundle operator against hostile answers (issue 11, items 4, 5 and 6): a details answer whose
account climbs out of the folder, a download larger than the cap, a zip with a repeated entry."""

from __future__ import annotations

import io
import warnings
import zipfile
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk import ObjectStoragePath

from airflow_provider_tealium.api import revisions as rev
from airflow_provider_tealium.api.bundles import BundleLimits, TealiumBundleVerificationError
from airflow_provider_tealium.api.request import ApiRequest, Host, TokenFamily
from airflow_provider_tealium.exceptions import TealiumApiError
from airflow_provider_tealium.hooks.tealium import TealiumAsyncHook, TealiumHook
from airflow_provider_tealium.operators.revisions import TealiumDownloadRevisionBundleOperator
from airflow_provider_tealium.testing.emulator import TealiumEmulator
from airflow_provider_tealium.testing.emulator import revisions_store as rs
from tests.integration.test_revisions_operators import CONTEXT, publish


def stored(emulator: TealiumEmulator, revision_id: str) -> Any:
    return rs.store(emulator.state).revisions[("demo", "main")][revision_id]


def test_the_file_name_comes_from_the_request_not_the_answer(
    tealium_connection: TealiumEmulator, tmp_path: Path
) -> None:
    revision_id = publish(tealium_connection)
    with tealium_connection.state.lock:
        details = stored(tealium_connection, revision_id).details
        details["account"] = "../../escaped"
        details["profile"] = "/tmp/abs"
    folder = tmp_path / "a" / "b"
    folder.mkdir(parents=True)
    result = TealiumDownloadRevisionBundleOperator(task_id="d", path=f"{folder}/").execute(CONTEXT)
    expected = folder / f"demo-main-{revision_id}-prod.zip"
    assert result["path"] == str(expected) and expected.is_file()
    assert (result["account"], result["profile"]) == ("demo", "main")
    assert sorted(p.name for p in tmp_path.rglob("*.zip")) == [expected.name]
    assert list(folder.iterdir()) == [expected]  # no temporary sibling left behind


def test_a_target_read_from_the_answer_is_checked_like_a_given_one(
    tealium_connection: TealiumEmulator, tmp_path: Path
) -> None:
    revision_id = publish(tealium_connection)
    with tealium_connection.state.lock:
        stored(tealium_connection, revision_id).details["targets_published"] = ["../prod"]
    with pytest.raises(Exception, match=r"targets_published\[0\]: must be an environment name"):
        TealiumDownloadRevisionBundleOperator(task_id="d", path=f"{tmp_path}/").execute(CONTEXT)
    assert list(tmp_path.iterdir()) == []


def test_a_repeated_entry_fails_the_download_and_writes_nothing(
    tealium_connection: TealiumEmulator, tmp_path: Path
) -> None:
    revision_id = publish(tealium_connection)
    with tealium_connection.state.lock:
        entry = stored(tealium_connection, revision_id)
        with zipfile.ZipFile(io.BytesIO(entry.bundles["prod"])) as archive:
            files = [(i.filename, archive.read(i)) for i in archive.infolist()]
        buffer = io.BytesIO()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with zipfile.ZipFile(buffer, "w") as archive:
                archive.writestr("utag.js", b"/* injected first */")
                for name, content in files:
                    archive.writestr(name, content)  # the genuine utag.js comes last
        entry.bundles["prod"] = buffer.getvalue()
        entry.details["checksums"]["prod"]["bundle.zip"] = rs.sha256(entry.bundles["prod"])
    with pytest.raises(TealiumBundleVerificationError, match=r"entries repeated in the zip: utag.js"):
        TealiumDownloadRevisionBundleOperator(task_id="d", path=f"{tmp_path}/").execute(CONTEXT)
    assert list(tmp_path.iterdir()) == []


def test_a_download_over_the_cap_is_refused_unread(
    tealium_connection: TealiumEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish(tealium_connection)
    monkeypatch.setattr(rev, "DEFAULT_LIMITS", BundleLimits(max_download_bytes=200))
    with pytest.raises(
        TealiumApiError, match="the answer is larger than 200 bytes, the most this call reads"
    ):
        TealiumDownloadRevisionBundleOperator(task_id="d", path=f"{tmp_path}/").execute(CONTEXT)
    assert list(tmp_path.iterdir()) == []


def test_the_answer_cap_holds_for_both_transports(tealium_connection: TealiumEmulator) -> None:
    capped = ApiRequest("GET", "/v2/emulator/whoami", TokenFamily.V2, Host.API, max_answer_bytes=10)
    with pytest.raises(TealiumApiError, match="larger than 10 bytes"):
        TealiumHook().run(capped)
    roomy = ApiRequest("GET", "/v2/emulator/whoami", TokenFamily.V2, Host.API, max_answer_bytes=10_000)
    assert TealiumHook().get_json(roomy)["family"] == "v2"


async def test_the_answer_cap_holds_async(tealium_connection: TealiumEmulator) -> None:
    capped = ApiRequest("GET", "/v2/emulator/whoami", TokenFamily.V2, Host.API, max_answer_bytes=10)
    async with TealiumAsyncHook() as hook:
        with pytest.raises(TealiumApiError, match="larger than 10 bytes"):
            await hook.arun(capped)
        roomy = ApiRequest("GET", "/v2/emulator/whoami", TokenFamily.V2, Host.API, max_answer_bytes=10_000)
        assert (await hook.aget_json(roomy))["family"] == "v2"


def test_object_storage_destination_also_uses_the_requested_names(
    tealium_connection: TealiumEmulator, tmp_path: Path
) -> None:
    revision_id = publish(tealium_connection)
    with tealium_connection.state.lock:
        stored(tealium_connection, revision_id).details["account"] = "../up"
    store = ObjectStoragePath(f"file://{tmp_path}/store/")
    store.mkdir(parents=True, exist_ok=True)
    result = TealiumDownloadRevisionBundleOperator(task_id="d", path=store).execute(CONTEXT)
    assert result["path"].endswith(f"store/demo-main-{revision_id}-prod.zip")
    assert [p.name for p in (tmp_path / "store").iterdir()] == [f"demo-main-{revision_id}-prod.zip"]
