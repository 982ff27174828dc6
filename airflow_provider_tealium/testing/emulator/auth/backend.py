"""Tealium's authentication, as plain methods on the emulator's state (no HTTP).

v3 and v2 take an email and an API key and mint a JWT; the v1 login takes an email and a *password* and
opens a ``JSESSIONID`` session with a ``utk``. Documented answers (API-NOTES, "Tealium authentication"):
401 ``1401`` "Authentication Failed" for wrong credentials, 401 ``1402`` "Too many unsuccessful login
attempts. Please try again in 10 minutes" once a user is locked out (a key reset invalidates a key at once).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_tealium.testing.emulator.errors import EmulatorHTTPError, tealium_error
from airflow_provider_tealium.testing.emulator.state import EmulatorState
from airflow_provider_tealium.testing.emulator.tokens import issue_token

COMPONENT = "v1_sessions"
AUTH_FAILED_MESSAGE = "Authentication Failed"
V1_LOCKOUT_MESSAGE = "Too many unsuccessful login attempts. Please try again in 10 minutes"
V1_SESSION_MESSAGE = "Session expired or invalid"
SETTINGS = ("session_lifetime", "max_failed_logins", "lockout_seconds")


@dataclass
class AuthBackend:
    """Logins and sessions. The users and token settings are the shared :class:`EmulatorState`'s.

    :param session_lifetime: seconds a v1 session lives after its login.
    :param max_failed_logins: consecutive refused v1 logins that lock a user out (1402).
    :param lockout_seconds: how long a lockout lasts (Tealium: 10 minutes).
    :param sessions: JSESSIONID -> (email, utk, expires_at).
    :param failures: email -> consecutive refused v1 logins.
    :param locked_until: email -> epoch time the lockout ends.
    :param state: the emulator's state (users, counters, issued secrets).
    """

    session_lifetime: float = 1800.0
    max_failed_logins: int = 5
    lockout_seconds: float = 600.0
    sessions: dict[str, tuple[str, str, float]] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    locked_until: dict[str, float] = field(default_factory=dict)
    state: EmulatorState = field(default_factory=EmulatorState, repr=False, compare=False)

    def authenticate(self, email: str, secret: str, secret_field: str = "key") -> str:
        """The email of the user these credentials open, or a 400 (missing) or 401 (wrong) error.

        :param email: the form's ``username``.
        :param secret: the form's API key (``key``) or v1 ``password``.
        :param secret_field: which of the two ``secret`` is.
        """
        if not email or not secret:
            raise tealium_error(400, 1400, f"username and {secret_field} are required")
        user = self.state.user(email)
        expected = None if user is None else (user.api_key if secret_field == "key" else user.v1_password)
        if expected is None or not secrets.compare_digest(expected.encode(), secret.encode()):
            self.state.count_auth_failure()
            raise tealium_error(401, 1401, AUTH_FAILED_MESSAGE)
        return email

    def v3_token(self, email: str, key: str, account: str, profile: str) -> str:
        """A v3 token, scoped to one account and profile.

        :param email: the user.
        :param key: the user's API key.
        :param account: the account in the auth URL.
        :param profile: the profile in the auth URL.
        """
        return issue_token(self.state, "v3", self.authenticate(email, key), account, profile)

    def v2_token(self, email: str, key: str) -> str:
        """A v2 token (Hosted Data Layer, v2 revisions).

        :param email: the user.
        :param key: the user's API key.
        """
        return issue_token(self.state, "v2", self.authenticate(email, key))

    def v1_login(self, email: str, password: str, now: float | None = None) -> tuple[str, str]:
        """Open a v1 session; returns its ``JSESSIONID`` and ``utk``. Locks the user out after
        :attr:`max_failed_logins` refusals in a row.

        :param email: the user.
        :param password: the user's v1 password.
        :param now: epoch seconds (tests); default the clock.
        """
        moment = time.time() if now is None else now
        with self.state.lock:
            locked = self.locked_until.get(email, 0.0) > moment
        if locked:
            self.state.count_auth_failure()
            raise tealium_error(401, 1402, V1_LOCKOUT_MESSAGE)
        try:
            self.authenticate(email, password, secret_field="password")
        except EmulatorHTTPError as exc:
            if exc.status != 401:
                raise
            with self.state.lock:
                self.failures[email] = self.failures.get(email, 0) + 1
                if self.failures[email] >= self.max_failed_logins:
                    self.locked_until[email] = moment + self.lockout_seconds
                    self.failures[email] = 0
                    raise tealium_error(401, 1402, V1_LOCKOUT_MESSAGE) from None
            raise
        session_id = secrets.token_hex(16).upper()
        utk = secrets.token_hex(20)
        with self.state.lock:
            self.failures.pop(email, None)
            self.sessions[session_id] = (email, utk, moment + self.session_lifetime)
            self.state.issued_tokens.extend([session_id, utk])
        self.state.count_mint(f"v1:{email}")
        return session_id, utk

    def v1_user(self, session_id: str, utk: str, now: float | None = None) -> str:
        """The email of a live v1 session whose ``utk`` matches, or a 401.

        :param session_id: the ``JSESSIONID`` cookie.
        :param utk: the ``utk`` query parameter.
        :param now: epoch seconds (tests); default the clock.
        """
        with self.state.lock:
            entry = self.sessions.get(session_id)
        if entry is not None:
            email, expected_utk, expires_at = entry
            moment = time.time() if now is None else now
            if utk and secrets.compare_digest(expected_utk, utk) and moment < expires_at:
                return email
        self.state.count_token_rejection()
        raise tealium_error(401, 1401, V1_SESSION_MESSAGE)

    def configure(self, **settings: Any) -> dict[str, Any]:
        """Change the v1 session settings (:data:`SETTINGS`, values checked by the caller); returns them.

        :param settings: ``session_lifetime``, ``max_failed_logins``, ``lockout_seconds``.
        """
        with self.state.lock:
            if "session_lifetime" in settings:
                self.session_lifetime = float(settings["session_lifetime"])
            if "max_failed_logins" in settings:
                self.max_failed_logins = int(settings["max_failed_logins"])
            if "lockout_seconds" in settings:
                self.lockout_seconds = float(settings["lockout_seconds"])
            return {name: getattr(self, name) for name in SETTINGS}


def v1_sessions(state: EmulatorState) -> AuthBackend:
    """The auth backend of this emulator, which keeps the v1 sessions.

    :param state: the emulator state.
    """
    return state.component(COMPONENT, lambda: AuthBackend(state=state))
