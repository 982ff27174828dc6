"""``example_tealium_revision_audit`` end to end: real Airflow, real HTTP, the emulator publishing mid-run."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_tealium.testing.emulator import revisions_store as rs
from airflow_provider_tealium.testing.emulator.state import DEFAULT_V1_PASSWORD
from tests.e2e.conftest import DagResult

pytestmark = pytest.mark.e2e

DAG_ID = "example_tealium_revision_audit"


def test_revision_audit_waits_downloads_and_verifies(
    run_dag: Callable[..., DagResult], tealium_connection: Any, tmp_path: Path
) -> None:
    state = tealium_connection.state
    # An older prod revision must not satisfy the sensor: only one published after the run started.
    old = rs.record_publish(
        state,
        account="demo",
        profile="main",
        name="Last week",
        comment="",
        created_by="a@b.c",
        targets=["prod"],
    )
    rs.arm_publish(
        state,
        delay=1.0,
        account="demo",
        profile="main",
        name="Spring release",
        comment="new consent tags",
        created_by="user@example.com",
        targets=["dev", "prod"],
    )
    result = run_dag(DAG_ID, run_conf={"artifact_dir": f"{tmp_path}/", "target": "prod"})
    assert result.state == "success", result.task_states

    revision = result.xcoms["wait_for_revision"]
    assert revision["name"] == "Spring release" and revision["revision_id"] > old
    bundle = result.xcoms["download_and_verify_bundle"]
    assert bundle["revision_id"] == revision["revision_id"] and bundle["target"] == "prod"
    assert bundle["files"] == sorted(revision["checksums"]["prod"])
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
