"""The control and diagnostic calls over HTTP: parse, call :mod:`.backend`, answer JSON."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from airflow_provider_tealium.testing.emulator.control import backend
from airflow_provider_tealium.testing.emulator.http import OK, read_json_object
from airflow_provider_tealium.testing.emulator.state import EmulatorState
from airflow_provider_tealium.testing.emulator.tokens import verify_bearer


class ControlResponses:
    """Handlers of the control URL table (never counted, never faulted: see the middleware).

    :param state: the emulator state.
    """

    def __init__(self, state: EmulatorState) -> None:
        self.state = state

    async def reset(self, request: Request) -> JSONResponse:
        self.state.reset()
        return JSONResponse(OK)

    async def stats(self, request: Request) -> JSONResponse:
        return JSONResponse(self.state.stats())

    async def add_fault(self, request: Request) -> JSONResponse:
        return JSONResponse(backend.add_fault(self.state, await read_json_object(request)).to_dict())

    async def list_faults(self, request: Request) -> JSONResponse:
        return JSONResponse([rule.to_dict() for rule in self.state.faults.rules])

    async def clear_faults(self, request: Request) -> JSONResponse:
        self.state.faults.clear()
        return JSONResponse(OK)

    async def configure(self, request: Request) -> JSONResponse:
        return JSONResponse(backend.configure(self.state, await read_json_object(request)))

    async def add_user(self, request: Request) -> JSONResponse:
        return JSONResponse({"email": backend.add_user(self.state, await read_json_object(request))})


class DiagnosticsResponses:
    """Handlers of the diagnostic URL table: ``whoami`` answers the presented token's claims (a v3
    one only on the region host, like every v3 resource call); ``counter`` is a non-idempotent POST for
    testing what a client does when an answer is lost.

    :param state: the emulator state.
    """

    def __init__(self, state: EmulatorState) -> None:
        self.state = state

    async def v3_whoami(self, request: Request) -> JSONResponse:
        account, profile = request.path_params["account"], request.path_params["profile"]
        claims = verify_bearer(self.state, request, "v3", account, profile)
        return JSONResponse({"family": "v3", "account": account, "profile": profile, "email": claims["sub"]})

    async def v2_whoami(self, request: Request) -> JSONResponse:
        claims = verify_bearer(self.state, request, "v2")
        return JSONResponse({"family": "v2", "email": claims["sub"]})

    async def v2_counter(self, request: Request) -> JSONResponse:
        claims = verify_bearer(self.state, request, "v2")
        return JSONResponse({"count": backend.count(self.state, claims["sub"])})
