"""iQ Profiles models and PATCH validation: the seed's examples, and every rule with its bad input."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pendulum
import pytest

from airflow_provider_tealium.api import profiles as p
from airflow_provider_tealium.api.request import Host, TokenFamily
from airflow_provider_tealium.exceptions import TealiumValidationErrors

# Verbatim from seeds/iq-load-rules-api.txt ("Create load rule", "Update load rule", "Delete load rule").
SEED_CREATE = """{
"versionTitle": "Adding Rule",
"saveType": "saveAs",
"notes": "version notes here",
"operationList": [
{
"op": "add",
"path": "/loadRules",
"value":{
"object": "loadRule",
"name": "new rule API Dom variable",
"status": "active",
"notes": "Load Rule notes here",
"startDate": "202202020000",
"endDate": "202202020000",
"loadRuleCondition": [
[
{
"variable": "udo.new_name",
"operator": "does_not_equal",
"value": 10
}
]
]
}
}
]
}"""
SEED_UPDATE = SEED_CREATE.replace(
    '"op": "add",\n"path": "/loadRules"', '"op": "replace",\n"path": "/loadRules/49"'
)
SEED_DELETE = """{
"versionTitle": "Adding Rule",
"saveType": "saveAs",
"notes": "version notes here",
"operationList": [
{
"op": "remove",
"path": "/loadRules/49",
"value":{
"object": "loadRule"
}
}
]
}"""


def seed_rule(**overrides: Any) -> p.LoadRule:
    fields: dict[str, Any] = {
        "name": "new rule API Dom variable",
        "status": "active",
        "notes": "Load Rule notes here",
        "start_date": "202202020000",
        "end_date": "202202020000",
        "conditions": [[p.Condition("udo.new_name", "does_not_equal", 10)]],
    }
    fields.update(overrides)
    return p.LoadRule(**fields)


def envelope(*operations: p.Operation) -> p.PatchRequest:
    return p.PatchRequest(
        "version notes here", list(operations), version_title="Adding Rule", save_type="saveAs"
    )


def sent_body(body: p.PatchRequest) -> bytes:
    return p.patch_profile_request("acme", "main", body).body_bytes() or b""


@pytest.mark.parametrize(
    ("operation", "seed"),
    [
        (lambda: p.Operation.add(seed_rule()), SEED_CREATE),
        (lambda: p.Operation.replace(49, seed_rule()), SEED_UPDATE),
        (lambda: p.Operation.remove(p.Kind.LOAD_RULE, 49), SEED_DELETE),
    ],
    ids=["create", "update", "delete"],
)
def test_seed_examples_serialise_to_the_seed_json(operation: Any, seed: str) -> None:
    expected = json.loads(seed)
    body = envelope(operation())
    assert body.to_json() == expected
    # What goes on the wire: the same JSON, in the seed's field order.
    assert sent_body(body) == json.dumps(expected, separators=(",", ":")).encode()


def test_datetimes_are_formatted_like_the_seed() -> None:
    rule = seed_rule(start_date=pendulum.datetime(2022, 2, 2, tz="UTC"), end_date=datetime(2022, 2, 2, 0, 0))
    assert envelope(p.Operation.add(rule)).to_json() == json.loads(SEED_CREATE)


def test_plain_dict_body_is_accepted_and_dates_normalised() -> None:
    body = json.loads(SEED_CREATE)
    body["operationList"][0]["value"]["startDate"] = datetime(2022, 2, 2)
    body["operationList"][0]["value"]["endDate"] = datetime(2022, 2, 3)
    validated = p.validate_patch(body)
    assert validated.body["operationList"][0]["value"]["startDate"] == "202202020000"
    assert validated.body["operationList"][0]["value"]["endDate"] == "202202030000"


def test_patch_request_is_v3_region_and_not_idempotent() -> None:
    request = p.patch_profile_request("my-acct", "main", envelope(p.Operation.add(seed_rule())))
    assert (request.method, request.path) == ("PATCH", "/v3/tiq/accounts/my-acct/profiles/main")
    assert request.family is TokenFamily.V3 and request.host is Host.REGION
    assert request.idempotent is False


def errors_of(body: dict[str, Any]) -> list[str]:
    with pytest.raises(TealiumValidationErrors) as info:
        p.validate_patch(body)
    return [str(e) for e in info.value.errors]


def with_value(op: str = "add", path: str = "/loadRules", **value: Any) -> dict[str, Any]:
    return {"notes": "n", "operationList": [{"op": op, "path": path, "value": value}]}


def rule(**changes: Any) -> dict[str, Any]:
    value: dict[str, Any] = {
        "object": "loadRule",
        "name": "r",
        "status": "active",
        "loadRuleCondition": [[{"variable": "udo.a", "operator": "equals", "value": "x"}]],
    }
    value.update(changes)
    return {k: v for k, v in value.items() if v is not DROP}


DROP = object()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {
                "notes": "",
                "operationList": [{"op": "remove", "path": "/loadRules/1", "value": {"object": "loadRule"}}],
            },
            "notes: must not be empty",
        ),
        (
            {
                "notes": "n",
                "saveType": "saveAsNew",
                "operationList": [{"op": "remove", "path": "/loadRules/1", "value": {"object": "loadRule"}}],
            },
            "saveType: must be 'save' or 'saveAs' (got 'saveAsNew')",
        ),
        ({"notes": "n", "operationList": []}, "operationList: must be a non-empty list of operations"),
        (
            {
                "notes": "n",
                "versionTitle": 5,
                "operationList": [{"op": "remove", "path": "/loadRules/1", "value": {"object": "loadRule"}}],
            },
            "versionTitle: must be a string (got 5)",
        ),
        (
            with_value("upsert", "/loadRules", **rule()),
            "operationList[0].op: must be 'add', 'replace' or 'remove' (got 'upsert')",
        ),
        (
            with_value("add", "/tags", **rule()),
            "operationList[0].path: must be /loadRules, /variables or /extensions, with /{id} for replace and remove (got '/tags')",
        ),
        (
            with_value("add", "/loadRules/7", **rule()),
            "operationList[0].path: add must not carry an id (use /loadRules) (got '/loadRules/7')",
        ),
        (
            with_value("replace", "/loadRules", **rule()),
            "operationList[0].path: replace needs the component's id (/loadRules/{id}) (got '/loadRules')",
        ),
        (
            with_value("remove", "/variables", object="variable"),
            "operationList[0].path: remove needs the component's id (/variables/{id}) (got '/variables')",
        ),
        (
            with_value("add", "/loadRules", **rule(object="variable")),
            "operationList[0].value.object: must be 'loadRule' for path /loadRules (got 'variable')",
        ),
        (
            with_value("add", "/loadRules", **rule(name="")),
            "operationList[0].value.name: is required for add and replace",
        ),
        (
            with_value("add", "/loadRules", **rule(status="on")),
            "operationList[0].value.status: must be 'active' or 'inactive' (got 'on')",
        ),
        (
            with_value("add", "/loadRules", **rule(status=DROP)),
            "operationList[0].value.status: must be 'active' or 'inactive'",
        ),
        (
            with_value("add", "/loadRules", **rule(startDate="2022-02-02")),
            "operationList[0].value.startDate: must be a date in the format yyyyMMddHHmm (got '2022-02-02')",
        ),
        (
            with_value("add", "/loadRules", **rule(startDate="202213020000")),
            "operationList[0].value.startDate: must be a real date and time (yyyyMMddHHmm) (got '202213020000')",
        ),
        (
            with_value("add", "/loadRules", **rule(endDate="202202020000")),
            "operationList[0].value.startDate: is required when endDate is set",
        ),
        (
            with_value("add", "/loadRules", **rule(startDate="202202030000", endDate="202202020000")),
            "operationList[0].value.endDate: must not be before startDate 202202030000 (got '202202020000')",
        ),
        (
            with_value("add", "/loadRules", **rule(loadRuleCondition=DROP)),
            "operationList[0].value.loadRuleCondition: is required (a list of OR-groups of AND-conditions)",
        ),
        (
            with_value("add", "/loadRules", **rule(loadRuleCondition={"variable": "udo.a"})),
            "operationList[0].value.loadRuleCondition: must be a list of OR-groups, each a list of AND-conditions (got {'variable': 'udo.a'})",
        ),
        (
            with_value("add", "/loadRules", **rule(loadRuleCondition=[[]])),
            "operationList[0].value.loadRuleCondition[0]: must be a non-empty list of conditions {variable, operator, value} (got [])",
        ),
        (
            with_value("add", "/loadRules", **rule(loadRuleCondition=[["udo.a"]])),
            "operationList[0].value.loadRuleCondition[0][0]: must be an object {variable, operator, value} (got 'udo.a')",
        ),
        (
            with_value("add", "/loadRules", **rule(loadRuleCondition=[[{"operator": "equals", "value": 1}]])),
            "operationList[0].value.loadRuleCondition[0][0].variable: is required (the variable's name, like udo.page_type)",
        ),
        (
            with_value("add", "/loadRules", **rule(loadRuleCondition=[[{"variable": "udo.a", "value": 1}]])),
            "operationList[0].value.loadRuleCondition[0][0].operator: is required",
        ),
        (
            with_value(
                "add",
                "/loadRules",
                **rule(loadRuleCondition=[[{"variable": "udo.a", "operator": "is defined", "value": 1}]]),
            ),
            "operationList[0].value.loadRuleCondition[0][0].value: must be absent: operator 'is defined' takes no value",
        ),
        (
            with_value(
                "add",
                "/loadRules",
                **rule(
                    loadRuleCondition=[
                        [{"variable": "udo.a", "operator": "is_badge_not_assigned", "value": ""}]
                    ]
                ),
            ),
            "operationList[0].value.loadRuleCondition[0][0].value: must be absent: operator 'is_badge_not_assigned' takes no value",
        ),
        (
            with_value(
                "add",
                "/loadRules",
                **rule(loadRuleCondition=[[{"variable": "udo.a", "operator": "does_not_equal"}]]),
            ),
            "operationList[0].value.loadRuleCondition[0][0].value: is required by operator 'does_not_equal'",
        ),
        (
            with_value("add", "/loadRules", **rule(notes=3)),
            "operationList[0].value.notes: must be a string (got 3)",
        ),
        (
            with_value("add", "/variables", object="variable", name="v", type="va"),
            "operationList[0].value.type: 'va' (visitor attribute) variables are read-only (got 'va')",
        ),
        (
            with_value("add", "/variables", object="variable", name="v", type="dom"),
            "operationList[0].value.type: must be one of ls, ss, udo, qp, cp, js_page, meta (got 'dom')",
        ),
        (
            with_value("add", "/variables", object="variable", type="udo"),
            "operationList[0].value.name: is required for add and replace",
        ),
        (
            with_value("add", "/variables", object="variable", name="v", type="udo", alias=1),
            "operationList[0].value.alias: must be a string (got 1)",
        ),
    ],
)
def test_each_rule_fails_with_index_field_and_rule(body: dict[str, Any], message: str) -> None:
    assert message in errors_of(body)


def ext(**changes: Any) -> dict[str, Any]:
    value: dict[str, Any] = p.Extension("e", "b.x=1;").to_json()
    value.update(changes)
    return {k: v for k, v in value.items() if v is not DROP}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            ext(type="Set Data Values"),
            "operationList[0].value.type: must be 'Javascript Code' (the only extension type the API edits) (got 'Set Data Values')",
        ),
        (
            ext(scope="Pre Loader"),
            "operationList[0].value.scope: must be one of After Load Rules, After Tag Extensions, Before Load Rules, DOM Ready, Tag Scoped Extensions (got 'Pre Loader')",
        ),
        (
            ext(occurrence="Sometimes"),
            "operationList[0].value.occurrence: must be 'Run Once' or 'Run Always' (got 'Sometimes')",
        ),
        (
            ext(occurrence=DROP, occurence="Twice"),
            "operationList[0].value.occurence: must be 'Run Once' or 'Run Always' (got 'Twice')",
        ),
        (
            ext(status="enabled"),
            "operationList[0].value.status: must be 'active' or 'inactive' (got 'enabled')",
        ),
        (
            ext(selectedTargets={"staging": True}),
            "operationList[0].value.selectedTargets.staging: is not a target (dev, qa, prod)",
        ),
        (
            ext(selectedTargets={"dev": "yes"}),
            "operationList[0].value.selectedTargets.dev: must be true or false (got 'yes')",
        ),
        (
            ext(selectedTargets=["dev"]),
            "operationList[0].value.selectedTargets: must be an object like {dev: true, qa: true, prod: false} (got ['dev'])",
        ),
        (
            ext(configuration=[{"name": "code", "value": "a"}, {"name": "code", "value": "b"}]),
            "operationList[0].value.configuration: must hold exactly one entry, {name: 'code', value: '<javascript>'}",
        ),
        (
            ext(configuration=[{"name": "script", "value": "a"}]),
            "operationList[0].value.configuration: must hold exactly one entry, {name: 'code', value: '<javascript>'}",
        ),
        (
            ext(configuration=[{"name": "code", "value": 5}]),
            "operationList[0].value.configuration[0].value: must be the JavaScript code as a string (got 5)",
        ),
        (
            ext(conditions=[[{"variable": "udo.a", "operator": "equals"}]]),
            "operationList[0].value.conditions[0][0].value: is required by operator 'equals'",
        ),
    ],
)
def test_extension_rules(value: dict[str, Any], message: str) -> None:
    messages = errors_of(with_value("add", "/extensions", **value))
    assert any(m.startswith(message) for m in messages), messages


def test_every_failure_is_reported_at_once() -> None:
    body = {
        "notes": " ",
        "operationList": [
            {"op": "add", "path": "/loadRules", "value": rule(status="on")},
            {"op": "remove", "path": "/variables", "value": {"object": "variable"}},
        ],
    }
    with pytest.raises(TealiumValidationErrors) as info:
        p.validate_patch(body)
    fields = [e.field for e in info.value.errors]
    assert fields == ["notes", "operationList[0].value.status", "operationList[1].path"]
    assert "3 invalid item(s)" in str(info.value)


def test_no_value_operators_accept_both_spellings() -> None:
    for spelling in (
        "is defined",
        "is_defined",
        "Is Not Populated",
        "is_badge_assigned",
        "is badge not assigned",
    ):
        p.validate_patch(
            with_value(**rule(loadRuleCondition=[[{"variable": "udo.a", "operator": spelling}]]))
        )
    for spelling in ("does_not_equal", "does not equal", "contains_ignore_case", "regular expression"):
        p.validate_patch(
            with_value(
                **rule(loadRuleCondition=[[{"variable": "udo.a", "operator": spelling, "value": "x"}]])
            )
        )


def test_unknown_operator_passes_with_a_warning() -> None:
    validated = p.validate_patch(
        with_value(
            **rule(loadRuleCondition=[[{"variable": "udo.a", "operator": "is_in_segment", "value": "x"}]])
        )
    )
    assert validated.warnings == [
        "operationList[0].value.loadRuleCondition[0][0].operator: operator 'is_in_segment' is not one this "
        "provider knows; sent as is"
    ]


def test_replace_extension_without_conditions_warns() -> None:
    value = p.Extension("e", "b.x=1;").to_json()
    validated = p.validate_patch(with_value("replace", "/extensions/86", **value))
    assert validated.warnings == [
        "operationList[0].value.conditions: absent: replace removes the extension's existing conditions"
    ]
    value["conditions"] = []
    assert p.validate_patch(with_value("replace", "/extensions/86", **value)).warnings == []


def test_documented_variable_types_and_js_alias() -> None:
    for vtype in ("ls", "ss", "udo", "qp", "cp", "js_page", "meta"):
        p.validate_patch(with_value("add", "/variables", **p.Variable("v", vtype).to_json()))
    # GET shows js_page as js; only js_page is settable, and the message says which to write.
    with pytest.raises(TealiumValidationErrors) as info:
        p.validate_patch(with_value("add", "/variables", **p.Variable("v", "js").to_json()))
    assert "value.type" in str(info.value) and "set it as 'js_page'" in str(info.value)


def test_typed_extension_serialises_every_field() -> None:
    extension = p.Extension(
        "Set currency",
        "b.currency = 'EUR';",
        scope="DOM Ready",
        occurrence="Run Once",
        status=p.Status.INACTIVE,
        selected_targets={"dev": True, "qa": False, "prod": False},
        conditions=[[p.Condition("udo.country", "equals", "DE")]],
        notes="why",
    )
    assert p.Operation.replace(86, extension).to_json() == {
        "op": "replace",
        "path": "/extensions/86",
        "value": {
            "object": "extension",
            "name": "Set currency",
            "type": "Javascript Code",
            "scope": "DOM Ready",
            "occurrence": "Run Once",
            "status": "inactive",
            "notes": "why",
            "selectedTargets": {"dev": True, "qa": False, "prod": False},
            "conditions": [[{"variable": "udo.country", "operator": "equals", "value": "DE"}]],
            "configuration": [{"name": "code", "value": "b.currency = 'EUR';"}],
        },
    }


def test_get_request_repeats_includes_and_checks_publish_version() -> None:
    request = p.get_profile_request(
        "acme", "main", ["loadRules", "versionIDs"], publish_version=datetime(2024, 2, 1, 12, 34)
    )
    assert request.params == [
        ("includes", "loadRules"),
        ("includes", "versionIDs"),
        ("publishVersion", "202402011234"),
    ]
    with pytest.raises(ValueError, match=r"includes\[1\]: must be one of"):
        p.get_profile_request("acme", "main", ["loadRules", "rules"])
    with pytest.raises(ValueError, match="publish_version: must be a date in the format yyyyMMddHHmm"):
        p.get_profile_request("acme", "main", publish_version="latest")


@pytest.mark.parametrize(
    ("status", "message", "locked"),
    [
        (409, "Users are currently viewing the same account: a profile: b", True),
        (404, "Users are currently viewing the same account: a profile: b", True),
        (409, "Error saving profile: b for account: a, duplicate versions: 1", False),
        (404, "Account: a, profile: b not found", False),
        (
            400,
            "Profile libraries are out of date, merge changes before patching profile - a | profile: b",
            False,
        ),
    ],
)
def test_lock_errors_are_recognised(status: int, message: str, locked: bool) -> None:
    assert p.is_lock_error(status, message) is locked


def test_parse_version_reads_both_spellings() -> None:
    answer = {
        "version": "202402011234",
        "versionTitle": "T",
        "versionDetails": {"notes": "n"},
        "versionIDs": [1, 2],
    }
    version = p.parse_version(answer)
    assert (version.version_id, version.title, version.notes, version.version_ids) == (
        "202402011234",
        "T",
        "n",
        ["1", "2"],
    )
