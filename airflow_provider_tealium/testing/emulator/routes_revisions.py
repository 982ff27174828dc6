"""Revisions: the v1 API (``JSESSIONID`` + ``utk``) and the v2 manifest API (bearer token), one store.

Also the control routes under ``/_emulator/revisions/`` that create revisions (as a publish would),
damage bundles, and switch the emulator's revision and v1 session behaviour.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from airflow_provider_tealium.api.revisions import (
    V1_BUNDLE_PATH,
    V1_DETAILS_PATH,
    V1_LIST_PATH,
    V2_BUNDLE_PATH,
    V2_DETAILS_PATH,
    V2_LIST_PATH,
)
from airflow_provider_tealium.testing.emulator import revisions_store
from airflow_provider_tealium.testing.emulator.errors import tealium_error
from airflow_provider_tealium.testing.emulator.routes_auth import v1_sessions, verify_v1_session
from airflow_provider_tealium.testing.emulator.routes_control import OK, read_json_object
from airflow_provider_tealium.testing.emulator.state import DEFAULT_EMAIL, EmulatorState
from airflow_provider_tealium.testing.emulator.tokens import verify_bearer

ACCOUNT_NOT_FOUND = (1240, "Account was not found")
PROFILE_NOT_FOUND = (1250, "Profile was not found")
DETAILS_MISSING = (1260, "Revision details do not exist")
NOT_LATEST = (1270, "The revision bundle requested is not the latest")

_CONFIG_FIELDS: dict[str, Callable[[Any], bool]] = {
    "latest_only": lambda v: isinstance(v, bool),
    "unknown_accounts": lambda v: isinstance(v, list) and all(isinstance(a, str) for a in v),
    "unknown_profiles": lambda v: (
        isinstance(v, list)
        and all(isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p) for p in v)
    ),
    "session_lifetime": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0,
    "max_failed_logins": lambda v: isinstance(v, int) and not isinstance(v, bool) and v > 0,
    "lockout_seconds": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0,
}


def _check_profile(state: EmulatorState, account: str, profile: str, status: int) -> None:
    current = revisions_store.store(state)
    with state.lock:
        if account in current.unknown_accounts:
            raise tealium_error(status, *ACCOUNT_NOT_FOUND)
        if (account, profile) in current.unknown_profiles:
            raise tealium_error(status, *PROFILE_NOT_FOUND)


def _is_latest_for_target(
    state: EmulatorState, account: str, profile: str, revision_id: str, target: str
) -> bool:
    for rid in revisions_store.revision_ids(state, account, profile):
        details = revisions_store.details(state, account, profile, rid) or {}
        if target in details.get("targets_published", []):
            return rid == revision_id
    return False


def routes(state: EmulatorState, region_host_provider: Callable[[], str]) -> list[BaseRoute]:
    """The revision routes (v1 and v2) and their control routes.

    :param state: the emulator state.
    :param region_host_provider: unused; part of every route module's signature.
    """

    def authorise(request: Request, family: str) -> tuple[str, str]:
        if family == "v1":
            verify_v1_session(state, request)
        else:
            verify_bearer(state, request, "v2")
        return request.path_params["account"], request.path_params["profile"]

    def list_ids(family: str) -> Callable[[Request], Any]:
        async def handler(request: Request) -> JSONResponse:
            account, profile = authorise(request, family)
            # The seed documents 400 for the list call's not-found errors.
            _check_profile(state, account, profile, 400)
            ids = revisions_store.revision_ids(state, account, profile)
            revisions_store.fire_armed(state, account, profile)
            return JSONResponse(ids)

        return handler

    def details(family: str) -> Callable[[Request], Any]:
        async def handler(request: Request) -> JSONResponse:
            account, profile = authorise(request, family)
            _check_profile(state, account, profile, 404)
            found = revisions_store.details(state, account, profile, request.path_params["revision_id"])
            if found is None:
                raise tealium_error(404, *DETAILS_MISSING)
            return JSONResponse(found)

        return handler

    def bundle(family: str) -> Callable[[Request], Any]:
        async def handler(request: Request) -> Response:
            account, profile = authorise(request, family)
            _check_profile(state, account, profile, 400)
            revision_id = request.path_params["revision_id"]
            target = request.path_params["target"]
            found = revisions_store.details(state, account, profile, revision_id)
            if found is None:
                raise tealium_error(404, *DETAILS_MISSING)
            if target not in found["targets_published"]:
                raise tealium_error(404, 1260, f"Revision {revision_id} was not published to {target}")
            if revisions_store.store(state).latest_only and not _is_latest_for_target(
                state, account, profile, revision_id, target
            ):
                raise tealium_error(400, *NOT_LATEST)
            data = revisions_store.bundle(state, account, profile, revision_id, target)
            assert data is not None
            return Response(
                data,
                media_type="application/zip",
                headers={"Content-Disposition": f'attachment; filename="{revision_id}-{target}.zip"'},
            )

        return handler

    async def publish(request: Request) -> JSONResponse:
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
        delay = body.get("delay", 0)
        if not isinstance(delay, (int, float)) or isinstance(delay, bool) or delay < 0:
            raise tealium_error(400, 1400, "delay must be a non-negative number of seconds")
        if body.get("after_next_list"):
            revisions_store.arm_publish(state, delay=delay, targets=list(targets), **fields)
            return JSONResponse({"status": "armed", "delay": delay})
        if delay:
            # A publish that completes later, as a real one does while a sensor is already waiting.
            timer = threading.Timer(
                delay, lambda: revisions_store.record_publish(state, targets=list(targets), **fields)
            )
            timer.daemon = True
            timer.start()
            return JSONResponse({"status": "scheduled", "delay": delay})
        revision_id = revisions_store.record_publish(state, targets=list(targets), **fields)
        return JSONResponse({"revision_id": revision_id})

    async def corrupt(request: Request) -> JSONResponse:
        body = await read_json_object(request)
        try:
            revisions_store.corrupt_bundle(
                state,
                revision_id=str(body.get("revision_id", "*")),
                target=str(body.get("target", "*")),
                mode=str(body.get("mode", "checksum")),
            )
        except ValueError as exc:
            raise tealium_error(400, 1400, str(exc)) from exc
        return JSONResponse(OK)

    async def configure(request: Request) -> JSONResponse:
        body = await read_json_object(request)
        unknown = set(body) - set(_CONFIG_FIELDS)
        if unknown:
            raise tealium_error(400, 1400, f"unknown settings: {sorted(unknown)}")
        for name, valid in _CONFIG_FIELDS.items():
            if name in body and not valid(body[name]):
                raise tealium_error(400, 1400, f"{name} has an invalid value: {body[name]!r}")
        return JSONResponse(configure_revisions(state, **body))

    v1_routes = [
        Route(V1_LIST_PATH, list_ids("v1"), methods=["GET"]),
        # Before the bundle route: ``details`` would otherwise match ``{target}``.
        Route(V1_DETAILS_PATH, details("v1"), methods=["GET"]),
        Route(V1_BUNDLE_PATH, bundle("v1"), methods=["GET"]),
    ]
    v2_routes = [
        Route(V2_LIST_PATH, list_ids("v2"), methods=["GET"]),
        Route(V2_DETAILS_PATH, details("v2"), methods=["GET"]),
        Route(V2_BUNDLE_PATH, bundle("v2"), methods=["GET"]),
    ]
    control = [
        Route("/_emulator/revisions/publish", publish, methods=["POST"]),
        Route("/_emulator/revisions/corrupt", corrupt, methods=["POST"]),
        Route("/_emulator/revisions/config", configure, methods=["POST"]),
    ]
    return [*v1_routes, *v2_routes, *control]


def configure_revisions(state: EmulatorState, **settings: Any) -> dict[str, Any]:
    """Change the revision and v1 session behaviour; returns the current settings.

    :param state: the emulator state.
    :param settings: ``latest_only`` (bool), ``unknown_accounts`` (answered 1240), ``unknown_profiles``
        (``[[account, profile], ...]``, answered 1250), ``session_lifetime`` (seconds a v1 session lives),
        ``max_failed_logins`` (refused v1 logins before a 1402 lockout), ``lockout_seconds``.
    """
    current = revisions_store.store(state)
    sessions = v1_sessions(state)
    with state.lock:
        if "latest_only" in settings:
            current.latest_only = bool(settings["latest_only"])
        if "unknown_accounts" in settings:
            current.unknown_accounts = {str(a) for a in settings["unknown_accounts"]}
        if "unknown_profiles" in settings:
            current.unknown_profiles = {(str(a), str(p)) for a, p in settings["unknown_profiles"]}
        if "session_lifetime" in settings:
            sessions.session_lifetime = float(settings["session_lifetime"])
        if "max_failed_logins" in settings:
            sessions.max_failed_logins = int(settings["max_failed_logins"])
        if "lockout_seconds" in settings:
            sessions.lockout_seconds = float(settings["lockout_seconds"])
        return {
            "latest_only": current.latest_only,
            "unknown_accounts": sorted(current.unknown_accounts),
            "unknown_profiles": sorted([a, p] for a, p in current.unknown_profiles),
            "session_lifetime": sessions.session_lifetime,
            "max_failed_logins": sessions.max_failed_logins,
            "lockout_seconds": sessions.lockout_seconds,
        }
