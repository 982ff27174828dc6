"""``example_tealium_datalayer_nightly`` end to end: real Airflow, real HTTP, the emulator, a deferred wait."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_tealium.testing.emulator.datalayers.backend import store
from tests.e2e.conftest import DagResult

pytestmark = pytest.mark.e2e

ITEM = "/v2/dle/accounts/demo/profiles/main/datalayers/{}"


def test_nightly_datalayer_dag_uploads_500_and_waits(
    run_dag: Callable[..., DagResult], tealium_connection: Any
) -> None:
    emulator_store = store(tealium_connection.state)
    emulator_store.configure(landing_delay=0.5)
    # Last night's data layers are there, a day old: tonight's run updates them (upsert -> PUT), and the
    # sensor must wait for the new versions rather than accept the old ones.
    ids = [f"sku-{i:05d}" for i in range(500)]
    emulator_store.seed_files("demo", "main", ids, modified=time.time() - 86400)
    result = run_dag("example_tealium_datalayer_nightly")
    assert result.state == "success", result.task_states
    states = dict(result.task_states)
    assert states.pop("resend_failed") == "skipped"  # nothing failed, nothing to resend
    assert set(states.values()) == {"success"}
    upload = result.xcoms["upload_datalayers"]
    assert upload["total"] == 500 and len(upload["landed"]) == 500 and upload["failed"] == {}
    assert upload["mode"] == "upsert"
    wait = result.xcoms["wait_until_landed"]
    assert wait["landed"] == sorted(upload["landed"])
    uploads = store(tealium_connection.state).uploads
    assert len(uploads) == 500 and set(uploads.values()) == {1}
    assert "demo/main/sku-00042.js" in uploads
    stats = tealium_connection.state.stats()
    puts = sum(n for k, n in stats["calls"].items() if k.startswith("PUT /v2/dle/"))
    assert puts == 500 and not any(k.startswith("POST /v2/dle/") for k in stats["calls"])
    assert stats["mint_totals"] == {"v2": 1}  # eight worker threads and the trigger shared one token
    assert store(tealium_connection.state).rate_limited == 0


def test_partial_failure_resends_only_the_failed_ids(
    run_dag: Callable[..., DagResult], tealium_connection: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = json.loads(tealium_connection.connection_json())
    conn["extra"].update(max_retries=1, backoff_base=0.01, backoff_max=0.05)
    monkeypatch.setenv("AIRFLOW_CONN_TEALIUM_DEFAULT", json.dumps(conn))
    emulator_store = store(tealium_connection.state)
    emulator_store.configure(landing_delay=0.2)
    emulator_store.seed_files(
        "demo", "main", [f"sku-{i:05d}" for i in range(60)], modified=time.time() - 86400
    )
    broken = ["sku-00007", "sku-00023", "sku-00059"]
    for datalayer_id in broken:
        # Both attempts of the first upload fail; the resend goes through.
        tealium_connection.faults.add(method="PUT", path=ITEM.format(datalayer_id), status=500, times=2)
    # 60 products keep this run short; the other test runs the full 500.
    result = run_dag("example_tealium_datalayer_nightly", run_conf={"products": 60})
    states = result.task_states
    assert states["upload_datalayers"] == "failed"
    assert states["resend_failed"] == "success" and states["wait_until_landed"] == "success"
    first = result.xcoms["upload_datalayers"]
    assert sorted(first["failed"]) == broken and len(first["landed"]) == 57
    second = result.xcoms["resend_failed"]
    assert sorted(second["landed"]) == broken and second["total"] == 3 and second["skipped"] == 57
    assert result.xcoms["wait_until_landed"]["landed"] == sorted(first["landed"] + second["landed"])
    # Every product accepted exactly once: the resend sent only the three; nothing lost.
    uploads = emulator_store.uploads
    assert len(uploads) == 60 and set(uploads.values()) == {1}
