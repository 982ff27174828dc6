"""The Hosted Data Layer calls over HTTP: rate limit, authenticate, call the backend, answer."""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from airflow_provider_tealium.testing.emulator.datalayers.backend import DataLayerStore, store
from airflow_provider_tealium.testing.emulator.errors import tealium_error
from airflow_provider_tealium.testing.emulator.http import OK, read_json_object
from airflow_provider_tealium.testing.emulator.state import EmulatorState
from airflow_provider_tealium.testing.emulator.tokens import verify_bearer

FILE_TYPE_PARAM = "file-type"
CONTINUATION_PARAM = "continuationToken"
START_DATE_PARAM = "start-date"
END_DATE_PARAM = "end-date"


class DataLayerResponses:
    """Handlers of the Hosted Data Layer URL table.

    :param state: the emulator state.
    """

    def __init__(self, state: EmulatorState) -> None:
        self.state = state

    def _begin(self, request: Request) -> tuple[DataLayerStore, str, str]:
        """Rate limit, authenticate, check permission; the backend, account and profile."""
        backend = store(self.state)
        backend.admit_request(time.monotonic())
        account, profile = request.path_params["account"], request.path_params["profile"]
        verify_bearer(self.state, request, "v2")
        backend.check_permission(account, profile)
        return backend, account, profile

    async def upload(self, request: Request) -> Response:
        backend, account, profile = self._begin(request)
        backend.upload(
            account,
            profile,
            request.path_params["datalayer_id"],
            request.query_params.get(FILE_TYPE_PARAM),
            await request.body(),
            time.time(),
            update=request.method == "PUT",
        )
        return Response(status_code=200)

    async def delete(self, request: Request) -> Response:
        backend, account, profile = self._begin(request)
        datalayer_id, file_type = (
            request.path_params["datalayer_id"],
            request.query_params.get(FILE_TYPE_PARAM),
        )
        backend.remove(account, profile, datalayer_id, file_type, time.time())
        return Response(status_code=200)

    async def metadata(self, request: Request) -> JSONResponse:
        backend, account, profile = self._begin(request)
        datalayer_id, file_type = (
            request.path_params["datalayer_id"],
            request.query_params.get(FILE_TYPE_PARAM),
        )
        return JSONResponse(backend.file_metadata(account, profile, datalayer_id, file_type, time.time()))

    async def listing(self, request: Request) -> JSONResponse:
        backend, account, profile = self._begin(request)
        token = request.query_params.get(CONTINUATION_PARAM)
        return JSONResponse(backend.list_page(account, profile, token, time.time()))

    async def failed_uploads(self, request: Request) -> JSONResponse:
        backend, account, profile = self._begin(request)
        start, end = request.query_params.get(START_DATE_PARAM), request.query_params.get(END_DATE_PARAM)
        return JSONResponse(backend.failed_upload_report(account, profile, start, end, time.time()))

    # -- control ---------------------------------------------------------------------------------

    async def control_config(self, request: Request) -> JSONResponse:
        try:
            return JSONResponse(store(self.state).configure(**await read_json_object(request)))
        except (TypeError, ValueError) as exc:
            raise tealium_error(400, 1400, str(exc)) from exc

    async def control_stats(self, request: Request) -> JSONResponse:
        return JSONResponse(store(self.state).stats())

    async def control_seed(self, request: Request) -> JSONResponse:
        body = await read_json_object(request)
        try:
            count = store(self.state).seed_files(
                str(body["account"]),
                str(body["profile"]),
                [str(i) for i in body["ids"]],
                body.get("file_type"),
                int(body.get("size", 2)),
                None if body.get("modified") is None else float(body["modified"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise tealium_error(400, 1400, f"seed needs account, profile and ids: {exc}") from exc
        return JSONResponse({**OK, "seeded": count})
