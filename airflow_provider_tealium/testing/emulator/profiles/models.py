"""The things the profiles backend stores: versions, profiles, publishes (plain data, as moto's models)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from airflow_provider_tealium.testing.emulator.profiles.rules import DATE_FORMAT

QUEUED, PROCESSING, PUBLISHED, STOPPED = "queued", "processing", "published", "stopped"
"""A publish target's states (API-NOTES: ``publishTargetState``)."""


@dataclass
class Version:
    """One saved version of a profile.

    :param version: its id (``yyyyMMddHHmm``).
    :param title: its title.
    :param notes: its notes.
    :param user: who saved it.
    :param creation: when (ISO 8601).
    :param parent: the version it was saved from.
    :param items: ``value.object`` kind (``loadRule``, ``variable``, ``extension``) -> id -> component.
    """

    version: str
    title: str
    notes: str
    user: str
    creation: str
    parent: str | None
    items: dict[str, dict[str, dict[str, Any]]]


@dataclass
class StoredProfile:
    """A profile: its versions (oldest first), next ids per kind, lock and published versions."""

    account: str
    profile: str
    versions: list[Version]
    next_ids: dict[str, int]
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

    def state(self, now: float) -> str:
        """Where it stands ``now`` (monotonic seconds): ``queued``, ``processing``, ``published`` or
        ``stopped``."""
        elapsed = now - self.started
        if elapsed < self.queued_seconds:
            return QUEUED
        if elapsed < self.queued_seconds + self.processing_seconds:
            return PROCESSING
        return STOPPED if self.stop else PUBLISHED


def stored_value(kind: str, component_id: str, value: dict[str, Any]) -> dict[str, Any]:
    """A PATCH ``value`` as stored and answered: without ``object``, with its ``id``.

    :param kind: ``loadRule``, ``variable`` or ``extension``.
    :param component_id: its id.
    :param value: the operation's value.
    """
    item = {k: v for k, v in value.items() if k != "object"}
    item["id"] = component_id
    if kind == "variable" and item.get("type") == "js_page":
        item["type"] = "js"  # GET shows js_page variables as ``js`` (API-NOTES)
    return item


def new_version_id(profile: StoredProfile, stamp: datetime) -> str:
    """The id of a version saved at ``stamp``: its minute, or the next free one.

    :param profile: the profile.
    :param stamp: the save time (UTC).
    """
    # Tealium's ids are minutes; two saves in one minute get the next free minute, so ids stay unique
    # and increasing, as "duplicate versions" is an error the real API refuses.
    candidate = stamp.strftime(DATE_FORMAT)
    latest = max(v.version for v in profile.versions)
    if candidate <= latest:
        later = datetime.strptime(latest, DATE_FORMAT) + timedelta(minutes=1)
        candidate = later.strftime(DATE_FORMAT)
    return candidate
