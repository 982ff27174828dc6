"""The pure layer: connection settings, retry rules, error parsing, tokens, the token cache."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time

import jwt
import pytest

from airflow_provider_tealium.api import auth
from airflow_provider_tealium.api.config import config_from_connection
from airflow_provider_tealium.api.errors import error_from_response, parse_error_body
from airflow_provider_tealium.api.request import ApiRequest, ApiResponse, Host, TokenFamily
from airflow_provider_tealium.api.retry import (
    FailureKind,
    RetryPolicy,
    Step,
    decide_on_answer,
    decide_on_failure,
    parse_retry_after,
)
from airflow_provider_tealium.exceptions import TealiumAuthError, TealiumValidationError
from airflow_provider_tealium.hooks.token_cache import TokenCache, TokenKey

# -- connection settings -----------------------------------------------------------------------------------


def test_config_defaults_and_extras() -> None:
    cfg = config_from_connection(
        "c",
        "me@example.com",
        "key-123456",
        '{"account": "acme", "profile": "main", "platform_base_url": "http://127.0.0.1:1/", "max_retries": "2"}',
    )
    assert (cfg.account, cfg.profile) == ("acme", "main")
    assert cfg.platform_base_url == "http://127.0.0.1:1"
    assert cfg.api_base_url == auth.DEFAULT_API_BASE_URL
    assert cfg.retry.max_retries == 2
    assert "key-123456" not in repr(cfg)


def test_config_hook_arguments_override_extras() -> None:
    cfg = config_from_connection(
        "c",
        "me@example.com",
        "k" * 10,
        {"account": "acme", "timeout": 5, "extra__tealium__profile": "legacy"},
        account="other",
        retry_overrides={"timeout": 2.5, "max_retries": None},
    )
    assert cfg.account == "other"
    assert cfg.profile == "legacy"
    assert cfg.retry.timeout == 2.5
    assert cfg.retry.max_retries == 5


@pytest.mark.parametrize(
    ("login", "password", "extra", "field"),
    [
        (None, "k", None, "c.login"),
        ("a@b.c", "", None, "c.password"),
        ("a@b.c", "k", "{not json", "extra"),
        ("a@b.c", "k", '["a list"]', "extra"),
        ("a@b.c", "k", {"api_base_url": "ftp://x"}, "c.api_base_url"),
        ("a@b.c", "k", {"max_retries": "many"}, "c.max_retries"),
        ("a@b.c", "k", {"timeout": 0}, "c.timeout"),
    ],
)
def test_config_errors_name_the_field(login: str | None, password: str, extra: object, field: str) -> None:
    with pytest.raises(TealiumValidationError) as err:
        config_from_connection("c", login, password, extra)  # type: ignore[arg-type]
    assert err.value.field == field


def test_account_profile_required_with_clear_message() -> None:
    cfg = config_from_connection("conn", "a@b.c", "k", {})
    with pytest.raises(TealiumValidationError, match=r"account: is required.*'account' extra on 'conn'"):
        cfg.account_profile(None, "main")
    assert cfg.account_profile("a", "p") == ("a", "p")


# -- retry rules ---------------------------------------------------------------------------------------------

POLICY = RetryPolicy(max_retries=3, backoff_base=1.0, backoff_max=8.0)


def _answer(status: int, **kw: object) -> Step:
    args: dict = dict(
        status=status, retry_after=None, ok=status == 200, idempotent=True, uses_token=True, refreshed=False
    )
    args.update(kw)
    return decide_on_answer(POLICY, retries_used=0, **args).step


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504, 507, 520, 522, 599])
def test_transient_statuses_are_retried(status: int) -> None:
    assert _answer(status) is Step.RETRY


@pytest.mark.parametrize("status", [501, 505])
def test_server_errors_that_can_never_work_fail_fast(status: int) -> None:
    assert _answer(status) is Step.FAIL


@pytest.mark.parametrize("status", [400, 403, 404, 409, 422])
def test_other_client_errors_fail_fast(status: int) -> None:
    assert _answer(status) is Step.FAIL


def test_401_refreshes_once_then_fails() -> None:
    assert _answer(401) is Step.REFRESH
    assert _answer(401, refreshed=True) is Step.FAIL
    assert _answer(401, uses_token=False) is Step.FAIL  # a refused login is never retried


def test_non_idempotent_resent_only_when_not_processed() -> None:
    assert _answer(429, idempotent=False) is Step.RETRY
    assert _answer(503, idempotent=False) is Step.RETRY
    assert _answer(500, idempotent=False) is Step.FAIL
    assert _answer(502, idempotent=False) is Step.FAIL


def test_retries_run_out() -> None:
    d = decide_on_answer(
        POLICY,
        status=503,
        retry_after=None,
        ok=False,
        idempotent=True,
        uses_token=True,
        refreshed=False,
        retries_used=3,
    )
    assert d.step is Step.FAIL


def test_failures_without_answer() -> None:
    assert (
        decide_on_failure(POLICY, kind=FailureKind.NOT_SENT, idempotent=False, retries_used=0).step
        is Step.RETRY
    )
    assert (
        decide_on_failure(POLICY, kind=FailureKind.MAYBE_SENT, idempotent=True, retries_used=0).step
        is Step.RETRY
    )
    assert (
        decide_on_failure(POLICY, kind=FailureKind.MAYBE_SENT, idempotent=False, retries_used=0).step
        is Step.FAIL
    )
    assert (
        decide_on_failure(POLICY, kind=FailureKind.NOT_SENT, idempotent=True, retries_used=3).step
        is Step.FAIL
    )


def test_backoff_grows_with_jitter_and_honours_retry_after() -> None:
    for n, step in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 8.0)]:
        delays = {POLICY.backoff(n) for _ in range(50)}
        assert all(step / 2 <= d <= step for d in delays)
        assert len(delays) > 1  # jittered
    assert POLICY.backoff(1, retry_after=7.0) == 7.0
    assert POLICY.backoff(1, retry_after=10_000) == POLICY.retry_after_max


def test_parse_retry_after() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past


def test_policy_round_trips_through_json() -> None:
    policy = RetryPolicy(max_retries=1, timeout=3)
    assert RetryPolicy.from_dict(policy.to_dict()) == policy
    with pytest.raises(ValueError, match="max_retries"):
        RetryPolicy(max_retries=-1)


# -- errors ----------------------------------------------------------------------------------------------------


def test_error_bodies_of_every_shape() -> None:
    assert parse_error_body(b'{"returnCode": 1400, "message": "Invalid request"}') == (
        1400,
        "Invalid request",
    )
    iqm = b'{"success": false, "errorObjects": [{"error": "Invalid", "reason": "too long", "field": "name"}]}'
    assert parse_error_body(iqm) == ("Invalid", "Invalid (field name): too long")
    assert parse_error_body(b"<html>Bad gateway</html>") == (None, "<html>Bad gateway</html>")
    assert parse_error_body(b"") == (None, "(empty answer)")


def test_error_carries_status_code_message_and_path_but_no_query() -> None:
    req = ApiRequest(
        "GET", "/v1/accounts/a/p/revisions", TokenFamily.V1, Host.API, params=[("utk", "SECRET")]
    )
    err = error_from_response(
        req, ApiResponse(401, {}, b'{"returnCode":1401,"message":"Authentication Failed"}')
    )
    assert isinstance(err, TealiumAuthError)
    assert (err.status, err.return_code, err.method, err.path) == (
        401,
        1401,
        "GET",
        "/v1/accounts/a/p/revisions",
    )
    assert "SECRET" not in str(err)
    assert str(err).startswith("GET /v1/accounts/a/p/revisions failed: HTTP 401, returnCode 1401")


# -- tokens ----------------------------------------------------------------------------------------------------


def _jwt(iat: float, lifetime: float) -> str:
    return jwt.encode({"iat": int(iat), "exp": int(iat + lifetime)}, "s" * 32, algorithm="HS256")


def test_token_times_from_jwt_and_refresh_margin() -> None:
    now = time.time()
    req = auth.v3_auth_request("acc", "main", "a@b.c", "key")
    tok = auth.parse_token_answer(
        req, {"token": _jwt(now, 1800), "host": "eu-central-1-platform.tealiumapis.com"}, now, needs_host=True
    )
    assert tok.expires_at - tok.issued_at == 1800
    assert tok.refresh_at == tok.expires_at - 60
    short = auth.parse_token_answer(
        req, {"token": _jwt(now, 5), "host": "h.tealiumapis.com"}, now, needs_host=True
    )
    assert short.refresh_at == pytest.approx(short.expires_at - 0.5)
    assert dict(tok.headers) == {"Authorization": f"Bearer {tok.token}"}
    assert tok.token not in repr(tok)


def test_opaque_token_gets_documented_lifetime() -> None:
    req = auth.v2_auth_request("a@b.c", "key")
    tok = auth.parse_token_answer(req, {"token": "opaque"}, 1000.0, needs_host=False)
    assert tok.expires_at == 1000.0 + auth.DEFAULT_TOKEN_LIFETIME


@pytest.mark.parametrize(
    ("token", "claims"),
    [
        (
            jwt.encode({"iat": 100, "exp": 1900, "sub": "u"}, "s" * 32, algorithm="HS256"),
            {"iat": 100, "exp": 1900, "sub": "u"},
        ),
        ("not-a-jwt", {}),
        ("a.!!!.c", {}),
        ("a." + base64.urlsafe_b64encode(b"[1, 2]").decode().rstrip("=") + ".c", {}),
        ("a." + base64.urlsafe_b64encode(b"\xff\xfe").decode().rstrip("=") + ".c", {}),
    ],
)
def test_jwt_claims_are_read_without_pyjwt(token: str, claims: dict[str, object]) -> None:
    # The same claims pyjwt's unverified decode gives, from the standard library alone.
    assert auth.jwt_claims(token) == claims


def test_non_numeric_or_non_finite_expiry_falls_back_to_the_documented_lifetime() -> None:
    for exp in ("soon", True, float("inf"), float("nan")):
        payload = base64.urlsafe_b64encode(json.dumps({"exp": exp}).encode()).decode().rstrip("=")
        assert auth.token_times(f"h.{payload}.s", 50.0) == (50.0, 50.0 + auth.DEFAULT_TOKEN_LIFETIME)


def test_v3_answer_without_host_is_an_error() -> None:
    req = auth.v3_auth_request("acc", "main", "a@b.c", "key")
    with pytest.raises(Exception, match="no region host"):
        auth.parse_token_answer(req, {"token": "t"}, 0.0, needs_host=True)


def test_auth_requests_match_the_documented_shape() -> None:
    req = auth.v3_auth_request("my-acct", "main", "a@b.c", "the-key")
    assert (req.method, req.path, req.host) == (
        "POST",
        "/v3/auth/accounts/my-acct/profiles/main",
        Host.PLATFORM,
    )
    assert req.form == {"username": "a@b.c", "key": "the-key"}
    v2 = auth.v2_auth_request("a@b.c", "the-key")
    assert (v2.path, v2.host, v2.form) == ("/v2/auth", Host.API, {"username": "a@b.c", "key": "the-key"})


def test_region_base_url_keeps_configured_scheme() -> None:
    assert auth.region_base_url("http://127.0.0.1:9", "127.0.0.1:10") == "http://127.0.0.1:10"
    assert auth.region_base_url("https://platform.tealiumapis.com", "us-east-1-platform.tealiumapis.com") == (
        "https://us-east-1-platform.tealiumapis.com"
    )


# -- the cache -------------------------------------------------------------------------------------------------


def _token(value: str, lifetime: float = 100.0) -> auth.IssuedToken:
    now = time.time()
    return auth.IssuedToken(token=value, host=None, issued_at=now, expires_at=now + lifetime)


KEY = TokenKey("v3", "http://x", "a", "p", "u", "digest")


def test_cache_returns_until_refresh_time() -> None:
    cache = TokenCache()
    tok = _token("t1", lifetime=100)
    cache.put(KEY, tok)
    assert cache.get(KEY) is tok
    assert cache.get(KEY, now=tok.refresh_at + 0.01) is None


def test_invalidate_spares_a_newer_token() -> None:
    cache = TokenCache()
    old, new = _token("old"), _token("new")
    cache.put(KEY, new)
    cache.invalidate(KEY, old)
    assert cache.get(KEY) is new
    cache.invalidate(KEY, new)
    assert cache.get(KEY) is None


def test_thread_and_loop_locks_are_per_key() -> None:
    cache = TokenCache()
    assert cache.thread_lock(KEY) is cache.thread_lock(KEY)
    assert cache.thread_lock(KEY) is not cache.thread_lock(KEY._replace(profile="q"))

    async def locks() -> tuple[asyncio.Lock, asyncio.Lock]:
        return cache.loop_lock(KEY), cache.loop_lock(KEY)

    a, b = asyncio.run(locks())
    c, _ = asyncio.run(locks())
    assert a is b
    assert a is not c  # a new event loop gets its own lock


def test_concurrent_threads_see_one_token() -> None:
    cache = TokenCache()
    minted: list[str] = []

    def get() -> None:
        if cache.get(KEY):
            return
        with cache.thread_lock(KEY):
            if cache.get(KEY) is None:
                time.sleep(0.01)
                minted.append("x")
                cache.put(KEY, _token("t"))

    threads = [threading.Thread(target=get) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert minted == ["x"]
