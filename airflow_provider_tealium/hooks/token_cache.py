"""A process-wide cache of credentials, shared by every hook instance (sync and async).

A task builds several hooks and a triggerer runs hundreds of triggers in one process; minting a token
per hook (let alone per call) is wasteful and Tealium may throttle it. Entries are keyed by token
family, base URL, account, profile, user and a digest of the credential that minted them (the API key,
the v1 password, IQM's password, client secret and login flow), and minted once per key at a time
(single flight). The digest matters: a triggerer or worker runs many teams' connections in one process,
and a connection with the right email but a wrong key must never be handed another connection's token.

A refused login is remembered too (:meth:`TokenCache.refuse`): callers waiting on the same mint lock,
and later ones, get the same error without sending the login again, because every refused attempt
counts towards Tealium's lockout (v1: 10 minutes). The memory holds a keyed digest of the secret that
was refused, never the secret, so a corrected password or key logs in at once.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import threading
import time
import weakref
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from airflow_provider_tealium.api.auth import IssuedToken
from airflow_provider_tealium.exceptions import TealiumApiError

REFUSAL_TTL = 600.0
"""Seconds a refused login is remembered: Tealium's documented lockout after repeated failures."""

# A per-process key: the digests never leave the process, and keyed ones cannot be looked up in a
# table of common passwords' SHA-256 should memory ever be dumped.
_DIGEST_KEY = secrets.token_bytes(32)


def secret_digest(secret: str | None) -> str:
    """The digest that identifies a secret in the refusal memory (HMAC-SHA-256, per-process key).

    :param secret: the password or API key a login sent.
    """
    return hmac.new(_DIGEST_KEY, (secret or "").encode("utf-8"), hashlib.sha256).hexdigest()


def credential_digest(*parts: object) -> str:
    """The digest of everything a credential was minted with, for :attr:`TokenKey.credential`.

    Each part is length-prefixed, so ``("ab", "c")`` and ``("a", "bc")`` differ.

    :param parts: the secrets and settings that make the credential (``None`` counts as empty).
    """
    mac = hmac.new(_DIGEST_KEY, b"credential", hashlib.sha256)
    for part in parts:
        data = ("" if part is None else str(part)).encode("utf-8")
        mac.update(len(data).to_bytes(8, "big") + data)
    return mac.hexdigest()


class TokenKey(NamedTuple):
    """What a credential is valid for, and which secret minted it.

    :param family: the token family.
    :param base_url: where it was minted.
    :param account: the account (v3), else empty; IQM: the client id.
    :param profile: the profile (v3), else empty; IQM: the workspace host.
    :param user: the user's email.
    :param credential: :func:`credential_digest` of the secret(s) it was minted with, never the secret.
    """

    family: str
    base_url: str
    account: str
    profile: str
    user: str
    credential: str


@dataclass(frozen=True)
class RefusedMint:
    """A login Tealium refused: enough to raise the same error again, and nothing secret.

    :param digest: :func:`secret_digest` of the secret that was refused.
    :param refused_at: epoch seconds.
    :param until: epoch seconds after which a login is tried again.
    :param error_type: the exception's class (``TealiumAuthError``).
    :param error_args: its ``args`` (the message).
    :param error_attrs: its attributes (method, path, status, return code, API message...).
    """

    digest: str = field(repr=False)
    refused_at: float
    until: float
    error_type: type[TealiumApiError]
    error_args: tuple[Any, ...]
    error_attrs: dict[str, Any] = field(repr=False)

    @classmethod
    def of(cls, digest: str, error: TealiumApiError, now: float, ttl: float) -> RefusedMint:
        """Remember ``error`` (its traceback is dropped: its frames hold the request, secret included).

        :param digest: the refused secret's digest.
        :param error: the final error of the login.
        :param now: epoch seconds.
        :param ttl: seconds to remember it.
        """
        return cls(digest, now, now + ttl, type(error), tuple(error.args), dict(vars(error)))

    def error(self, now: float) -> TealiumApiError:
        """A fresh exception equal to the remembered one, saying that no login was sent this time.

        A new object each time: raising one shared exception from many threads would chain their tracebacks.

        :param now: epoch seconds.
        """
        error = self.error_type.__new__(self.error_type)
        error.__dict__.update(self.error_attrs)
        message = str(self.error_args[0]) if self.error_args else ""
        note = (
            f" (Remembered: this login was refused {max(now - self.refused_at, 0.0):.0f} s ago and is not sent "
            f"again with the same secret for {max(self.until - now, 0.0):.0f} s; a changed password or key "
            "is tried at once.)"
        )
        error.args = (message + note, *self.error_args[1:])
        return error


class TokenCache:
    """Credential cache shared by threads and event loops, with per-key mint locks for each.

    Its state is plain dicts whose single operations are atomic under the GIL, so reading, storing
    and dropping an entry takes no lock: coroutines (triggers) use this cache too, and async code never
    takes a ``threading`` lock (a lock held while Airflow's 3.3 triggerer switches coroutines inside a
    sync supervisor call deadlocks the loop). Only minting is serialised: across threads by
    :meth:`thread_lock`, within an event loop by :meth:`loop_lock`.

    :param refusal_ttl: seconds a refused login is remembered (:data:`REFUSAL_TTL`).
    """

    def __init__(self, refusal_ttl: float = REFUSAL_TTL) -> None:
        self._tokens: dict[TokenKey, IssuedToken] = {}
        self._refused: dict[TokenKey, RefusedMint] = {}
        self.refusal_ttl = refusal_ttl
        self._thread_locks: dict[TokenKey, threading.Lock] = {}
        # asyncio locks belong to one event loop; a process may run several (tests, dag.test()).
        self._loop_locks: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, dict[TokenKey, asyncio.Lock]
        ] = weakref.WeakKeyDictionary()
        self.mints: Counter[TokenKey] = Counter()

    def get(self, key: TokenKey, now: float | None = None) -> IssuedToken | None:
        """The cached credential for ``key`` if it is not yet due for refresh.

        :param key: the cache key.
        :param now: the current epoch time (default: now).
        """
        now = time.time() if now is None else now
        token = self._tokens.get(key)
        if token is None or now >= token.refresh_at:
            return None
        return token

    def put(self, key: TokenKey, token: IssuedToken) -> None:
        """Store a freshly minted credential.

        :param key: the cache key.
        :param token: the credential.
        """
        self._tokens[key] = token
        self._refused.pop(key, None)
        self.mints[key] += 1  # a statistic: callers mint under the key's mint lock

    def invalidate(self, key: TokenKey, token: IssuedToken | None = None) -> None:
        """Drop ``key``'s credential, but only if it is still ``token``.

        A 401 on an old token must not evict the fresh one another caller has just minted. Should a mint
        land between the comparison and the removal (threads only), the fresh credential is dropped and
        the next call mints once more: a wasted login, never a wrong credential.

        :param key: the cache key.
        :param token: the credential that was refused; ``None`` drops whatever is cached.
        """
        current = self._tokens.get(key)
        if current is not None and (token is None or current.token == token.token):
            self._tokens.pop(key, None)

    def refuse(self, key: TokenKey, digest: str, error: TealiumApiError, now: float | None = None) -> None:
        """Remember that logging in for ``key`` with the secret of ``digest`` was refused with ``error``.

        :param key: the cache key.
        :param digest: :func:`secret_digest` of the secret the login sent.
        :param error: the login's final error.
        :param now: the current epoch time (default: now).
        """
        now = time.time() if now is None else now
        self._refused[key] = RefusedMint.of(digest, error, now, self.refusal_ttl)

    def refusal(self, key: TokenKey, digest: str, now: float | None = None) -> TealiumApiError | None:
        """The error to raise instead of logging in, if this very secret was refused for ``key`` lately.

        :param key: the cache key.
        :param digest: :func:`secret_digest` of the secret a login would send.
        :param now: the current epoch time (default: now).
        """
        now = time.time() if now is None else now
        refused = self._refused.get(key)
        if refused is not None and now >= refused.until:
            if self._refused.get(key) is refused:
                self._refused.pop(key, None)
            refused = None
        if refused is None or not hmac.compare_digest(refused.digest, digest):
            return None
        return refused.error(now)

    def thread_lock(self, key: TokenKey) -> threading.Lock:
        """The lock that serialises minting ``key`` across threads (sync callers only).

        :param key: the cache key.
        """
        # setdefault is atomic: two threads asking at once get the same lock.
        return self._thread_locks.setdefault(key, threading.Lock())

    def loop_lock(self, key: TokenKey) -> asyncio.Lock:
        """The lock that serialises minting ``key`` within the running event loop.

        :param key: the cache key.
        """
        loop = asyncio.get_running_loop()
        locks = self._loop_locks.get(loop)
        if locks is None:
            locks = self._loop_locks.setdefault(loop, {})
        return locks.setdefault(key, asyncio.Lock())

    def clear(self) -> None:
        """Forget every credential, refused login and counter (tests; a key rotation)."""
        self._tokens.clear()
        self._refused.clear()
        self.mints.clear()


TOKEN_CACHE = TokenCache()
"""The process-wide cache every hook uses."""
