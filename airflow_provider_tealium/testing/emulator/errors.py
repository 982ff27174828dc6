"""The emulator's HTTP error: raised anywhere in a handler, rendered as Tealium's JSON error body."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response


class EmulatorHTTPError(Exception):
    """An error answer, raised from a handler so helpers can refuse a request without returning up.

    :param status: HTTP status.
    :param body: the JSON body.
    :param headers: extra response headers.
    """

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body
        self.headers = dict(headers or {})

    def to_response(self) -> JSONResponse:
        """The response this error stands for."""
        return JSONResponse(self.body, status_code=self.status, headers=self.headers)


def tealium_error(
    status: int, return_code: int, message: str, headers: dict[str, str] | None = None
) -> EmulatorHTTPError:
    """An error in Tealium's shape, ``{"returnCode": ..., "message": ...}``.

    :param status: HTTP status.
    :param return_code: Tealium's ``returnCode``.
    :param message: a short human message.
    :param headers: extra response headers.
    """
    return EmulatorHTTPError(status, {"returnCode": return_code, "message": message}, headers)


async def handle_emulator_error(request: Request, exc: Exception) -> Response:
    """Starlette exception handler for :class:`EmulatorHTTPError`.

    :param request: the request being answered.
    :param exc: the raised error.
    """
    assert isinstance(exc, EmulatorHTTPError)
    return exc.to_response()
