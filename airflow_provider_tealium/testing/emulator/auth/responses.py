"""The auth calls over HTTP: read the form, call :class:`~.backend.AuthBackend`, answer JSON."""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import JSONResponse

from airflow_provider_tealium.testing.emulator.auth.backend import AuthBackend, v1_sessions
from airflow_provider_tealium.testing.emulator.http import read_form
from airflow_provider_tealium.testing.emulator.state import EmulatorState

V1_SESSION_COOKIE = "JSESSIONID"


class AuthResponses:
    """Handlers of the auth URL table.

    :param state: the emulator state.
    :param region_host_provider: returns the region ``host:port`` a v3 auth answer names.
    """

    def __init__(self, state: EmulatorState, region_host_provider: Callable[[], str]) -> None:
        self.state = state
        self.region_host_provider = region_host_provider

    @property
    def backend(self) -> AuthBackend:
        """The backend (looked up per request: a reset replaces it)."""
        return v1_sessions(self.state)

    async def v3_auth(self, request: Request) -> JSONResponse:
        form = await read_form(request)
        account, profile = request.path_params["account"], request.path_params["profile"]
        token = self.backend.v3_token(form.get("username", ""), form.get("key", ""), account, profile)
        return JSONResponse({"token": token, "host": self.region_host_provider()})

    async def v2_auth(self, request: Request) -> JSONResponse:
        form = await read_form(request)
        return JSONResponse({"token": self.backend.v2_token(form.get("username", ""), form.get("key", ""))})

    async def v1_login(self, request: Request) -> JSONResponse:
        form = await read_form(request)
        session_id, utk = self.backend.v1_login(form.get("username", ""), form.get("password", ""))
        response = JSONResponse({"utk": utk})
        response.set_cookie(V1_SESSION_COOKIE, session_id, httponly=True, path="/")
        return response


def verify_v1_session(state: EmulatorState, request: Request) -> str:
    """The email of the request's v1 session (``JSESSIONID`` cookie plus matching ``utk``), or a 401.

    :param state: the emulator state.
    :param request: the v1 request.
    """
    session_id = request.cookies.get(V1_SESSION_COOKIE, "")
    return v1_sessions(state).v1_user(session_id, request.query_params.get("utk", ""))
