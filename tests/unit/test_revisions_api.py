"""api/revisions.py and the v1 login of api/auth.py: pure, no network."""

from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import datetime, timedelta, timezone

import pytest

from airflow_provider_tealium.api import revisions as rev
from airflow_provider_tealium.api.auth import AuthCall, auth_call, parse_v1_login, v1_login_request
from airflow_provider_tealium.api.config import config_from_connection
from airflow_provider_tealium.api.request import ApiResponse, Host, TokenFamily
from airflow_provider_tealium.exceptions import TealiumApiError, TealiumAuthError, TealiumValidationError

SEED_DETAILS = {
    "account": "tealium",
    "profile": "main",
    "name": "Full Release - 2016/12/13 19:53",
    "time_created": "Tue 2016.12.13 19:54 GMT",
    "checksums": {
        "prod": {
            "manifest.json": "df8bb8bdb8bc34f9d70d98ff49fdcf53e7f286520747001538b74357418178a2",
            "bundle.zip": "9309364527db38cd33538ca239929c3ed89b7b6990e99b4a41d16b50dd519e35",
            "utag.sync.js": "7cdc832b67612bb053f2e4a91ea9eab2aeb4bd26bae9668cbf5bb58bb6a2e9a1",
            "utag.js": "3c34236708b14e8fd8a82e5c363d006793fd59fc6f6a6f0367634cf245d16861",
            "utag.1.js": "9b911570ac0685a50a3a32ef780a2570b16725779b7336bdbfca2838eea6d216",
        }
    },
    "revision_id": "201612131954",
    "comment": "up to date publish",
    "created_by": "user@example.com",
    "targets_published": ["prod"],
}
LIST = rev.list_revisions_request(rev.RevisionsApi.V1, "tealium", "main")


# -- ids and their order ---------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["201612131954", "20161213195401", 201612131954])
def test_valid_revision_ids(value: object) -> None:
    assert rev.validate_revision_id(value) == str(value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "2016121319",
            "revision_id: must be a revision id of 12 or 14 digits (YYYYMMDDHHMM[SS]) (got '2016121319')",
        ),
        ("2016121319541", "revision_id: must be a revision id of 12 or 14 digits (YYYYMMDDHHMM[SS])"),
        ("2016-12-13", "revision_id: must be a revision id of 12 or 14 digits"),
        (None, "revision_id: must be a revision id of 12 or 14 digits (YYYYMMDDHHMM[SS])"),
        (True, "revision_id: must be a revision id of 12 or 14 digits"),
        ("201613131954", "revision_id: is not a valid date and time (got '201613131954')"),
        ("20161213196000", "revision_id: is not a valid date and time"),
    ],
)
def test_invalid_revision_ids(value: object, message: str) -> None:
    with pytest.raises(TealiumValidationError) as info:
        rev.validate_revision_id(value)
    assert str(info.value).startswith(message)
    assert info.value.field == "revision_id"


def test_ids_sort_as_times_across_both_lengths() -> None:
    ids = ["201612131954", "20161213195501", "20161213195359", "201612131959", "201508181719"]
    # As numbers, every 14-digit id would be above every 12-digit one; as times they interleave.
    assert rev.sort_revision_ids(ids) == [
        "201612131959",
        "20161213195501",
        "201612131954",
        "20161213195359",
        "201508181719",
    ]
    assert sorted(ids, key=int, reverse=True)[0] == "20161213195501"
    # The same instant in both lengths: the more precise id first, deterministically.
    assert rev.sort_revision_ids(["201612131955", "20161213195500"]) == ["20161213195500", "201612131955"]


def test_revision_time_is_utc() -> None:
    assert rev.revision_time("201612131954") == datetime(2016, 12, 13, 19, 54, tzinfo=timezone.utc)
    assert rev.revision_time("20161213195407") == datetime(2016, 12, 13, 19, 54, 7, tzinfo=timezone.utc)


# -- baselines -------------------------------------------------------------------------------------------


def test_baseline_revision_id_newer_is_strictly_later_as_time() -> None:
    base = rev.parse_baseline("201612131954")
    assert base.revision_id == "201612131954"
    assert not base.is_newer("201612131954")
    assert not base.is_newer("20161213195300")
    assert base.is_newer("20161213195401")  # 14 digits, same minute, later second
    assert base.is_newer("201612131955")
    long_base = rev.parse_baseline("20161213195430")
    assert not long_base.is_newer("201612131954")  # 19:54:00 is before 19:54:30
    assert long_base.is_newer("201612131955")


def test_baseline_time_counts_later_revisions() -> None:
    base = rev.parse_baseline(datetime(2016, 12, 13, 19, 54, 30, 500000, tzinfo=timezone.utc))
    assert base.time is not None
    assert base.is_newer("20161213195431")
    assert not base.is_newer("20161213195430")  # the same second: cannot tell, so not counted
    assert not base.is_newer("20161213195429")
    assert rev.parse_baseline("2016-12-13T19:54:30Z").is_newer("20161213195431")
    assert base.is_newer("201612131954")  # a 12-digit id only knows the minute: never missed
    assert not base.is_newer("201612131953")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2016-12-13T19:54:30Z", datetime(2016, 12, 13, 19, 54, 30, tzinfo=timezone.utc)),
        ("2016-12-13T20:54:30+01:00", datetime(2016, 12, 13, 19, 54, 30, tzinfo=timezone.utc)),
        (datetime(2016, 12, 13, 19, 54, 30), datetime(2016, 12, 13, 19, 54, 30, tzinfo=timezone.utc)),
        (
            {"published_at": "2016-12-13T19:54:30+00:00"},
            datetime(2016, 12, 13, 19, 54, 30, tzinfo=timezone.utc),
        ),
    ],
)
def test_baseline_times(value: object, expected: datetime) -> None:
    assert rev.parse_baseline(value).time == expected


def test_baseline_from_upstream_dict_prefers_revision_id() -> None:
    base = rev.parse_baseline({"revision_id": "20161213195430", "published_at": "2020-01-01T00:00:00Z"})
    assert base.revision_id == "20161213195430"
    assert rev.parse_baseline(base.to_string()) == base
    when = rev.parse_baseline("2016-12-13T19:54:30+00:00")
    assert rev.parse_baseline(when.to_string()) == when


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "yesterday",
            "baseline: must be a revision id (YYYYMMDDHHMM[SS]) or a time (datetime or ISO 8601) (got 'yesterday')",
        ),
        (None, "baseline: must be a revision id (YYYYMMDDHHMM[SS]) or a time"),
        (
            {"version": 3},
            "baseline: a dict baseline needs a 'revision_id', 'published_at', 'publish_time', 'requested_at' "
            "(a publish's result), 'saved_at' (a PATCH's result), 'time' or 'timestamp' key (got ['version'])",
        ),
        ({"revision_id": "2016"}, "baseline.revision_id: must be a revision id (YYYYMMDDHHMM[SS]) or a time"),
    ],
)
def test_invalid_baselines(value: object, message: str) -> None:
    with pytest.raises(TealiumValidationError) as info:
        rev.parse_baseline(value)
    assert str(info.value).startswith(message)


# The results of this provider's own upstream operators, exactly as they push them to XCom.
PUBLISH_RESULT = {
    "publish_id": "8f2b3c4d5e6f",
    "account": "demo",
    "profile": "main",
    "version_id": "202603011159",
    "targets": ["prod"],
    "state": "started",
    "requested_at": "2026-03-01T12:00:00.500000+00:00",
}
PUBLISH_SENSOR_RESULT = {
    "publish_id": "8f2b3c4d5e6f",
    "account": "demo",
    "profile": "main",
    "version_id": "202603011159",
    "targets": ["prod"],
    "state": "published",
    "target_states": {"prod": "published"},
    "requested_at": "2026-03-01T12:00:00.500000+00:00",
}
PATCH_RESULT = {
    "account": "demo",
    "profile": "main",
    "version_id": "202603011159",
    "version_title": "Release 2026-03-01",
    "save_type": "saveAs",
    "operations": 3,
    "saved_at": "2026-03-01T12:00:00.500000+00:00",
}


@pytest.mark.parametrize("result", [PUBLISH_RESULT, PUBLISH_SENSOR_RESULT, PATCH_RESULT])
def test_baseline_from_this_providers_upstream_results(result: dict[str, object]) -> None:
    base = rev.parse_baseline(result, "xcom of publish_prod")
    assert base == rev.Baseline(
        time=datetime(2026, 3, 1, 12, 0, 0, 500000, tzinfo=timezone.utc), inclusive=True
    )
    # Taken just before the request: the revision it creates may carry that very second.
    assert base.is_newer("20260301120000")
    assert base.is_newer("20260301120001")
    assert not base.is_newer("20260301115959")
    assert base.is_newer("202603011200") and not base.is_newer("202603011159")
    assert base.describe() == "at or after 2026-03-01T12:00:00+00:00"
    # The trigger gets the baseline as a string and must read back the same one.
    assert base.to_string() == ">=2026-03-01T12:00:00.500000+00:00"
    assert rev.parse_baseline(base.to_string()) == base


def test_a_plain_time_baseline_still_excludes_its_own_second() -> None:
    plain = rev.parse_baseline({"published_at": "2026-03-01T12:00:00.500000+00:00"})
    assert not plain.inclusive and not plain.is_newer("20260301120000")
    assert plain.describe() == "newer than 2026-03-01T12:00:00.500000+00:00"
    assert rev.parse_baseline("20260301120000").describe() == "newer than 20260301120000"
    # A completed publish's own revision id wins over the time it was requested.
    both = rev.parse_baseline({**PUBLISH_RESULT, "revision_id": "20260301120003"})
    assert both == rev.Baseline(revision_id="20260301120003")


def test_upstream_result_without_a_time_is_refused_naming_the_keys() -> None:
    old_shape = {k: v for k, v in PUBLISH_RESULT.items() if k != "requested_at"}
    with pytest.raises(TealiumValidationError) as info:
        rev.parse_baseline(old_shape, "xcom of publish_prod")
    assert str(info.value).startswith("xcom of publish_prod: a dict baseline needs a 'revision_id'")
    assert "'requested_at' (a publish's result), 'saved_at' (a PATCH's result)" in str(info.value)
    with pytest.raises(
        TealiumValidationError, match=r"^xcom of publish_prod\.requested_at: must be a revision id"
    ):
        rev.parse_baseline({**PUBLISH_RESULT, "requested_at": "soon"}, "xcom of publish_prod")
    with pytest.raises(TealiumValidationError, match=r"^baseline: '>=' must be followed by a time"):
        rev.parse_baseline(">=20260301120000")
    with pytest.raises(ValueError, match="only a time baseline"):
        rev.Baseline(revision_id="20260301120000", inclusive=True)


def test_new_revision_ids_skips_old_and_seen() -> None:
    base = rev.parse_baseline("201612131954")
    ids = ["201612131954", "20161213195501", "201612131953", "201612131956"]
    assert rev.new_revision_ids(ids, base) == ["201612131956", "20161213195501"]
    assert rev.new_revision_ids(ids, base, seen={"201612131956"}) == ["20161213195501"]


# -- settings and names ----------------------------------------------------------------------------------


def test_revisions_api_setting() -> None:
    assert rev.revisions_api(None) is rev.RevisionsApi.V1
    assert rev.revisions_api("V2") is rev.RevisionsApi.V2
    with pytest.raises(TealiumValidationError, match=r"^revisions_api: must be 'v1' or 'v2' \(got 'v3'\)$"):
        rev.revisions_api("v3")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "prod/../x",
            "target: must be an environment name of letters, digits, '_', '.' or '-', not starting with '.' "
            "(got 'prod/../x')",
        ),
        (
            "",
            "target: must be an environment name of letters, digits, '_', '.' or '-', not starting with '.' (got '')",
        ),
        (
            "..",
            "target: must be an environment name of letters, digits, '_', '.' or '-', not starting with '.' (got '..')",
        ),
        ("details", "target: cannot be 'details' (that path is the details call) (got 'details')"),
    ],
)
def test_invalid_targets(value: str, message: str) -> None:
    with pytest.raises(TealiumValidationError) as info:
        rev.validate_target(value)
    assert str(info.value) == message


def test_invalid_match_pattern() -> None:
    with pytest.raises(TealiumValidationError, match=r"^match: is not a valid regular expression"):
        rev.validate_pattern("release[")
    assert rev.validate_pattern("") is None


# -- requests ----------------------------------------------------------------------------------------------


def test_v1_requests() -> None:
    assert LIST.path == "/v1/accounts/tealium/main/revisions"
    assert (LIST.family, LIST.host, LIST.method) == (TokenFamily.V1, Host.API, "GET")
    details = rev.revision_details_request(rev.RevisionsApi.V1, "tealium", "main", "201612131954")
    assert details.path == "/v1/accounts/tealium/main/revisions/201612131954/details"
    bundle = rev.revision_bundle_request(rev.RevisionsApi.V1, "tealium", "main", "201612131954", "prod")
    assert bundle.path == "/v1/accounts/tealium/main/revisions/201612131954/prod"
    assert bundle.raw and "application/zip" in bundle.headers["Accept"]


def test_v2_requests_use_the_v2_token() -> None:
    api = rev.RevisionsApi.V2
    assert (
        rev.list_revisions_request(api, "a-b", "main").path
        == "/v2/manifest/accounts/a-b/profiles/main/revisions"
    )
    details = rev.revision_details_request(api, "a", "p", "201612131954")
    assert details.path == "/v2/manifest/accounts/a/profiles/p/revisions/201612131954/details"
    assert details.family is TokenFamily.V2
    bundle = rev.revision_bundle_request(api, "a", "p", "201612131954", "qa")
    assert bundle.path == "/v2/manifest/accounts/a/profiles/p/revisions/201612131954/environments/qa"


def test_request_builders_validate_before_sending() -> None:
    with pytest.raises(TealiumValidationError, match="revision_id"):
        rev.revision_details_request(rev.RevisionsApi.V1, "a", "p", "latest")
    with pytest.raises(TealiumValidationError, match="target"):
        rev.revision_bundle_request(rev.RevisionsApi.V1, "a", "p", "201612131954", "details")


# -- parsers -----------------------------------------------------------------------------------------------


def test_parse_seed_list_and_details() -> None:
    assert rev.parse_revision_ids(LIST, ["201508181717", "201508181719", "201508181718"]) == [
        "201508181719",
        "201508181718",
        "201508181717",
    ]
    details = rev.parse_revision_details(LIST, SEED_DETAILS)
    assert details.revision_id == "201612131954"
    assert details.targets_published == ["prod"]
    assert details.checksums["prod"]["bundle.zip"].startswith("9309")
    assert details.to_dict()["comment"] == "up to date publish"
    assert details.matches("prod") and not details.matches("dev")
    assert details.matches(pattern="^Full Release") and details.matches(pattern="up to date")
    assert not details.matches("prod", pattern="hotfix")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"revisions": []}, "expected a JSON array of revision ids"),
        (["201508181719", "latest"], "must be a revision id"),
    ],
)
def test_parse_bad_lists(body: object, message: str) -> None:
    with pytest.raises(TealiumApiError, match=message):
        rev.parse_revision_ids(LIST, body)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"revision_id": None}, "must be a revision id"),
        ({"targets_published": "prod"}, "targets_published must be an array of strings"),
        ({"checksums": {"prod": "abc"}}, r"checksums must map each target to \{file name: SHA-256\}"),
    ],
)
def test_parse_bad_details(change: dict[str, object], message: str) -> None:
    with pytest.raises(TealiumApiError, match=message):
        rev.parse_revision_details(LIST, {**SEED_DETAILS, **change})


@pytest.mark.parametrize(
    ("code", "status", "phrase"),
    [
        (1240, 400, "does not know this account, or its revisions API is not activated"),
        (1250, 400, "does not know this profile"),
        (1260, 404, "This revision has no details"),
        (1270, 400, "only for the latest revision published to it"),
    ],
)
def test_return_codes_get_clear_messages(code: int, status: int, phrase: str) -> None:
    exc = TealiumApiError("GET", LIST.path, status, "API text", return_code=code)
    explained = rev.explain_error(exc)
    assert phrase in str(explained)
    assert f"returnCode {code}" in str(explained) and "API text" in str(explained)


def test_other_errors_are_left_alone() -> None:
    exc = TealiumAuthError("GET", LIST.path, 401, "Session expired or invalid", return_code=1401)
    assert rev.explain_error(exc) is exc


# -- bundle verification -------------------------------------------------------------------------------


def make_zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


FILES = {"utag.js": b"main", "utag.1.js": b"tag one", "utag.sync.js": b"sync", "manifest.json": b"{}"}


def sums(files: dict[str, bytes], data: bytes | None = None) -> dict[str, str]:
    result = {name: hashlib.sha256(content).hexdigest() for name, content in files.items()}
    if data is not None:
        result["bundle.zip"] = hashlib.sha256(data).hexdigest()
    return result


def test_verify_good_bundle() -> None:
    data = make_zip(FILES)
    result = rev.verify_bundle(data, sums(FILES, data))
    assert result.ok()
    assert result.verified == ["bundle.zip", "manifest.json", "utag.1.js", "utag.js", "utag.sync.js"]
    assert result.bundle_sha256 == hashlib.sha256(data).hexdigest()


def test_verify_names_mismatched_and_missing_files() -> None:
    expected = sums(FILES)
    tampered = {**FILES, "utag.js": b"evil"}
    del tampered["utag.1.js"]
    result = rev.verify_bundle(make_zip(tampered), expected)
    assert not result.ok()
    assert result.mismatched == ["utag.js"] and result.missing == ["utag.1.js"]
    assert result.problems() == "SHA-256 mismatch: utag.js; missing from the zip: utag.1.js"


def test_verify_zip_checksum_and_unlisted_files() -> None:
    data = make_zip({**FILES, "mobile.html": b"<html>"})
    expected = {**sums(FILES), "bundle.zip": "0" * 64}
    result = rev.verify_bundle(data, expected)
    assert result.mismatched == ["bundle.zip"] and result.unlisted == ["mobile.html"]
    assert not result.ok() and result.problems() == "SHA-256 mismatch: bundle.zip"


def test_unlisted_non_javascript_files_are_accepted_by_default_and_reported() -> None:
    # The seed: checksums cover each JavaScript file; a bundle may hold others (mobile.html).
    result = rev.verify_bundle(make_zip({**FILES, "mobile.html": b"<html>"}), sums(FILES))
    assert result.ok() and result.problems() == ""
    assert result.unverified() == ["mobile.html"]
    assert result.ok(allow_unlisted=True) and result.unverified(True) == ["mobile.html"]
    # allow_unlisted=False: every file needs a checksum.
    assert not result.ok(allow_unlisted=False) and result.unverified(False) == []
    assert result.problems(False) == "in the zip without a checksum: mobile.html"


def test_an_unlisted_javascript_file_fails_by_default_naming_it() -> None:
    data = make_zip({**FILES, "utag.99.js": b"injected", "UTAG.X.JS": b"also", "mobile.html": b"<html>"})
    result = rev.verify_bundle(data, sums(FILES))
    assert result.unlisted == ["UTAG.X.JS", "mobile.html", "utag.99.js"]
    assert not result.ok()
    assert result.refused_unlisted() == ["UTAG.X.JS", "utag.99.js"]
    assert result.problems() == (
        "in the zip without a checksum (every JavaScript file must have one): UTAG.X.JS, utag.99.js"
    )
    assert result.unverified() == ["mobile.html"]
    # allow_unlisted=True still accepts every file without a checksum.
    assert result.ok(allow_unlisted=True) and result.unverified(True) == result.unlisted
    assert [rev.is_javascript(n) for n in ("a.js", "b.JS", "c.json", "d.jsx", "e.html")] == [
        True,
        True,
        False,
        False,
        False,
    ]


def test_verify_rejects_what_is_not_a_zip() -> None:
    with pytest.raises(TealiumValidationError, match=r"^bundle: is not a readable zip"):
        rev.verify_bundle(b"<html>error page</html>", sums(FILES))


# -- v1 login (api/auth.py) --------------------------------------------------------------------------


def config(v1_password: str | None = "pw-12345") -> object:
    extra = {"v1_password": v1_password} if v1_password else {}
    return config_from_connection("tealium_x", "me@example.com", "key-12345", extra)


def test_v1_auth_call_posts_the_password_form() -> None:
    call = auth_call(TokenFamily.V1, config(), None, None)  # type: ignore[arg-type]
    assert isinstance(call, AuthCall)
    assert call.request.path == "/v1/login" and call.request.method == "POST"
    assert call.request.form == {"username": "me@example.com", "password": "pw-12345"}
    assert call.request.family is TokenFamily.NONE and call.request.host is Host.API
    assert call.request == v1_login_request("me@example.com", "pw-12345")


def test_v1_auth_call_needs_the_v1_password() -> None:
    with pytest.raises(TealiumValidationError) as info:
        auth_call(TokenFamily.V1, config(None), None, None)  # type: ignore[arg-type]
    assert str(info.value).startswith("tealium_x.v1_password: is required by the v1 revisions API")
    assert "revisions_api='v2'" in str(info.value)


def test_v1_login_reads_cookie_and_utk() -> None:
    request = v1_login_request("me@example.com", "pw")
    headers = {"set-cookie": "AWSALB=xyz; Path=/, JSESSIONID=ABC123DEF; Path=/; HttpOnly"}
    token = parse_v1_login(request, ApiResponse(200, headers, b'{"utk": "u-token-1"}'), 1000.0)
    assert token.token == "ABC123DEF"
    assert token.headers == (("Cookie", "JSESSIONID=ABC123DEF"),)
    assert token.params == (("utk", "u-token-1"),)
    assert set(token.secrets) == {"ABC123DEF", "u-token-1"}
    assert token.expires_at > token.issued_at == 1000.0
    assert "ABC123DEF" not in repr(token) and "u-token-1" not in repr(token)
    call = auth_call(TokenFamily.V1, config(), None, None)  # type: ignore[arg-type]
    assert call.read(ApiResponse(200, headers, b'{"utk": "u-token-1"}'), 1000.0) == token


@pytest.mark.parametrize(
    ("headers", "body", "message"),
    [
        ({}, b'{"utk": "u"}', "sets no JSESSIONID cookie"),
        ({"set-cookie": "JSESSIONID=A1; Path=/"}, b"{}", "has no utk"),
        ({"set-cookie": "JSESSIONID=A1; Path=/"}, b"<html>", "has no utk"),
    ],
)
def test_v1_login_bad_answers(headers: dict[str, str], body: bytes, message: str) -> None:
    with pytest.raises(TealiumApiError, match=message):
        parse_v1_login(v1_login_request("me@example.com", "pw"), ApiResponse(200, headers, body), 0.0)


def test_v1_refresh_is_well_before_assumed_expiry() -> None:
    token = parse_v1_login(
        v1_login_request("e", "p"), ApiResponse(200, {"set-cookie": "JSESSIONID=A1"}, b'{"utk":"u"}'), 0.0
    )
    assert timedelta(seconds=token.expires_at - token.refresh_at) == timedelta(seconds=60)
