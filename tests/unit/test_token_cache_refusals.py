"""hooks/token_cache.py's memory of refused logins: pure, no network."""

from __future__ import annotations

import hashlib
import time

from airflow_provider_tealium.api import auth
from airflow_provider_tealium.exceptions import TealiumApiError, TealiumAuthError
from airflow_provider_tealium.hooks.token_cache import REFUSAL_TTL, TokenCache, TokenKey, secret_digest

KEY = TokenKey("v1", "http://api", "", "", "user@example.com", "digest")
SECRET = "wrong-pw-9876"


def refused_login(code: int = 1401, message: str = "Authentication Failed") -> TealiumAuthError:
    return TealiumAuthError(
        "POST", auth.V1_LOGIN_PATH, 401, message, return_code=code, hint="Check the 'v1_password' extra."
    )


def test_a_refused_secret_is_answered_from_memory_with_the_same_error() -> None:
    cache = TokenCache()
    original = refused_login()
    try:
        raise original  # gives it a traceback, whose frames must not be kept
    except TealiumAuthError as exc:
        cache.refuse(KEY, secret_digest(SECRET), exc, now=1000.0)
    again = cache.refusal(KEY, secret_digest(SECRET), now=1030.0)
    assert isinstance(again, TealiumAuthError) and again is not original
    assert (again.method, again.path, again.status, again.return_code, again.api_message) == (
        "POST",
        "/v1/login",
        401,
        1401,
        "Authentication Failed",
    )
    assert str(again).startswith(str(original))
    assert "refused 30 s ago" in str(again) and "for 570 s" in str(again)
    assert again.__traceback__ is None
    # Each caller gets its own exception object (threads raising one object would chain tracebacks).
    assert cache.refusal(KEY, secret_digest(SECRET), now=1031.0) is not again


def test_another_secret_another_key_or_an_expired_refusal_logs_in_again() -> None:
    cache = TokenCache()
    cache.refuse(KEY, secret_digest(SECRET), refused_login(), now=1000.0)
    assert cache.refusal(KEY, secret_digest("the-fixed-password"), now=1001.0) is None
    assert cache.refusal(KEY._replace(user="other@example.com"), secret_digest(SECRET), now=1001.0) is None
    assert cache.refusal(KEY, secret_digest(SECRET), now=1000.0 + REFUSAL_TTL - 1) is not None
    assert cache.refusal(KEY, secret_digest(SECRET), now=1000.0 + REFUSAL_TTL) is None
    # Once expired it is forgotten, even if the clock were read earlier again.
    assert cache.refusal(KEY, secret_digest(SECRET), now=1001.0) is None


def test_the_ttl_is_ten_minutes_by_default_and_configurable() -> None:
    assert REFUSAL_TTL == 600.0
    cache = TokenCache(refusal_ttl=5.0)
    cache.refuse(KEY, secret_digest(SECRET), refused_login(), now=0.0)
    assert cache.refusal(KEY, secret_digest(SECRET), now=4.9) is not None
    assert cache.refusal(KEY, secret_digest(SECRET), now=5.0) is None


def test_a_successful_login_or_clear_forgets_the_refusal() -> None:
    cache = TokenCache()
    cache.refuse(KEY, secret_digest(SECRET), refused_login(), now=time.time())
    now = time.time()
    cache.put(KEY, auth.IssuedToken(token="session", host=None, issued_at=now, expires_at=now + 100))
    assert cache.refusal(KEY, secret_digest(SECRET)) is None
    cache.refuse(KEY, secret_digest(SECRET), refused_login(1402, "Too many unsuccessful login attempts"))
    assert isinstance(cache.refusal(KEY, secret_digest(SECRET)), TealiumApiError)
    cache.clear()
    assert cache.refusal(KEY, secret_digest(SECRET)) is None


def test_the_secret_is_never_stored() -> None:
    cache = TokenCache()
    cache.refuse(KEY, secret_digest(SECRET), refused_login())
    kept = repr(vars(cache)) + repr([vars(r) for r in cache._refused.values()])
    assert SECRET not in kept
    # Not even its plain SHA-256, which a table of common passwords would reverse: the digest is keyed.
    assert hashlib.sha256(SECRET.encode()).hexdigest() not in kept
    assert secret_digest(SECRET) == secret_digest(SECRET) != secret_digest(SECRET + "x")
    assert len(secret_digest(None)) == 64
