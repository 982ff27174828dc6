"""``example_tealium_release`` end to end: real Airflow, real HTTP, deferrable waits, the emulator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_tealium.testing.emulator.routes_profiles import store
from tests.e2e.conftest import DagResult

pytestmark = pytest.mark.e2e


def test_release_dag_syncs_publishes_and_waits(
    run_dag: Callable[..., DagResult], tealium_connection: Any
) -> None:
    result = run_dag("example_tealium_release")
    assert result.state == "success", result.task_states
    assert set(result.task_states.values()) == {"success"}

    sync = result.xcoms["sync_profile"]
    assert sync["changed"] is True
    planned = {(c["op"], c["object"], c["name"]) for c in sync["plan"]}
    assert planned == {
        ("replace", "loadRule", "Checkout pages"),
        ("add", "loadRule", "Holiday campaign"),
        ("add", "variable", "utm_campaign"),
    }
    version_id = sync["version_id"]
    assert result.xcoms["wait_dev"]["state"] == "published"
    assert result.xcoms["wait_prod"]["target_states"] == {"prod": "published"}
    assert result.xcoms["publish_prod"]["version_id"] == version_id

    profiles = store(tealium_connection.state)
    stored = profiles.profiles[("demo", "main")]
    assert stored.environment_versions["dev"] == version_id
    assert stored.environment_versions["prod"] == version_id
    assert stored.latest().title.startswith("Release ")
    assert profiles.patches_applied == 1
    # Each completed publish left a revision for the revisions feature.
    assert all(p.revision_id for p in profiles.publishes.values())
    assert len(profiles.publishes) == 2
    assert links(result.run_id, "sync_profile") == {
        "_link_TealiumProfileLink": "https://my.tealiumiq.com/tms?account=demo&profile=main"
    }


def links(run_id: str, task_id: str) -> dict[str, Any]:
    """The extra links the task runner stored for a task."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = (
            session.query(XComModel)
            .filter_by(dag_id="example_tealium_release", run_id=run_id, task_id=task_id)
            .all()
        )
        return {row.key: XComModel.deserialize_value(row) for row in rows if row.key.startswith("_link_")}
