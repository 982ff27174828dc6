"""Diagnostic routes that Tealium does not have: they let tests and users check a client's credentials.

``whoami`` answers the claims of the presented token (a v3 one only on the region host, like every v3
resource call); ``counter`` is a non-idempotent POST for testing what a client does when an answer is lost.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from airflow_provider_tealium.testing.emulator.state import EmulatorState
from airflow_provider_tealium.testing.emulator.tokens import verify_bearer

V3_WHOAMI_PATH = "/v3/emulator/accounts/{account}/profiles/{profile}/whoami"
V2_WHOAMI_PATH = "/v2/emulator/whoami"
V2_COUNTER_PATH = "/v2/emulator/counter"


def routes(state: EmulatorState, region_host_provider: Callable[[], str]) -> list[BaseRoute]:
    """The diagnostic routes.

    :param state: the emulator state.
    :param region_host_provider: unused; part of the route-module signature.
    """

    async def v3_whoami(request: Request) -> JSONResponse:
        account, profile = request.path_params["account"], request.path_params["profile"]
        claims = verify_bearer(state, request, "v3", account, profile)
        return JSONResponse({"family": "v3", "account": account, "profile": profile, "email": claims["sub"]})

    async def v2_whoami(request: Request) -> JSONResponse:
        claims = verify_bearer(state, request, "v2")
        return JSONResponse({"family": "v2", "email": claims["sub"]})

    async def v2_counter(request: Request) -> JSONResponse:
        claims = verify_bearer(state, request, "v2")
        counts = state.component("diagnostics.counter", Counter[str])
        with state.lock:
            counts[claims["sub"]] += 1
            return JSONResponse({"count": counts[claims["sub"]]})

    return [
        Route(V3_WHOAMI_PATH, v3_whoami, methods=["GET"]),
        Route(V2_WHOAMI_PATH, v2_whoami, methods=["GET"]),
        Route(V2_COUNTER_PATH, v2_counter, methods=["POST"]),
    ]
