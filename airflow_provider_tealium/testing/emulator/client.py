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

    def close(self) -> None:
        """Close the HTTP session."""
        self.session.close()
