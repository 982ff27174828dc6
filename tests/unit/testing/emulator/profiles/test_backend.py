"""The iQ Profiles and Publish backend by plain method calls (no HTTP): versions, the lock, publishes."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_tealium.testing.emulator.errors import EmulatorHTTPError
from airflow_provider_tealium.testing.emulator.profiles.backend import ProfilesStore, store
from airflow_provider_tealium.testing.emulator.profiles.seed import INITIAL_VERSION
from airflow_provider_tealium.testing.emulator.revisions.backend import store as revisions_store
from airflow_provider_tealium.testing.emulator.state import EmulatorState

USER = "dev@example.com"
ADD_VARIABLE = {
    "op": "add",
    "path": "/variables",
    "value": {"object": "variable", "name": "order_id", "type": "js_page"},
}


def refusal(call: object, *args: object, **kwargs: object) -> tuple[int, str]:
    with pytest.raises(EmulatorHTTPError) as info:
        call(*args, **kwargs)  # type: ignore[operator]
    return info.value.status, info.value.body["message"]


def patch(*operations: dict[str, Any], **envelope: Any) -> dict[str, Any]:
    return {"notes": "why", "operationList": list(operations), **envelope}


@pytest.fixture
def profiles() -> ProfilesStore:
    return store(EmulatorState())


def test_a_fresh_profile_answers_its_seed_with_the_included_components(profiles: ProfilesStore) -> None:
    answer = profiles.get_profile("acme", "web", ["variables", "versionIDs", "tags"])

    assert answer["version"] == INITIAL_VERSION and answer["account"] == "acme"
    assert [v["name"] for v in answer["variables"]] == ["page_type", "page_name", "utm_source"]
    assert answer["versionIds"] == [INITIAL_VERSION] and len(answer["tags"]) == 2
    assert "loadRules" not in answer
    assert refusal(profiles.get_profile, "acme", "web", ["everything"]) == (
        400,
        "Unsupported includes: everything",
    )
    assert refusal(profiles.get_profile, "acme", "web", [], "209901010000")[0] == 404


def test_a_patch_saves_one_new_version_and_locks_the_profile(profiles: ProfilesStore) -> None:
    answer = profiles.patch("acme", "web", patch(ADD_VARIABLE, versionTitle="Add order id"), USER, now=100.0)

    stored = profiles.get("acme", "web")
    assert len(stored.versions) == 2 and answer["versionTitle"] == "Add order id"
    assert answer["parentVersion"] == INITIAL_VERSION and answer["versionDetails"]["user"] == USER
    assert stored.latest().items["variable"]["4"] == {"name": "order_id", "type": "js", "id": "4"}
    lock = "Users are currently viewing the same account: acme profile: web"
    assert refusal(profiles.patch, "acme", "web", patch(ADD_VARIABLE), USER, now=114.0) == (409, lock)
    profiles.patch("acme", "web", patch(ADD_VARIABLE), USER, now=115.0)
    assert profiles.patches_applied == 2


def test_save_changes_the_latest_version_in_place(profiles: ProfilesStore) -> None:
    remove = {"op": "remove", "path": "/loadRules/2", "value": {"object": "loadRule"}}
    profiles.patch("acme", "web", patch(remove, saveType="save"), USER, now=0.0)

    stored = profiles.get("acme", "web")
    assert len(stored.versions) == 1 and list(stored.latest().items["loadRule"]) == ["1"]
    assert stored.latest().notes == "why"


def test_refused_patches_change_nothing(profiles: ProfilesStore) -> None:
    unknown = {"op": "remove", "path": "/variables/99", "value": {"object": "variable"}}

    assert refusal(profiles.patch, "acme", "web", patch(ADD_VARIABLE, notes=""), USER, now=0.0) == (
        400,
        "patchProfile.arg2.notes: must not be empty",
    )
    status, message = refusal(profiles.patch, "acme", "web", patch(ADD_VARIABLE, unknown), USER, now=0.0)
    assert status == 400 and message.endswith("operationList[1].path: variable id 99 does not exist")
    status, message = refusal(profiles.patch, "acme", "web", [ADD_VARIABLE], USER, now=0.0)
    assert message == "Validate patch request failed due to the body must be an object"
    assert len(profiles.get("acme", "web").versions) == 1 and profiles.patches_applied == 0


def test_the_final_errors_and_the_viewing_lock_come_first(profiles: ProfilesStore) -> None:
    profiles.configure(users_viewing=True, viewing_status=404)
    assert refusal(profiles.patch, "acme", "web", patch(ADD_VARIABLE), USER, now=0.0)[0] == 404
    profiles.configure(libraries_out_of_date=True)
    assert refusal(profiles.patch, "acme", "web", patch(ADD_VARIABLE), USER, now=0.0)[1].startswith(
        "Profile libraries are out of date"
    )
    profiles.configure(inherits_library=True, missing_profiles=["acme/gone"])
    assert refusal(profiles.patch, "acme", "web", {}, USER, now=0.0) == (
        500,
        "Profile: web inherits from library profile",
    )
    assert refusal(profiles.get_profile, "acme", "gone", []) == (
        404,
        "Account: acme, profile: gone not found",
    )
    with pytest.raises(ValueError):
        profiles.configure(lock_seconds="long")


PUBLISH = {
    "versionId": INITIAL_VERSION,
    "operatorId": USER,
    "publishTargets": ["qa"],
    "title": "Release",
    "notes": "n",
}


def test_a_publish_moves_through_its_states_and_leaves_one_revision(profiles: ProfilesStore) -> None:
    publish = profiles.start_publish("acme", "web", PUBLISH, now=0.0)

    states = [
        profiles.publish_status("acme", "web", publish.publish_id, t)["publishTargetState"]
        for t in (0.1, 1.1, 2.1)
    ]
    assert states == [{"qa": "queued"}, {"qa": "published"}, {"qa": "published"}]
    (revision_id,) = revisions_store(profiles.state).ids("acme", "web")
    assert (
        publish.revision_id == revision_id
        and profiles.get("acme", "web").environment_versions["qa"] == INITIAL_VERSION
    )
    profiles.finish(publish, now=5.0)
    assert len(revisions_store(profiles.state).ids("acme", "web")) == 1  # once


def test_publishes_refuse_fast_polls_bad_bodies_and_unknown_versions(profiles: ProfilesStore) -> None:
    publish = profiles.start_publish("acme", "web", PUBLISH, now=0.0)
    profiles.publish_status("acme", "web", publish.publish_id, 0.1)

    assert refusal(profiles.publish_status, "acme", "web", publish.publish_id, 0.5)[0] == 429
    assert refusal(profiles.publish_status, "acme", "other", publish.publish_id, 2.0)[0] == 404
    status, message = refusal(profiles.start_publish, "acme", "web", {**PUBLISH, "title": "t" * 129}, 0.0)
    assert status == 400 and "title: must be at most 128 characters" in message
    assert (
        refusal(profiles.start_publish, "acme", "web", {**PUBLISH, "versionId": "209901010000"}, 0.0)[0]
        == 404
    )


def test_a_stopped_publish_leaves_no_revision_and_a_reset_orphans_the_old_store() -> None:
    state = EmulatorState()
    profiles = store(state)
    profiles.configure(stop_next_publishes=1)
    stopped = profiles.start_publish("acme", "web", PUBLISH, now=0.0)
    assert profiles.publish_status("acme", "web", stopped.publish_id, 1.0)["publishTargetState"] == {
        "qa": "stopped"
    }
    later = profiles.start_publish("acme", "web", PUBLISH, now=0.0)
    state.reset()
    profiles.finish(later, now=5.0)  # the timer of a publish started before the reset
    assert revisions_store(state).ids("acme", "web") == [] and not later.finished
