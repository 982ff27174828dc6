"""The iQ Profiles and Publish calls over HTTP: authenticate (a v3 token scoped to the profile), parse,
call :class:`~.backend.ProfilesStore`, answer JSON."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from airflow_provider_tealium.testing.emulator.errors import EmulatorHTTPError, tealium_error
from airflow_provider_tealium.testing.emulator.http import read_json, read_json_object
from airflow_provider_tealium.testing.emulator.profiles.backend import ProfilesStore, store
from airflow_provider_tealium.testing.emulator.profiles.rules import VALIDATE_FAILED_MESSAGE
from airflow_provider_tealium.testing.emulator.state import EmulatorState
from airflow_provider_tealium.testing.emulator.tokens import verify_bearer


def _not_json(reason: str) -> EmulatorHTTPError:
    return tealium_error(400, 400, VALIDATE_FAILED_MESSAGE.format(reason=reason))


class ProfilesResponses:
    """Handlers of the iQ Profiles and Publish URL table.

    :param state: the emulator state.
    """

    def __init__(self, state: EmulatorState) -> None:
        self.state = state

    @property
    def backend(self) -> ProfilesStore:
        """The backend (looked up per request: a reset replaces it)."""
        return store(self.state)

    def _authorise(self, request: Request) -> tuple[str, str, dict[str, Any]]:
        account, profile = request.path_params["account"], request.path_params["profile"]
        return account, profile, verify_bearer(self.state, request, "v3", account, profile)

    async def get_profile(self, request: Request) -> JSONResponse:
        account, profile, _ = self._authorise(request)
        includes = request.query_params.getlist("includes")
        version = request.query_params.get("publishVersion")
        return JSONResponse(self.backend.get_profile(account, profile, includes, version))

    async def patch_profile(self, request: Request) -> JSONResponse:
        account, profile, claims = self._authorise(request)
        body = await read_json(request, _not_json)
        return JSONResponse(self.backend.patch(account, profile, body, str(claims["sub"]), time.monotonic()))

    async def start_publish(self, request: Request) -> JSONResponse:
        account, profile, _ = self._authorise(request)
        backend = self.backend
        publish = backend.start_publish(
            account, profile, await read_json(request, _not_json), time.monotonic()
        )
        # The queue moves on by itself, so a publish nobody polls still completes (and leaves a revision).
        delay = publish.queued_seconds + publish.processing_seconds
        asyncio.get_running_loop().call_later(delay + 0.01, backend.finish, publish)
        return JSONResponse({"publishId": publish.publish_id})

    async def publish_status(self, request: Request) -> JSONResponse:
        account, profile, _ = self._authorise(request)
        publish_id = request.path_params["publish_id"]
        return JSONResponse(self.backend.publish_status(account, profile, publish_id, time.monotonic()))

    # -- control ---------------------------------------------------------------------------------

    async def get_config(self, request: Request) -> JSONResponse:
        return JSONResponse(self.backend.knobs())

    async def set_config(self, request: Request) -> JSONResponse:
        body = await read_json_object(request)
        with self.state.lock:
            try:
                self.backend.configure(**body)
            except ValueError as exc:
                raise tealium_error(400, 1400, str(exc)) from exc
            return JSONResponse(self.backend.knobs())
