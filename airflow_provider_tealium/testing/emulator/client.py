"""A small client of the control API, to drive an emulator that runs in another process."""

from __future__ import annotations

from typing import Any

import requests

TIMEOUT = 10.0


class EmulatorClient:
    """Drives an emulator through ``/_emulator/``.

    :param base_url: the emulator's platform base URL (``http://127.0.0.1:PORT``).
    """

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()

    def _call(self, method: str, path: str, json_body: Any = None) -> Any:
        response = self.session.request(
            method, f"{self.base_url}/_emulator/{path}", json=json_body, timeout=TIMEOUT
        )
        response.raise_for_status()
        return response.json()

    def reset(self) -> None:
        """Back to a fresh emulator."""
        self._call("POST", "reset")

    def stats(self) -> dict[str, Any]:
        """Counters and faults (see :meth:`EmulatorState.stats`)."""
        result: dict[str, Any] = self._call("GET", "stats")
        return result

    def add_fault(self, **rule: Any) -> dict[str, Any]:
        """Add a fault rule; returns it with its ``id``.

        :param rule: :class:`~airflow_provider_tealium.testing.emulator.faults.FaultRule` fields.
        """
        result: dict[str, Any] = self._call("POST", "faults", rule)
        return result

    def clear_faults(self) -> None:
        """Remove every fault rule."""
        self._call("DELETE", "faults")

    def configure(self, token_lifetime: int | None = None) -> dict[str, Any]:
        """Change settings; returns the current ones.

        :param token_lifetime: seconds between a new token's ``iat`` and ``exp``.
        """
        settings: dict[str, Any] = {}
        if token_lifetime is not None:
            settings["token_lifetime"] = token_lifetime
        result: dict[str, Any] = self._call("POST", "config", settings)
        return result

    def add_user(self, email: str, api_key: str, v1_password: str | None = None) -> None:
        """Add or replace a user.

        :param email: the user's email.
        :param api_key: the user's API key.
        :param v1_password: the user's v1 login password.
        """
        self._call("POST", "users", {"email": email, "api_key": api_key, "v1_password": v1_password})

    def configure_datalayers(self, **settings: Any) -> dict[str, Any]:
        """Change Hosted Data Layer knobs; returns them all.

        :param settings: ``landing_delay``, ``rate_limit`` (``None`` disables), ``page_size``,
            ``fail_fraction``, ``fail_ids`` (list, or id -> count), ``forbidden``, ``seed``.
        """
        result: dict[str, Any] = self._call("POST", "datalayers/config", settings)
        return result

    def datalayer_stats(self) -> dict[str, Any]:
        """Hosted Data Layer uploads per file, stored files, 429s answered, and the knobs."""
        result: dict[str, Any] = self._call("GET", "datalayers/stats")
        return result

    def seed_datalayers(
        self,
        account: str,
        profile: str,
        ids: list[str],
        file_type: str | None = None,
        size: int = 2,
        modified: float | None = None,
    ) -> int:
        """Store landed data layers directly (no upload calls); returns how many.

        :param account: the account.
        :param profile: the profile.
        :param ids: the ids.
        :param file_type: ``json`` or ``None`` (JavaScript).
        :param size: each file's size.
        :param modified: their ``lastModified`` in epoch seconds (default now).
        """
        body: dict[str, Any] = {"account": account, "profile": profile, "ids": ids, "file_type": file_type}
        body.update(size=size, modified=modified)
        return int(self._call("POST", "datalayers/seed", body)["seeded"])

    def configure_profiles(self, **knobs: Any) -> dict[str, Any]:
        """Change iQ Profiles and publish knobs; returns them all.

        :param knobs: ``lock_seconds``, ``users_viewing`` (bool, or seconds), ``viewing_status``,
            ``publish_queued_seconds``, ``publish_processing_seconds``, ``stop_next_publishes``,
            ``min_poll_interval``, ``libraries_out_of_date``, ``inherits_library``, ``missing_profiles``.
        """
        result: dict[str, Any] = self._call("POST", "profiles/config", knobs)
        return result

    def publish_revision(
        self,
        *,
        account: str = "demo",
        profile: str = "main",
        name: str = "Release",
        comment: str = "",
        created_by: str | None = None,
        targets: list[str] | None = None,
        delay: float = 0,
        after_next_list: bool = False,
    ) -> dict[str, Any]:
        """Create a revision as a completed publish does; ``{"revision_id": ...}`` (or ``scheduled``/``armed``).

        :param account: the account.
        :param profile: the profile.
        :param name: the version's name.
        :param comment: the publish comment.
        :param created_by: the publisher's email (default the emulator's user).
        :param targets: the environments published (default ``["prod"]``).
        :param delay: seconds to wait before the revision appears.
        :param after_next_list: start the ``delay`` at the next revision list call of the profile (a
            waiting sensor's first poll) instead of now.
        """
        body: dict[str, Any] = {"account": account, "profile": profile, "name": name, "comment": comment}
        body.update({"targets": targets or ["prod"], "delay": delay, "after_next_list": after_next_list})
        if created_by is not None:
            body["created_by"] = created_by
        result: dict[str, Any] = self._call("POST", "revisions/publish", body)
        return result

    def corrupt_revision_bundle(
        self, revision_id: str = "*", target: str = "*", mode: str = "checksum"
    ) -> None:
        """Serve damaged bundles: ``checksum`` (a file altered), ``missing`` (a file left out) or ``zip``.

        :param revision_id: the revision, or ``"*"``.
        :param target: the target, or ``"*"``.
        :param mode: how to damage it.
        """
        self._call("POST", "revisions/corrupt", {"revision_id": revision_id, "target": target, "mode": mode})

    def configure_revisions(self, **settings: Any) -> dict[str, Any]:
        """Change revision and v1 session behaviour (``latest_only``, ``unknown_accounts``,
        ``unknown_profiles``, ``session_lifetime``, ``max_failed_logins``, ``lockout_seconds``).

        :param settings: the settings to change.
        """
        result: dict[str, Any] = self._call("POST", "revisions/config", settings)
        return result

    def close(self) -> None:
        """Close the HTTP session."""
        self.session.close()
