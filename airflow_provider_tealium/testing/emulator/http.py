"""What every family's responses share: reading bodies, and turning a URL table into Starlette routes.

A family's ``urls.py`` is a table of ``(method, path template, handler name)`` rows, as moto's
``url_paths`` is; :func:`build_routes` binds the names to one responses object.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from airflow_provider_tealium.testing.emulator.errors import EmulatorHTTPError, tealium_error

OK: dict[str, str] = {"status": "ok"}

UrlTable = Iterable[tuple[str, str, str]]
"""``(method, path template, name of the responses method)`` rows, in matching order."""


def build_routes(responses: object, table: UrlTable) -> list[BaseRoute]:
    """Routes that send each row's requests to its method of ``responses``.

    :param responses: the family's responses object.
    :param table: the family's URL table.
    """
    return [Route(path, getattr(responses, name), methods=[method]) for method, path, name in table]


async def read_form(request: Request) -> dict[str, str]:
    """The URL-encoded form of a request (first value per name).

    Parsed by hand: Starlette's ``request.form()`` needs ``python-multipart``, which is not a dependency.

    :param request: the request.
    """
    body = (await request.body()).decode("utf-8", errors="replace")
    return {name: values[0] for name, values in parse_qs(body, keep_blank_values=True).items()}


async def read_json(request: Request, invalid: Callable[[str], EmulatorHTTPError], empty: Any = None) -> Any:
    """The request's JSON body, ``empty`` when there is none; ``invalid(reason)`` is raised otherwise.

    :param request: the request.
    :param invalid: builds the family's documented error for a body that is not JSON.
    :param empty: the value of an empty body.
    """
    raw = await request.body()
    if not raw:
        return empty
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise invalid(f"invalid JSON: {exc}") from exc


def _control_error(reason: str) -> EmulatorHTTPError:
    return tealium_error(400, 1400, reason)


async def read_json_object(request: Request) -> dict[str, Any]:
    """A control call's JSON body, which must be an object (an empty body is ``{}``).

    :param request: the request.
    """
    body = await read_json(request, _control_error, empty={})
    if not isinstance(body, dict):
        raise _control_error("the body must be a JSON object")
    return body
