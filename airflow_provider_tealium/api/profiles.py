"""iQ Profiles v3: the GET and PATCH calls, the typed objects they carry, and every documented rule.

Pure: nothing here does I/O. Operators validate with these functions before sending, and the emulator
validates incoming PATCH bodies with the same functions, so a rule is written once.

Sources: the iQ Profiles and iQ Load Rules API pages, and the v3 notes on variables and extensions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import Any

from airflow_provider_tealium.api.checks import depth_error, mapping_keys_problem
from airflow_provider_tealium.api.paths import name_segment
from airflow_provider_tealium.api.request import ApiRequest, Host, TokenFamily
from airflow_provider_tealium.exceptions import TealiumValidationError, TealiumValidationErrors, shown

PROFILE_PATH = "/v3/tiq/accounts/{account}/profiles/{profile}"
"""GET and PATCH of one profile (served on the region host)."""

PROFILE_UI_URL = "https://my.tealiumiq.com/tms?account={account}&profile={profile}"
"""The profile in the Tealium iQ user interface (for the operators' extra link)."""

DATE_FORMAT = "%Y%m%d%H%M"
"""``yyyyMMddHHmm``: load rule start and end dates, and ``publishVersion``."""
_DATE_RE = re.compile(r"^\d{12}$")

INCLUDES = (
    "loadRules",
    "tags",
    "tags.templateList",
    "tags.template",
    "extensions",
    "variables",
    "events",
    "versionIds",
)
"""Components ``GET`` can include (``includes`` is repeated, one component each)."""
# One documentation page spells it ``versionIDs``; both are accepted and sent as given.
_INCLUDE_ALIASES = {"versionIDs": "versionIds"}

# The documented lock message; it comes as 409 on some pages and 404 on others.
LOCK_MESSAGE = "Users are currently viewing the same account: {account} profile: {profile}"
_LOCK_MARKERS = ("currently viewing",)
NOTES_EMPTY_MESSAGE = "patchProfile.arg2.notes: must not be empty"
VALIDATE_FAILED_MESSAGE = "Validate patch request failed due to {reason}"
LIBRARIES_OUT_OF_DATE_MESSAGE = "Profile libraries are out of date, merge changes before patching profile - {account} | profile: {profile}"
INHERITS_LIBRARY_MESSAGE = "Profile: {profile} inherits from library profile"
NOT_FOUND_MESSAGE = "Account: {account}, profile: {profile} not found"
DUPLICATE_VERSIONS_MESSAGE = (
    "Error saving profile: {profile} for account: {account}, duplicate versions: {versions}"
)


class Op(str, Enum):
    """The PATCH operation."""

    ADD = "add"
    REPLACE = "replace"
    REMOVE = "remove"


class SaveType(str, Enum):
    """``save`` changes the latest version; ``saveAs`` (the default) creates a new one."""

    SAVE = "save"
    SAVE_AS = "saveAs"


class Status(str, Enum):
    """On/off status of load rules and extensions."""

    ACTIVE = "active"
    INACTIVE = "inactive"


class Kind(str, Enum):
    """A component type: its ``value.object`` name. :attr:`path` is its PATCH path segment."""

    LOAD_RULE = "loadRule"
    VARIABLE = "variable"
    EXTENSION = "extension"

    @property
    def path(self) -> str:
        """``/loadRules``, ``/variables`` or ``/extensions``."""
        return "/" + _SECTION[self]

    @property
    def section(self) -> str:
        """The profile's list of this component (``loadRules``)."""
        return _SECTION[self]


_SECTION = {Kind.LOAD_RULE: "loadRules", Kind.VARIABLE: "variables", Kind.EXTENSION: "extensions"}
_KIND_BY_SECTION = {v: k for k, v in _SECTION.items()}
_PATH_RE = re.compile(r"^/(loadRules|variables|extensions)(?:/([^/]+))?$")

VARIABLE_TYPES = frozenset({"ls", "ss", "udo", "qp", "cp", "js_page", "meta"})
"""Settable variable types (the PATCH reference lists these). GET shows ``js_page`` as ``js``, which is
not settable; ``va`` (visitor attributes) is read-only."""
GET_ONLY_VARIABLE_TYPES = {"js": "js_page"}
"""Types GET shows that a PATCH must spell otherwise."""
READ_ONLY_VARIABLE_TYPES = frozenset({"va"})

EXTENSION_TYPE = "Javascript Code"
EXTENSION_SCOPES = frozenset(
    {"Before Load Rules", "After Load Rules", "DOM Ready", "Tag Scoped Extensions", "After Tag Extensions"}
)
EXTENSION_OCCURRENCES = frozenset({"Run Once", "Run Always"})
TARGETS = ("dev", "qa", "prod")

# Condition operators, compared after lower-casing and turning "_" into " " (the seed's example spells
# ``does_not_equal``; the prose spells ``is defined``). Tealium knows more than these; an unknown one is
# passed through with a warning.
NO_VALUE_OPERATORS = frozenset(
    {"is defined", "is badge assigned", "is badge not assigned", "is not defined", "is not populated"}
)
VALUE_OPERATORS = frozenset(
    {
        "equals",
        "does not equal",
        "equals ignore case",
        "does not equal ignore case",
        "contains",
        "does not contain",
        "contains ignore case",
        "does not contain ignore case",
        "starts with",
        "does not start with",
        "starts with ignore case",
        "does not start with ignore case",
        "ends with",
        "does not end with",
        "ends with ignore case",
        "does not end with ignore case",
        "greater than",
        "greater than or equal to",
        "less than",
        "less than or equal to",
        "regular expression",
        "regular expression ignore case",
    }
)


def normalise_operator(name: str) -> str:
    """``does_not_equal`` and ``Does Not Equal`` both become ``does not equal``.

    :param name: an operator as written.
    """
    return " ".join(name.replace("_", " ").lower().split())


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
"""A condition value that is absent (``None`` is a value some operators might compare with)."""


# -- typed objects ------------------------------------------------------------------------------------


def format_date(value: str | datetime | date) -> str:
    """A start/end date as ``yyyyMMddHHmm``; datetimes (pendulum included) are formatted, strings kept.

    :param value: the date.
    """
    if isinstance(value, datetime):
        return value.strftime(DATE_FORMAT)
    if isinstance(value, date):
        return value.strftime("%Y%m%d") + "0000"
    return value


@dataclass(frozen=True)
class Condition:
    """One AND-condition of a load rule or extension: ``{variable, operator, value}``.

    :param variable: the data layer variable (``udo.page_type``).
    :param operator: the comparison (``equals``, ``does_not_equal``, ``is defined``...).
    :param value: what to compare with; omit it for the operators that take none.
    """

    variable: str
    operator: str
    value: Any = MISSING

    def to_json(self) -> dict[str, Any]:
        """The JSON object sent."""
        body: dict[str, Any] = {"variable": self.variable, "operator": self.operator}
        if self.value is not MISSING:
            body["value"] = self.value
        return body


Conditions = Sequence[Sequence[Condition | Mapping[str, Any]]]
"""OR-groups of AND-conditions: ``[[a, b], [c]]`` means ``(a and b) or c``."""


def conditions_json(groups: Conditions) -> list[list[dict[str, Any]]]:
    """OR-groups as JSON (typed conditions serialised, dicts copied).

    :param groups: the conditions.
    """
    # Anything that is not the documented shape is passed on as is, for validation to name it.
    if not isinstance(groups, list | tuple):
        return groups  # type: ignore[return-value]
    return [
        [c.to_json() if isinstance(c, Condition) else dict(c) if isinstance(c, Mapping) else c for c in group]
        if isinstance(group, list | tuple)
        else group
        for group in groups
    ]


@dataclass(frozen=True)
class LoadRule:
    """A load rule (``value.object = "loadRule"``).

    :param name: the rule's name.
    :param status: ``active`` or ``inactive``.
    :param conditions: ``loadRuleCondition``: OR-groups of AND-conditions.
    :param notes: notes about the rule.
    :param start_date: scheduled start (``yyyyMMddHHmm`` or a datetime).
    :param end_date: scheduled end (``yyyyMMddHHmm`` or a datetime); needs ``start_date``.
    """

    name: str
    status: str | Status = Status.ACTIVE
    conditions: Conditions = ()
    notes: str | None = None
    start_date: str | datetime | None = None
    end_date: str | datetime | None = None

    kind = Kind.LOAD_RULE

    def to_json(self) -> dict[str, Any]:
        """The ``value`` object sent, in the documented field order."""
        body: dict[str, Any] = {"object": "loadRule", "name": self.name, "status": _str(self.status)}
        if self.notes is not None:
            body["notes"] = self.notes
        if self.start_date is not None:
            body["startDate"] = format_date(self.start_date)
        if self.end_date is not None:
            body["endDate"] = format_date(self.end_date)
        body["loadRuleCondition"] = conditions_json(self.conditions)
        return body


@dataclass(frozen=True)
class Variable:
    """A data layer variable (``value.object = "variable"``).

    :param name: the variable's name.
    :param type: one of ``ls, ss, udo, qp, cp, js_page, meta`` (``va`` is read-only).
    :param alias: its display alias.
    :param notes: notes about it.
    """

    name: str
    type: str = "udo"
    alias: str | None = None
    notes: str | None = None

    kind = Kind.VARIABLE

    def to_json(self) -> dict[str, Any]:
        """The ``value`` object sent."""
        body: dict[str, Any] = {"object": "variable", "name": self.name, "type": self.type}
        if self.alias is not None:
            body["alias"] = self.alias
        if self.notes is not None:
            body["notes"] = self.notes
        return body


@dataclass(frozen=True)
class Extension:
    """A JavaScript Code extension (``value.object = "extension"``), the only type the API edits.

    :param name: the extension's name.
    :param code: its JavaScript (sent as the single ``configuration`` entry named ``code``).
    :param scope: ``Before Load Rules``, ``After Load Rules``, ``DOM Ready``, ``Tag Scoped Extensions``
        or ``After Tag Extensions``.
    :param occurrence: ``Run Once`` or ``Run Always``.
    :param status: ``active`` or ``inactive``.
    :param selected_targets: ``{"dev": True, "qa": True, "prod": False}``.
    :param conditions: OR-groups of AND-conditions. ``None`` on replace removes existing conditions.
    :param notes: notes about it.
    """

    name: str
    code: str
    scope: str = "After Load Rules"
    occurrence: str = "Run Always"
    status: str | Status = Status.ACTIVE
    selected_targets: Mapping[str, bool] | None = None
    conditions: Conditions | None = None
    notes: str | None = None

    kind = Kind.EXTENSION

    def to_json(self) -> dict[str, Any]:
        """The ``value`` object sent."""
        body: dict[str, Any] = {
            "object": "extension",
            "name": self.name,
            "type": EXTENSION_TYPE,
            "scope": self.scope,
            "occurrence": self.occurrence,
            "status": _str(self.status),
        }
        if self.notes is not None:
            body["notes"] = self.notes
        if self.selected_targets is not None:
            targets = self.selected_targets
            body["selectedTargets"] = dict(targets) if isinstance(targets, Mapping) else targets
        if self.conditions is not None:
            body["conditions"] = conditions_json(self.conditions)
        body["configuration"] = [{"name": "code", "value": self.code}]
        return body


Component = LoadRule | Variable | Extension


@dataclass(frozen=True)
class Operation:
    """One entry of ``operationList``. Build with :meth:`add`, :meth:`replace` or :meth:`remove`.

    :param op: add, replace or remove.
    :param path: ``/loadRules``, ``/loadRules/{id}``, ``/variables[/{id}]``, ``/extensions[/{id}]``.
    :param value: the component (typed or a plain dict).
    """

    op: str | Op
    path: str
    value: Component | Mapping[str, Any]

    @classmethod
    def add(cls, component: Component) -> Operation:
        """Create a component.

        :param component: the new load rule, variable or extension.
        """
        return cls(Op.ADD, component.kind.path, component)

    @classmethod
    def replace(cls, component_id: int | str, component: Component) -> Operation:
        """Update the component with this id.

        :param component_id: its id.
        :param component: its new state (every field; omitted optional fields are cleared).
        """
        return cls(Op.REPLACE, f"{component.kind.path}/{component_id}", component)

    @classmethod
    def remove(cls, kind: Kind | str, component_id: int | str) -> Operation:
        """Delete the component with this id.

        :param kind: ``loadRule``, ``variable`` or ``extension``.
        :param component_id: its id.
        """
        kind = Kind(kind)
        return cls(Op.REMOVE, f"{kind.path}/{component_id}", {"object": kind.value})

    def to_json(self) -> dict[str, Any]:
        """The JSON object sent."""
        value = (
            self.value.to_json()
            if isinstance(self.value, LoadRule | Variable | Extension)
            else dict(self.value)
        )
        return {"op": _str(self.op), "path": self.path, "value": value}


@dataclass(frozen=True)
class PatchRequest:
    """The PATCH envelope: one request, so one saved version.

    :param notes: required, non-empty notes of the saved version.
    :param operations: the operations (typed or plain dicts).
    :param version_title: title of the saved version (default ``API | {TIMESTAMP}`` for saveAs).
    :param save_type: ``saveAs`` (default, a new version) or ``save`` (change the latest version).
    """

    notes: str
    operations: Sequence[Operation | Mapping[str, Any]]
    version_title: str | None = None
    save_type: str | SaveType = SaveType.SAVE_AS

    def to_json(self) -> dict[str, Any]:
        """The body sent, in the documented field order."""
        body: dict[str, Any] = {}
        if self.version_title is not None:
            body["versionTitle"] = self.version_title
        body["saveType"] = _str(self.save_type)
        body["notes"] = self.notes
        body["operationList"] = [
            op.to_json() if isinstance(op, Operation) else _operation_json(op) for op in self.operations
        ]
        return body


def _envelope(body: PatchRequest) -> dict[str, Any]:
    """A :class:`PatchRequest`'s fields in API names, its operations left for validation to read."""
    data: dict[str, Any] = {}
    if body.version_title is not None:
        data["versionTitle"] = body.version_title
    data["saveType"] = _str(body.save_type)
    data["notes"] = body.notes
    operations = body.operations
    data["operationList"] = list(operations) if isinstance(operations, list | tuple) else operations
    return data


def _operation_json(op: Mapping[str, Any]) -> dict[str, Any]:
    body = dict(op)
    value = body.get("value")
    if isinstance(value, LoadRule | Variable | Extension):
        body["value"] = value.to_json()
    return body


def _str(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


# -- validation ---------------------------------------------------------------------------------------


@dataclass
class Validated:
    """A PATCH body that passed every rule, normalised (dates formatted), with the warnings it raised.

    :param body: the JSON body to send.
    :param warnings: things worth logging that do not block the request.
    """

    body: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


class _Collector:
    def __init__(self) -> None:
        self.errors: list[TealiumValidationError] = []
        self.warnings: list[str] = []

    def error(self, path: str, rule: str, value: Any = None) -> None:
        self.errors.append(TealiumValidationError(path, rule, value=value))

    def warn(self, path: str, message: str) -> None:
        self.warnings.append(f"{path}: {message}")


def parse_path(path: str) -> tuple[Kind, str | None] | None:
    """``/loadRules/49`` -> ``(Kind.LOAD_RULE, "49")``; ``None`` when it is not a documented path.

    :param path: the operation's path.
    """
    match = _PATH_RE.match(path)
    if match is None:
        return None
    return _KIND_BY_SECTION[match.group(1)], match.group(2)


def _is_str(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _check_date(c: _Collector, where: str, value: Any) -> str | None:
    if isinstance(value, datetime | date):
        return format_date(value)
    if not isinstance(value, str) or not _DATE_RE.match(value):
        c.error(where, "must be a date in the format yyyyMMddHHmm", value)
        return None
    try:
        datetime.strptime(value, DATE_FORMAT)
    except ValueError:
        c.error(where, "must be a real date and time (yyyyMMddHHmm)", value)
        return None
    return value


def _check_conditions(c: _Collector, where: str, groups: Any) -> None:
    if not isinstance(groups, list):
        c.error(where, "must be a list of OR-groups, each a list of AND-conditions", groups)
        return
    for g, group in enumerate(groups):
        gpath = f"{where}[{g}]"
        if not isinstance(group, list) or not group:
            c.error(gpath, "must be a non-empty list of conditions {variable, operator, value}", group)
            continue
        for i, cond in enumerate(group):
            cpath = f"{gpath}[{i}]"
            if not isinstance(cond, dict):
                c.error(cpath, "must be an object {variable, operator, value}", cond)
                continue
            if not _is_str(cond.get("variable")):
                c.error(f"{cpath}.variable", "is required (the variable's name, like udo.page_type)")
            operator = cond.get("operator")
            if not _is_str(operator):
                c.error(f"{cpath}.operator", "is required")
                continue
            name = normalise_operator(str(operator))
            if name in NO_VALUE_OPERATORS:
                if "value" in cond:
                    c.error(f"{cpath}.value", f"must be absent: operator {shown(operator)} takes no value")
            elif name in VALUE_OPERATORS:
                if "value" not in cond:
                    c.error(f"{cpath}.value", f"is required by operator {shown(operator)}")
            else:
                c.warn(
                    f"{cpath}.operator",
                    f"operator {shown(operator)} is not one this provider knows; sent as is",
                )


def _check_status(c: _Collector, where: str, value: Any, required: bool) -> None:
    if value is None and not required:
        return
    if value not in ("active", "inactive"):
        c.error(where, "must be 'active' or 'inactive'", value)


def _check_load_rule(c: _Collector, vp: str, value: dict[str, Any]) -> None:
    if not _is_str(value.get("name")):
        c.error(f"{vp}.name", "is required for add and replace")
    _check_status(c, f"{vp}.status", value.get("status"), required=True)
    if value.get("notes") is not None and not isinstance(value["notes"], str):
        c.error(f"{vp}.notes", "must be a string", value["notes"])
    start = end = None
    if value.get("startDate") is not None:
        start = _check_date(c, f"{vp}.startDate", value["startDate"])
        if start is not None:
            value["startDate"] = start
    if value.get("endDate") is not None:
        end = _check_date(c, f"{vp}.endDate", value["endDate"])
        if end is not None:
            value["endDate"] = end
        if value.get("startDate") is None:
            c.error(f"{vp}.startDate", "is required when endDate is set")
    if start and end and end < start:
        c.error(f"{vp}.endDate", f"must not be before startDate {start}", end)
    if "loadRuleCondition" not in value:
        c.error(f"{vp}.loadRuleCondition", "is required (a list of OR-groups of AND-conditions)")
    else:
        _check_conditions(c, f"{vp}.loadRuleCondition", value["loadRuleCondition"])


def _check_variable(c: _Collector, vp: str, value: dict[str, Any]) -> None:
    if not _is_str(value.get("name")):
        c.error(f"{vp}.name", "is required for add and replace")
    vtype = value.get("type")
    if not isinstance(vtype, str):
        c.error(f"{vp}.type", "must be one of ls, ss, udo, qp, cp, js_page, meta", vtype)
    elif vtype in READ_ONLY_VARIABLE_TYPES:
        c.error(f"{vp}.type", "'va' (visitor attribute) variables are read-only", vtype)
    elif vtype in GET_ONLY_VARIABLE_TYPES:
        c.error(
            f"{vp}.type",
            f"'{vtype}' is how GET shows the type; set it as '{GET_ONLY_VARIABLE_TYPES[vtype]}' "
            "(must be one of ls, ss, udo, qp, cp, js_page, meta)",
            vtype,
        )
    elif vtype not in VARIABLE_TYPES:
        c.error(f"{vp}.type", "must be one of ls, ss, udo, qp, cp, js_page, meta", vtype)
    for key in ("alias", "notes"):
        if value.get(key) is not None and not isinstance(value[key], str):
            c.error(f"{vp}.{key}", "must be a string", value[key])


def _check_extension(c: _Collector, vp: str, value: dict[str, Any], op: str) -> None:
    if not _is_str(value.get("name")):
        c.error(f"{vp}.name", "is required for add and replace")
    if value.get("type") != EXTENSION_TYPE:
        c.error(
            f"{vp}.type",
            f"must be {EXTENSION_TYPE!r} (the only extension type the API edits)",
            value.get("type"),
        )
    if not isinstance(value.get("scope"), str) or value["scope"] not in EXTENSION_SCOPES:
        c.error(f"{vp}.scope", "must be one of " + ", ".join(sorted(EXTENSION_SCOPES)), value.get("scope"))
    # The docs' own examples spell it ``occurence``; accept either, as sent.
    occ_key = "occurrence" if "occurrence" in value or "occurence" not in value else "occurence"
    if not isinstance(value.get(occ_key), str) or value[occ_key] not in EXTENSION_OCCURRENCES:
        c.error(f"{vp}.{occ_key}", "must be 'Run Once' or 'Run Always'", value.get(occ_key))
    _check_status(c, f"{vp}.status", value.get("status"), required=True)
    targets = value.get("selectedTargets")
    if targets is not None:
        if not isinstance(targets, dict):
            c.error(
                f"{vp}.selectedTargets", "must be an object like {dev: true, qa: true, prod: false}", targets
            )
        else:
            for key, flag in targets.items():
                if not isinstance(key, str) or key not in TARGETS:
                    c.error(f"{vp}.selectedTargets.{key}", "is not a target (dev, qa, prod)")
                elif not isinstance(flag, bool):
                    c.error(f"{vp}.selectedTargets.{key}", "must be true or false", flag)
    if "conditions" in value:
        _check_conditions(c, f"{vp}.conditions", value["conditions"])
    elif op == Op.REPLACE.value:
        c.warn(f"{vp}.conditions", "absent: replace removes the extension's existing conditions")
    config = value.get("configuration")
    if (
        not isinstance(config, list)
        or len(config) != 1
        or not isinstance(config[0], dict)
        or config[0].get("name") != "code"
    ):
        c.error(
            f"{vp}.configuration",
            "must hold exactly one entry, {name: 'code', value: '<javascript>'}",
            config,
        )
    elif not isinstance(config[0].get("value"), str):
        c.error(
            f"{vp}.configuration[0].value", "must be the JavaScript code as a string", config[0].get("value")
        )


def _check_operation(c: _Collector, i: int, raw: Any) -> dict[str, Any] | None:
    where = f"operationList[{i}]"
    if isinstance(raw, Operation):
        typed = isinstance(raw.value, LoadRule | Variable | Extension)
        raw = {"op": raw.op, "path": raw.path, "value": raw.value.to_json() if typed else raw.value}  # type: ignore[union-attr]
    if not isinstance(raw, Mapping):
        c.error(where, "must be an object {op, path, value}", raw)
        return None
    operation = _operation_json(raw)
    op = _str(operation.get("op"))
    operation["op"] = op
    if op not in ("add", "replace", "remove"):
        c.error(f"{where}.op", "must be 'add', 'replace' or 'remove'", op)
        return None
    path = operation.get("path")
    parsed = parse_path(path) if isinstance(path, str) else None
    if parsed is None:
        c.error(
            f"{where}.path",
            "must be /loadRules, /variables or /extensions, with /{id} for replace and remove",
            path,
        )
        return None
    kind, component_id = parsed
    if op == "add" and component_id is not None:
        c.error(f"{where}.path", "add must not carry an id (use /" + kind.section + ")", path)
    if op != "add" and component_id is None:
        c.error(f"{where}.path", f"{op} needs the component's id (/{kind.section}/{{id}})", path)
    value = operation.get("value")
    if not isinstance(value, Mapping):
        c.error(f"{where}.value", "is required: an object with at least 'object'", value)
        return operation
    problem = mapping_keys_problem(value)
    if problem is not None:
        c.error(f"{where}.value", problem)
        return operation
    value = dict(value)
    operation["value"] = value
    if value.get("object") != kind.value:
        c.error(f"{where}.value.object", f"must be {kind.value!r} for path {path}", value.get("object"))
        return operation
    if op == "remove":
        return operation
    vp = f"{where}.value"
    if kind is Kind.LOAD_RULE:
        _check_load_rule(c, vp, value)
    elif kind is Kind.VARIABLE:
        _check_variable(c, vp, value)
    else:
        _check_extension(c, vp, value, op)
    return operation


def validate_component(kind: Kind, value: Mapping[str, Any], where: str, op: str = "add") -> Validated:
    """Check one component value (as ``add`` or ``replace`` would send it), naming fields under ``where``.

    Used for desired-state files, whose errors should point into the file, not into an operation list.

    :param kind: load rule, variable or extension.
    :param value: the component (``object`` may be omitted).
    :param where: the dotted prefix of field names (``desired_state.loadRules[2]``).
    :param op: ``add`` or ``replace`` (replace warns about extension conditions).
    :return: the normalised value and its warnings.
    :raises TealiumValidationErrors: with every failure.
    """
    c = _Collector()
    if not isinstance(value, Mapping):
        raise TealiumValidationErrors([TealiumValidationError(where, "must be an object", value=value)])
    problem = mapping_keys_problem(value) or (
        error.rule if (error := depth_error(value, where)) is not None else None
    )
    if problem is not None:
        raise TealiumValidationErrors([TealiumValidationError(where, problem, show_value=False)])
    data = dict(value)
    data.setdefault("object", kind.value)
    if data["object"] != kind.value:
        c.error(f"{where}.object", f"must be {kind.value!r}", data["object"])
    elif kind is Kind.LOAD_RULE:
        _check_load_rule(c, where, data)
    elif kind is Kind.VARIABLE:
        _check_variable(c, where, data)
    else:
        _check_extension(c, where, data, op)
    if c.errors:
        raise TealiumValidationErrors(c.errors)
    return Validated(data, c.warnings)


def validate_patch(body: PatchRequest | Mapping[str, Any]) -> Validated:
    """Check a PATCH body against every documented rule; report every failure at once.

    :param body: a :class:`PatchRequest` or the JSON body as a dict.
    :return: the normalised body and its warnings.
    :raises TealiumValidationErrors: listing every failure, each naming the operation index, field and rule.
    """
    if isinstance(body, PatchRequest):
        data = _envelope(body)
    elif isinstance(body, Mapping):
        data = dict(body)
    else:
        raise TealiumValidationErrors(
            [
                TealiumValidationError(
                    "body", "must be a PatchRequest or an object {notes, operationList}", value=body
                )
            ]
        )
    too_deep = depth_error(data, "body")
    if too_deep is not None:
        # Before anything recursive (the JSON encoding of the body) meets it.
        raise TealiumValidationErrors([too_deep])
    c = _Collector()
    notes = data.get("notes")
    if not isinstance(notes, str) or not notes.strip():
        c.error("notes", "must not be empty")
    title = data.get("versionTitle")
    if title is not None and not isinstance(title, str):
        c.error("versionTitle", "must be a string", title)
    save_type = _str(data.get("saveType", SaveType.SAVE_AS.value))
    if save_type not in ("save", "saveAs"):
        c.error("saveType", "must be 'save' or 'saveAs'", save_type)
    else:
        data["saveType"] = save_type
    operations = data.get("operationList")
    if not isinstance(operations, list | tuple) or not operations:
        c.error("operationList", "must be a non-empty list of operations")
        operations = []
    data["operationList"] = [
        checked for i, raw in enumerate(operations) if (checked := _check_operation(c, i, raw)) is not None
    ]
    if c.errors:
        raise TealiumValidationErrors(c.errors)
    return Validated(data, c.warnings)


# -- requests and answers --------------------------------------------------------------------------


def profile_path(account: str, profile: str) -> str:
    """The profile's path.

    :param account: the account.
    :param profile: the profile.
    """
    return PROFILE_PATH.format(
        account=name_segment(account, "account"), profile=name_segment(profile, "profile")
    )


def validate_includes(includes: Iterable[str]) -> list[str]:
    """The ``includes`` components, checked against the documented names.

    :param includes: component names (``loadRules``, ``variables``, ``versionIds``...).
    """
    if isinstance(includes, str):
        includes = [includes]  # one component, not its letters
    if not isinstance(includes, list | tuple | set | frozenset):
        raise TealiumValidationError("includes", "must be a list of component names", value=includes)
    result = []
    for i, name in enumerate(includes):
        if not isinstance(name, str) or (name not in INCLUDES and name not in _INCLUDE_ALIASES):
            raise TealiumValidationError(
                f"includes[{i}]", "must be one of " + ", ".join(INCLUDES), value=name
            )
        result.append(name)
    return result


def get_profile_request(
    account: str, profile: str, includes: Iterable[str] = (), publish_version: str | datetime | None = None
) -> ApiRequest:
    """``GET /v3/tiq/accounts/{account}/profiles/{profile}?includes=...&publishVersion=...``.

    :param account: the account.
    :param profile: the profile.
    :param includes: components to include, each sent as its own ``includes`` parameter.
    :param publish_version: a version (``yyyyMMddHHmm``); the latest when omitted.
    """
    params = [("includes", name) for name in validate_includes(includes)]
    if publish_version is not None:
        c = _Collector()
        version = _check_date(c, "publish_version", publish_version)
        if c.errors:
            raise c.errors[0]
        params.append(("publishVersion", str(version)))
    return ApiRequest("GET", profile_path(account, profile), TokenFamily.V3, Host.REGION, params=params)


def patch_profile_call(
    account: str, profile: str, body: PatchRequest | Mapping[str, Any]
) -> tuple[ApiRequest, list[str]]:
    """``PATCH /v3/tiq/accounts/{account}/profiles/{profile}``, validated first, with the warnings the
    validation raised (an unknown load-rule operator passed through, a replace that drops an extension's
    conditions) for the caller to report.

    Not idempotent (each saveAs makes a version): a lost answer raises
    :class:`~airflow_provider_tealium.exceptions.TealiumAmbiguousResultError`, never a blind resend.

    :param account: the account.
    :param profile: the profile.
    :param body: the PATCH envelope.
    :raises TealiumValidationErrors: listing every failure.
    """
    validated = validate_patch(body)
    request = ApiRequest(
        "PATCH",
        profile_path(account, profile),
        TokenFamily.V3,
        Host.REGION,
        json_body=validated.body,
        idempotent=False,
    )
    return request, validated.warnings


def patch_profile_request(account: str, profile: str, body: PatchRequest | Mapping[str, Any]) -> ApiRequest:
    """:func:`patch_profile_call` without its warnings (use that one to report them).

    :param account: the account.
    :param profile: the profile.
    :param body: the PATCH envelope.
    """
    return patch_profile_call(account, profile, body)[0]


def is_lock_error(status: int | None, message: str) -> bool:
    """Whether an error is the profile lock (users viewing it, or the 15 seconds after an update).

    It is transient; the documented wording comes as 409 on some pages and 404 on others.

    :param status: the HTTP status.
    :param message: the API's message.
    """
    text = message.lower()
    return status in (404, 409) and any(marker in text for marker in _LOCK_MARKERS)


@dataclass(frozen=True)
class ProfileVersion:
    """Which version a profile answer describes.

    :param version_id: the version's id (``yyyyMMddHHmm``).
    :param title: the version's title.
    :param notes: the version's notes.
    :param version_ids: every version id, when ``versionIds`` was included.
    """

    version_id: str | None
    title: str | None
    notes: str | None
    version_ids: list[str]

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (for XCom)."""
        return {"version_id": self.version_id, "version_title": self.title, "notes": self.notes}


def parse_version(profile: Mapping[str, Any]) -> ProfileVersion:
    """Read the version fields of a GET answer.

    :param profile: the GET answer.
    """
    details = profile.get("versionDetails") or {}
    ids = profile.get("versionIds", profile.get("versionIDs")) or []
    version = profile.get("version")
    return ProfileVersion(
        version_id=str(version) if version is not None else None,
        title=profile.get("versionTitle"),
        notes=details.get("notes") if isinstance(details, dict) else None,
        version_ids=[str(v) for v in ids],
    )


def components(profile: Mapping[str, Any], kind: Kind) -> list[dict[str, Any]]:
    """A profile's load rules, variables or extensions, as a list (the API may answer a list or an id map).

    :param profile: the GET answer.
    :param kind: which component.
    """
    raw = profile.get(kind.section) or []
    if isinstance(raw, dict):
        return [dict(v, id=v.get("id", k)) for k, v in raw.items() if isinstance(v, dict)]
    return [dict(v) for v in raw if isinstance(v, dict)]


# -- declarative sync ----------------------------------------------------------------------------------

SPEC_SECTIONS = {"loadRules": Kind.LOAD_RULE, "variables": Kind.VARIABLE, "extensions": Kind.EXTENSION}
"""The top-level keys of a desired-state file."""
# Fields that identify or describe a component in GET answers but are not its settings.
_NOT_SETTINGS = frozenset({"id", "object"})


def _spec_item(kind: Kind, item: Mapping[str, Any]) -> dict[str, Any]:
    data = dict(item)
    if kind is Kind.EXTENSION:
        data.setdefault("type", EXTENSION_TYPE)
        if "code" in data:  # shorthand for the single ``configuration`` entry
            data["configuration"] = [{"name": "code", "value": data.pop("code")}]
    for key in ("startDate", "endDate"):
        if isinstance(data.get(key), datetime | date):
            data[key] = format_date(data[key])
    data.pop("id", None)
    data["object"] = kind.value
    return data


def parse_desired_state(spec: Any, where: str = "desired_state") -> dict[Kind, list[dict[str, Any]]]:
    """Read and validate a desired state: ``{loadRules: [...], variables: [...], extensions: [...]}``.

    Each item is a component as the API spells it (``loadRuleCondition``, ``startDate``...), keyed by
    ``name``; an extension may give ``code`` instead of ``configuration``. A section that is absent is
    not managed (never pruned). Every failure is reported at once.

    :param spec: the parsed YAML/JSON document.
    :param where: the name of the document in messages.
    :raises TealiumValidationErrors: with every failure.
    """
    if not isinstance(spec, Mapping):
        raise TealiumValidationError(where, "must be a mapping with loadRules, variables and/or extensions")
    too_deep = depth_error(spec, where)
    if too_deep is not None:
        raise too_deep
    errors: list[TealiumValidationError] = []
    result: dict[Kind, list[dict[str, Any]]] = {}
    for key in spec:
        if key not in SPEC_SECTIONS:
            errors.append(
                TealiumValidationError(
                    f"{where}.{key}", "is not a section (loadRules, variables, extensions)"
                )
            )
    for section, kind in SPEC_SECTIONS.items():
        if section not in spec:
            continue
        items = spec[section] if spec[section] is not None else []
        if not isinstance(items, list):
            errors.append(TealiumValidationError(f"{where}.{section}", "must be a list", value=items))
            continue
        seen: dict[str, int] = {}
        result[kind] = []
        for i, item in enumerate(items):
            path = f"{where}.{section}[{i}]"
            if not isinstance(item, Mapping):
                errors.append(TealiumValidationError(path, "must be a mapping", value=item))
                continue
            data = _spec_item(kind, item)
            try:
                validate_component(kind, data, path)
            except TealiumValidationErrors as exc:
                errors.extend(exc.errors)
                continue
            name = data["name"]
            if name in seen:
                errors.append(
                    TealiumValidationError(f"{path}.name", f"duplicates {section}[{seen[name]}]", value=name)
                )
                continue
            seen[name] = i
            result[kind].append(data)
    if errors:
        raise TealiumValidationErrors(errors)
    return result


def _canonical(key: str, value: Any) -> Any:
    """A value in the form two equal settings share (operator spellings, ``js``/``js_page``, empties)."""
    if value == "" or value == []:
        return None
    if key == "type" and value == "js_page":
        return "js"
    if key in ("loadRuleCondition", "conditions") and isinstance(value, list):
        return [
            [
                {**c, "operator": normalise_operator(c["operator"])}
                if isinstance(c, dict) and isinstance(c.get("operator"), str)
                else c
                for c in group
            ]
            if isinstance(group, list)
            else group
            for group in value
        ] or None
    return value


def _settings(item: Mapping[str, Any]) -> dict[str, Any]:
    data = {k: v for k, v in item.items() if k not in _NOT_SETTINGS}
    if "occurence" in data and "occurrence" not in data:
        data["occurrence"] = data.pop("occurence")
    return data


@dataclass(frozen=True)
class PlannedChange:
    """One change a sync would make.

    :param op: add, replace or remove.
    :param kind: the component type.
    :param name: the component's name.
    :param component_id: its id (replace, remove).
    :param changes: field -> ``{"from": old, "to": new}`` (replace; every field for add).
    :param value: the value sent (add, replace).
    """

    op: Op
    kind: Kind
    name: str
    component_id: str | None = None
    changes: dict[str, dict[str, Any]] = field(default_factory=dict)
    value: dict[str, Any] | None = None

    def operation(self) -> dict[str, Any]:
        """The PATCH operation."""
        if self.op is Op.ADD:
            return {"op": "add", "path": self.kind.path, "value": self.value}
        path = f"{self.kind.path}/{self.component_id}"
        if self.op is Op.REMOVE:
            return {"op": "remove", "path": path, "value": {"object": self.kind.value}}
        return {"op": "replace", "path": path, "value": self.value}

    def describe(self) -> str:
        """One readable line, then one line per changed field."""
        ident = f" (id {self.component_id})" if self.component_id is not None else ""
        head = f"{self.op.value} {self.kind.value} {self.name!r}{ident}"
        lines = [head] + [
            f"    {key}: {_short(change.get('from'))} -> {_short(change.get('to'))}"
            for key, change in self.changes.items()
        ]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (XCom)."""
        return {
            "op": self.op.value,
            "object": self.kind.value,
            "name": self.name,
            "id": self.component_id,
            "changes": self.changes,
        }


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def plan_sync(
    profile: Mapping[str, Any], desired: Mapping[Kind, list[dict[str, Any]]], *, prune: bool = False
) -> list[PlannedChange]:
    """The minimal changes turning ``profile`` into ``desired``: add missing, replace changed, and
    (with ``prune``) remove the ones a managed section no longer lists.

    Only the fields the desired state gives are compared; a replace sends the current component with
    those fields overlaid, so settings the file does not mention (an extension's conditions) are kept.

    :param profile: the GET answer (with the managed sections included).
    :param desired: :func:`parse_desired_state`'s result.
    :param prune: remove components absent from a managed section.
    :raises TealiumValidationError: when the profile holds two components of one type with the same name.
    """
    plan: list[PlannedChange] = []
    for kind in (Kind.LOAD_RULE, Kind.VARIABLE, Kind.EXTENSION):
        if kind not in desired:
            continue
        current: dict[str, dict[str, Any]] = {}
        for item in components(profile, kind):
            name = item.get("name")
            if name in current:
                raise TealiumValidationError(
                    f"profile.{kind.section}",
                    f"holds two components named {name!r}; rename one so the sync can tell them apart",
                )
            current[str(name)] = item
        wanted = {item["name"]: item for item in desired[kind]}
        for name, item in wanted.items():
            settings = _settings(item)
            if name not in current:
                changes = {k: {"from": None, "to": v} for k, v in settings.items()}
                plan.append(PlannedChange(Op.ADD, kind, name, None, changes, dict(item)))
                continue
            existing = _settings(current[name])
            changes = {
                key: {"from": existing.get(key), "to": value}
                for key, value in settings.items()
                if _canonical(key, existing.get(key)) != _canonical(key, value)
            }
            if changes:
                merged = {**existing, **settings, "object": kind.value}
                plan.append(PlannedChange(Op.REPLACE, kind, name, str(current[name]["id"]), changes, merged))
        if prune:
            for name, item in current.items():
                if name not in wanted:
                    plan.append(PlannedChange(Op.REMOVE, kind, name, str(item["id"])))
    return plan
