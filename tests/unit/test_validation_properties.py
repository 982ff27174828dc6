"""Every public validation entry point raises only TealiumValidationError, whatever it is given
(issue 11, item 8).

A property-based test (hypothesis) feeds each entry point random values, shaped like its input and
not: JSON-like nests, bytes, sets, dates, NaN, huge integers, wrong types at every level. Fixed seed
(``derandomize``) and a bounded number of examples, so a CI run is reproducible and short. The minimal
failing cases it found, and those the review found, are plain tests below.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_provider_tealium.api import arguments, config, datalayers, iqm, iqm_config, paths
from airflow_provider_tealium.api import profiles as p
from airflow_provider_tealium.api import publish as pub
from airflow_provider_tealium.api import revisions as rev
from airflow_provider_tealium.exceptions import TealiumValidationError

# -- strategies --------------------------------------------------------------------------------------------

WORDS = [
    "add", "replace", "remove", "/loadRules", "/loadRules/1", "/variables/2", "/extensions/3", "loadRule",
    "variable", "extension", "active", "udo", "js", "Javascript Code", "After Load Rules", "Run Once", "code",
    "equals", "is defined", "saveAs", "prod", "dev", "campaign", "daily", "weekly", "monthly", "friday",
    "first", "2026-11-01", "20261101", "a@b.c", "UTC", "US/Eastern", "201612131954", "v1", "json", "nan",
    "inf", "..", ".", "https://u:p@h.example", "²", "9" * 30,
]  # fmt: skip
KEYS = [
    "notes", "operationList", "saveType", "versionTitle", "op", "path", "value", "object", "name", "status",
    "loadRuleCondition", "conditions", "variable", "operator", "type", "alias", "scope", "occurrence",
    "selectedTargets", "configuration", "startDate", "endDate", "reportName", "dimensions", "columns",
    "requestType", "reportAggregated", "timezoneId", "timezoneName", "filters", "reportSchedulingEventDetails",
    "subscriberEmails", "deliveryFrequency", "deliveryDay", "eventEndDate", "fileType", "runningTotalEnabled",
    "earliestCampaignStartDate", "filter", "loadRules", "variables", "extensions", "revision_id",
    "requested_at", "account", "profile", "max_retries", "timeout", "platform_base_url", "login_flow",
    "requests_per_minute", "base_url",
]  # fmt: skip

LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**20, max_value=10**4200)  # hypothesis itself cannot print 4300+ digits
    | st.floats()
    | st.text(max_size=20)
    | st.binary(max_size=8)
    | st.dates()
    | st.datetimes()
    | st.sampled_from(WORDS)
)
ANY = st.recursive(
    LEAVES,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6) | st.integers(), children, max_size=5)
        | st.tuples(children)
        | st.frozensets(st.integers(), max_size=3)
    ),
    max_leaves=20,
)


def shaped(keys: list[str], values: st.SearchStrategy[Any] = ANY) -> st.SearchStrategy[dict[str, Any]]:
    """Objects with the entry point's own field names, so validation gets past the first check."""
    return st.dictionaries(st.sampled_from(keys), values | LEAVES, max_size=len(keys))


CONDITIONS = st.lists(st.lists(shaped(["variable", "operator", "value"]) | ANY, max_size=3), max_size=3)
LOAD_RULE = shaped(
    ["object", "name", "status", "loadRuleCondition", "notes", "startDate", "endDate"], ANY | CONDITIONS
)
EXTENSION = shaped(
    [
        "object",
        "name",
        "type",
        "scope",
        "occurrence",
        "status",
        "selectedTargets",
        "conditions",
        "configuration",
    ],
    ANY | CONDITIONS | st.lists(shaped(["name", "value"]), max_size=2) | shaped(["dev", "qa", "prod", "x"]),
)
VARIABLE = shaped(["object", "name", "type", "alias", "notes"])
OPERATION = st.fixed_dictionaries(
    {"op": st.sampled_from(["add", "replace", "remove"]) | ANY, "path": st.sampled_from(WORDS[3:7]) | ANY},
    optional={"value": LOAD_RULE | VARIABLE | EXTENSION | ANY},
)
PATCH = st.fixed_dictionaries(
    {"notes": st.text(max_size=5) | ANY, "operationList": st.lists(OPERATION | ANY, max_size=3) | ANY},
    optional={"saveType": ANY, "versionTitle": ANY},
)
SCHEDULE = shaped(
    ["subscriberEmails", "deliveryFrequency", "deliveryDay", "eventEndDate", "fileType", "runningTotalEnabled",
     "earliestCampaignStartDate"],
    ANY | st.sampled_from([["a@b.c"], 3, 4, 1_700_000_000_000, "2027-01-01"]),
)  # fmt: skip
REPORT = shaped(
    ["reportName", "dimensions", "columns", "startDate", "endDate", "requestType", "reportAggregated",
     "timezoneId", "timezoneName", "customerIds", "filters", "reportSchedulingEventDetails"],
    ANY | SCHEDULE | st.lists(shaped(["filter", "value"]), max_size=2) | st.sampled_from([1_700_000_000_000, [1]]),
)  # fmt: skip
EXTRA = shaped(
    ["account", "profile", "v1_password", "platform_base_url", "api_base_url", "max_retries", "backoff_base",
     "backoff_max", "timeout", "client_id", "client_secret", "workspace_host", "base_url", "login_flow",
     "requests_per_minute"],
    ANY | st.sampled_from(["https://x.example", "http://127.0.0.1:1", "5", "oauth", "demo"]),
)  # fmt: skip
DATA_LAYER = st.recursive(
    LEAVES,
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5) | st.integers(), c, max_size=4),
)
IQM_EXTRA = {"client_id": "c", "client_secret": "s", "workspace_host": "app.iqm.com"}

# Every public validation entry point, each fed one drawn value (a tuple where it takes several).
ENTRY_POINTS: dict[str, tuple[st.SearchStrategy[Any], Callable[[Any], object]]] = {
    "profiles.validate_patch": (PATCH | ANY, p.validate_patch),
    "profiles.validate_patch(PatchRequest)": (
        st.builds(
            p.PatchRequest,
            ANY,
            st.lists(st.builds(p.Operation, ANY, ANY, ANY) | OPERATION, max_size=2) | ANY,
            ANY,
            ANY,
        ),
        p.validate_patch,
    ),
    "profiles typed components": (
        st.builds(p.LoadRule, ANY, ANY, ANY, ANY, ANY, ANY)
        | st.builds(p.Variable, ANY, ANY, ANY, ANY)
        | st.builds(p.Extension, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY),
        lambda c: p.validate_patch(p.PatchRequest("n", [p.Operation("add", c.kind.path, c)])),
    ),
    "profiles.validate_component": (
        st.tuples(
            st.sampled_from(list(p.Kind)),
            LOAD_RULE | VARIABLE | EXTENSION | ANY,
            st.sampled_from(["add", "replace"]),
        ),
        lambda a: p.validate_component(a[0], a[1], "w", a[2]),
    ),
    "profiles.validate_includes": (
        st.lists(st.sampled_from(list(p.INCLUDES)) | ANY, max_size=3) | ANY,
        p.validate_includes,
    ),
    "profiles.get_profile_request": (
        st.tuples(ANY | st.sampled_from(["demo"]), ANY | st.sampled_from(["main"]), ANY, ANY),
        lambda a: p.get_profile_request(*a),
    ),
    "profiles.patch_profile_call": (
        st.tuples(ANY, PATCH),
        lambda a: p.patch_profile_call(a[0], "main", a[1]),
    ),
    "profiles.parse_desired_state": (
        st.fixed_dictionaries(
            {},
            optional={
                "loadRules": st.lists(LOAD_RULE, max_size=2) | ANY,
                "variables": st.lists(VARIABLE, max_size=2),
                "extensions": st.lists(EXTENSION | shaped(["name", "code", "scope"]), max_size=2),
            },
        )
        | ANY,
        p.parse_desired_state,
    ),
    "publish.validate_publish": (
        st.tuples(
            ANY, st.lists(st.sampled_from(["dev", "qa", "prod"]) | ANY, max_size=3) | ANY, ANY, ANY, ANY
        ),
        lambda a: pub.validate_publish(
            version_id=a[0], targets=a[1], title=a[2], notes=a[3], operator_id=a[4]
        ),
    ),
    "publish.validate_poll_interval": (ANY, pub.validate_poll_interval),
    "publish.publish_status_request": (st.tuples(ANY, ANY, ANY), lambda a: pub.publish_status_request(*a)),
    "datalayers.parse_file_type": (ANY, datalayers.parse_file_type),
    "datalayers.parse_mode": (ANY, datalayers.parse_mode),
    "datalayers.validate_rate": (ANY, datalayers.validate_rate),
    "datalayers.prepare_upload": (
        st.tuples(ANY | st.just("demo"), ANY | st.just("main"), ANY | st.text(max_size=8), DATA_LAYER | ANY),
        lambda a: datalayers.prepare_upload(*a),
    ),
    "datalayers.validate_datalayer_id": (
        st.tuples(ANY, ANY, ANY),
        lambda a: datalayers.validate_datalayer_id(*a),
    ),
    "datalayers.failed_uploads_request": (
        st.tuples(ANY, ANY),
        lambda a: datalayers.failed_uploads_request("demo", "main", *a),
    ),
    "iqm.report_body": (REPORT | ANY, iqm.report_body),
    "iqm.schedule_body": (
        st.tuples(SCHEDULE | ANY, ANY),
        lambda a: iqm.schedule_body(a[0], prefix="", tz=a[1]),
    ),
    "iqm.schedule_update_body": (
        st.tuples(SCHEDULE | ANY, SCHEDULE | ANY, ANY),
        lambda a: iqm.schedule_update_body(*a),
    ),
    "iqm.ReportDefinition": (
        st.builds(
            iqm.ReportDefinition, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, SCHEDULE | ANY
        ),
        lambda d: d.to_body(),
    ),
    "iqm.ReportSchedule": (
        st.builds(iqm.ReportSchedule, ANY, ANY, ANY, ANY, ANY, ANY, ANY),
        lambda s: s.to_body(),
    ),
    "iqm.validate_report_id": (ANY, iqm.validate_report_id),
    "iqm.validate_page_size": (ANY, iqm.validate_page_size),
    "revisions.revisions_api": (ANY, rev.revisions_api),
    "revisions.validate_revision_id": (ANY, rev.validate_revision_id),
    "revisions.validate_target": (ANY, rev.validate_target),
    "revisions.parse_baseline": (
        st.dictionaries(st.sampled_from(list(rev.BASELINE_KEYS)), ANY, max_size=3) | ANY,
        rev.parse_baseline,
    ),
    "revisions.validate_pattern": (ANY, rev.validate_pattern),
    "revisions.revision_bundle_request": (
        st.tuples(ANY, ANY),
        lambda a: rev.revision_bundle_request(rev.RevisionsApi.V1, "demo", "main", *a),
    ),
    "config.config_from_connection": (
        st.tuples(ANY, ANY, EXTRA | ANY, ANY, ANY),
        lambda a: config.config_from_connection("c", a[0], a[1], a[2]).account_profile(a[3], a[4]),
    ),
    "config.parse_extra": (ANY, config.parse_extra),
    "iqm_config.config_from_connection": (
        st.tuples(ANY, ANY, EXTRA),
        lambda a: iqm_config.config_from_connection("c", a[0], a[1], {**IQM_EXTRA, **a[2]}),
    ),
    "arguments.seconds_arg": (ANY, lambda v: arguments.seconds_arg(v, "x")),
    "arguments.flag_arg": (ANY, lambda v: arguments.flag_arg(v, "x")),
    "paths.validate_name": (ANY, lambda v: paths.validate_name(v, "x")),
    "paths.segment": (ANY, lambda v: paths.segment(v, "x")),
}

# Fixed seed, bounded work: a reproducible CI run of a few seconds per entry point at most.
PROPERTY_SETTINGS = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


def only_validation_errors(entry: Callable[[Any], object], value: Any) -> None:
    try:
        entry(value)
    except TealiumValidationError as exc:
        # The error names a field, and its message is bounded whatever the input was.
        assert exc.field and len(str(exc)) < 60_000
    # Anything else propagates and fails the test, with the drawn value in hypothesis' report.


@pytest.mark.parametrize("name", sorted(ENTRY_POINTS))
def test_any_input_gets_only_the_validation_error(name: str) -> None:
    strategy, entry = ENTRY_POINTS[name]

    @PROPERTY_SETTINGS
    @given(strategy)
    def check(value: Any) -> None:
        only_validation_errors(entry, value)

    check()


# -- the minimal failing cases, as plain tests ---------------------------------------------------------------


def nested(levels: int, leaf: Any = 1) -> Any:
    value = leaf
    for _ in range(levels):
        value = [value]
    return value


def deep_dict(levels: int) -> Any:
    value: Any = {"a": 1}
    for _ in range(levels):
        value = {"a": value}
    return value


CASES: list[tuple[str, Callable[[], object], str]] = [
    ("variable type given as a list", lambda: p.validate_component(p.Kind.VARIABLE, {"name": "v", "type": ["udo"]}, "v"), "v.type"),
    ("validate_patch(None)", lambda: p.validate_patch(None), "body"),  # type: ignore[arg-type]
    ("includes=None", lambda: p.get_profile_request("demo", "main", None), "includes"),  # type: ignore[arg-type]
    ("includes with a dict", lambda: p.validate_includes([{}]), "includes[0]"),
    ("publish targets=[['prod']]", lambda: pub.validate_publish(version_id="1", targets=[["prod"]], title="t", notes="", operator_id="a@b.c"), "publishTargets[0]"),
    ("schedule_body(None)", lambda: iqm.schedule_body(None), "reportSchedulingEventDetails"),  # type: ignore[arg-type]
    ("schedule_update_body(None, ...)", lambda: iqm.schedule_update_body(None, {}), "schedule"),  # type: ignore[arg-type]
    ("extension scope as a list", lambda: p.validate_component(p.Kind.EXTENSION, {"name": "e", "scope": ["DOM Ready"]}, "e"), "e.type"),
    ("report keys of mixed types", lambda: iqm.report_body({1: "x", "zzz": 2}), "'1'"),
    ("reportId of a superscript digit", lambda: iqm.validate_report_id("²"), "report_id"),
    ("epoch of 30 digits", lambda: iqm.report_body({"reportName": "r", "dimensions": [{"filter": "campaign"}], "columns": ["c"], "startDate": "9" * 30, "endDate": 10**30}), "startDate"),
    ("revision id of 5000 digits", lambda: rev.validate_revision_id(10**5000), "revision_id"),
    ("segment of 5000 digits", lambda: paths.segment(10**5000, "x"), "x"),
    ("baseline dict with mixed keys", lambda: rev.parse_baseline({1: "a", "b": 2}), "baseline"),
    ("pattern as a dict", lambda: rev.validate_pattern({}), "match"),  # type: ignore[arg-type]
    ("account None in a data layer", lambda: datalayers.prepare_upload(None, "main", "id", {"a": 1}), "account"),  # type: ignore[arg-type]
    ("data layer int of 5000 digits", lambda: datalayers.prepare_upload("demo", "main", "id", {"a": 10**5000}), "datalayers['id'].data"),
    ("data layer lone surrogate", lambda: datalayers.prepare_upload("demo", "main", "id", {"a": "\ud800"}), "datalayers['id'].data"),
    ("rate of 10**400", lambda: datalayers.validate_rate(10**400), "requests_per_second"),
    ("poll interval of 10**400", lambda: pub.validate_poll_interval(10**400), "poll_interval"),
    ("extra as a list", lambda: config.parse_extra(["a"]), "extra"),  # type: ignore[arg-type]
    ("extra of bad UTF-8", lambda: config.parse_extra(b"\xbd{"), "extra"),  # type: ignore[arg-type]
    ("extra nested 100,000 deep", lambda: config.parse_extra("[" * 100_000 + "]" * 100_000), "extra"),
    ("login as a list", lambda: config.config_from_connection("c", ["a@b.c"], "k", {}), "c.login"),  # type: ignore[arg-type]
    ("typed extension with targets as a list", lambda: p.validate_patch(p.PatchRequest("n", [p.Operation.add(p.Extension("e", "x", selected_targets=["dev"]))])), "operationList[0].value.selectedTargets"),  # type: ignore[arg-type]
]  # fmt: skip


@pytest.mark.parametrize(("case", "call", "field"), CASES, ids=[c[0] for c in CASES])
def test_minimal_failing_cases(case: str, call: Callable[[], object], field: str) -> None:
    with pytest.raises(TealiumValidationError) as caught:
        call()
    errors = getattr(caught.value, "errors", [caught.value])
    assert field in [e.field for e in errors], [str(e) for e in errors]


DEEP = 100_000  # far past Python's recursion limit


@pytest.mark.parametrize(
    ("case", "call", "field"),
    [
        ("load rule conditions", lambda: p.validate_patch({"notes": "n", "operationList": [{"op": "add", "path": "/loadRules", "value": {"object": "loadRule", "name": "r", "status": "active", "loadRuleCondition": [[{"variable": "a", "operator": "equals", "value": nested(DEEP)}]]}}]}), "body"),
        ("extension conditions", lambda: p.validate_component(p.Kind.EXTENSION, {"conditions": nested(DEEP)}, "ext"), "ext"),
        ("desired state", lambda: p.parse_desired_state({"loadRules": [nested(DEEP)]}), "desired_state"),
        ("IQM dimensions", lambda: iqm.report_body({"reportName": "r", "dimensions": nested(DEEP), "columns": ["c"], "startDate": "2026-11-01", "endDate": "2026-11-02"}), "report"),
        ("IQM dimensions as a JSON string", lambda: iqm.report_body({"reportName": "r", "dimensions": "[" * DEEP + "]" * DEEP, "columns": ["c"], "startDate": "2026-11-01", "endDate": "2026-11-02"}), "dimensions"),
        ("IQM filters", lambda: iqm.report_body({"reportName": "r", "dimensions": [{"filter": "c"}], "columns": ["c"], "startDate": "2026-11-01", "endDate": "2026-11-02", "filters": deep_dict(DEEP)}), "report"),
        ("data layer body", lambda: datalayers.prepare_upload("demo", "main", "id", deep_dict(DEEP)), "datalayers['id'].data"),
        ("baseline", lambda: rev.parse_baseline(nested(DEEP)), "baseline"),
        ("a cycle", lambda: p.validate_component(p.Kind.LOAD_RULE, _cycle(), "rule"), "rule"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)  # fmt: skip
def test_nesting_is_bounded_before_anything_recurses(
    case: str, call: Callable[[], object], field: str
) -> None:
    with pytest.raises(TealiumValidationError) as caught:
        call()
    errors = getattr(caught.value, "errors", [caught.value])
    assert any(e.field == field and "nests deeper than 32 levels" in e.rule for e in errors), [
        str(e) for e in errors
    ]


def _cycle() -> dict[str, Any]:
    value: dict[str, Any] = {"name": "r"}
    value["loadRuleCondition"] = [[value]]
    return value


def test_nesting_up_to_the_bound_is_accepted() -> None:
    # 32 levels: deeper than anything real, and exactly the bound; one more is refused.
    prepared = datalayers.prepare_upload("demo", "main", "id", deep_dict(31))
    assert prepared.body.count(b"{") == 32
    with pytest.raises(TealiumValidationError, match="nests deeper than 32 levels"):
        datalayers.prepare_upload("demo", "main", "id", deep_dict(32))
