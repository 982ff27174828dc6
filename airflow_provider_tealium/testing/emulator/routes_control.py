"""The control API under ``/_emulator/``, so tests in another process can drive the emulator."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from airflow_provider_tealium.testing.emulator.errors import tealium_error
from airflow_provider_tealium.testing.emulator.faults import FaultRule
from airflow_provider_tealium.testing.emulator.state import EmulatorState

OK: dict[str, str] = {"status": "ok"}


async def read_json_object(request: Request) -> dict[str, Any]:
    """The request's JSON body, which must be an object.

    :param request: the request.
    """
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError as exc:
        raise tealium_error(400, 1400, f"invalid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise tealium_error(400, 1400, "the body must be a JSON object")
    return body


def routes(state: EmulatorState, region_host_provider: Callable[[], str]) -> list[BaseRoute]:
    """The control routes.

    :param state: the emulator state.
    :param region_host_provider: unused; part of every route module's signature.
    """

    async def reset(request: Request) -> JSONResponse:
        state.reset()
        return JSONResponse(OK)

    async def stats(request: Request) -> JSONResponse:
        return JSONResponse(state.stats())

    async def add_fault(request: Request) -> JSONResponse:
        try:
            rule = state.faults.add(FaultRule.from_dict(await read_json_object(request)))
        except (TypeError, ValueError) as exc:
            raise tealium_error(400, 1400, str(exc)) from exc
        return JSONResponse(rule.to_dict())

    async def list_faults(request: Request) -> JSONResponse:
        return JSONResponse([rule.to_dict() for rule in state.faults.rules])

    async def clear_faults(request: Request) -> JSONResponse:
        state.faults.clear()
        return JSONResponse(OK)

    async def configure(request: Request) -> JSONResponse:
        body = await read_json_object(request)
        unknown = set(body) - {"token_lifetime"}
        if unknown:
            raise tealium_error(400, 1400, f"unknown settings: {sorted(unknown)}")
        if "token_lifetime" in body:
            lifetime = body["token_lifetime"]
            if not isinstance(lifetime, int) or isinstance(lifetime, bool) or lifetime < 1:
                raise tealium_error(400, 1400, "token_lifetime must be a positive integer of seconds")
            state.token_lifetime = lifetime
        return JSONResponse({"token_lifetime": state.token_lifetime})

    async def add_user(request: Request) -> JSONResponse:
        body = await read_json_object(request)
        email, api_key, password = body.get("email"), body.get("api_key"), body.get("v1_password")
        if not isinstance(email, str) or not email or not isinstance(api_key, str) or not api_key:
            raise tealium_error(400, 1400, "email and api_key are required strings")
        if password is not None and not isinstance(password, str):
            raise tealium_error(400, 1400, "v1_password must be a string")
        state.add_user(email, api_key, password)
        return JSONResponse({"email": email})

    return [
        Route("/_emulator/reset", reset, methods=["POST"]),
        Route("/_emulator/stats", stats, methods=["GET"]),
        Route("/_emulator/faults", add_fault, methods=["POST"]),
        Route("/_emulator/faults", list_faults, methods=["GET"]),
        Route("/_emulator/faults", clear_faults, methods=["DELETE"]),
        Route("/_emulator/config", configure, methods=["POST"]),
        Route("/_emulator/users", add_user, methods=["POST"]),
    ]
