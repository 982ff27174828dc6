"""The revision calls over HTTP: authenticate (v1 session or v2 token), call the backend, answer.

Also the control calls under ``/_emulator/revisions/`` that create revisions (as a publish would),
damage bundles, and switch the emulator's revision and v1 session behaviour.
"""

from __future__ import annotations

import threading
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from airflow_provider_tealium.testing.emulator.auth.responses import verify_v1_session
from airflow_provider_tealium.testing.emulator.errors import tealium_error
from airflow_provider_tealium.testing.emulator.http import OK, read_json_object
from airflow_provider_tealium.testing.emulator.revisions.backend import RevisionsStore, store
from airflow_provider_tealium.testing.emulator.state import DEFAULT_EMAIL, EmulatorState
from airflow_provider_tealium.testing.emulator.tokens import verify_bearer


class RevisionsResponses:
    """Handlers of the revisions URL table.

    :param state: the emulator state.
    """

    def __init__(self, state: EmulatorState) -> None:
        self.state = state

    @property
    def backend(self) -> RevisionsStore:
        """The backend (looked up per request: a reset replaces it)."""
        return store(self.state)

    def _authorise(self, request: Request, family: str) -> tuple[str, str]:
        if family == "v1":
            verify_v1_session(self.state, request)
        else:
            verify_bearer(self.state, request, "v2")
        return request.path_params["account"], request.path_params["profile"]

    def _list(self, request: Request, family: str) -> JSONResponse:
        return JSONResponse(self.backend.list_revisions(*self._authorise(request, family)))

    def _details(self, request: Request, family: str) -> JSONResponse:
        account, profile = self._authorise(request, family)
        return JSONResponse(self.backend.get_details(account, profile, request.path_params["revision_id"]))

    def _bundle(self, request: Request, family: str) -> Response:
        account, profile = self._authorise(request, family)
        revision_id, target = request.path_params["revision_id"], request.path_params["target"]
        data = self.backend.get_bundle(account, profile, revision_id, target)
        disposition = f'attachment; filename="{revision_id}-{target}.zip"'
        return Response(data, media_type="application/zip", headers={"Content-Disposition": disposition})

    async def v1_list(self, request: Request) -> JSONResponse:
        return self._list(request, "v1")

    async def v1_details(self, request: Request) -> JSONResponse:
        return self._details(request, "v1")

    async def v1_bundle(self, request: Request) -> Response:
        return self._bundle(request, "v1")

    async def v2_list(self, request: Request) -> JSONResponse:
        return self._list(request, "v2")

    async def v2_details(self, request: Request) -> JSONResponse:
        return self._details(request, "v2")

    async def v2_bundle(self, request: Request) -> Response:
        return self._bundle(request, "v2")

    # -- control ---------------------------------------------------------------------------------

    async def publish(self, request: Request) -> JSONResponse:
        body = await read_json_object(request)
        targets = body.get("targets", ["prod"])
        if not isinstance(targets, list) or not targets or not all(isinstance(t, str) and t for t in targets):
            raise tealium_error(400, 1400, "targets must be a non-empty list of environment names")
        fields: dict[str, Any] = {
            "account": body.get("account", "demo"),
            "profile": body.get("profile", "main"),
            "name": body.get("name", "Release"),
            "comment": body.get("comment", ""),
            "created_by": body.get("created_by", DEFAULT_EMAIL),
        }
        if not all(isinstance(v, str) for v in fields.values()):
            raise tealium_error(400, 1400, "account, profile, name, comment and created_by must be strings")
        fields["targets"] = list(targets)
        delay = body.get("delay", 0)
        if not isinstance(delay, (int, float)) or isinstance(delay, bool) or delay < 0:
            raise tealium_error(400, 1400, "delay must be a non-negative number of seconds")
        if body.get("after_next_list"):
            self.backend.arm(delay, fields)
            return JSONResponse({"status": "armed", "delay": delay})
        if delay:
            # A publish that completes later, as a real one does while a sensor is already waiting.
            timer = threading.Timer(delay, lambda: store(self.state).record(**fields))
            timer.daemon = True
            timer.start()
            return JSONResponse({"status": "scheduled", "delay": delay})
        return JSONResponse({"revision_id": self.backend.record(**fields)})

    async def corrupt(self, request: Request) -> JSONResponse:
        body = await read_json_object(request)
        try:
            self.backend.corrupt_bundle(
                revision_id=str(body.get("revision_id", "*")),
                target=str(body.get("target", "*")),
                mode=str(body.get("mode", "checksum")),
            )
        except ValueError as exc:
            raise tealium_error(400, 1400, str(exc)) from exc
        return JSONResponse(OK)

    async def configure(self, request: Request) -> JSONResponse:
        try:
            return JSONResponse(self.backend.configure(**await read_json_object(request)))
        except ValueError as exc:
            raise tealium_error(400, 1400, str(exc)) from exc
