"""The auth backend by plain method calls: credentials, token scope, v1 sessions and the 1402 lockout."""

from __future__ import annotations

import jwt
import pytest

from airflow_provider_tealium.testing.emulator.auth.backend import AuthBackend, v1_sessions
from airflow_provider_tealium.testing.emulator.errors import EmulatorHTTPError
from airflow_provider_tealium.testing.emulator.state import (
    DEFAULT_API_KEY,
    DEFAULT_EMAIL,
    DEFAULT_V1_PASSWORD,
    EmulatorState,
)


def refusal(call: object, *args: object, **kwargs: object) -> tuple[int, object]:
    with pytest.raises(EmulatorHTTPError) as info:
        call(*args, **kwargs)  # type: ignore[operator]
    return info.value.status, info.value.body


def test_wrong_or_missing_credentials_are_refused_as_documented() -> None:
    backend = v1_sessions(EmulatorState())

    assert refusal(backend.v2_token, DEFAULT_EMAIL, "wrong") == (
        401,
        {"returnCode": 1401, "message": "Authentication Failed"},
    )
    assert refusal(backend.v2_token, "", DEFAULT_API_KEY)[0] == 400
    assert backend.state.auth_failures == 1  # a missing field is no failed login
    assert backend.state.mints.total() == 0


def test_v3_tokens_are_scoped_to_their_profile_and_counted() -> None:
    backend = v1_sessions(EmulatorState())

    token = backend.v3_token(DEFAULT_EMAIL, DEFAULT_API_KEY, "acme", "web")

    claims = jwt.decode(token, backend.state.signing_secret, algorithms=["HS256"])
    assert (claims["fam"], claims["acct"], claims["prof"], claims["sub"]) == (
        "v3",
        "acme",
        "web",
        DEFAULT_EMAIL,
    )
    assert backend.state.mints == {f"v3:acme/web:{DEFAULT_EMAIL}": 1}
    assert token in backend.state.issued_tokens


def test_the_v1_login_locks_a_user_out_after_repeated_refusals_and_lets_them_back_later() -> None:
    backend = v1_sessions(EmulatorState())
    backend.configure(max_failed_logins=3, lockout_seconds=600)

    codes = [refusal(backend.v1_login, DEFAULT_EMAIL, "nope", now=1000.0)[1] for _ in range(3)]

    assert [body["returnCode"] for body in codes] == [1401, 1401, 1402]  # type: ignore[index]
    # Locked: even the right password is refused, with the documented message.
    assert refusal(backend.v1_login, DEFAULT_EMAIL, DEFAULT_V1_PASSWORD, now=1500.0)[1] == {
        "returnCode": 1402,
        "message": "Too many unsuccessful login attempts. Please try again in 10 minutes",
    }
    session_id, utk = backend.v1_login(DEFAULT_EMAIL, DEFAULT_V1_PASSWORD, now=1601.0)
    assert backend.v1_user(session_id, utk, now=1602.0) == DEFAULT_EMAIL


def test_v1_sessions_need_the_matching_utk_and_expire() -> None:
    backend = v1_sessions(EmulatorState())
    backend.configure(session_lifetime=60)
    session_id, utk = backend.v1_login(DEFAULT_EMAIL, DEFAULT_V1_PASSWORD, now=0.0)

    assert backend.v1_user(session_id, utk, now=59.0) == DEFAULT_EMAIL
    for args in (
        (session_id, "other", 1.0),
        (session_id, "", 1.0),
        ("unknown", utk, 1.0),
        (session_id, utk, 61.0),
    ):
        assert refusal(backend.v1_user, *args)[0] == 401
    assert backend.state.token_rejections == 4
    assert {session_id, utk} <= set(backend.state.issued_tokens)


def test_the_backend_is_one_component_per_emulator_and_a_reset_drops_it() -> None:
    state = EmulatorState()
    backend = v1_sessions(state)
    assert v1_sessions(state) is backend and backend.state is state
    state.reset()
    assert v1_sessions(state) is not backend
    assert AuthBackend().max_failed_logins == 5  # usable on its own, with a state of its own
