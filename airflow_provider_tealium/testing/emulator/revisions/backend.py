"""The revisions backend: plain methods on the stored revisions (no HTTP).

The publish feature calls :meth:`RevisionsStore.record` when a publish completes; tests do too (through
:mod:`~airflow_provider_tealium.testing.emulator.revisions_store`) to create revisions without
publishing. The API methods answer the seed's errors ("iQ Revisions (v1 API)"):
``1240`` "Account was not found" and ``1250`` "Profile was not found" (400 on the list call, 404 on
details), ``1260`` "Revision details do not exist" (404), ``1270`` "The revision bundle requested is not
the latest" (400). The v2 manifest API (API-NOTES, "Revisions") serves the same store.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from airflow_provider_tealium.testing.emulator.auth.backend import SETTINGS as SESSION_SETTINGS
from airflow_provider_tealium.testing.emulator.auth.backend import v1_sessions
from airflow_provider_tealium.testing.emulator.errors import tealium_error
from airflow_provider_tealium.testing.emulator.revisions import bundles
from airflow_provider_tealium.testing.emulator.revisions.bundles import ID_FORMAT
from airflow_provider_tealium.testing.emulator.state import EmulatorState

COMPONENT = "revisions"
ACCOUNT_NOT_FOUND = (1240, "Account was not found")
PROFILE_NOT_FOUND = (1250, "Profile was not found")
DETAILS_MISSING = (1260, "Revision details do not exist")
NOT_LATEST = (1270, "The revision bundle requested is not the latest")

_SETTINGS: dict[str, Callable[[Any], bool]] = {
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


@dataclass
class StoredRevision:
    """One revision as the emulator keeps it.

    :param details: the JSON answer of the details endpoint.
    :param bundles: target -> zip bytes.
    """

    details: dict[str, Any]
    bundles: dict[str, bytes] = field(default_factory=dict)


@dataclass
class RevisionsStore:
    """The ``revisions`` component: revisions per ``(account, profile)`` plus emulator-only knobs.

    :param revisions: ``(account, profile)`` -> revision id -> revision.
    :param last_id: the newest id handed out, so ids are unique and increasing even within a second.
    :param corrupt: ``(revision_id or "*", target or "*")`` -> how to corrupt the served bundle
        (:data:`~.bundles.CORRUPTIONS`).
    :param latest_only: as the real API, serve a target's bundle only for the newest revision published
        to that target (older ones answer 1270); ``False`` serves every bundle.
    :param unknown_accounts: accounts answered with 1240 (every other account exists).
    :param unknown_profiles: ``(account, profile)`` pairs answered with 1250.
    :param armed: publishes that complete ``delay`` seconds after the next list call of their profile,
        as ``record_publish`` keyword arguments.
    :param state: the emulator's state (its lock).
    """

    revisions: dict[tuple[str, str], dict[str, StoredRevision]] = field(default_factory=dict)
    last_id: str = ""
    corrupt: dict[tuple[str, str], str] = field(default_factory=dict)
    latest_only: bool = True
    unknown_accounts: set[str] = field(default_factory=set)
    unknown_profiles: set[tuple[str, str]] = field(default_factory=set)
    armed: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    state: EmulatorState = field(default_factory=EmulatorState, repr=False, compare=False)

    # -- what tests and the publish feature do ---------------------------------------------------

    def record(
        self,
        *,
        account: str,
        profile: str,
        name: str,
        comment: str,
        created_by: str,
        targets: list[str],
        now: datetime | None = None,
    ) -> str:
        """Store the revision a completed publish creates; returns its id (``YYYYMMDDHHMMSS``).

        :param account: the account published.
        :param profile: the profile published.
        :param name: the version's name.
        :param comment: the publish comment.
        :param created_by: the publishing user's email.
        :param targets: the environments published (``["prod"]``, ``["dev", "qa"]``).
        :param now: the publish time (tests); default the current UTC time.
        """
        with self.state.lock:
            revision_id = self._next_id(now)
            base: dict[str, Any] = {
                "account": account,
                "profile": profile,
                "name": name,
                "time_created": bundles.time_created(revision_id),
                "revision_id": revision_id,
                "comment": comment,
                "created_by": created_by,
                "targets_published": list(targets),
            }
            built = {target: bundles.build_target(base, target) for target in targets}
            details = dict(base, checksums={target: sums for target, (_, sums) in built.items()})
            revision = StoredRevision(details, {target: zipped for target, (zipped, _) in built.items()})
            self.revisions.setdefault((account, profile), {})[revision_id] = revision
            return revision_id

    def _next_id(self, now: datetime | None) -> str:
        moment = (now or datetime.now(timezone.utc)).replace(microsecond=0)
        candidate = moment.strftime(ID_FORMAT)
        if self.last_id and candidate <= self.last_id:
            # Same second (or a clock step back): the next free second keeps ids unique and increasing.
            later = datetime.strptime(self.last_id, ID_FORMAT) + timedelta(seconds=1)
            candidate = later.strftime(ID_FORMAT)
        self.last_id = candidate
        return candidate

    def ids(self, account: str, profile: str) -> list[str]:
        """Revision ids of a profile, newest first.

        :param account: the account.
        :param profile: the profile.
        """
        with self.state.lock:
            return sorted(self.revisions.get((account, profile), {}), reverse=True)

    def details(self, account: str, profile: str, revision_id: str) -> dict[str, Any] | None:
        """A copy of a revision's details, or ``None``.

        :param account: the account.
        :param profile: the profile.
        :param revision_id: the revision.
        """
        with self.state.lock:
            revision = self.revisions.get((account, profile), {}).get(revision_id)
            return json.loads(json.dumps(revision.details)) if revision else None

    def bundle(self, account: str, profile: str, revision_id: str, target: str) -> bytes | None:
        """The zip served for a revision and target (damaged if a corruption applies), or ``None``.

        :param account: the account.
        :param profile: the profile.
        :param revision_id: the revision.
        :param target: the target environment.
        """
        with self.state.lock:
            revision = self.revisions.get((account, profile), {}).get(revision_id)
            if revision is None or target not in revision.bundles:
                return None
            data = revision.bundles[target]
            keys = ((revision_id, target), (revision_id, "*"), ("*", target), ("*", "*"))
            mode = next((self.corrupt[key] for key in keys if key in self.corrupt), None)
        return data if mode is None else bundles.damage(data, mode)

    def corrupt_bundle(self, revision_id: str = "*", target: str = "*", mode: str = "checksum") -> None:
        """Serve a damaged bundle from now on (until reset).

        :param revision_id: the revision whose bundle is damaged, or ``"*"`` for every one.
        :param target: the target whose bundle is damaged, or ``"*"``.
        :param mode: one of :data:`~.bundles.CORRUPTIONS`.
        """
        if mode not in bundles.CORRUPTIONS:
            raise ValueError(f"unknown corruption mode {mode!r}: use checksum, missing or zip")
        with self.state.lock:
            self.corrupt[(revision_id, target)] = mode

    def arm(self, delay: float, publish: dict[str, Any]) -> None:
        """Make a publish complete ``delay`` seconds after the next list call of its profile.

        :param delay: seconds between that list call and the revision appearing.
        :param publish: :meth:`record` keyword arguments.
        """
        with self.state.lock:
            self.armed.append((delay, dict(publish)))

    def fire_armed(self, account: str, profile: str) -> None:
        """Start the publishes armed for this profile.

        :param account: the listed account.
        :param profile: the listed profile.
        """
        with self.state.lock:
            due = [(d, p) for d, p in self.armed if (p["account"], p["profile"]) == (account, profile)]
            self.armed = [item for item in self.armed if item not in due]
        for delay, publish in due:
            # The store current when it fires: a reset in between drops the old one.
            timer = threading.Timer(delay, lambda publish=publish: store(self.state).record(**publish))
            timer.daemon = True
            timer.start()

    def configure(self, **settings: Any) -> dict[str, Any]:
        """Change the revision and v1 session behaviour; returns the current settings.

        :param settings: ``latest_only`` (bool), ``unknown_accounts`` (answered 1240), ``unknown_profiles``
            (``[[account, profile], ...]``, answered 1250), and the v1 session settings
            ``session_lifetime``, ``max_failed_logins``, ``lockout_seconds``.
        :raises ValueError: for an unknown setting or a value of the wrong kind.
        """
        unknown = set(settings) - set(_SETTINGS)
        if unknown:
            raise ValueError(f"unknown settings: {sorted(unknown)}")
        for name, valid in _SETTINGS.items():
            if name in settings and not valid(settings[name]):
                raise ValueError(f"{name} has an invalid value: {settings[name]!r}")
        sessions = v1_sessions(self.state)
        with self.state.lock:
            if "latest_only" in settings:
                self.latest_only = bool(settings["latest_only"])
            if "unknown_accounts" in settings:
                self.unknown_accounts = {str(a) for a in settings["unknown_accounts"]}
            if "unknown_profiles" in settings:
                self.unknown_profiles = {(str(a), str(p)) for a, p in settings["unknown_profiles"]}
            session_settings = sessions.configure(
                **{k: v for k, v in settings.items() if k in SESSION_SETTINGS}
            )
            return {
                "latest_only": self.latest_only,
                "unknown_accounts": sorted(self.unknown_accounts),
                "unknown_profiles": sorted([a, p] for a, p in self.unknown_profiles),
                **session_settings,
            }

    # -- what the API answers --------------------------------------------------------------------

    def _check_profile(self, account: str, profile: str, status: int) -> None:
        with self.state.lock:
            if account in self.unknown_accounts:
                raise tealium_error(status, *ACCOUNT_NOT_FOUND)
            if (account, profile) in self.unknown_profiles:
                raise tealium_error(status, *PROFILE_NOT_FOUND)

    def list_revisions(self, account: str, profile: str) -> list[str]:
        """The list call: ids newest first (and the armed publishes of the profile start).

        :param account: the account.
        :param profile: the profile.
        """
        self._check_profile(account, profile, 400)  # the seed documents 400 for the list call
        ids = self.ids(account, profile)
        self.fire_armed(account, profile)
        return ids

    def get_details(self, account: str, profile: str, revision_id: str) -> dict[str, Any]:
        """The details call.

        :param account: the account.
        :param profile: the profile.
        :param revision_id: the revision.
        """
        self._check_profile(account, profile, 404)
        found = self.details(account, profile, revision_id)
        if found is None:
            raise tealium_error(404, *DETAILS_MISSING)
        return found

    def get_bundle(self, account: str, profile: str, revision_id: str, target: str) -> bytes:
        """The bundle call: a target's zip, for the newest revision published to it (``latest_only``).

        :param account: the account.
        :param profile: the profile.
        :param revision_id: the revision.
        :param target: the environment.
        """
        self._check_profile(account, profile, 400)
        found = self.details(account, profile, revision_id)
        if found is None:
            raise tealium_error(404, *DETAILS_MISSING)
        if target not in found["targets_published"]:
            raise tealium_error(404, 1260, f"Revision {revision_id} was not published to {target}")
        if self.latest_only and self._latest_for(account, profile, target) != revision_id:
            raise tealium_error(400, *NOT_LATEST)
        data = self.bundle(account, profile, revision_id, target)
        assert data is not None
        return data

    def _latest_for(self, account: str, profile: str, target: str) -> str | None:
        with self.state.lock:
            stored = self.revisions.get((account, profile), {})
            published = [rid for rid, r in stored.items() if target in r.details["targets_published"]]
            return max(published, default=None)


def store(state: EmulatorState) -> RevisionsStore:
    """The revisions component of this emulator.

    :param state: the emulator's state.
    """
    return state.component(COMPONENT, lambda: RevisionsStore(state=state))
