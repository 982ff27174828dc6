"""The v3 and v2 authentication calls: form ``username`` + ``key`` in, a JWT out."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from airflow_provider_tealium.api.auth import V2_AUTH_PATH, V3_AUTH_PATH
from airflow_provider_tealium.testing.emulator.errors import tealium_error
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

    return [
        Route(V3_AUTH_PATH, v3_auth, methods=["POST"]),
        Route(V2_AUTH_PATH, v2_auth, methods=["POST"]),
    ]
