"""In-process helpers over the emulator's revisions (:mod:`.revisions.backend`), for tests and demos.

``record_publish`` creates a revision as a completed publish does, ``arm_publish`` makes one land after
the next list call, ``corrupt_bundle`` damages bundles, ``configure_revisions`` switches the revision and
v1 session behaviour; the rest read what is stored. Each takes the emulator's state.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from airflow_provider_tealium.testing.emulator.revisions.backend import RevisionsStore, StoredRevision, store
from airflow_provider_tealium.testing.emulator.revisions.bundles import build_zip, sha256
from airflow_provider_tealium.testing.emulator.state import EmulatorState

__all__ = [
    "RevisionsStore",
    "StoredRevision",
    "arm_publish",
    "build_zip",
    "bundle",
    "configure_revisions",
    "corrupt_bundle",
    "details",
    "fire_armed",
    "record_publish",
    "revision_ids",
    "sha256",
    "stage_demo",
    "store",
]

DEMO_DAG_ID = "example_tealium_revision_audit"


def record_publish(state: EmulatorState, **publish: Any) -> str:
    """Store the revision a completed publish creates (:meth:`RevisionsStore.record`); returns its id.

    :param state: the emulator's state.
    :param publish: ``account``, ``profile``, ``name``, ``comment``, ``created_by``, ``targets``, ``now``.
    """
    return store(state).record(**publish)


def corrupt_bundle(
    state: EmulatorState, *, revision_id: str = "*", target: str = "*", mode: str = "checksum"
) -> None:
    """Serve a damaged bundle from now on (until reset): :meth:`RevisionsStore.corrupt_bundle`.

    :param state: the emulator's state.
    :param revision_id: the revision, or ``"*"``.
    :param target: the target, or ``"*"``.
    :param mode: ``checksum``, ``missing`` or ``zip``.
    """
    store(state).corrupt_bundle(revision_id, target, mode)


def revision_ids(state: EmulatorState, account: str, profile: str) -> list[str]:
    """Revision ids of a profile, newest first.

    :param state: the emulator's state.
    :param account: the account.
    :param profile: the profile.
    """
    return store(state).ids(account, profile)


def details(state: EmulatorState, account: str, profile: str, revision_id: str) -> dict[str, Any] | None:
    """A copy of a revision's details, or ``None``.

    :param state: the emulator's state.
    :param account: the account.
    :param profile: the profile.
    :param revision_id: the revision.
    """
    return store(state).details(account, profile, revision_id)


def bundle(state: EmulatorState, account: str, profile: str, revision_id: str, target: str) -> bytes | None:
    """The zip served for a revision and target (damaged if a corruption applies), or ``None``.

    :param state: the emulator's state.
    :param account: the account.
    :param profile: the profile.
    :param revision_id: the revision.
    :param target: the target environment.
    """
    return store(state).bundle(account, profile, revision_id, target)


def arm_publish(state: EmulatorState, *, delay: float = 1.0, **publish: Any) -> None:
    """Make a publish complete ``delay`` seconds after the next revision list call of its profile.

    A sensor resolves its baseline before its first list call, so the revision is reliably newer than
    the baseline however long Airflow took to start: demos and end-to-end tests use this.

    :param state: the emulator's state.
    :param delay: seconds between that list call and the revision appearing.
    :param publish: :func:`record_publish` keyword arguments.
    """
    store(state).arm(delay, publish)


def fire_armed(state: EmulatorState, account: str, profile: str) -> None:
    """Start the publishes armed for this profile (the list call does).

    :param state: the emulator's state.
    :param account: the listed account.
    :param profile: the listed profile.
    """
    store(state).fire_armed(account, profile)


def configure_revisions(state: EmulatorState, **settings: Any) -> dict[str, Any]:
    """Change the revision and v1 session behaviour (:meth:`RevisionsStore.configure`).

    :param state: the emulator state.
    :param settings: the settings to change.
    """
    return store(state).configure(**settings)


def stage_demo(state: EmulatorState, dag_id: str) -> str | None:
    """Stage what happens outside Airflow in a demo of ``dag_id``: for the revision audit (which publishes
    to prod itself), yesterday's prod revision, which its sensor must not take for the new one. Returns a
    line for the demo to print, if any.

    :param state: the emulator's state.
    :param dag_id: the DAG the demo runs.
    """
    if dag_id != DEMO_DAG_ID:
        return None
    record_publish(
        state,
        account="demo",
        profile="main",
        name="Yesterday's release",
        comment="published before the DAG ran",
        created_by="user@example.com",
        targets=["dev", "prod"],
        now=datetime.now(timezone.utc) - timedelta(days=1),
    )
    return "Emulator:            yesterday's prod revision exists; the DAG's own publish creates the one it audits"
