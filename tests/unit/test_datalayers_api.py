"""api/datalayers.py: every validation rule with its exact message, request builders, parsers, landing logic."""

from __future__ import annotations

import datetime as dt
import json
import math

import pendulum
import pytest

from airflow_provider_tealium.api import datalayers as dle
from airflow_provider_tealium.api.request import Host, TokenFamily
from airflow_provider_tealium.exceptions import TealiumValidationError, TealiumValidationErrors

ACC, PROF = "acme", "main"


def only_error(datalayer_id: object, data: object = None) -> str:
    errors, prepared = dle.upload_errors(ACC, PROF, datalayer_id, {"a": 1} if data is None else data)
    assert prepared is None
    assert len(errors) == 1, [str(e) for e in errors]
    return str(errors[0])


# -- datalayer_id rules ---------------------------------------------------------------------------------


def test_id_with_whitespace() -> None:
    assert only_error("sku 1") == "datalayers['sku 1'].datalayer_id: must not contain whitespace"
    assert only_error("sku\t1") == "datalayers['sku\\t1'].datalayer_id: must not contain whitespace"


@pytest.mark.parametrize("char", list(dle.RESTRICTED_CHARACTERS))
def test_id_with_each_restricted_character(char: str) -> None:
    message = only_error(f"sku{char}1")
    assert message.startswith(f"datalayers[{f'sku{char}1'!r}].datalayer_id: must not contain any of ")
    assert message.endswith(f"(found {char})")


def test_id_restricted_and_whitespace_reported_together() -> None:
    errors, _ = dle.upload_errors(ACC, PROF, "a b/c.d", {"a": 1})
    rules = [e.rule for e in errors]
    assert rules[0] == "must not contain whitespace"
    assert rules[1].endswith("(found . /)")


def test_id_combined_length() -> None:
    ok_id = "x" * (250 - len(ACC) - len(PROF))
    assert dle.upload_errors(ACC, PROF, ok_id, {"a": 1})[1] is not None
    message = only_error(ok_id + "y")
    assert message == (
        f"datalayers[{ok_id + 'y'!r}].datalayer_id: account + profile + datalayer_id must be at most 250 "
        "characters (got 251)"
    )


def test_id_empty_and_not_a_string() -> None:
    assert only_error("") == "datalayers[''].datalayer_id: must not be empty"
    assert only_error(12) == "datalayers[12].datalayer_id: must be a string (got 12)"


# -- body rules -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("empty", [{}, None, [], ""])
def test_empty_body(empty: object) -> None:
    errors, _ = dle.data_errors("sku-1", empty)
    assert [str(e) for e in errors] == ["datalayers['sku-1'].data: must not be empty"]


def test_body_must_be_an_object() -> None:
    errors, _ = dle.data_errors("sku-1", [1, 2])
    assert str(errors[0]) == "datalayers['sku-1'].data: must be a JSON object (got a list)"


def test_key_with_period_at_any_depth() -> None:
    data = {"a.b": 1, "nested": {"ok": {"c.d": 2}}, "items": [{"e.f": 3}]}
    errors, _ = dle.data_errors("sku-1", data)
    assert [str(e) for e in errors] == [
        "datalayers['sku-1'].data.a.b: keys must not contain a period",
        "datalayers['sku-1'].data.nested.ok.c.d: keys must not contain a period",
        "datalayers['sku-1'].data.items[0].e.f: keys must not contain a period",
    ]


def test_values_not_json_serialisable() -> None:
    data = {"when": dt.datetime(2026, 1, 1), "tags": [{1, 2}], "price": math.nan, 3: "x"}
    errors, _ = dle.data_errors("sku-1", data)
    assert [str(e) for e in errors] == [
        "datalayers['sku-1'].data.when: must be JSON-serialisable (got a datetime)",
        "datalayers['sku-1'].data.tags[0]: must be JSON-serialisable (got a set)",
        "datalayers['sku-1'].data.price: must be JSON-serialisable (NaN and infinity are not)",
        "datalayers['sku-1'].data: keys must be strings (got a int key) (got 3)",
    ]


def test_payload_over_one_megabyte() -> None:
    limit_body = {"v": "x" * (dle.MAX_BODY_BYTES - len('{"v":""}'))}
    errors, body = dle.data_errors("sku-1", limit_body)
    assert not errors and body is not None and len(body) == dle.MAX_BODY_BYTES
    errors, body = dle.data_errors("sku-1", {"v": "x" * dle.MAX_BODY_BYTES})
    assert body is None
    assert str(errors[0]) == (
        f"datalayers['sku-1'].data: must be at most {dle.MAX_BODY_BYTES} bytes once serialised "
        f"(got {dle.MAX_BODY_BYTES + 8})"
    )


def test_size_counts_utf8_bytes_not_characters() -> None:
    errors, _ = dle.data_errors("sku-1", {"v": "é" * (dle.MAX_BODY_BYTES // 2)})
    assert "must be at most" in str(errors[0])


@pytest.mark.parametrize("value", ["xml", "JS", "js"])
def test_unknown_file_type(value: str) -> None:
    with pytest.raises(TealiumValidationError) as info:
        dle.parse_file_type(value)
    assert str(info.value) == f"file_type: must be absent, 'json' or 'javascript' (got {value!r})"


def test_known_file_types() -> None:
    assert dle.parse_file_type(None) is None
    assert dle.parse_file_type("") is None
    assert dle.parse_file_type("JSON") is dle.FileType.JSON
    assert dle.parse_file_type("javascript") is dle.FileType.JAVASCRIPT


def test_prepare_upload_raises_all_errors_together() -> None:
    with pytest.raises(TealiumValidationErrors) as info:
        dle.prepare_upload(ACC, PROF, "bad id", {"a.b": 1})
    assert "2 invalid item(s)" in str(info.value)
    assert "datalayers['bad id'].datalayer_id: must not contain whitespace" in str(info.value)
    assert "datalayers['bad id'].data.a.b: keys must not contain a period" in str(info.value)


def test_rate_rules() -> None:
    assert dle.validate_rate(100) == 100.0
    with pytest.raises(TealiumValidationError) as info:
        dle.validate_rate(101)
    assert (
        str(info.value) == "requests_per_second: must be at most 100 (Tealium's documented maximum) (got 101)"
    )
    for bad in (0, -1, math.inf, True, "50"):
        with pytest.raises(TealiumValidationError, match="must be a number > 0"):
            dle.validate_rate(bad)  # type: ignore[arg-type]


def test_mode_rule() -> None:
    assert dle.parse_mode("UPSERT") is dle.UploadMode.UPSERT
    with pytest.raises(TealiumValidationError, match="mode: must be 'create', 'update' or 'upsert'"):
        dle.parse_mode("replace")


# -- request builders -------------------------------------------------------------------------------------


def test_upload_requests() -> None:
    prepared = dle.prepare_upload(ACC, PROF, "sku-1", {"key1": "value1", "key2": "value2"})
    post = dle.upload_request(ACC, PROF, prepared, file_type=dle.FileType.JSON)
    assert (post.method, post.path) == ("POST", "/v2/dle/accounts/acme/profiles/main/datalayers/sku-1")
    assert post.params == [("file-type", "json")]
    assert (post.family, post.host) == (TokenFamily.V2, Host.API)
    assert post.ok_statuses == {200, 201} and post.idempotent
    assert post.body_bytes() == b'{"key1":"value1","key2":"value2"}'
    put = dle.upload_request(ACC, PROF, prepared, update=True)
    assert put.method == "PUT" and put.params == []


def test_get_delete_requests_validate_ids() -> None:
    assert dle.metadata_request(ACC, PROF, "sku-1").ok_statuses == {200, 404}
    assert dle.delete_request(ACC, PROF, "sku-1", file_type=dle.FileType.JAVASCRIPT).params == [
        ("file-type", "javascript")
    ]
    with pytest.raises(TealiumValidationError, match="must not contain whitespace"):
        dle.metadata_request(ACC, PROF, "a b")


def test_list_request_decodes_the_continuation_token_once() -> None:
    token = "1bQZ%2BZd3%2FLK%3D"
    request = dle.list_request(ACC, PROF, token)
    assert request.params == [("continuationToken", "1bQZ+Zd3/LK=")]
    assert dle.list_request(ACC, PROF).params == []


def test_failed_uploads_dates() -> None:
    start = pendulum.datetime(2017, 3, 31, 13, 45, 33, tz="America/Los_Angeles")
    request = dle.failed_uploads_request(ACC, PROF, start, dt.datetime(2017, 4, 1, 0, 0, 0))
    assert request.path == "/v2/dle/accounts/acme/profiles/main/failed-uploads"
    assert request.params == [
        ("start-date", "2017-03-31T13:45:33-0700"),
        ("end-date", "2017-04-01T00:00:00+0000"),
    ]
    assert dle.failed_uploads_request(ACC, PROF).params == []
    with pytest.raises(TealiumValidationError, match="must be an ISO 8601 date-time"):
        dle.format_date("yesterday")


def test_cdn_url() -> None:
    assert dle.cdn_url("acme", "main", "sku-1") == "https://tags.tiqcdn.com/dle/acme/main/sku-1.js"
    assert dle.cdn_url("acme", "main", "sku-1", "json") == "https://tags.tiqcdn.com/dle/acme/main/sku-1.json"
    assert dle.cdn_url("acme", "main", "sku-1", "javascript").endswith("sku-1.js")


# -- parsers (the seed's examples) ------------------------------------------------------------------------

SEED_PAGE = {
    "isTruncated": True,
    "continuationToken": "1bQZQPYomjLBOQxhZhMazJVoPcrW9iEtOcPhcRQVlMZWx9IssfpisOKt0Kb85bVlRDbkR7NR%2BZd3eUgB0vnx5eomAoz5KX0K2qgcNMOwiJXdbN5CtD4A%2B%2FLK%2B%2Fj0AJ1eYXEu2l%2F9Z%2FGk%3D",
    "fileStatuses": [
        {"file": "dle/tealium/main/datalayer1.js", "lastModified": "2017-04-07T02:41:24+0000", "size": 70},
        {"file": "dle/tealium/main/datalayer3.json", "lastModified": "2017-04-07T02:40:30+0000", "size": 86},
    ],
}


def test_parse_seed_listing() -> None:
    page = dle.parse_page(SEED_PAGE)
    assert page.is_truncated and page.continuation_token == SEED_PAGE["continuationToken"]
    first, second = page.files
    assert (first.datalayer_id, first.file_type, first.size) == ("datalayer1", dle.FileType.JAVASCRIPT, 70)
    assert first.last_modified == dt.datetime(2017, 4, 7, 2, 41, 24, tzinfo=dt.timezone.utc)
    assert (second.datalayer_id, second.file_type) == ("datalayer3", dle.FileType.JSON)
    last = dle.parse_page({"isTruncated": False, "fileStatuses": []})
    assert not last.is_truncated and last.files == []


def test_parse_seed_failed_uploads() -> None:
    body = {
        "account": "your_account",
        "profile": "main",
        "count": 2,
        "failedUploads": [
            {"file": "/dle/your_account/main/forremoval2.js", "date": "2017-05-20T17:22:00+0000"},
            {"file": "/dle/your_account/main/forremoval.json", "date": "2017-05-20T17:22:00+0000"},
        ],
    }
    failed = dle.parse_failed_uploads(body)
    assert [(f.datalayer_id, f.file_type) for f in failed] == [
        ("forremoval2", dle.FileType.JAVASCRIPT),
        ("forremoval", dle.FileType.JSON),
    ]


# -- landing logic ----------------------------------------------------------------------------------------


def meta(datalayer_id: str, when: str, size: int = 10, ext: str = "js") -> dle.DataLayerFile:
    return dle.parse_file({"file": f"dle/a/p/{datalayer_id}.{ext}", "lastModified": when, "size": size})


def test_check_landing_compares_to_the_second() -> None:
    since = dt.datetime(2026, 1, 1, 12, 0, 0, 700000, tzinfo=dt.timezone.utc)
    files = {
        "same-second": meta("same-second", "2026-01-01T12:00:00+0000"),
        "old": meta("old", "2026-01-01T11:59:59+0000"),
        "wrong-size": meta("wrong-size", "2026-01-01T12:00:05+0000", size=3),
    }
    check = dle.check_landing(
        ["same-second", "old", "wrong-size", "absent"], files, since, {"wrong-size": 10}
    )
    assert list(check.landed) == ["same-second"]
    assert check.pending == {
        "old": "lastModified 2026-01-01T11:59:59+0000 is before 2026-01-01T12:00:00+0000",
        "wrong-size": "size 3, expected 10",
        "absent": "not found yet",
    }


def test_check_landing_fails_only_on_failures_after_since_of_the_same_type() -> None:
    since = dt.datetime(2026, 1, 1, 12, tzinfo=dt.timezone.utc)
    failed = dle.parse_failed_uploads(
        {
            "failedUploads": [
                {"file": "/dle/a/p/new.js", "date": "2026-01-01T12:00:03+0000"},
                {"file": "/dle/a/p/stale.js", "date": "2026-01-01T11:00:00+0000"},
                {"file": "/dle/a/p/json-only.json", "date": "2026-01-01T12:00:03+0000"},
            ]
        }
    )
    check = dle.check_landing(["new", "stale", "json-only"], {}, since, None, failed)
    assert check.failed == {"new": "2026-01-01T12:00:03+0000"}
    assert set(check.pending) == {"stale", "json-only"}
    assert "new (2026-01-01T12:00:03+0000)" in dle.failed_message(check.failed)


def test_poll_strategy_by_count() -> None:
    assert dle.choose_poll_strategy(5, None, 25) is dle.PollStrategy.PER_ID
    assert dle.choose_poll_strategy(26, None, 25) is dle.PollStrategy.LIST
    # A listing that took 40 pages: per-id is cheaper for up to 40 pending ids.
    assert dle.choose_poll_strategy(40, 40, 25) is dle.PollStrategy.PER_ID
    assert dle.choose_poll_strategy(41, 40, 25) is dle.PollStrategy.LIST


def test_serialise_is_what_is_sized() -> None:
    body = dle.serialise({"name": "Crème", "n": 1})
    assert json.loads(body) == {"name": "Crème", "n": 1}
    assert body == '{"name":"Crème","n":1}'.encode()
