"""The v3 and v2 authentication calls (form ``username`` + ``key`` in, a JWT out) and the v1 login
(form ``username`` + ``password`` in, a ``JSESSIONID`` cookie and a ``utk`` out)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from airflow_provider_tealium.api.auth import V1_LOGIN_PATH, V1_SESSION_COOKIE, V2_AUTH_PATH, V3_AUTH_PATH
from airflow_provider_tealium.testing.emulator.errors import EmulatorHTTPError, tealium_error
from airflow_provider_tealium.testing.emulator.state import EmulatorState
from airflow_provider_tealium.testing.emulator.tokens import issue_token


async def read_form(request: Request) -> dict[str, str]:
    """The URL-encoded form of a request (first value per name).

    Parsed by hand: Starlette's ``request.form()`` needs ``python-multipart``, which is not a dependency.

    :param request: the request.
    """
    body = (await request.body()).decode("utf-8", errors="replace")
    return {name: values[0] for name, values in parse_qs(body, keep_blank_values=True).items()}


async def authenticate(state: EmulatorState, request: Request, secret_field: str = "key") -> str:
    """The email of the user the form names, or a 400/401 error.

    :param state: the emulator state (users, failure counter).
    :param request: the auth request.
    :param secret_field: the form field holding the secret (``key``; the v1 login uses ``password``).
    """
    form = await read_form(request)
    email = form.get("username", "")
    secret = form.get(secret_field, "")
    if not email or not secret:
        raise tealium_error(400, 1400, f"username and {secret_field} are required")
    user = state.user(email)
    expected = None if user is None else (user.api_key if secret_field == "key" else user.v1_password)
    if expected is None or not secrets.compare_digest(expected.encode(), secret.encode()):
        state.count_auth_failure()
        raise tealium_error(401, 1401, "Authentication Failed")
    return email


V1_LOCKOUT_MESSAGE = "Too many unsuccessful login attempts. Please try again in 10 minutes"
V1_SESSION_MESSAGE = "Session expired or invalid"


@dataclass
class V1Sessions:
    """The ``v1_sessions`` component: live v1 sessions, failed-login counts and lockouts.

    :param session_lifetime: seconds a session lives after its login.
    :param max_failed_logins: consecutive refused logins that lock a user out (1402).
    :param lockout_seconds: how long a lockout lasts (Tealium: 10 minutes).
    :param sessions: JSESSIONID -> (email, utk, expires_at).
    :param failures: email -> consecutive refused logins.
    :param locked_until: email -> epoch time the lockout ends.
    """

    session_lifetime: float = 1800.0
    max_failed_logins: int = 5
    lockout_seconds: float = 600.0
    sessions: dict[str, tuple[str, str, float]] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    locked_until: dict[str, float] = field(default_factory=dict)


def v1_sessions(state: EmulatorState) -> V1Sessions:
    """The v1 session component of this emulator.

    :param state: the emulator state.
    """
    return state.component("v1_sessions", V1Sessions)


def verify_v1_session(state: EmulatorState, request: Request) -> str:
    """The email of the request's v1 session (``JSESSIONID`` cookie plus matching ``utk``), or a 401.

    :param state: the emulator state.
    :param request: the v1 request.
    """
    session_id = request.cookies.get(V1_SESSION_COOKIE, "")
    utk = request.query_params.get("utk", "")
    with state.lock:
        entry = v1_sessions(state).sessions.get(session_id)
    if entry is not None:
        email, expected_utk, expires_at = entry
        if utk and secrets.compare_digest(expected_utk, utk) and time.time() < expires_at:
            return email
    state.count_token_rejection()
    raise tealium_error(401, 1401, V1_SESSION_MESSAGE)


def routes(state: EmulatorState, region_host_provider: Callable[[], str]) -> list[BaseRoute]:
    """The auth routes.

    :param state: the emulator state.
    :param region_host_provider: returns the region ``host:port`` named by v3 auth answers.
    """

    async def v3_auth(request: Request) -> JSONResponse:
        email = await authenticate(state, request)
        account = request.path_params["account"]
        profile = request.path_params["profile"]
        token = issue_token(state, "v3", email, account, profile)
        return JSONResponse({"token": token, "host": region_host_provider()})

    async def v2_auth(request: Request) -> JSONResponse:
        email = await authenticate(state, request)
        return JSONResponse({"token": issue_token(state, "v2", email)})

    async def v1_login(request: Request) -> JSONResponse:
        email = (await read_form(request)).get("username", "")
        store = v1_sessions(state)
        with state.lock:
            locked = store.locked_until.get(email, 0.0) > time.time()
        if locked:
            state.count_auth_failure()
            raise tealium_error(401, 1402, V1_LOCKOUT_MESSAGE)
        try:
            email = await authenticate(state, request, secret_field="password")
        except EmulatorHTTPError as exc:
            if exc.status != 401:
                raise
            with state.lock:
                store.failures[email] = store.failures.get(email, 0) + 1
                if store.failures[email] >= store.max_failed_logins:
                    store.locked_until[email] = time.time() + store.lockout_seconds
                    store.failures[email] = 0
                    raise tealium_error(401, 1402, V1_LOCKOUT_MESSAGE) from None
            raise
        session_id = secrets.token_hex(16).upper()
        utk = secrets.token_hex(20)
        with state.lock:
            store.failures.pop(email, None)
            store.sessions[session_id] = (email, utk, time.time() + store.session_lifetime)
            state.issued_tokens.extend([session_id, utk])
        state.count_mint(f"v1:{email}")
        response = JSONResponse({"utk": utk})
        response.set_cookie(V1_SESSION_COOKIE, session_id, httponly=True, path="/")
        return response

    return [
        Route(V3_AUTH_PATH, v3_auth, methods=["POST"]),
        Route(V2_AUTH_PATH, v2_auth, methods=["POST"]),
        Route(V1_LOGIN_PATH, v1_login, methods=["POST"]),
    ]
