"""``example_tealium_revision_audit`` end to end: real Airflow, real HTTP, the DAG's own publish to the emulator."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_tealium.api import revisions as rev
from airflow_provider_tealium.testing.emulator import revisions_store as rs
from airflow_provider_tealium.testing.emulator.profiles.backend import store
from airflow_provider_tealium.testing.emulator.state import DEFAULT_V1_PASSWORD
from tests.e2e.conftest import DagResult

pytestmark = pytest.mark.e2e

DAG_ID = "example_tealium_revision_audit"


def test_revision_audit_publishes_waits_downloads_and_verifies(
    run_dag: Callable[..., DagResult], tealium_connection: Any, tmp_path: Path
) -> None:
    state = tealium_connection.state
    # An older prod revision must not satisfy the sensor: only the one the DAG's own publish creates.
    old = rs.record_publish(
        state,
        account="demo",
        profile="main",
        name="Last week",
        comment="",
        created_by="a@b.c",
        targets=["prod"],
        now=datetime.now(timezone.utc) - timedelta(minutes=1),
    )
    result = run_dag(DAG_ID, run_conf={"artifact_dir": f"{tmp_path}/"})
    assert result.state == "success", result.task_states
    assert set(result.task_states.values()) == {"success"}

    published = result.xcoms["publish_prod"]
    assert published["targets"] == ["prod"] and published["state"] == "started"
    requested_at = datetime.fromisoformat(published["requested_at"].replace("Z", "+00:00"))
    revision = result.xcoms["wait_for_revision"]
    assert revision["name"] == f"Audited release {result.run_id}"
    assert revision["targets_published"] == ["prod"] and revision["revision_id"] > old
    assert rev.revision_time(revision["revision_id"]) >= requested_at.replace(microsecond=0)
    # It is the revision of exactly this publish.
    publish = store(state).publishes[published["publish_id"]]
    assert publish.revision_id == revision["revision_id"]

    bundle = result.xcoms["download_and_verify_bundle"]
    assert bundle["revision_id"] == revision["revision_id"] and bundle["target"] == "prod"
    assert bundle["files"] == sorted(revision["checksums"]["prod"]) and bundle["unverified"] == []
    path = Path(bundle["path"])
    assert path.parent == tmp_path and path.is_file()
    assert "utag.js" in zipfile.ZipFile(path).namelist()
    assert bundle["bundle_sha256"] == revision["checksums"]["prod"]["bundle.zip"]

    calls = state.stats()["calls"]
    # The old revision's details are never read: the list alone rules it out.
    assert f"GET /v1/accounts/demo/main/revisions/{old}/details" not in calls
    assert calls["POST /v1/login"] == 1

    everything = json.dumps(result.xcoms)
    for secret in [tealium_connection.api_key, DEFAULT_V1_PASSWORD, *state.issued_tokens]:
        assert secret not in everything
