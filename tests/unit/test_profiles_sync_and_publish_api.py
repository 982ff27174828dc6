"""Declarative sync planning and the publish API: pure functions, no network."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from airflow_provider_tealium.api import profiles as p
from airflow_provider_tealium.api import publish as pub
from airflow_provider_tealium.exceptions import (
    TealiumApiError,
    TealiumValidationError,
    TealiumValidationErrors,
)

CURRENT: dict[str, Any] = {
    "version": "202601011200",
    "loadRules": [
        {
            "id": "1",
            "name": "Checkout",
            "status": "active",
            "notes": "",
            "loadRuleCondition": [[{"variable": "udo.page_type", "operator": "equals", "value": "checkout"}]],
        },
        {"id": "2", "name": "Old rule", "status": "inactive", "loadRuleCondition": []},
    ],
    "variables": [{"id": "5", "name": "page_type", "type": "js", "alias": "Page type"}],
    "extensions": [
        {
            "id": "9",
            "name": "Ext",
            "type": "Javascript Code",
            "scope": "DOM Ready",
            "occurence": "Run Always",
            "status": "active",
            "conditions": [[{"variable": "udo.a", "operator": "is defined"}]],
            "configuration": [{"name": "code", "value": "a();"}],
        }
    ],
}


def plan(spec: dict[str, Any], prune: bool = False) -> list[p.PlannedChange]:
    return p.plan_sync(CURRENT, p.parse_desired_state(spec), prune=prune)


def test_matching_state_plans_nothing() -> None:
    spec = {
        "loadRules": [
            {
                "name": "Checkout",
                "status": "active",
                # Spelled differently, same operator.
                "loadRuleCondition": [
                    [{"variable": "udo.page_type", "operator": "Equals", "value": "checkout"}]
                ],
            }
        ],
        "variables": [{"name": "page_type", "type": "js_page", "alias": "Page type"}],
        "extensions": [
            {
                "name": "Ext",
                "scope": "DOM Ready",
                "occurrence": "Run Always",
                "status": "active",
                "code": "a();",
            }
        ],
    }
    assert plan(spec) == []


def test_add_replace_and_prune() -> None:
    spec = {
        "loadRules": [
            {
                "name": "Checkout",
                "status": "inactive",
                "loadRuleCondition": CURRENT["loadRules"][0]["loadRuleCondition"],
            },
            {"name": "New", "status": "active", "loadRuleCondition": []},
        ],
    }
    changes = plan(spec, prune=True)
    assert [(c.op, c.kind, c.name, c.component_id) for c in changes] == [
        (p.Op.REPLACE, p.Kind.LOAD_RULE, "Checkout", "1"),
        (p.Op.ADD, p.Kind.LOAD_RULE, "New", None),
        (p.Op.REMOVE, p.Kind.LOAD_RULE, "Old rule", "2"),
    ]
    replace = next(c for c in changes if c.op is p.Op.REPLACE)
    assert replace.changes == {"status": {"from": "active", "to": "inactive"}}
    assert replace.operation() == {
        "op": "replace",
        "path": "/loadRules/1",
        "value": {
            "object": "loadRule",
            "name": "Checkout",
            "status": "inactive",
            "notes": "",
            "loadRuleCondition": CURRENT["loadRules"][0]["loadRuleCondition"],
        },
    }
    remove = next(c for c in changes if c.op is p.Op.REMOVE)
    assert remove.operation() == {"op": "remove", "path": "/loadRules/2", "value": {"object": "loadRule"}}
    # Sections not in the spec are not managed: nothing of variables/extensions is touched, even with prune.
    assert {c.kind for c in changes} == {p.Kind.LOAD_RULE}
    # The operations of a plan pass the PATCH rules.
    p.validate_patch({"notes": "n", "operationList": [c.operation() for c in changes]})


def test_without_prune_absent_components_stay() -> None:
    assert plan({"loadRules": []}) == []
    assert [c.name for c in plan({"loadRules": []}, prune=True)] == ["Checkout", "Old rule"]


def test_replace_keeps_settings_the_spec_does_not_mention() -> None:
    changes = plan(
        {
            "extensions": [
                {
                    "name": "Ext",
                    "scope": "DOM Ready",
                    "occurrence": "Run Once",
                    "status": "active",
                    "code": "a();",
                }
            ]
        }
    )
    (change,) = changes
    assert change.changes == {"occurrence": {"from": "Run Always", "to": "Run Once"}}
    value = change.operation()["value"]
    assert value["conditions"] == CURRENT["extensions"][0]["conditions"]  # kept, not wiped
    assert "occurence" not in value and value["occurrence"] == "Run Once"
    assert p.validate_patch({"notes": "n", "operationList": [change.operation()]}).warnings == []


def test_describe_is_readable() -> None:
    (change,) = plan({"variables": [{"name": "page_type", "type": "udo", "alias": "Page Type"}]})
    assert change.describe() == (
        "replace variable 'page_type' (id 5)\n    type: 'js' -> 'udo'\n    alias: 'Page type' -> 'Page Type'"
    )
    assert change.to_dict()["changes"]["alias"] == {"from": "Page type", "to": "Page Type"}


def test_desired_state_errors_point_into_the_file() -> None:
    spec = {
        "loadRules": [
            {"name": "A", "status": "on", "loadRuleCondition": []},
            {"name": "A", "status": "active", "loadRuleCondition": []},
        ],
        "variables": [{"name": "v", "type": "va"}, "oops"],
        "tags": [],
    }
    with pytest.raises(TealiumValidationErrors) as info:
        p.parse_desired_state(spec, "release.yaml")
    assert [str(e) for e in info.value.errors] == [
        "release.yaml.tags: is not a section (loadRules, variables, extensions)",
        "release.yaml.loadRules[0].status: must be 'active' or 'inactive' (got 'on')",
        "release.yaml.variables[0].type: 'va' (visitor attribute) variables are read-only (got 'va')",
        "release.yaml.variables[1]: must be a mapping (got 'oops')",
    ]
    with pytest.raises(TealiumValidationErrors, match=r"loadRules\[1\].name: duplicates loadRules\[0\]"):
        p.parse_desired_state({"loadRules": [{"name": "A", "status": "active", "loadRuleCondition": []}] * 2})
    with pytest.raises(TealiumValidationError, match="desired_state: must be a mapping"):
        p.parse_desired_state(["loadRules"])


def test_duplicate_names_in_the_profile_are_refused() -> None:
    current = copy.deepcopy(CURRENT)
    current["variables"].append({"id": "6", "name": "page_type", "type": "udo"})
    with pytest.raises(
        TealiumValidationError, match=r"profile\.variables: holds two components named 'page_type'"
    ):
        p.plan_sync(current, p.parse_desired_state({"variables": []}))


# -- publish ---------------------------------------------------------------------------------------------


def test_publish_body_and_request() -> None:
    publish = pub.validate_publish(
        version_id=202402011234, targets="prod", title="Release", notes=None, operator_id="me@example.com"
    )
    request = pub.publish_request("acme", "main", publish)
    assert (request.method, request.path, request.idempotent) == (
        "POST",
        "/v3/tiq/accounts/acme/profiles/main/publish",
        False,
    )
    assert request.json_body == {
        "versionId": "202402011234",
        "operatorId": "me@example.com",
        "publishTargets": ["prod"],
        "title": "Release",
        "notes": "",
    }
    status = pub.publish_status_request("acme", "main", "abc")
    assert status.path == "/v3/tiq/accounts/acme/profiles/main/publish/abc/status"


def test_publish_validation_reports_everything() -> None:
    with pytest.raises(TealiumValidationErrors) as info:
        pub.validate_publish(
            version_id="", targets=["dev", "stage", "dev"], title="x" * 129, notes=3, operator_id="me"
        )
    assert [str(e) for e in info.value.errors] == [
        "versionId: is required (the profile version to publish) (got '')",
        "publishTargets[1]: must be dev, qa or prod (got 'stage')",
        "publishTargets: must not repeat a target (got ['dev', 'stage', 'dev'])",
        "title: must be at most 128 characters (got 129)",
        "notes: must be a string (got 3)",
        "operatorId: must be the publishing user's email (got 'me')",
    ]
    with pytest.raises(
        TealiumValidationErrors, match="publishTargets: must name at least one of dev, qa, prod"
    ):
        pub.validate_publish(version_id="1", targets=[], title="t", notes="", operator_id="a@b.co")
    pub.validate_publish(version_id="1", targets=["dev"], title="x" * 128, notes="", operator_id="a@b.co")


def test_poll_interval_floor() -> None:
    assert pub.validate_poll_interval(1) == 1.0
    with pytest.raises(TealiumValidationError, match="poll_interval: must be at least 1 second"):
        pub.validate_poll_interval(0.5)


@pytest.mark.parametrize(
    ("body", "states"),
    [
        ({"publishTargetState": "processing"}, {"dev": "processing", "prod": "processing"}),
        (
            {"publishTargetState": {"dev": "published", "prod": "queued"}},
            {"dev": "published", "prod": "queued"},
        ),
        (
            {
                "publishTargetState": [
                    {"target": "dev", "state": "PUBLISHED"},
                    {"publishTarget": "prod", "publishTargetState": "stopped"},
                ]
            },
            {"dev": "published", "prod": "stopped"},
        ),
    ],
)
def test_status_shapes(body: dict[str, Any], states: dict[str, str]) -> None:
    status = pub.parse_publish_status("id", body, ["dev", "prod"])
    assert status.to_dict()["targets"] == states


def test_status_flags() -> None:
    done = pub.parse_publish_status("i", {"publishTargetState": {"dev": "published"}})
    assert done.done and not done.stopped
    stopped = pub.parse_publish_status("i", {"publishTargetState": {"dev": "published", "qa": "stopped"}})
    assert not stopped.done and stopped.stopped == ["qa"]
    # The provider's own error, never a bare ValueError (a trigger turns only those into an event).
    with pytest.raises(TealiumApiError, match="unknown publish state 'exploded'"):
        pub.parse_publish_status("i", {"publishTargetState": "exploded"})
    with pytest.raises(TealiumApiError, match="no publishTargetState"):
        pub.parse_publish_status("i", {})
    assert pub.parse_publish_id({"publishId": 42}) == "42"
    with pytest.raises(TealiumApiError, match="no publishId"):
        pub.parse_publish_id({})


def test_trigger_serialises_only_plain_values() -> None:
    import json

    from airflow_provider_tealium.triggers.publish import TealiumPublishTrigger

    trigger = TealiumPublishTrigger(
        publish_id="abc",
        account="a",
        profile="p",
        targets=["dev"],
        end_time=1.5,
        poll_interval=0.2,
        retry={"max_retries": 2},
        requested_at="2026-01-01T12:00:00+00:00",
    )
    path, kwargs = trigger.serialize()
    assert path == "airflow_provider_tealium.triggers.publish.TealiumPublishTrigger"
    assert kwargs["poll_interval"] == 1.0  # never faster than once a second
    assert kwargs["requested_at"] == "2026-01-01T12:00:00+00:00"  # echoed in the event
    json.dumps(kwargs)
    assert TealiumPublishTrigger(**kwargs).serialize() == (path, kwargs)
