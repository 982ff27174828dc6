"""Dot segments and other path-changing values are refused in every path parameter (issue 11, item 7).

``/v3/tiq/accounts/../profiles/..`` collapses to ``/v3/tiq/`` in a client or server that normalises
paths: a request would reach another resource than the one named.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_tealium.api import auth, datalayers, iqm, profiles, publish, revisions
from airflow_provider_tealium.api.config import config_from_connection
from airflow_provider_tealium.api.paths import segment, validate_name
from airflow_provider_tealium.exceptions import TealiumValidationError

BAD_NAMES = [".", "..", "", "a/b", "a\\b", "../x", "a b", "a\nb", ".hidden", "x" * 101, "a?b", "a#b", "a%2e"]

V1, V2 = revisions.RevisionsApi.V1, revisions.RevisionsApi.V2
PUBLISH = publish.validate_publish(
    version_id="202611221200", targets=["prod"], title="t", notes="", operator_id="a@b.c"
)
PATCH = {
    "notes": "n",
    "operationList": [{"op": "remove", "path": "/loadRules/1", "value": {"object": "loadRule"}}],
}

# Every builder that puts an account and a profile into a path.
BUILDERS: dict[str, Callable[[Any, Any], Any]] = {
    "v3 auth": lambda a, p: auth.v3_auth_request(a, p, "a@b.c", "k"),
    "profile GET": lambda a, p: profiles.get_profile_request(a, p),
    "profile PATCH": lambda a, p: profiles.patch_profile_request(a, p, PATCH),
    "publish": lambda a, p: publish.publish_request(a, p, PUBLISH),
    "publish status": lambda a, p: publish.publish_status_request(a, p, "pub-1"),
    "dle upload": lambda a, p: datalayers.upload_request(a, p, datalayers.PreparedUpload("id1", b"{}")),
    "dle list": lambda a, p: datalayers.list_request(a, p),
    "dle failed uploads": lambda a, p: datalayers.failed_uploads_request(
        a, p, "2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z"
    ),
    "v1 revisions": lambda a, p: revisions.list_revisions_request(V1, a, p),
    "v2 revisions": lambda a, p: revisions.list_revisions_request(V2, a, p),
    "v1 bundle": lambda a, p: revisions.revision_bundle_request(V1, a, p, "201612131954", "prod"),
}


@pytest.mark.parametrize("builder", BUILDERS.values(), ids=BUILDERS.keys())
@pytest.mark.parametrize("bad", BAD_NAMES)
def test_account_and_profile_are_checked_by_every_builder(
    builder: Callable[[Any, Any], Any], bad: str
) -> None:
    with pytest.raises(TealiumValidationError) as caught:
        builder(bad, "main")
    assert caught.value.field == "account"
    with pytest.raises(TealiumValidationError) as caught:
        builder("demo", bad)
    assert caught.value.field == "profile"


@pytest.mark.parametrize("builder", BUILDERS.values(), ids=BUILDERS.keys())
def test_good_names_pass(builder: Callable[[Any, Any], Any]) -> None:
    request = builder("services-acme", "main.web_2")
    assert "/services-acme/" in request.path or request.path.endswith("/services-acme")
    assert "/main.web_2" in request.path


@pytest.mark.parametrize("bad", [".", "..", "", "a/b", "a\\b", "x\ty"])
def test_publish_id_is_a_path_parameter(bad: str) -> None:
    with pytest.raises(TealiumValidationError) as caught:
        publish.publish_status_request("demo", "main", bad)
    assert caught.value.field == "publish_id"


@pytest.mark.parametrize("bad", [".", "..", ".prod", "prod/..", ""])
def test_revision_target_is_a_path_parameter(bad: str) -> None:
    with pytest.raises(TealiumValidationError) as caught:
        revisions.revision_bundle_request(V2, "demo", "main", "201612131954", bad)
    assert caught.value.field == "target"


@pytest.mark.parametrize("bad", ["..", "../1", 0, -1, "1/2"])
def test_iqm_report_ids(bad: Any) -> None:
    with pytest.raises(TealiumValidationError):
        iqm.get_report_request(iqm.validate_report_id(bad))


def test_segment_refuses_dot_segments_and_slashes_and_quotes_the_rest() -> None:
    for bad in (".", "..", "", "a/b", "a\\b", "a\x00b", None, 1.5, True, ["a"]):
        with pytest.raises(TealiumValidationError):
            segment(bad, "x")
    assert segment("a b?c#d", "x") == "a%20b%3Fc%23d"
    assert segment("..a", "x") == "..a" and segment(7, "x") == "7"


def test_connection_defaults_are_checked_before_any_call() -> None:
    config = config_from_connection("tealium_default", "a@b.c", "k", {"account": "..", "profile": "main"})
    with pytest.raises(TealiumValidationError) as caught:
        config.account_profile(None, None)
    assert caught.value.field == "tealium_default.account"
    with pytest.raises(TealiumValidationError) as caught:
        config.account_profile("demo", ".")
    assert caught.value.field == "profile"


def test_validate_name_accepts_tealiums_names() -> None:
    for name in ("main", "services-acme", "web.shop", "Legacy_Account", "a", "x" * 100):
        assert validate_name(name, "account") == name
