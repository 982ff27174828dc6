"""Everything the emulator remembers: users, token settings, counters, faults, and feature components."""

from __future__ import annotations

import secrets
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from airflow_provider_tealium.testing.emulator.faults import FaultInjector

# Fake credentials of the emulator's default user; they open nothing outside the emulator.
DEFAULT_EMAIL = "user@example.com"
DEFAULT_API_KEY = "emulator-api-key"
DEFAULT_V1_PASSWORD = "emulator-v1-password"

DEFAULT_TOKEN_LIFETIME = 1800

T = TypeVar("T")


@dataclass(frozen=True)
class User:
    """One Tealium user.

    :param api_key: the key accepted by the v2 and v3 auth calls.
    :param v1_password: the password accepted by the v1 login, if the user has one.
    """

    api_key: str
    v1_password: str | None = None


class EmulatorState:
    """The emulator's memory, shared by the server thread and the test thread.

    :param token_lifetime: seconds between a token's ``iat`` and ``exp``; :meth:`reset` returns to it.
    """

    def __init__(self, token_lifetime: int = DEFAULT_TOKEN_LIFETIME) -> None:
        # Re-entrant: a component factory or a helper may take the lock while a caller holds it.
        self.lock = threading.RLock()
        self._initial_token_lifetime = token_lifetime
        self.signing_secret = secrets.token_hex(32)
        self.faults = FaultInjector()
        self.users: dict[str, User] = {}
        self.token_lifetime = token_lifetime
        self.mints: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        # Every credential handed out, so leak tests can search logs and XCom for each one.
        self.issued_tokens: list[str] = []
        self.auth_failures = 0
        self.token_rejections = 0
        self._components: dict[str, Any] = {}
        self._reset_locked()

    def _reset_locked(self) -> None:
        with self.lock:
            self.users = {DEFAULT_EMAIL: User(DEFAULT_API_KEY, DEFAULT_V1_PASSWORD)}
            self.token_lifetime = self._initial_token_lifetime
            self.mints.clear()
            self.calls.clear()
            self.issued_tokens.clear()
            self.auth_failures = 0
            self.token_rejections = 0
            self.faults.clear()
            self._components.clear()

    def reset(self) -> None:
        """Back to a fresh emulator: default user, initial lifetime, no counters, faults or components.

        The signing secret is kept, so a token minted before a reset stays valid (as a real one would).
        """
        self._reset_locked()

    def add_user(self, email: str, api_key: str, v1_password: str | None = None) -> User:
        """Add or replace a user; replacing one invalidates its old key at once, as a key reset does.

        :param email: the user's email (the ``username`` of auth calls).
        :param api_key: the user's API key.
        :param v1_password: the user's v1 login password.
        """
        user = User(api_key, v1_password)
        with self.lock:
            self.users[email] = user
        return user

    def user(self, email: str) -> User | None:
        """The user with this email, if any.

        :param email: the user's email.
        """
        with self.lock:
            return self.users.get(email)

    def count_mint(self, key: str) -> None:
        """Count one token minted.

        :param key: ``"v3:{account}/{profile}:{email}"``, ``"v2:{email}"``, ...
        """
        with self.lock:
            self.mints[key] += 1

    def count_call(self, method: str, path: str) -> None:
        """Count one request.

        :param method: the request's verb.
        :param path: the request's actual path.
        """
        with self.lock:
            self.calls[f"{method} {path}"] += 1

    def count_auth_failure(self) -> None:
        """Count one refused login (wrong or unknown credentials)."""
        with self.lock:
            self.auth_failures += 1

    def count_token_rejection(self) -> None:
        """Count one refused bearer token."""
        with self.lock:
            self.token_rejections += 1

    def component(self, name: str, factory: Callable[[], T]) -> T:
        """The state a feature keeps here, created by ``factory`` on first use and dropped by :meth:`reset`.

        Features own their state this way so adding one never edits this class.

        :param name: the feature's unique name.
        :param factory: builds the fresh state.
        """
        with self.lock:
            if name not in self._components:
                self._components[name] = factory()
            return cast(T, self._components[name])

    def stats(self) -> dict[str, Any]:
        """A JSON-serialisable summary of counters and faults."""
        with self.lock:
            totals: Counter[str] = Counter()
            for key, count in self.mints.items():
                totals[key.split(":", 1)[0]] += count
            return {
                "mints": dict(self.mints),
                "mint_totals": dict(totals),
                "calls": dict(self.calls),
                "total_calls": sum(self.calls.values()),
                "auth_failures": self.auth_failures,
                "token_rejections": self.token_rejections,
                "token_lifetime": self.token_lifetime,
                "faults": [rule.to_dict() for rule in self.faults.rules],
            }
