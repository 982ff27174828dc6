"""The iQ Profiles and Publish rules, each from the seeds and API-NOTES."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_tealium.testing.emulator.profiles import rules

RULE: dict[str, Any] = {
    "object": "loadRule",
    "name": "Checkout",
    "status": "active",
    "loadRuleCondition": [[{"variable": "udo.page_type", "operator": "equals", "value": "checkout"}]],
}
VARIABLE: dict[str, Any] = {"object": "variable", "name": "order_id", "type": "udo"}
EXTENSION: dict[str, Any] = {
    "object": "extension",
    "name": "Lower-case",
    "type": "Javascript Code",
    "scope": "After Load Rules",
    "occurrence": "Run Always",
    "status": "active",
    "configuration": [{"name": "code", "value": "b.x = 1;"}],
}


def patch(*operations: dict[str, Any], **envelope: Any) -> dict[str, Any]:
    return {"notes": "n", "operationList": list(operations), **envelope}


def add(value: dict[str, Any], path: str | None = None) -> dict[str, Any]:
    section = {"loadRule": "/loadRules", "variable": "/variables", "extension": "/extensions"}[
        value["object"]
    ]
    return {"op": "add", "path": path or section, "value": value}


def test_valid_bodies_have_no_problems() -> None:
    body = patch(
        add(RULE),
        add(VARIABLE),
        add(EXTENSION),
        {"op": "remove", "path": "/loadRules/4", "value": {"object": "loadRule"}},
    )
    assert rules.patch_problems(body) == []
    spelled = {k: v for k, v in EXTENSION.items() if k != "occurrence"} | {"occurence": "Run Once"}
    assert rules.patch_problems(patch(add(spelled))) == []  # the docs' own spelling


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (patch(), "operationList: must be a non-empty list"),
        (patch(add(RULE), saveType="overwrite"), "saveType: must be 'save' or 'saveAs'"),
        (patch({"op": "move", "path": "/loadRules", "value": RULE}), "operationList[0].op: must be"),
        (patch(add(RULE, "/tags")), "operationList[0].path: must be one of /loadRules"),
        (patch(add(RULE, "/loadRules/5")), "operationList[0].path: add takes no id"),
        (patch({"op": "replace", "path": "/loadRules", "value": RULE}), "replace needs the component's id"),
        (patch(add(RULE, "/variables")), "operationList[0].value.object: must be 'variable'"),
        (
            patch(add({**RULE, "status": "enabled"})),
            "operationList[0].value.status: must be 'active' or 'inactive'",
        ),
        (patch(add({**RULE, "name": " "})), "operationList[0].value.name: is required"),
        (patch(add({**RULE, "endDate": "202602020000"})), "value.startDate: is required when endDate is set"),
        (
            patch(add({**RULE, "startDate": "2026-02-02"})),
            "value.startDate: must be a date in the format yyyyMMddHHmm",
        ),
        (patch(add({**RULE, "startDate": "202613010000"})), "value.startDate: must be a date"),
        (
            patch(add({k: v for k, v in RULE.items() if k != "loadRuleCondition"})),
            "loadRuleCondition: is required",
        ),
        (
            patch(
                add(
                    {
                        **RULE,
                        "loadRuleCondition": [[{"variable": "udo.a", "operator": "is_defined", "value": 1}]],
                    }
                )
            ),
            "takes no value",
        ),
        (
            patch(add({**RULE, "loadRuleCondition": [[{"variable": "udo.a", "operator": "equals"}]]})),
            "value: is required by operator 'equals'",
        ),
        (patch(add({**RULE, "loadRuleCondition": [[]]})), "must be a non-empty list of conditions"),
        (patch(add({**VARIABLE, "type": "va"})), "'va' (visitor attribute) variables are read-only"),
        (
            patch(add({**VARIABLE, "type": "js"})),
            "value.type: must be one of ls, ss, udo, qp, cp, js_page, meta",
        ),
        (patch(add({**EXTENSION, "type": "Tealium Collect"})), "value.type: must be 'Javascript Code'"),
        (patch(add({**EXTENSION, "scope": "Before Tags"})), "value.scope: must be one of Before Load Rules"),
        (
            patch(add({**EXTENSION, "occurrence": "Twice"})),
            "value.occurrence: must be 'Run Once' or 'Run Always'",
        ),
        (
            patch(add({**EXTENSION, "selectedTargets": {"staging": True}})),
            "selectedTargets.staging: is not a target",
        ),
        (
            patch(add({**EXTENSION, "selectedTargets": {"prod": "yes"}})),
            "selectedTargets.prod: must be true or false",
        ),
        (patch(add({**EXTENSION, "configuration": []})), "value.configuration: must hold exactly one entry"),
    ],
)
def test_each_documented_rule(body: dict[str, Any], expected: str) -> None:
    problems = rules.patch_problems(body)
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize("vtype", ["ls", "ss", "udo", "qp", "cp", "js_page", "meta"])
def test_every_settable_variable_type(vtype: str) -> None:
    assert rules.patch_problems(patch(add({**VARIABLE, "type": vtype}))) == []


def test_notes_and_includes() -> None:
    assert (
        rules.notes_missing({"notes": "  "})
        and rules.notes_missing({})
        and not rules.notes_missing({"notes": "x"})
    )
    assert rules.include_problems(["loadRules", "versionIDs", "tags.template", "loadrules"]) == ["loadrules"]


PUBLISH: dict[str, Any] = {
    "versionId": "202601011200",
    "operatorId": "user@example.com",
    "publishTargets": ["dev", "prod"],
    "title": "Release",
    "notes": "",
}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({}, None),
        ({"versionId": 202601011200}, None),
        ({"title": "t" * 128}, None),
        ({"title": "t" * 129}, "title: must be at most 128 characters (got 129)"),
        ({"title": ""}, "title: is required"),
        ({"publishTargets": []}, "publishTargets: must name at least one"),
        ({"publishTargets": ["staging"]}, "publishTargets[0]: must be dev, qa or prod"),
        ({"operatorId": "not-an-email"}, "operatorId: must be the publishing user's email"),
        ({"versionId": None}, "versionId: is required"),
        ({"notes": 5}, "notes: must be a string"),
    ],
)
def test_publish_rules(change: dict[str, Any], expected: str | None) -> None:
    problems = rules.publish_problems({**PUBLISH, **change})
    assert (problems == []) if expected is None else any(expected in p for p in problems), problems
