"""IQM's calls over HTTP: rate limit, check the client or the token, parse, call the backend, answer
in IQM's ``{"success": true, "data": ...}`` envelope."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from airflow_provider_tealium.testing.emulator.errors import EmulatorHTTPError, iqm_error
from airflow_provider_tealium.testing.emulator.http import read_form, read_json
from airflow_provider_tealium.testing.emulator.iqm.backend import (
    HOST_HEADER,
    OW_ID_HEADER,
    IQMEmulatorState,
    iqm_state,
)
from airflow_provider_tealium.testing.emulator.iqm.reports import report_rows
from airflow_provider_tealium.testing.emulator.state import EmulatorState


def ok(data: Any, status: int = 200) -> JSONResponse:
    """IQM's success envelope.

    :param data: the ``data``.
    :param status: HTTP status.
    """
    return JSONResponse({"success": True, "data": data}, status_code=status)


def _not_json(reason: str) -> EmulatorHTTPError:
    return iqm_error(400, "Invalid JSON", reason=reason)


async def _json_object(request: Request) -> dict[str, Any]:
    body = await read_json(request, _not_json, empty={})
    if not isinstance(body, dict):
        raise iqm_error(400, "The body must be a JSON object")
    return body


class IQMResponses:
    """Handlers of the IQM URL table (served on the platform port).

    :param state: the emulator state.
    """

    def __init__(self, state: EmulatorState) -> None:
        self.state = state

    @property
    def backend(self) -> IQMEmulatorState:
        """The backend (looked up per request: a reset replaces it)."""
        return iqm_state(self.state)

    def _login_call(self, request: Request) -> IQMEmulatorState:
        backend = self.backend
        backend.admit()
        backend.check_client(request.headers.get("authorization", ""), request.headers.get(HOST_HEADER))
        return backend

    def _api_call(self, request: Request) -> IQMEmulatorState:
        backend = self.backend
        backend.admit()
        backend.verify(request.headers.get("authorization", ""), request.headers.get(OW_ID_HEADER))
        return backend

    async def login(self, request: Request) -> JSONResponse:
        backend = self._login_call(request)
        body = await _json_object(request)
        if body.get("grantType") != "password":
            raise iqm_error(400, "grantType must be password", field="grantType")
        return ok(backend.password_login(body.get("email"), body.get("password")))

    async def oauth_token(self, request: Request) -> JSONResponse:
        backend = self._login_call(request)
        form = await read_form(request)
        grant = form.get("grant_type")
        if grant == "password":
            return ok(backend.password_login(form.get("username"), form.get("password")))
        if grant == "refresh_token":
            answer = backend.refresh(form.get("refresh_token", ""))
            return JSONResponse(answer) if backend.unwrapped_refresh else ok(answer)
        raise iqm_error(400, "grant_type must be password or refresh_token", field="grant_type")

    async def add_report(self, request: Request) -> JSONResponse:
        backend = self._api_call(request)
        return ok(backend.add_report(await _json_object(request)))

    async def get_report(self, request: Request) -> JSONResponse:
        return ok(self._api_call(request).get_report(request.path_params["report_id"]))

    async def list_reports(self, request: Request) -> JSONResponse:
        return ok(self._api_call(request).list_reports())

    async def execute(self, request: Request) -> JSONResponse:
        backend = self._api_call(request)
        return ok(backend.execute(await _json_object(request)))

    async def download(self, request: Request) -> JSONResponse:
        backend = self._api_call(request)
        base = f"{request.url.scheme}://{request.url.netloc}"
        return ok(backend.download(await _json_object(request), base))

    async def schedule(self, request: Request) -> JSONResponse:
        backend = self._api_call(request)
        return ok(backend.schedule(await _json_object(request)))

    async def update_schedule(self, request: Request) -> JSONResponse:
        backend = self._api_call(request)
        change = await _json_object(request)
        return ok(backend.update_schedule(request.path_params["report_id"], change))

    async def serve_file(self, request: Request) -> Response:
        # A signed storage URL: no token, no rate limit, as the files IQM links to.
        entry = self.backend.files.get(request.path_params["name"].removesuffix(".csv"))
        if entry is None:
            return Response("NoSuchKey", status_code=404, media_type="text/plain")
        definition, count = entry["definition"], entry["rows"]

        def lines() -> Iterator[bytes]:
            buf = io.StringIO()
            writer: csv.DictWriter[str] | None = None
            for row in report_rows(definition, count, 0, count):
                if writer is None:
                    writer = csv.DictWriter(buf, fieldnames=list(row))
                    writer.writeheader()
                writer.writerow(row)
                yield buf.getvalue().encode()
                buf.seek(0)
                buf.truncate()

        return StreamingResponse(lines(), media_type="text/csv")
