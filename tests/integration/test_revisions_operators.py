"""Revision operators against the emulator (operator.execute with a minimal context, no Airflow DB)."""

from __future__ import annotations

import io
import json
import logging
import zipfile
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk import ObjectStoragePath

from airflow_provider_tealium.api.revisions import TealiumBundleVerificationError
from airflow_provider_tealium.exceptions import TealiumApiError, TealiumError, TealiumValidationError
from airflow_provider_tealium.hooks.token_cache import TOKEN_CACHE
from airflow_provider_tealium.operators.revisions import (
    TealiumDownloadRevisionBundleOperator,
    TealiumGetRevisionOperator,
)
from airflow_provider_tealium.testing.emulator import TealiumEmulator
from airflow_provider_tealium.testing.emulator import revisions_store as rs
from airflow_provider_tealium.testing.emulator.state import DEFAULT_V1_PASSWORD

CONTEXT: Any = {}
FILES = ["bundle.zip", "manifest.json", "utag.1.js", "utag.2.js", "utag.js", "utag.sync.js"]


def publish(emulator: TealiumEmulator, targets: list[str] | None = None, name: str = "Release") -> str:
    return rs.record_publish(
        emulator.state,
        account="demo",
        profile="main",
        name=name,
        comment="weekly tags",
        created_by="user@example.com",
        targets=targets or ["prod"],
    )


def download(tmp_path: Path, **kwargs: Any) -> TealiumDownloadRevisionBundleOperator:
    kwargs.setdefault("path", str(tmp_path) + "/")
    return TealiumDownloadRevisionBundleOperator(task_id="download", **kwargs)


# -- get -------------------------------------------------------------------------------------------------


def test_get_revision_by_id_and_latest(tealium_connection: TealiumEmulator) -> None:
    first = publish(tealium_connection, name="First")
    second = publish(tealium_connection, ["dev"], name="Second")
    by_id = TealiumGetRevisionOperator(task_id="get", revision_id=first).execute(CONTEXT)
    assert by_id["revision_id"] == first and by_id["name"] == "First"
    json.dumps(by_id)  # XCom-ready
    latest = TealiumGetRevisionOperator(task_id="latest", revisions_api="v2").execute(CONTEXT)
    assert latest["revision_id"] == second and latest["targets_published"] == ["dev"]
    assert set(latest["checksums"]["dev"]) == set(FILES)


def test_get_revision_validates_before_any_request(tealium_connection: TealiumEmulator) -> None:
    with pytest.raises(TealiumValidationError, match=r"^revision_id: must be a revision id"):
        TealiumGetRevisionOperator(task_id="get", revision_id="latest").execute(CONTEXT)
    with pytest.raises(TealiumValidationError, match=r"^revisions_api: must be 'v1' or 'v2'"):
        TealiumGetRevisionOperator(task_id="get", revisions_api="v3").execute(CONTEXT)
    assert tealium_connection.state.stats()["total_calls"] == 0


def test_get_latest_of_an_empty_profile_fails_clearly(tealium_connection: TealiumEmulator) -> None:
    with pytest.raises(TealiumError, match="demo/main has no revisions yet"):
        TealiumGetRevisionOperator(task_id="get").execute(CONTEXT)


# -- download --------------------------------------------------------------------------------------------


def test_download_verifies_and_writes_into_a_directory(
    tealium_connection: TealiumEmulator, tmp_path: Path
) -> None:
    revision_id = publish(tealium_connection, ["prod", "dev"])
    result = download(tmp_path).execute(CONTEXT)
    expected = tmp_path / f"demo-main-{revision_id}-prod.zip"
    assert result == {
        "path": str(expected),
        "revision_id": revision_id,
        "target": "prod",  # the first of targets_published
        "account": "demo",
        "profile": "main",
        "files": FILES,
        "unverified": [],
        "bundle_sha256": result["bundle_sha256"],
    }
    details = rs.details(tealium_connection.state, "demo", "main", revision_id)
    assert details is not None and result["bundle_sha256"] == details["checksums"]["prod"]["bundle.zip"]
    assert zipfile.ZipFile(expected).namelist() == sorted(FILES[1:])


def test_download_to_a_file_and_to_object_storage(
    tealium_connection: TealiumEmulator, tmp_path: Path
) -> None:
    revision_id = publish(tealium_connection, ["qa", "prod"])
    file_path = tmp_path / "audit" / "bundle.zip"
    result = download(tmp_path, path=str(file_path), target="qa", revision_id=revision_id).execute(CONTEXT)
    assert result["path"] == str(file_path) and file_path.is_file() and result["target"] == "qa"
    store = ObjectStoragePath(f"file://{tmp_path}/store/")
    store.mkdir(parents=True, exist_ok=True)
    result = download(tmp_path, path=store, target="prod", revisions_api="v2").execute(CONTEXT)
    assert result["path"].endswith(f"store/demo-main-{revision_id}-prod.zip")
    assert (tmp_path / "store" / f"demo-main-{revision_id}-prod.zip").is_file()
    url = f"file://{tmp_path}/url/copy.zip"
    (tmp_path / "url").mkdir()
    assert download(tmp_path, path=url).execute(CONTEXT)["path"].endswith("url/copy.zip")
    assert (tmp_path / "url" / "copy.zip").is_file()


@pytest.mark.parametrize(
    ("mode", "named"),
    [
        ("checksum", "SHA-256 mismatch: bundle.zip, utag.js"),
        ("missing", "missing from the zip: utag.1.js"),
        ("zip", "SHA-256 mismatch: bundle.zip)"),
    ],
)
def test_download_fails_naming_the_files_and_writes_nothing(
    tealium_connection: TealiumEmulator, tmp_path: Path, mode: str, named: str
) -> None:
    revision_id = publish(tealium_connection)
    rs.corrupt_bundle(tealium_connection.state, revision_id=revision_id, target="prod", mode=mode)
    with pytest.raises(TealiumBundleVerificationError) as info:
        download(tmp_path).execute(CONTEXT)
    assert f"Bundle of revision {revision_id} for prod failed verification" in str(info.value)
    assert named in str(info.value)
    assert "nothing was written" in str(info.value)
    assert list(tmp_path.iterdir()) == []


def add_unlisted_files(emulator: TealiumEmulator, revision_id: str, extra: dict[str, bytes]) -> None:
    """Serve ``extra`` in the prod bundle without a checksum (the zip's own checksum still matches)."""
    with emulator.state.lock:
        stored = rs.store(emulator.state).revisions[("demo", "main")][revision_id]
        with zipfile.ZipFile(io.BytesIO(stored.bundles["prod"])) as archive:
            files = {info.filename: archive.read(info) for info in archive.infolist()}
        stored.bundles["prod"] = rs.build_zip({**files, **extra})
        stored.details["checksums"]["prod"]["bundle.zip"] = rs.sha256(stored.bundles["prod"])


def test_unlisted_non_javascript_files_are_kept_and_reported_unverified(
    tealium_connection: TealiumEmulator, tmp_path: Path
) -> None:
    revision_id = publish(tealium_connection)
    add_unlisted_files(tealium_connection, revision_id, {"mobile.html": b"<html></html>"})
    result = download(tmp_path).execute(CONTEXT)
    assert result["files"] == FILES and result["unverified"] == ["mobile.html"]
    assert "mobile.html" in zipfile.ZipFile(result["path"]).namelist()
    # allow_unlisted_files=False: every file needs a checksum.
    with pytest.raises(
        TealiumBundleVerificationError, match=r"in the zip without a checksum: mobile\.html\)"
    ):
        download(tmp_path / "strict", allow_unlisted_files=False).execute(CONTEXT)
    assert not (tmp_path / "strict").exists()


def test_an_unlisted_javascript_file_fails_naming_it(
    tealium_connection: TealiumEmulator, tmp_path: Path
) -> None:
    revision_id = publish(tealium_connection)
    add_unlisted_files(
        tealium_connection, revision_id, {"mobile.html": b"<html></html>", "utag.99.js": b"/* injected */"}
    )
    with pytest.raises(TealiumBundleVerificationError) as info:
        download(tmp_path).execute(CONTEXT)
    assert (
        "(in the zip without a checksum (every JavaScript file must have one): utag.99.js); "
        "nothing was written" in str(info.value)
    )
    assert list(tmp_path.iterdir()) == []
    # allow_unlisted_files=True still accepts every file without a checksum, reporting them.
    result = download(tmp_path, allow_unlisted_files=True).execute(CONTEXT)
    assert result["unverified"] == ["mobile.html", "utag.99.js"] and result["files"] == FILES


def test_download_rejects_a_target_the_revision_did_not_publish(
    tealium_connection: TealiumEmulator, tmp_path: Path
) -> None:
    revision_id = publish(tealium_connection, ["dev"])
    with pytest.raises(TealiumValidationError) as info:
        download(tmp_path, target="prod").execute(CONTEXT)
    assert str(info.value) == (
        f"target: revision {revision_id} was not published to it (targets_published: dev) (got 'prod')"
    )
    with pytest.raises(TealiumValidationError, match=r"^target: cannot be 'details'"):
        download(tmp_path, target="details").execute(CONTEXT)


def test_download_of_an_old_revision_maps_1270(tealium_connection: TealiumEmulator, tmp_path: Path) -> None:
    old = publish(tealium_connection)
    publish(tealium_connection)
    with pytest.raises(TealiumApiError, match="returnCode 1270") as info:
        download(tmp_path, revision_id=old).execute(CONTEXT)
    assert "only for the latest revision published to it" in str(info.value)


# -- secrets ---------------------------------------------------------------------------------------------


def test_secrets_never_reach_logs_errors_or_xcom(
    tealium_connection: TealiumEmulator,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    revision_id = publish(tealium_connection)
    outputs: list[Any] = []
    operators: list[Any] = [
        TealiumGetRevisionOperator(task_id="get"),
        TealiumGetRevisionOperator(task_id="get2", revisions_api="v2"),
        download(tmp_path),
    ]
    for operator in operators:
        outputs.append(operator.execute(CONTEXT))
    # Failure paths: a corrupt bundle, an expired session refused twice, a wrong password, a lockout.
    rs.corrupt_bundle(tealium_connection.state, mode="checksum")
    failing: list[Any] = [download(tmp_path)]
    conn = json.loads(tealium_connection.connection_json())
    conn["extra"]["v1_password"] = "a-wrong-v1-password"
    monkeypatch.setenv("AIRFLOW_CONN_TEALIUM_BADPW", json.dumps(conn))
    failing += [
        TealiumGetRevisionOperator(task_id=f"bad{i}", tealium_conn_id="tealium_badpw") for i in range(7)
    ]
    for index, operator in enumerate(failing):
        if 1 <= index < len(failing) - 1:
            # As if each ran in its own worker process: drop the cached session and the remembered
            # refusal, so the wrong password is really sent each time (up to the lockout).
            TOKEN_CACHE.clear()
        with pytest.raises(TealiumError) as info:
            operator.execute(CONTEXT)
        outputs.append(str(info.value))
        outputs.append(repr(info.value))
    assert any("1402" in str(o) for o in outputs)
    assert "Remembered: this login was refused" in outputs[-2]  # the last one was answered from memory
    rendered = [getattr(op, name) for op in operators + failing for name in op.template_fields]
    everything = "\n".join(
        [caplog.text, json.dumps(outputs, default=str), repr(rendered)]
        + [repr(record.__dict__) for record in caplog.records]
    )
    secrets = [
        tealium_connection.api_key,
        DEFAULT_V1_PASSWORD,
        "a-wrong-v1-password",
        *tealium_connection.state.issued_tokens,
    ]
    assert len(tealium_connection.state.issued_tokens) >= 3  # JSESSIONID, utk and a v2 token
    for secret in secrets:
        assert secret not in everything
    assert revision_id in everything  # the check itself sees what was logged
