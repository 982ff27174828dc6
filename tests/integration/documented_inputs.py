"""The documented bad inputs (and the valid inputs next to them) that the client and the emulator must
treat alike: each with the client's check, the raw request, and the field both must name.

Copied from the documents (the seeds and API-NOTES), imported from neither side.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from airflow_provider_tealium.api import datalayers as dle
from airflow_provider_tealium.api import iqm
from airflow_provider_tealium.api.profiles import validate_patch
from airflow_provider_tealium.api.publish import validate_publish
from airflow_provider_tealium.testing.emulator.profiles.seed import INITIAL_VERSION

# -- what the documents say ------------------------------------------------------------------------------
DLE_400 = "Invalid request submission. Please check supplied parameters or request body."  # returnCode 1400
NOTES_400 = "patchProfile.arg2.notes: must not be empty"
PATCH_400 = "Validate patch request failed due to "
RESTRICTED = "/:?#[]@!$&'()\\+,;=%.\""  # API-NOTES: with whitespace, not allowed in a datalayer_id
VARIABLE_TYPES = ("ls", "ss", "udo", "qp", "cp", "js_page", "meta")
SCOPES = (
    "Before Load Rules",
    "After Load Rules",
    "DOM Ready",
    "Tag Scoped Extensions",
    "After Tag Extensions",
)
MB = 1_000_000
YEAR_MS = 365 * 86_400_000  # 2026-01-01 to 2027-01-01
JAN_2026 = 1_767_225_600_000


@dataclass(frozen=True)
class Case:
    """One input, given to the client and sent raw to the emulator.

    :param name: the test id.
    :param client: runs the client's check.
    :param call: ``(family, payload)``: what to send (see :meth:`Wire.send`).
    :param field: the field both sides must name; ``None`` for an input both must accept.
    :param rule: words of the client's rule.
    :param wire_field: the field as the emulator names it, when the client calls it otherwise.
    """

    name: str
    client: Callable[[], object]
    call: tuple[str, Any]
    field: str | None = None
    rule: str = ""
    wire_field: str | None = None
    marks: tuple[Any, ...] = ()


def dle_case(name: str, datalayer_id: str = "ok", data: Any = (("a", 1),), **kw: Any) -> Case:
    data = dict(data) if isinstance(data, tuple) else data
    file_type = kw.pop("file_type", None)

    def client() -> object:
        dle.parse_file_type(file_type)
        return dle.prepare_upload("demo", "main", datalayer_id, data)

    raw = b"" if data is None else json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
    return Case(name, client, ("dle", (datalayer_id, file_type, raw)), **kw)


ADD_VARIABLE = {
    "op": "add",
    "path": "/variables",
    "value": {"object": "variable", "name": "order_id", "type": "udo"},
}
RULE = {
    "object": "loadRule",
    "name": "Checkout",
    "status": "active",
    "loadRuleCondition": [[{"variable": "udo.page_type", "operator": "equals", "value": "checkout"}]],
}
EXTENSION = {
    "object": "extension",
    "name": "Lower-case",
    "type": "Javascript Code",
    "scope": "After Load Rules",
    "occurrence": "Run Always",
    "status": "active",
    "configuration": [{"name": "code", "value": "b.x = 1;"}],
}


def patch_case(
    name: str, *, value: dict[str, Any] | None = None, op: dict[str, Any] | None = None, **kw: Any
) -> Case:
    envelope = kw.pop("envelope", {})
    if value is not None:
        section = {"loadRule": "/loadRules", "variable": "/variables", "extension": "/extensions"}[
            value["object"]
        ]
        op = {"op": "add", "path": section, "value": value}
    body = {"notes": "why", "operationList": [op or ADD_VARIABLE], **envelope}
    return Case(name, lambda: validate_patch(body), ("patch", body), **kw)


PUBLISH = {
    "versionId": INITIAL_VERSION,
    "operatorId": "user@example.com",
    "publishTargets": ["qa"],
    "title": "R",
    "notes": "",
}


def publish_case(name: str, **kw: Any) -> Case:
    body = {**PUBLISH, **kw.pop("change")}

    def client() -> object:
        return validate_publish(
            version_id=body["versionId"],
            targets=body["publishTargets"],
            title=body["title"],
            notes=body["notes"],
            operator_id=body["operatorId"],
        )

    return Case(name, client, ("publish", body), **kw)


REPORT = {
    "reportName": "Campaigns",
    "dimensions": '[{"filter":"campaign","value":[287846]}]',
    "columns": ["impressions", "clicks"],
    "startDate": JAN_2026,
    "endDate": JAN_2026 + 30 * 86_400_000,
    "requestType": 1,
    "reportAggregated": "0",
    "timezoneId": 29,
    "timezoneName": "US/Eastern",
}
SCHEDULE = {
    "deliveryFrequency": 3,
    "deliveryDay": "Monday",
    "fileType": 1,
    "subscriberEmails": ["a@example.com"],
}
SCHEDULE["eventEndDate"] = JAN_2026 + YEAR_MS


def report_case(name: str, change: dict[str, Any], drop: tuple[str, ...] = (), **kw: Any) -> Case:
    body = {k: v for k, v in {**REPORT, **change}.items() if k not in drop}
    return Case(name, lambda: iqm.report_body(body), ("report", body), **kw)


def schedule_case(name: str, change: dict[str, Any], **kw: Any) -> Case:
    body = {**SCHEDULE, **change}
    return Case(name, lambda: iqm.schedule_body(body, prefix=""), ("schedule", body), **kw)


CASES = [
    # Hosted Data Layer (seed "Hosted data layer API endpoints", API-NOTES "Hosted Data Layer v2")
    dle_case("dle id with a period", "sku.1", field="datalayer_id", rule="must not contain any of"),
    dle_case("dle id with a space", "sku 1", field="datalayer_id", rule="whitespace"),
    *(
        dle_case(f"dle id with {char!r}", f"sku{char}1", field="datalayer_id", rule="must not contain any of")
        for char in RESTRICTED
        if char != "."
    ),
    dle_case("dle id with a tab", "sku\t1", field="datalayer_id", rule="whitespace"),
    dle_case("dle account+profile+id of 251", "x" * 243, field="datalayer_id", rule="250"),
    dle_case("dle account+profile+id of 250", "x" * 242),
    dle_case("dle id with other characters", "sku-1_ok~é"),
    dle_case("dle json key with a period", data=(("a.b", 1),), field="data.a.b", rule="period"),
    dle_case("dle nested key with a period", data={"a": [{"b.c": 1}]}, field="data.a[0].b.c", rule="period"),
    dle_case("dle nested keys without a period", data={"a": [{"b": {"c": 1}}]}),
    dle_case("dle empty body", data=None, field="data", rule="empty", wire_field="body"),
    dle_case("dle empty object", data={}, field="data", rule="empty", wire_field="body"),
    dle_case(
        "dle body over 1 MB", data={"k": "x" * (MB + 1 - 8)}, field="data", rule=str(MB), wire_field="body"
    ),
    dle_case("dle body of 1 MB", data={"k": "x" * (MB - 8)}),
    dle_case("dle file-type xml", file_type="xml", field="file_type", rule="json"),
    dle_case("dle file-type json", file_type="json"),
    dle_case("dle file-type javascript", file_type="javascript"),
    # iQ Profiles PATCH (seed "iQ Load Rules API", API-NOTES "iQ Profiles v3")
    patch_case("patch with empty notes", envelope={"notes": ""}, field="notes", rule="empty"),
    patch_case("patch saveType", envelope={"saveType": "overwrite"}, field="saveType", rule="save"),
    patch_case("patch op move", op={**ADD_VARIABLE, "op": "move"}, field="operationList[0].op", rule="add"),
    patch_case(
        "patch add with an id", op={**ADD_VARIABLE, "path": "/variables/5"}, field="operationList[0].path"
    ),
    patch_case(
        "patch object of another path", op={**ADD_VARIABLE, "path": "/loadRules"}, field="value.object"
    ),
    patch_case(
        "variable type invalid", value={**ADD_VARIABLE["value"], "type": "number"}, field="value.type"
    ),
    patch_case(
        "variable type va",
        value={**ADD_VARIABLE["value"], "type": "va"},
        field="value.type",
        rule="read-only",
    ),
    patch_case(
        "variable type js",
        value={**ADD_VARIABLE["value"], "type": "js"},
        field="value.type",
    ),
    *(patch_case(f"variable type {t}", value={**ADD_VARIABLE["value"], "type": t}) for t in VARIABLE_TYPES),
    patch_case("extension scope", value={**EXTENSION, "scope": "Before Tags"}, field="value.scope"),
    *(patch_case(f"extension scope {s}", value={**EXTENSION, "scope": s}) for s in SCOPES),
    patch_case("extension type", value={**EXTENSION, "type": "Tealium Collect"}, field="value.type"),
    patch_case("extension occurrence", value={**EXTENSION, "occurrence": "Twice"}, field="value.occurrence"),
    patch_case(
        "extension two code entries",
        value={**EXTENSION, "configuration": EXTENSION["configuration"] * 2},
        field="value.configuration",
    ),
    patch_case("load rule status", value={**RULE, "status": "enabled"}, field="value.status", rule="active"),
    patch_case("load rule status active", value=RULE),
    patch_case("load rule status inactive", value={**RULE, "status": "inactive"}),
    patch_case("load rule without a name", value={**RULE, "name": ""}, field="value.name"),
    patch_case(
        "load rule end without start", value={**RULE, "endDate": "202602020000"}, field="value.startDate"
    ),
    patch_case(
        "load rule date format",
        value={**RULE, "startDate": "2026-02-02"},
        field="value.startDate",
        rule="yyyyMMddHHmm",
    ),
    patch_case(
        "load rule no-value operator with a value",
        value={**RULE, "loadRuleCondition": [[{"variable": "udo.a", "operator": "is defined", "value": 1}]]},
        field="loadRuleCondition[0][0].value",
    ),
    # Publish (API-NOTES "iQ Profiles v3": title at most 128 characters)
    publish_case("publish title of 129", change={"title": "t" * 129}, field="title", rule="128"),
    publish_case("publish title of 128", change={"title": "t" * 128}),
    publish_case("publish target", change={"publishTargets": ["staging"]}, field="publishTargets[0]"),
    publish_case("publish no target", change={"publishTargets": []}, field="publishTargets"),
    publish_case("publish operator not an email", change={"operatorId": "release-bot"}, field="operatorId"),
    # IQM reports (API-NOTES "IQM", IQM's quickstarts)
    report_case("report without a dimension", {"dimensions": "[]"}, field="dimensions", rule="at least one"),
    report_case(
        "report dimension without filter", {"dimensions": '[{"value":[1]}]'}, field="dimensions[0].filter"
    ),
    report_case("report without columns", {"columns": []}, field="columns"),
    report_case(
        "report range over a year", {"endDate": JAN_2026 + YEAR_MS + 1000}, field="endDate", rule="one year"
    ),
    report_case("report range of a year", {"endDate": JAN_2026 + YEAR_MS}),
    report_case("report ending before it starts", {"endDate": JAN_2026 - 1000}, field="endDate"),
    report_case(
        "report without timezoneId",
        {"timezoneName": "Asia/Kolkata"},
        drop=("timezoneId",),
        field="timezoneId",
    ),
    report_case("report requestType", {"requestType": 5}, field="requestType"),
    report_case("report reportAggregated", {"reportAggregated": "yes"}, field="reportAggregated"),
    Case(
        "execute page over 1000 rows",
        lambda: iqm.validate_page_size(1001),
        ("execute", {**REPORT, "pageNo": 1, "noOfEntries": 1001}),
        field="page_size",
        wire_field="noOfEntries",
    ),
    schedule_case("schedule frequency", {"deliveryFrequency": 9}, field="deliveryFrequency"),
    schedule_case("schedule file type", {"fileType": 3}, field="fileType"),
    schedule_case("schedule without emails", {"subscriberEmails": []}, field="subscriberEmails"),
    schedule_case("schedule weekly without a day", {"deliveryDay": None}, field="deliveryDay"),
    schedule_case("schedule weekly on a non-day", {"deliveryDay": "Someday"}, field="deliveryDay"),
    schedule_case(
        "schedule monthly on day 30", {"deliveryFrequency": 4, "deliveryDay": "30"}, field="deliveryDay"
    ),
    schedule_case("schedule monthly on the last day", {"deliveryFrequency": 4, "deliveryDay": "Last"}),
    schedule_case(
        "schedule monthly on day 1",
        {"deliveryFrequency": 4, "deliveryDay": "1"},
    ),
]
