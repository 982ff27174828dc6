"""The emulator's error answers, raised by backends and responses alike and rendered by the app.

An error is plain data (a status, a JSON body, headers), like moto's ``RESTError``: a backend says which
documented answer a request gets without knowing anything of HTTP frameworks, so no module here imports
Starlette at import time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
        from starlette.responses import JSONResponse

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


def iqm_error(
    status: int,
    error: str,
    *,
    field: str | None = None,
    reason: str | None = None,
    headers: dict[str, str] | None = None,
) -> EmulatorHTTPError:
    """An error in IQM's shape: ``{"success": false, "errorObjects": [{"error", "reason", "field"}]}``.

    :param status: HTTP status.
    :param error: the error text.
    :param field: the offending field.
    :param reason: a longer explanation.
    :param headers: extra response headers.
    """
    obj: dict[str, str] = {"error": error}
    if reason:
        obj["reason"] = reason
    if field:
        obj["field"] = field
    return EmulatorHTTPError(status, {"success": False, "errorObjects": [obj]}, headers)


async def handle_emulator_error(request: Request, exc: Exception) -> Response:
    """Starlette exception handler for :class:`EmulatorHTTPError`.

    :param request: the request being answered.
    :param exc: the raised error.
    """
    assert isinstance(exc, EmulatorHTTPError)
    return exc.to_response()
