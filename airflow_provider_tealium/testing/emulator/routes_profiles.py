"""The emulator's iQ Profiles (GET/PATCH, versions, the profile lock) and publish queue.

PATCH bodies are checked with :func:`airflow_provider_tealium.api.profiles.validate_patch`, the same
rules the operators apply before sending. Emulator-only knobs (lock duration, the "users currently
viewing" switch, publish timings, stopped publishes, final errors) live in :class:`ProfilesStore` and
are set from another process through ``POST /_emulator/profiles/config``.

Every publish that reaches ``published`` is recorded as a revision through
:func:`airflow_provider_tealium.testing.emulator.revisions_store.record_publish`.
"""

from __future__ import annotations

import asyncio
import copy
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from airflow_provider_tealium.api import profiles as api
from airflow_provider_tealium.api import publish as publish_api
from airflow_provider_tealium.exceptions import TealiumValidationError
from airflow_provider_tealium.testing.emulator.errors import tealium_error
from airflow_provider_tealium.testing.emulator.state import EmulatorState
from airflow_provider_tealium.testing.emulator.tokens import verify_bearer

COMPONENT = "profiles"
CONFIG_PATH = "/_emulator/profiles/config"
INITIAL_VERSION = "202601011200"
_KINDS = (api.Kind.LOAD_RULE, api.Kind.VARIABLE, api.Kind.EXTENSION)
# Knobs settable through the control route, with their types.
_KNOBS: dict[str, tuple[type, ...]] = {
    "lock_seconds": (int, float),
    "users_viewing": (bool, int, float),
    "viewing_status": (int,),
    "publish_queued_seconds": (int, float),
    "publish_processing_seconds": (int, float),
    "stop_next_publishes": (int,),
    "min_poll_interval": (int, float),
    "libraries_out_of_date": (bool,),
    "inherits_library": (bool,),
    "missing_profiles": (list,),
}


def _seed_components() -> dict[api.Kind, dict[str, dict[str, Any]]]:
    """What a fresh profile holds, so GET answers realistic data."""
    return {
        api.Kind.LOAD_RULE: {
            "1": {
                "id": "1",
                "name": "Checkout pages",
                "status": "active",
                "notes": "Every step of checkout",
                "loadRuleCondition": [
                    [{"variable": "udo.page_type", "operator": "equals", "value": "checkout"}]
                ],
            },
            "2": {
                "id": "2",
                "name": "Product pages",
                "status": "active",
                "notes": "",
                "loadRuleCondition": [
                    [{"variable": "udo.page_type", "operator": "equals", "value": "product"}],
                    [{"variable": "udo.product_id", "operator": "is defined"}],
                ],
            },
        },
        api.Kind.VARIABLE: {
            "1": {"id": "1", "name": "page_type", "type": "udo", "alias": "Page type", "notes": ""},
            "2": {"id": "2", "name": "page_name", "type": "udo", "alias": "Page name", "notes": ""},
            "3": {"id": "3", "name": "utm_source", "type": "qp", "alias": "Campaign source", "notes": ""},
        },
        api.Kind.EXTENSION: {
            "1": {
                "id": "1",
                "name": "Lower-case page type",
                "type": api.EXTENSION_TYPE,
                "scope": "Before Load Rules",
                "occurrence": "Run Always",
                "status": "active",
                "notes": "",
                "selectedTargets": {"dev": True, "qa": True, "prod": True},
                "conditions": [],
                "configuration": [
                    {"name": "code", "value": "b.page_type = (b.page_type || '').toLowerCase();"}
                ],
            }
        },
    }


_TAGS = [
    {"id": 1, "title": "Google Analytics 4", "status": "active", "loadRules": ["all"]},
    {"id": 2, "title": "Meta Pixel", "status": "active", "loadRules": ["1"]},
]
_EVENTS: list[dict[str, Any]] = [{"id": 1, "name": "purchase", "status": "active"}]


@dataclass
class Version:
    """One saved version of a profile.

    :param version: its id (``yyyyMMddHHmm``).
    :param title: its title.
    :param notes: its notes.
    :param user: who saved it.
    :param creation: when (ISO 8601).
    :param parent: the version it was saved from.
    :param items: kind -> id -> component.
    """

    version: str
    title: str
    notes: str
    user: str
    creation: str
    parent: str | None
    items: dict[api.Kind, dict[str, dict[str, Any]]]


@dataclass
class StoredProfile:
    """A profile: its versions (oldest first), next ids, lock and published versions."""

    account: str
    profile: str
    versions: list[Version]
    next_ids: dict[api.Kind, int]
    environment_versions: dict[str, str]
    locked_until: float = 0.0

    def latest(self) -> Version:
        """The latest saved version."""
        return self.versions[-1]

    def version(self, version_id: str) -> Version | None:
        """A version by id."""
        return next((v for v in self.versions if v.version == version_id), None)


@dataclass
class Publish:
    """One publish in the queue."""

    publish_id: str
    account: str
    profile: str
    version_id: str
    targets: list[str]
    title: str
    notes: str
    operator: str
    started: float
    queued_seconds: float
    processing_seconds: float
    stop: bool
    last_poll: float | None = None
    finished: bool = False
    revision_id: str | None = None

    def state(self, now: float) -> publish_api.PublishState:
        """Where it stands ``now`` (monotonic seconds)."""
        elapsed = now - self.started
        if elapsed < self.queued_seconds:
            return publish_api.PublishState.QUEUED
        if elapsed < self.queued_seconds + self.processing_seconds:
            return publish_api.PublishState.PROCESSING
        return publish_api.PublishState.STOPPED if self.stop else publish_api.PublishState.PUBLISHED


@dataclass
class ProfilesStore:
    """The ``profiles`` component: profiles by ``(account, profile)``, publishes, and knobs.

    :param lock_seconds: how long a profile stays locked after an update (Tealium: 15).
    :param users_viewing: ``True`` answers the "Users are currently viewing" lock to every PATCH;
        a number does so for that many seconds from when it was set.
    :param viewing_status: the status of that answer (409, or 404 as some pages document).
    :param publish_queued_seconds: how long a publish stays ``queued``.
    :param publish_processing_seconds: how long it then stays ``processing``.
    :param stop_next_publishes: the next N publishes end ``stopped`` instead of ``published``.
    :param min_poll_interval: polling one publish faster than this answers 429.
    :param libraries_out_of_date: PATCH answers the final 400 "Profile libraries are out of date".
    :param inherits_library: PATCH answers the final 500 "inherits from library profile".
    :param missing_profiles: ``"account/profile"`` names that answer 404 (others are created on demand).
    """

    profiles: dict[tuple[str, str], StoredProfile] = field(default_factory=dict)
    publishes: dict[str, Publish] = field(default_factory=dict)
    lock_seconds: float = 15.0
    users_viewing: bool | float = False
    viewing_until: float = 0.0
    viewing_status: int = 409
    publish_queued_seconds: float = 0.3
    publish_processing_seconds: float = 0.4
    stop_next_publishes: int = 0
    min_poll_interval: float = publish_api.MIN_POLL_INTERVAL
    libraries_out_of_date: bool = False
    inherits_library: bool = False
    missing_profiles: list[str] = field(default_factory=list)
    patches_applied: int = 0

    def knobs(self) -> dict[str, Any]:
        """The knobs' current values (JSON)."""
        return {name: getattr(self, name) for name in _KNOBS}

    def configure(self, **knobs: Any) -> None:
        """Set knobs (see the class docstring).

        :param knobs: knob values.
        """
        for name, value in knobs.items():
            if name not in _KNOBS:
                raise ValueError(f"unknown profiles knob {name!r}; known: {sorted(_KNOBS)}")
            if not isinstance(value, _KNOBS[name]):
                raise ValueError(f"{name} must be of type {'/'.join(t.__name__ for t in _KNOBS[name])}")
            setattr(self, name, value)
            if name == "users_viewing":
                self.viewing_until = (
                    time.monotonic() + float(value)  # type: ignore[arg-type]
                    if value is not True and value is not False
                    else 0.0
                )

    def viewing(self, now: float) -> bool:
        """Whether the "users currently viewing" lock is on."""
        if self.users_viewing is True:
            return True
        if self.users_viewing is False:
            return False
        return now < self.viewing_until

    def get(self, account: str, profile: str) -> StoredProfile:
        """A profile, created with the seed content on first use (404 if listed as missing)."""
        if f"{account}/{profile}" in self.missing_profiles:
            raise tealium_error(404, 404, api.NOT_FOUND_MESSAGE.format(account=account, profile=profile))
        key = (account, profile)
        if key not in self.profiles:
            items = _seed_components()
            self.profiles[key] = StoredProfile(
                account=account,
                profile=profile,
                versions=[
                    Version(
                        INITIAL_VERSION,
                        "Initial version",
                        "Created by the emulator",
                        "admin@example.com",
                        "2026-01-01T12:00:00Z",
                        None,
                        items,
                    )
                ],
                next_ids={kind: len(items[kind]) + 1 for kind in _KINDS},
                environment_versions={t: INITIAL_VERSION for t in publish_api.TARGETS},
            )
        return self.profiles[key]


def store(state: EmulatorState) -> ProfilesStore:
    """The profiles component of this emulator.

    :param state: the emulator's state.
    """
    return state.component(COMPONENT, ProfilesStore)


def _new_version_id(profile: StoredProfile) -> str:
    # Tealium's ids are minutes; two saves in one minute get the next free minute, so ids stay unique
    # and increasing, as "duplicate versions" is an error the real API refuses.
    candidate = datetime.now(timezone.utc).strftime(api.DATE_FORMAT)
    latest = max(v.version for v in profile.versions)
    if candidate <= latest:
        candidate = (datetime.strptime(latest, api.DATE_FORMAT) + timedelta(minutes=1)).strftime(
            api.DATE_FORMAT
        )
    return candidate


def profile_answer(
    store_: ProfilesStore, stored: StoredProfile, version: Version, includes: list[str]
) -> dict[str, Any]:
    """The GET answer for one version, with the requested components.

    :param store_: the component.
    :param stored: the profile.
    :param version: the version answered.
    :param includes: the ``includes`` parameters.
    """
    published_in = [t for t, v in stored.environment_versions.items() if v == version.version]
    body: dict[str, Any] = {
        "account": stored.account,
        "profile": stored.profile,
        "versionTitle": version.title,
        "version": version.version,
        "minorVersion": 0,
        "parentVersion": version.parent,
        "creation": version.creation,
        "versionDetails": {"environmentVersions": published_in, "user": version.user, "notes": version.notes},
        "environmentVersions": dict(stored.environment_versions),
    }
    for name in includes:
        if name in ("versionIds", "versionIDs"):
            body["versionIds"] = [v.version for v in stored.versions]
        elif name in ("tags", "tags.templateList", "tags.template"):
            body["tags"] = copy.deepcopy(_TAGS)
        elif name == "events":
            body["events"] = copy.deepcopy(_EVENTS)
        else:
            kind = {
                "loadRules": api.Kind.LOAD_RULE,
                "variables": api.Kind.VARIABLE,
                "extensions": api.Kind.EXTENSION,
            }[name]
            body[name] = [copy.deepcopy(item) for item in version.items[kind].values()]
    return body


def _stored_value(kind: api.Kind, component_id: str, value: dict[str, Any]) -> dict[str, Any]:
    item = {k: v for k, v in value.items() if k != "object"}
    item["id"] = component_id
    if kind is api.Kind.VARIABLE and item.get("type") == "js_page":
        item["type"] = "js"  # GET shows js_page variables as ``js``
    return item


def apply_operations(
    stored: StoredProfile, items: dict[api.Kind, dict[str, dict[str, Any]]], operations: list[dict[str, Any]]
) -> dict[api.Kind, int]:
    """Apply validated operations to ``items`` (a copy); raise a 400 if one names an unknown id.

    :param stored: the profile (its next ids).
    :param items: the components to change.
    :param operations: the validated ``operationList``.
    :return: the next ids after the change.
    """
    next_ids = dict(stored.next_ids)
    for i, operation in enumerate(operations):
        parsed = api.parse_path(operation["path"])
        assert parsed is not None  # validated
        kind, component_id = parsed
        if operation["op"] == "add":
            new_id = str(next_ids[kind])
            next_ids[kind] += 1
            items[kind][new_id] = _stored_value(kind, new_id, operation["value"])
            continue
        assert component_id is not None
        if component_id not in items[kind]:
            reason = f"operationList[{i}].path: {kind.value} id {component_id} does not exist"
            raise tealium_error(400, 400, api.VALIDATE_FAILED_MESSAGE.format(reason=reason))
        if operation["op"] == "remove":
            del items[kind][component_id]
        else:
            items[kind][component_id] = _stored_value(kind, component_id, operation["value"])
    return next_ids


def finish_publish(state: EmulatorState, current: ProfilesStore, publish: Publish) -> None:
    """Close a publish once its time is up: update the profile and record the revision (once).

    :param state: the emulator state.
    :param current: the component the publish belongs to (a reset replaces it; then nothing happens).
    :param publish: the publish.
    """
    from airflow_provider_tealium.testing.emulator import revisions_store

    with state.lock:
        if publish.finished or store(state) is not current:
            return
        if publish.state(time.monotonic()) is not publish_api.PublishState.PUBLISHED:
            if publish.state(time.monotonic()) is publish_api.PublishState.STOPPED:
                publish.finished = True
            return
        publish.finished = True
        stored = current.get(publish.account, publish.profile)
        for target in publish.targets:
            stored.environment_versions[target] = publish.version_id
        publish.revision_id = revisions_store.record_publish(
            state,
            account=publish.account,
            profile=publish.profile,
            name=publish.title,
            comment=publish.notes,
            created_by=publish.operator,
            targets=list(publish.targets),
        )


async def _json_body(request: Request) -> Any:
    try:
        return json.loads(await request.body() or b"null")
    except ValueError as exc:
        raise tealium_error(
            400, 400, api.VALIDATE_FAILED_MESSAGE.format(reason=f"invalid JSON: {exc}")
        ) from exc


def routes(state: EmulatorState, region_host_provider: Callable[[], str]) -> list[BaseRoute]:
    """The iQ Profiles, publish and ``/_emulator/profiles`` control routes.

    :param state: the emulator state.
    :param region_host_provider: unused; part of the route-module signature.
    """

    def _auth(request: Request) -> tuple[str, str, dict[str, Any]]:
        account, profile = request.path_params["account"], request.path_params["profile"]
        claims = verify_bearer(state, request, "v3", account, profile)
        return account, profile, claims

    async def get_profile(request: Request) -> JSONResponse:
        account, profile, _ = _auth(request)
        includes = request.query_params.getlist("includes")
        unknown = [n for n in includes if n not in api.INCLUDES and n != "versionIDs"]
        if unknown:
            raise tealium_error(400, 400, f"Unsupported includes: {', '.join(unknown)}")
        publish_version = request.query_params.get("publishVersion")
        with state.lock:
            current = store(state)
            stored = current.get(account, profile)
            version = stored.latest() if publish_version is None else stored.version(publish_version)
            if version is None:
                raise tealium_error(
                    404, 404, f"Version {publish_version} not found - account: {account} | profile: {profile}"
                )
            return JSONResponse(profile_answer(current, stored, version, includes))

    async def patch_profile(request: Request) -> JSONResponse:
        account, profile, claims = _auth(request)
        body = await _json_body(request)
        with state.lock:
            current = store(state)
            stored = current.get(account, profile)
            now = time.monotonic()
            if current.inherits_library:
                raise tealium_error(500, 500, api.INHERITS_LIBRARY_MESSAGE.format(profile=profile))
            if current.libraries_out_of_date:
                raise tealium_error(
                    400, 400, api.LIBRARIES_OUT_OF_DATE_MESSAGE.format(account=account, profile=profile)
                )
            if current.viewing(now):
                status = current.viewing_status
                raise tealium_error(status, status, api.LOCK_MESSAGE.format(account=account, profile=profile))
            if now < stored.locked_until:
                # Tealium locks a profile for 15 seconds after an update, with the same answer.
                raise tealium_error(409, 409, api.LOCK_MESSAGE.format(account=account, profile=profile))
            if not isinstance(body, dict):
                raise tealium_error(
                    400, 400, api.VALIDATE_FAILED_MESSAGE.format(reason="the body must be an object")
                )
            notes = body.get("notes")
            if not isinstance(notes, str) or not notes.strip():
                raise tealium_error(400, 400, api.NOTES_EMPTY_MESSAGE)
            try:
                validated = api.validate_patch(body)
            except TealiumValidationError as exc:
                raise tealium_error(400, 400, api.VALIDATE_FAILED_MESSAGE.format(reason=str(exc))) from exc
            latest = stored.latest()
            items = copy.deepcopy(latest.items)
            next_ids = apply_operations(stored, items, validated.body["operationList"])
            title = validated.body.get("versionTitle")
            stamp = datetime.now(timezone.utc)
            if validated.body["saveType"] == "saveAs":
                version = Version(
                    version=_new_version_id(stored),
                    title=title or f"API | {stamp.strftime('%Y-%m-%d %H:%M:%S')}",
                    notes=notes,
                    user=str(claims["sub"]),
                    creation=stamp.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    parent=latest.version,
                    items=items,
                )
                stored.versions.append(version)
            else:
                latest.items = items
                latest.notes = notes
                latest.title = title or latest.title
                latest.user = str(claims["sub"])
                version = latest
            stored.next_ids = next_ids
            stored.locked_until = now + current.lock_seconds
            current.patches_applied += 1
            return JSONResponse(profile_answer(current, stored, version, []))

    async def start_publish(request: Request) -> JSONResponse:
        account, profile, _ = _auth(request)
        body = await _json_body(request)
        if not isinstance(body, dict):
            raise tealium_error(400, 400, "the body must be a JSON object")
        try:
            valid = publish_api.validate_publish(
                version_id=body.get("versionId"),
                targets=body.get("publishTargets"),
                title=body.get("title"),
                notes=body.get("notes"),
                operator_id=body.get("operatorId"),
            )
        except TealiumValidationError as exc:
            raise tealium_error(400, 400, str(exc)) from exc
        with state.lock:
            current = store(state)
            stored = current.get(account, profile)
            if stored.version(valid.version_id) is None:
                raise tealium_error(
                    404,
                    404,
                    f"Version {valid.version_id} not found - account: {account} | profile: {profile}",
                )
            stop = current.stop_next_publishes > 0
            if stop:
                current.stop_next_publishes -= 1
            publish = Publish(
                publish_id=uuid.uuid4().hex,
                account=account,
                profile=profile,
                version_id=valid.version_id,
                targets=list(valid.targets),
                title=valid.title,
                notes=valid.notes,
                operator=valid.operator_id,
                started=time.monotonic(),
                queued_seconds=current.publish_queued_seconds,
                processing_seconds=current.publish_processing_seconds,
                stop=stop,
            )
            current.publishes[publish.publish_id] = publish
        # The queue moves on by itself, so a publish nobody polls still completes (and leaves a revision).
        delay = publish.queued_seconds + publish.processing_seconds
        asyncio.get_running_loop().call_later(delay + 0.01, finish_publish, state, current, publish)
        return JSONResponse({"publishId": publish.publish_id})

    async def publish_status(request: Request) -> JSONResponse:
        account, profile, _ = _auth(request)
        publish_id = request.path_params["publish_id"]
        with state.lock:
            current = store(state)
            publish = current.publishes.get(publish_id)
            if publish is None or (publish.account, publish.profile) != (account, profile):
                raise tealium_error(404, 404, f"Publish {publish_id} not found")
            now = time.monotonic()
            # A little slack, so a client polling exactly once a second is not refused by clock jitter.
            if publish.last_poll is not None and now - publish.last_poll < current.min_poll_interval * 0.9:
                raise tealium_error(
                    429, 429, "Too many requests: poll a publish status at most once a second"
                )
            publish.last_poll = now
            target_state = publish.state(now)
            if (
                target_state is not publish_api.PublishState.QUEUED
                and target_state is not publish_api.PublishState.PROCESSING
            ):
                finish_publish(state, current, publish)
            return JSONResponse(
                {
                    "publishId": publish.publish_id,
                    "versionId": publish.version_id,
                    "publishTargets": list(publish.targets),
                    "publishTargetState": {t: target_state.value for t in publish.targets},
                }
            )

    async def get_config(request: Request) -> JSONResponse:
        return JSONResponse(store(state).knobs())

    async def set_config(request: Request) -> JSONResponse:
        body = await _json_body(request)
        if not isinstance(body, dict):
            raise tealium_error(400, 1400, "the body must be a JSON object")
        with state.lock:
            try:
                store(state).configure(**body)
            except ValueError as exc:
                raise tealium_error(400, 1400, str(exc)) from exc
            return JSONResponse(store(state).knobs())

    return [
        Route(api.PROFILE_PATH, get_profile, methods=["GET"]),
        Route(api.PROFILE_PATH, patch_profile, methods=["PATCH"]),
        Route(publish_api.PUBLISH_PATH, start_publish, methods=["POST"]),
        Route(publish_api.PUBLISH_STATUS_PATH, publish_status, methods=["GET"]),
        Route(CONFIG_PATH, get_config, methods=["GET"]),
        Route(CONFIG_PATH, set_config, methods=["POST"]),
    ]
