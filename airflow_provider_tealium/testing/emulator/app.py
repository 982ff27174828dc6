"""The emulator's ASGI application, assembled from each API family's URL table.

Each family is a package, as moto's services are: ``backend.py`` (plain methods on state, no HTTP),
``rules.py`` (what the API documents refuse), ``responses.py`` (parse the request, call the backend,
serialise) and ``urls.py`` (the URL table and its ``routes()``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute
from starlette.types import Receive, Scope, Send

from airflow_provider_tealium.testing.emulator.auth import urls as auth_urls
from airflow_provider_tealium.testing.emulator.control import urls as control_urls
from airflow_provider_tealium.testing.emulator.datalayers import urls as datalayer_urls
from airflow_provider_tealium.testing.emulator.errors import EmulatorHTTPError, handle_emulator_error
from airflow_provider_tealium.testing.emulator.iqm import urls as iqm_urls
from airflow_provider_tealium.testing.emulator.middleware import RAW_SEND_SCOPE_KEY, EmulatorMiddleware
from airflow_provider_tealium.testing.emulator.profiles import urls as profile_urls
from airflow_provider_tealium.testing.emulator.revisions import urls as revision_urls
from airflow_provider_tealium.testing.emulator.state import EmulatorState


class RouteModule(Protocol):
    """What a family's ``urls`` module exposes."""

    def routes(self, state: EmulatorState, region_host_provider: Callable[[], str]) -> list[BaseRoute]:
        """The module's routes.

        :param state: the emulator state; features keep theirs via :meth:`EmulatorState.component`.
        :param region_host_provider: returns the region ``host:port``.
        """
        ...


# Every family's routes, in matching order: a new family adds its ``urls`` module here and nowhere else.
ROUTE_MODULES: tuple[RouteModule, ...] = (
    auth_urls,
    control_urls,
    revision_urls,
    datalayer_urls,
    profile_urls,
    iqm_urls,
)


class EmulatorApp(Starlette):
    """Starlette, keeping the server's own ``send`` in the scope for the connection-cutting faults."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope[RAW_SEND_SCOPE_KEY] = send
        await super().__call__(scope, receive, send)


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    """Render Starlette's own 404/405 in Tealium's JSON shape, as every emulator answer is JSON.

    :param request: the request being answered.
    :param exc: the raised :class:`HTTPException`.
    """
    assert isinstance(exc, HTTPException)
    return JSONResponse(
        {"returnCode": exc.status_code, "message": exc.detail},
        status_code=exc.status_code,
        headers=exc.headers,
    )


def build_app(state: EmulatorState, region_host_provider: Callable[[], str]) -> Starlette:
    """The emulator application.

    :param state: the emulator state.
    :param region_host_provider: returns the region ``host:port`` (known once the sockets are bound).
    """
    routes = [route for module in ROUTE_MODULES for route in module.routes(state, region_host_provider)]
    return EmulatorApp(
        routes=routes,
        middleware=[Middleware(EmulatorMiddleware, state=state, region_host_provider=region_host_provider)],
        exception_handlers={
            EmulatorHTTPError: handle_emulator_error,
            HTTPException: handle_http_exception,
        },
    )
