"""The iQ Profiles and Publish backend: plain methods on stored profiles, versions and publishes.

Requests are checked with :mod:`.rules` (written from the documents); emulator-only knobs (lock duration,
the "users currently viewing" switch, publish timings, stopped publishes, final errors) are fields of
:class:`ProfilesStore`, set with :meth:`ProfilesStore.configure` or ``POST /_emulator/profiles/config``.
Every publish that reaches ``published`` leaves a revision in the revisions backend.
"""

from __future__ import annotations

import copy
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from airflow_provider_tealium.testing.emulator.errors import EmulatorHTTPError, tealium_error
from airflow_provider_tealium.testing.emulator.profiles import rules
from airflow_provider_tealium.testing.emulator.profiles.models import (
    PROCESSING,
    QUEUED,
    STOPPED,
    Publish,
    StoredProfile,
    Version,
    new_version_id,
    stored_value,
)
from airflow_provider_tealium.testing.emulator.profiles.seed import (
    EVENTS,
    INITIAL_VERSION,
    TAGS,
    seed_components,
)
from airflow_provider_tealium.testing.emulator.revisions.backend import store as revisions_store
from airflow_provider_tealium.testing.emulator.state import EmulatorState

COMPONENT = "profiles"
MIN_POLL_INTERVAL = 1.0
"""API-NOTES: poll a publish at most once a second, else 429."""
POLLED_TOO_FAST_MESSAGE = "Too many requests: poll a publish status at most once a second"
# Knobs settable through the control route, with their types.
KNOBS: dict[str, tuple[type, ...]] = {
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


def _invalid_patch(reason: str) -> EmulatorHTTPError:
    return tealium_error(400, 400, rules.VALIDATE_FAILED_MESSAGE.format(reason=reason))


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
    :param state: the emulator's state (its lock; the revisions a publish leaves).
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
    min_poll_interval: float = MIN_POLL_INTERVAL
    libraries_out_of_date: bool = False
    inherits_library: bool = False
    missing_profiles: list[str] = field(default_factory=list)
    patches_applied: int = 0
    state: EmulatorState = field(default_factory=EmulatorState, repr=False, compare=False)

    def knobs(self) -> dict[str, Any]:
        """The knobs' current values (JSON)."""
        return {name: getattr(self, name) for name in KNOBS}

    def configure(self, **knobs: Any) -> None:
        """Set knobs (see the class docstring).

        :param knobs: knob values.
        """
        for name, value in knobs.items():
            if name not in KNOBS:
                raise ValueError(f"unknown profiles knob {name!r}; known: {sorted(KNOBS)}")
            if not isinstance(value, KNOBS[name]):
                raise ValueError(f"{name} must be of type {'/'.join(t.__name__ for t in KNOBS[name])}")
            setattr(self, name, value)
            if name == "users_viewing":
                # A number is seconds from now; True and False switch it on and off for good.
                timed = isinstance(value, (int, float)) and not isinstance(value, bool)
                self.viewing_until = time.monotonic() + float(value) if timed else 0.0  # type: ignore[arg-type]

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
            raise tealium_error(404, 404, rules.NOT_FOUND_MESSAGE.format(account=account, profile=profile))
        key = (account, profile)
        if key not in self.profiles:
            items = seed_components()
            initial = Version(
                INITIAL_VERSION,
                "Initial version",
                "Created by the emulator",
                "admin@example.com",
                "2026-01-01T12:00:00Z",
                None,
                items,
            )
            self.profiles[key] = StoredProfile(
                account=account,
                profile=profile,
                versions=[initial],
                next_ids={kind: len(found) + 1 for kind, found in items.items()},
                environment_versions=dict.fromkeys(rules.TARGETS, INITIAL_VERSION),
            )
        return self.profiles[key]

    # -- what the API answers --------------------------------------------------------------------

    def get_profile(
        self, account: str, profile: str, includes: list[str], publish_version: str | None = None
    ) -> dict[str, Any]:
        """The GET answer: a version (the latest unless ``publish_version``) with the included components.

        :param includes: the repeated ``includes`` parameters.
        :param publish_version: a version id (``yyyyMMddHHmm``).
        """
        unknown = rules.include_problems(includes)
        if unknown:
            raise tealium_error(400, 400, f"Unsupported includes: {', '.join(unknown)}")
        with self.state.lock:
            stored = self.get(account, profile)
            version = stored.latest() if publish_version is None else stored.version(publish_version)
            if version is None:
                message = f"Version {publish_version} not found - account: {account} | profile: {profile}"
                raise tealium_error(404, 404, message)
            return self._answer(stored, version, includes)

    def patch(self, account: str, profile: str, body: Any, user: str, now: float) -> dict[str, Any]:
        """Apply a PATCH as one saved version (``saveAs`` a new one, ``save`` the latest); the answer is
        the version saved. Nothing changes when any operation is refused.

        :param body: the PATCH body as received (parsed JSON).
        :param user: the token's user.
        :param now: monotonic seconds (the profile lock).
        """
        with self.state.lock:
            stored = self.get(account, profile)
            if self.inherits_library:
                raise tealium_error(500, 500, rules.INHERITS_LIBRARY_MESSAGE.format(profile=profile))
            if self.libraries_out_of_date:
                message = rules.LIBRARIES_OUT_OF_DATE_MESSAGE.format(account=account, profile=profile)
                raise tealium_error(400, 400, message)
            lock_message = rules.LOCK_MESSAGE.format(account=account, profile=profile)
            if self.viewing(now):
                raise tealium_error(self.viewing_status, self.viewing_status, lock_message)
            if now < stored.locked_until:
                # Tealium locks a profile for 15 seconds after an update, with the same answer.
                raise tealium_error(409, 409, lock_message)
            if not isinstance(body, dict):
                raise _invalid_patch("the body must be an object")
            if rules.notes_missing(body):
                raise tealium_error(400, 400, rules.NOTES_EMPTY_MESSAGE)
            problems = rules.patch_problems(body)
            if problems:
                raise _invalid_patch(f"{len(problems)} invalid item(s): {'; '.join(problems)}")
            latest = stored.latest()
            items = copy.deepcopy(latest.items)
            next_ids = self._apply(stored, items, body["operationList"])
            version = self._save(stored, body, items, user)
            stored.next_ids = next_ids
            stored.locked_until = now + self.lock_seconds
            self.patches_applied += 1
            return self._answer(stored, version, [])

    @staticmethod
    def _apply(
        stored: StoredProfile, items: dict[str, dict[str, dict[str, Any]]], operations: list[dict[str, Any]]
    ) -> dict[str, int]:
        """Apply checked operations to ``items`` (a copy); 400 when one names an unknown id."""
        next_ids = dict(stored.next_ids)
        for i, operation in enumerate(operations):
            parsed = rules.parse_path(operation["path"])
            assert parsed is not None  # checked
            section, component_id = parsed
            kind = rules.SECTIONS[section]
            if operation["op"] == "add":
                new_id = str(next_ids[kind])
                next_ids[kind] += 1
                items[kind][new_id] = stored_value(kind, new_id, operation["value"])
                continue
            assert component_id is not None
            if component_id not in items[kind]:
                raise _invalid_patch(f"operationList[{i}].path: {kind} id {component_id} does not exist")
            if operation["op"] == "remove":
                del items[kind][component_id]
            else:
                items[kind][component_id] = stored_value(kind, component_id, operation["value"])
        return next_ids

    @staticmethod
    def _save(
        stored: StoredProfile, body: dict[str, Any], items: dict[str, dict[str, dict[str, Any]]], user: str
    ) -> Version:
        latest = stored.latest()
        title = body.get("versionTitle")
        if body.get("saveType", "saveAs") == "save":
            latest.items, latest.notes, latest.user = items, body["notes"], user
            latest.title = title or latest.title
            return latest
        stamp = datetime.now(timezone.utc)
        version = Version(
            version=new_version_id(stored, stamp),
            title=title or f"API | {stamp.strftime('%Y-%m-%d %H:%M:%S')}",
            notes=body["notes"],
            user=user,
            creation=stamp.strftime("%Y-%m-%dT%H:%M:%SZ"),
            parent=latest.version,
            items=items,
        )
        stored.versions.append(version)
        return version

    def _answer(self, stored: StoredProfile, version: Version, includes: list[str]) -> dict[str, Any]:
        published_in = [t for t, v in stored.environment_versions.items() if v == version.version]
        body: dict[str, Any] = {
            "account": stored.account,
            "profile": stored.profile,
            "versionTitle": version.title,
            "version": version.version,
            "minorVersion": 0,
            "parentVersion": version.parent,
            "creation": version.creation,
            "versionDetails": {
                "environmentVersions": published_in,
                "user": version.user,
                "notes": version.notes,
            },
            "environmentVersions": dict(stored.environment_versions),
        }
        for name in includes:
            if name in ("versionIds", "versionIDs"):
                body["versionIds"] = [v.version for v in stored.versions]
            elif name.startswith("tags"):
                body["tags"] = copy.deepcopy(TAGS)
            elif name == "events":
                body["events"] = copy.deepcopy(EVENTS)
            else:
                body[name] = [copy.deepcopy(item) for item in version.items[rules.SECTIONS[name]].values()]
        return body

    # -- publishing ------------------------------------------------------------------------------

    def start_publish(self, account: str, profile: str, body: Any, now: float) -> Publish:
        """Queue a publish; it moves on by itself (:meth:`finish` once its time is up).

        :param body: the publish body as received (parsed JSON).
        :param now: monotonic seconds.
        """
        if not isinstance(body, dict):
            raise tealium_error(400, 400, "the body must be a JSON object")
        problems = rules.publish_problems(body)
        if problems:
            reason = f"{len(problems)} invalid item(s): {'; '.join(problems)}"
            raise tealium_error(400, 400, rules.PUBLISH_INVALID_MESSAGE.format(reason=reason))
        version_id = str(body["versionId"])
        with self.state.lock:
            if self.get(account, profile).version(version_id) is None:
                message = f"Version {version_id} not found - account: {account} | profile: {profile}"
                raise tealium_error(404, 404, message)
            stop = self.stop_next_publishes > 0
            if stop:
                self.stop_next_publishes -= 1
            publish = Publish(
                publish_id=uuid.uuid4().hex,
                account=account,
                profile=profile,
                version_id=version_id,
                targets=list(body["publishTargets"]),
                title=body["title"],
                notes=body.get("notes") or "",
                operator=body["operatorId"],
                started=now,
                queued_seconds=self.publish_queued_seconds,
                processing_seconds=self.publish_processing_seconds,
                stop=stop,
            )
            self.publishes[publish.publish_id] = publish
            return publish

    def publish_status(self, account: str, profile: str, publish_id: str, now: float) -> dict[str, Any]:
        """The status answer; 429 when this publish was polled less than ``min_poll_interval`` ago.

        :param publish_id: the publish.
        :param now: monotonic seconds.
        """
        with self.state.lock:
            publish = self.publishes.get(publish_id)
            if publish is None or (publish.account, publish.profile) != (account, profile):
                raise tealium_error(404, 404, f"Publish {publish_id} not found")
            # A little slack, so a client polling exactly once a second is not refused by clock jitter.
            if publish.last_poll is not None and now - publish.last_poll < self.min_poll_interval * 0.9:
                raise tealium_error(429, 429, POLLED_TOO_FAST_MESSAGE)
            publish.last_poll = now
            target_state = publish.state(now)
            if target_state not in (QUEUED, PROCESSING):
                self.finish(publish, now)
            return {
                "publishId": publish.publish_id,
                "versionId": publish.version_id,
                "publishTargets": list(publish.targets),
                "publishTargetState": dict.fromkeys(publish.targets, target_state),
            }

    def finish(self, publish: Publish, now: float | None = None) -> None:
        """Close a publish whose time is up: update the profile and record its revision (once).

        Nothing happens when a reset has replaced this store since the publish started.

        :param publish: the publish.
        :param now: monotonic seconds; default the clock.
        """
        moment = time.monotonic() if now is None else now
        with self.state.lock:
            if publish.finished or store(self.state) is not self:
                return
            outcome = publish.state(moment)
            if outcome in (QUEUED, PROCESSING):
                return
            publish.finished = True
            if outcome == STOPPED:
                return
            stored = self.get(publish.account, publish.profile)
            for target in publish.targets:
                stored.environment_versions[target] = publish.version_id
            publish.revision_id = revisions_store(self.state).record(
                account=publish.account,
                profile=publish.profile,
                name=publish.title,
                comment=publish.notes,
                created_by=publish.operator,
                targets=list(publish.targets),
            )


def store(state: EmulatorState) -> ProfilesStore:
    """The profiles component of this emulator.

    :param state: the emulator's state.
    """
    return state.component(COMPONENT, lambda: ProfilesStore(state=state))
