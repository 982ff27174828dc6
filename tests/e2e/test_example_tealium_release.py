"""``example_tealium_release`` end to end: real Airflow, real HTTP, deferrable waits, the emulator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pendulum
import pytest

from airflow_provider_tealium.testing.emulator.profiles.backend import store
from tests.e2e.conftest import DagResult

pytestmark = pytest.mark.e2e


RUN_AFTER = pendulum.datetime(2026, 11, 30, 15, tz="UTC")
# Manual runs: with a logical date, and without one (Airflow 3's default for the UI, CLI and REST API,
# where ``ds`` is undefined).
RUNS = {
    "manual-with-logical-date": {"logical_date": RUN_AFTER, "run_after": RUN_AFTER},
    "manual-without-logical-date": {"logical_date": None, "run_after": RUN_AFTER},
}


@pytest.mark.parametrize("run", RUNS.values(), ids=RUNS.keys())
def test_release_dag_syncs_publishes_and_waits(
    run_dag: Callable[..., DagResult], tealium_connection: Any, run: dict[str, Any]
) -> None:
    result = run_dag("example_tealium_release", **run)
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
    # The deferred sensors' results have the documented shape, the real targets included.
    assert result.xcoms["wait_dev"] == {
        "publish_id": result.xcoms["publish_dev"]["publish_id"],
        "account": "demo",
        "profile": "main",
        "targets": ["dev"],
        "target_states": {"dev": "published"},
        "state": "published",
    }
    assert result.xcoms["wait_prod"]["target_states"] == {"prod": "published"}
    assert result.xcoms["publish_prod"]["version_id"] == version_id

    profiles = store(tealium_connection.state)
    stored = profiles.profiles[("demo", "main")]
    assert stored.environment_versions["dev"] == version_id
    assert stored.environment_versions["prod"] == version_id
    assert stored.latest().title == "Release 2026-11-30"
    assert (
        profiles.publishes[result.xcoms["publish_prod"]["publish_id"]].title == "Release 2026-11-30 to prod"
    )
    assert profiles.patches_applied == 1
    # Each completed publish left a revision for the revisions feature.
    assert all(p.revision_id for p in profiles.publishes.values())
    assert len(profiles.publishes) == 2
    # Every task's link is stored, the deferred sensors' too (they finish in a new task object).
    profile_link = {"_link_TealiumProfileLink": "https://my.tealiumiq.com/tms?account=demo&profile=main"}
    for task_id in ("sync_profile", "publish_dev", "wait_dev", "publish_prod", "wait_prod"):
        assert links(result.run_id, task_id) == profile_link, task_id


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
