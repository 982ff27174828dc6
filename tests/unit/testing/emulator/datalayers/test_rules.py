"""The Hosted Data Layer rules, each from the seed's list of 400 causes."""

from __future__ import annotations

import json

import pytest

from airflow_provider_tealium.testing.emulator.datalayers import rules

RESTRICTED = "/:?#[]@!$&'()\\+,;=%.\""


@pytest.mark.parametrize("char", list(RESTRICTED))
def test_every_restricted_character_is_refused(char: str) -> None:
    (problem,) = rules.datalayer_id_problems("demo", "main", f"sku{char}1")
    assert "must not contain any of" in problem and f"(found {char})" in problem


@pytest.mark.parametrize("space", [" ", "\t", "\n", "\u00a0"])
def test_whitespace_is_refused(space: str) -> None:
    assert rules.datalayer_id_problems("demo", "main", f"sku{space}1") == [
        "datalayer_id: must not contain whitespace"
    ]


def test_account_profile_and_id_share_250_characters() -> None:
    assert rules.datalayer_id_problems("demo", "main", "x" * 242) == []
    (problem,) = rules.datalayer_id_problems("demo", "main", "x" * 243)
    assert "at most 250 characters (got 251)" in problem
    assert rules.datalayer_id_problems("demo", "main", "") == ["datalayer_id: must not be empty"]
    assert rules.datalayer_id_problems("demo", "main", "sku-1_ok~é") == []


@pytest.mark.parametrize(
    ("value", "problems"), [(None, 0), ("json", 0), ("javascript", 0), ("JSON", 1), ("", 1), ("xml", 1)]
)
def test_file_type_is_absent_json_or_javascript(value: str | None, problems: int) -> None:
    assert len(rules.file_type_problems(value)) == problems
    if not problems:
        assert rules.extension(value) == ("json" if value == "json" else "js")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"", "body: must not be empty"),
        (b"  \n", "body: must not be empty"),
        (b"{}", "body: must not be empty"),
        (b"{not json", "body: must be valid JSON"),
        (b'{"a": NaN}', "body: must be valid JSON"),
        (b"[1, 2]", "body: must be a JSON object (got a JSON list)"),
        (b'{"a.b": 1}', "data.a.b: keys must not contain a period"),
        (b'{"a": {"b": [{"c.d": 1}]}}', "data.a.b[0].c.d: keys must not contain a period"),
    ],
)
def test_bodies_the_seed_says_are_refused(raw: bytes, expected: str) -> None:
    assert rules.body_problems(raw) == [expected]


def test_the_body_may_be_1_mb_and_no_more() -> None:
    overhead = len(b'{"k":""}')
    assert (
        rules.body_problems(json.dumps({"k": "x" * (1_000_000 - overhead)}, separators=(",", ":")).encode())
        == []
    )
    too_big = json.dumps({"k": "x" * (1_000_001 - overhead)}, separators=(",", ":")).encode()
    assert rules.body_problems(too_big) == ["body: must be at most 1000000 bytes (got 1000001 bytes)"]


def test_a_deeply_nested_body_is_answered_not_crashed_on() -> None:
    assert rules.body_problems(b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}") == [
        "body: must be valid JSON"
    ]
    deep = b'{"a":' + b'{"b":' * 5000 + b"1" + b"}" * 5000 + b"}"
    assert rules.body_problems(deep) in ([], ["body: must be valid JSON"])


def test_the_documented_answers() -> None:
    error = rules.invalid_request(["body: must not be empty"])
    assert (error.status, error.body["returnCode"]) == (400, 1400)
    assert error.body["message"] == (
        "Invalid request submission. Please check supplied parameters or request body. (body: must not be empty)"
    )
    assert rules.not_found("sku-1").body == {
        "returnCode": 1404,
        "message": "Could not locate data layer identified by sku-1",
    }
