"""What iQ Profiles v3 and Publish refuse, written from the documents alone (never from the client).

Sources: the seed "iQ Load Rules API" (the PATCH envelope, ``op``/``path``/``value`` fields, the error
table: 400 "Validate patch request failed due to %s", 400 "patchProfile.arg2.notes: must not be empty",
404 "Account: {ACCOUNT}, profile: {PROFILE} not found", 409 "Users are currently viewing ...", 500
"inherits from library profile"), the seed "About iQ Profiles API" (the 15-second lock after an update),
and API-NOTES "iQ Profiles v3" (``includes``, variable types, extension fields, publish).

Each check returns the problems it finds as ``"field: rule"`` strings, which the backend puts in the
documented message's ``%s``.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, TypeGuard

NOTES_EMPTY_MESSAGE = "patchProfile.arg2.notes: must not be empty"
VALIDATE_FAILED_MESSAGE = "Validate patch request failed due to {reason}"
# Tealium documents no wording for a refused publish; the emulator's follows the PATCH one.
PUBLISH_INVALID_MESSAGE = "Validate publish request failed due to {reason}"
LOCK_MESSAGE = "Users are currently viewing the same account: {account} profile: {profile}"
LIBRARIES_OUT_OF_DATE_MESSAGE = "Profile libraries are out of date, merge changes before patching profile - {account} | profile: {profile}"
INHERITS_LIBRARY_MESSAGE = "Profile: {profile} inherits from library profile"
NOT_FOUND_MESSAGE = "Account: {account}, profile: {profile} not found"

INCLUDES = frozenset(
    {
        "loadRules",
        "tags",
        "tags.templateList",
        "tags.template",
        "extensions",
        "variables",
        "events",
        "versionIds",
        "versionIDs",  # one page's spelling
    }
)
DATE_FORMAT = "%Y%m%d%H%M"
"""``yyyyMMddHHmm``: load rule start and end dates, version ids, ``publishVersion``."""
SECTIONS = {"loadRules": "loadRule", "variables": "variable", "extensions": "extension"}
"""The PATCH path segments the emulator stores, and the ``value.object`` each takes."""
OPS = ("add", "replace", "remove")
SAVE_TYPES = ("save", "saveAs")
STATUSES = ("active", "inactive")
VARIABLE_TYPES = ("ls", "ss", "udo", "qp", "cp", "js_page", "meta")
READ_ONLY_VARIABLE_TYPES = ("va",)
EXTENSION_TYPE = "Javascript Code"
EXTENSION_SCOPES = (
    "Before Load Rules",
    "After Load Rules",
    "DOM Ready",
    "Tag Scoped Extensions",
    "After Tag Extensions",
)
EXTENSION_OCCURRENCES = ("Run Once", "Run Always")
TARGETS = ("dev", "qa", "prod")
# "The following operators do not accept a value" (the seed). Its example spells ``does_not_equal``
# and its prose ``is defined``: both spellings are the documents', so they compare alike.
NO_VALUE_OPERATORS = frozenset(
    {"is defined", "is badge assigned", "is badge not assigned", "is not defined", "is not populated"}
)
MAX_TITLE_LENGTH = 128
_PATH_RE = re.compile(r"^/([A-Za-z]+)(?:/([^/]+))?$")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+$")


def _text(value: Any) -> TypeGuard[str]:
    return isinstance(value, str) and bool(value.strip())


def _got(value: Any) -> str:
    text = repr(value)
    return f" (got {text if len(text) <= 80 else text[:77] + '...'})"


def is_date(value: Any) -> bool:
    """Whether ``value`` is a real ``yyyyMMddHHmm`` date.

    :param value: the field's value.
    """
    if not isinstance(value, str) or len(value) != 12 or not value.isascii() or not value.isdigit():
        return False
    try:
        datetime.strptime(value, DATE_FORMAT)
    except ValueError:
        return False
    return True


def parse_path(path: Any) -> tuple[str, str | None] | None:
    """``"/loadRules/49"`` -> ``("loadRules", "49")``; ``None`` for a path the emulator does not store.

    :param path: the operation's ``path``.
    """
    match = _PATH_RE.match(path) if isinstance(path, str) else None
    if match is None or match.group(1) not in SECTIONS:
        return None
    return match.group(1), match.group(2)


def notes_missing(body: dict[str, Any]) -> bool:
    """Whether the required ``notes`` is absent or empty (its own documented message).

    :param body: the PATCH body.
    """
    return not _text(body.get("notes"))


def include_problems(includes: list[str]) -> list[str]:
    """The ``includes`` values that name no component.

    :param includes: the repeated ``includes`` parameters.
    """
    return [name for name in includes if name not in INCLUDES]


def patch_problems(body: dict[str, Any]) -> list[str]:
    """Every rule a PATCH body breaks, apart from ``notes`` (see :func:`notes_missing`).

    :param body: the PATCH body.
    """
    problems = []
    title = body.get("versionTitle")
    if title is not None and not isinstance(title, str):
        problems.append("versionTitle: must be a string" + _got(title))
    if body.get("saveType", "saveAs") not in SAVE_TYPES:
        problems.append("saveType: must be 'save' or 'saveAs'" + _got(body.get("saveType")))
    operations = body.get("operationList")
    if not isinstance(operations, list) or not operations:
        # op, path and value.object are required fields: a PATCH carries at least one operation.
        return [*problems, "operationList: must be a non-empty list of operations {op, path, value}"]
    for i, operation in enumerate(operations):
        problems += _operation_problems(f"operationList[{i}]", operation)
    return problems


def _operation_problems(where: str, operation: Any) -> list[str]:
    if not isinstance(operation, dict):
        return [f"{where}: must be an object {{op, path, value}}" + _got(operation)]
    op, path = operation.get("op"), operation.get("path")
    if op not in OPS:
        return [f"{where}.op: must be 'add', 'replace' or 'remove'" + _got(op)]
    parsed = parse_path(path)
    if parsed is None:
        sections = ", ".join(f"/{s}" for s in SECTIONS)
        return [f"{where}.path: must be one of {sections}, with /{{id}} for replace and remove" + _got(path)]
    section, component_id = parsed
    problems = []
    if op == "add" and component_id is not None:
        problems.append(f"{where}.path: add takes no id (/{section})" + _got(path))
    if op != "add" and component_id is None:
        problems.append(f"{where}.path: {op} needs the component's id (/{section}/{{id}})" + _got(path))
    value = operation.get("value")
    kind = SECTIONS[section]
    if not isinstance(value, dict):
        return [*problems, f"{where}.value: is required: an object with at least 'object'"]
    if value.get("object") != kind:
        return [
            *problems,
            f"{where}.value.object: must be {kind!r} for path {path}" + _got(value.get("object")),
        ]
    if op != "remove":
        problems += _VALUE_CHECKS[kind](f"{where}.value", value)
    return problems


def _load_rule_problems(where: str, value: dict[str, Any]) -> list[str]:
    problems = _name_problems(where, value) + _status_problems(where, value)
    if value.get("notes") is not None and not isinstance(value["notes"], str):
        problems.append(f"{where}.notes: must be a string" + _got(value["notes"]))
    for key in ("startDate", "endDate"):
        if value.get(key) is not None and not is_date(value[key]):
            problems.append(f"{where}.{key}: must be a date in the format yyyyMMddHHmm" + _got(value[key]))
    if value.get("endDate") is not None and value.get("startDate") is None:
        problems.append(f"{where}.startDate: is required when endDate is set")
    if "loadRuleCondition" not in value:
        problems.append(f"{where}.loadRuleCondition: is required (a list of OR-groups of AND-conditions)")
    else:
        problems += _condition_problems(f"{where}.loadRuleCondition", value["loadRuleCondition"])
    return problems


def _variable_problems(where: str, value: dict[str, Any]) -> list[str]:
    problems = _name_problems(where, value)
    vtype = value.get("type")
    if vtype in READ_ONLY_VARIABLE_TYPES:
        problems.append(f"{where}.type: 'va' (visitor attribute) variables are read-only")
    elif vtype not in VARIABLE_TYPES:
        problems.append(f"{where}.type: must be one of {', '.join(VARIABLE_TYPES)}" + _got(vtype))
    for key in ("alias", "notes"):
        if value.get(key) is not None and not isinstance(value[key], str):
            problems.append(f"{where}.{key}: must be a string" + _got(value[key]))
    return problems


def _extension_problems(where: str, value: dict[str, Any]) -> list[str]:
    problems = _name_problems(where, value)
    if value.get("type") != EXTENSION_TYPE:
        problems.append(
            f"{where}.type: must be {EXTENSION_TYPE!r}, the only type the API edits" + _got(value.get("type"))
        )
    if value.get("scope") not in EXTENSION_SCOPES:
        problems.append(
            f"{where}.scope: must be one of {', '.join(EXTENSION_SCOPES)}" + _got(value.get("scope"))
        )
    # The documents' examples spell it ``occurence``: either spelling is the field.
    key = "occurence" if "occurence" in value and "occurrence" not in value else "occurrence"
    if value.get(key) not in EXTENSION_OCCURRENCES:
        problems.append(f"{where}.{key}: must be 'Run Once' or 'Run Always'" + _got(value.get(key)))
    problems += _status_problems(where, value)
    targets = value.get("selectedTargets")
    if targets is not None:
        if not isinstance(targets, dict):
            problems.append(
                f"{where}.selectedTargets: must be an object like {{prod: true, qa: true, dev: false}}"
            )
        else:
            for target, flag in targets.items():
                if target not in TARGETS:
                    problems.append(f"{where}.selectedTargets.{target}: is not a target (dev, qa, prod)")
                elif not isinstance(flag, bool):
                    problems.append(f"{where}.selectedTargets.{target}: must be true or false" + _got(flag))
    if "conditions" in value:
        problems += _condition_problems(f"{where}.conditions", value["conditions"])
    config = value.get("configuration")
    if not (
        isinstance(config, list)
        and len(config) == 1
        and isinstance(config[0], dict)
        and config[0].get("name") == "code"
    ):
        problems.append(
            f"{where}.configuration: must hold exactly one entry, {{name: 'code', value: '<javascript>'}}"
        )
    elif not isinstance(config[0].get("value"), str):
        problems.append(f"{where}.configuration[0].value: must be the JavaScript code as a string")
    return problems


_VALUE_CHECKS = {
    "loadRule": _load_rule_problems,
    "variable": _variable_problems,
    "extension": _extension_problems,
}


def _name_problems(where: str, value: dict[str, Any]) -> list[str]:
    return [] if _text(value.get("name")) else [f"{where}.name: is required for add and replace"]


def _status_problems(where: str, value: dict[str, Any]) -> list[str]:
    status = value.get("status")
    return [] if status in STATUSES else [f"{where}.status: must be 'active' or 'inactive'" + _got(status)]


def normalise_operator(name: str) -> str:
    """``is_defined`` and ``Is Defined`` both become ``is defined``.

    :param name: an operator as written.
    """
    return " ".join(name.replace("_", " ").lower().split())


def _condition_problems(where: str, groups: Any) -> list[str]:
    """OR-groups of AND-conditions, each ``{variable, operator, value}`` (no ``value`` for the
    operators that take none)."""
    if not isinstance(groups, list):
        return [f"{where}: must be a list of OR-groups, each a list of AND-conditions" + _got(groups)]
    problems = []
    for g, group in enumerate(groups):
        if not isinstance(group, list) or not group:
            problems.append(
                f"{where}[{g}]: must be a non-empty list of conditions {{variable, operator, value}}"
            )
            continue
        for c, condition in enumerate(group):
            at = f"{where}[{g}][{c}]"
            if not isinstance(condition, dict):
                problems.append(f"{at}: must be an object {{variable, operator, value}}" + _got(condition))
                continue
            if not _text(condition.get("variable")):
                problems.append(f"{at}.variable: is required (a variable name, like udo.page_type)")
            operator = condition.get("operator")
            if not _text(operator):
                problems.append(f"{at}.operator: is required")
            elif normalise_operator(operator) in NO_VALUE_OPERATORS:
                if "value" in condition:
                    problems.append(f"{at}.value: must be absent: operator {operator!r} takes no value")
            elif "value" not in condition:
                problems.append(f"{at}.value: is required by operator {operator!r}")
    return problems


def publish_problems(body: dict[str, Any]) -> list[str]:
    """Every rule a publish body ``{versionId, operatorId, publishTargets, title, notes}`` breaks.

    :param body: the publish body.
    """
    problems = []
    version_id = body.get("versionId")
    if not (_text(version_id) or (isinstance(version_id, int) and not isinstance(version_id, bool))):
        problems.append("versionId: is required (the profile version to publish)" + _got(version_id))
    targets = body.get("publishTargets")
    if not isinstance(targets, list) or not targets:
        problems.append("publishTargets: must name at least one of dev, qa, prod" + _got(targets))
    else:
        problems += [
            f"publishTargets[{i}]: must be dev, qa or prod" + _got(t)
            for i, t in enumerate(targets)
            if t not in TARGETS
        ]
    title = body.get("title")
    if not _text(title):
        problems.append("title: is required" + _got(title))
    elif len(title) > MAX_TITLE_LENGTH:
        problems.append(f"title: must be at most {MAX_TITLE_LENGTH} characters (got {len(title)})")
    if body.get("notes") is not None and not isinstance(body["notes"], str):
        problems.append("notes: must be a string" + _got(body["notes"]))
    operator = body.get("operatorId")
    if not isinstance(operator, str) or not _EMAIL_RE.match(operator):
        problems.append("operatorId: must be the publishing user's email" + _got(operator))
    return problems
