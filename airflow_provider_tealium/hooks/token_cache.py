"""A process-wide cache of credentials, shared by every hook instance (sync and async).

A task builds several hooks and a triggerer runs hundreds of triggers in one process; minting a token
per hook (let alone per call) is wasteful and Tealium may throttle it. Entries are keyed by token
family, base URL, account, profile and user, and minted once per key at a time (single flight).
"""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from collections import Counter
from typing import NamedTuple

from airflow_provider_tealium.api.auth import IssuedToken


class TokenKey(NamedTuple):
    """What a credential is valid for."""

    family: str
    base_url: str
    account: str
    profile: str
    user: str


class TokenCache:
    """Thread-safe credential cache with per-key mint locks for threads and for event loops."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[TokenKey, IssuedToken] = {}
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
        with self._lock:
            token = self._tokens.get(key)
        if token is None or now >= token.refresh_at:
            return None
        return token

    def put(self, key: TokenKey, token: IssuedToken) -> None:
        """Store a freshly minted credential.

        :param key: the cache key.
        :param token: the credential.
        """
        with self._lock:
            self._tokens[key] = token
            self.mints[key] += 1

    def invalidate(self, key: TokenKey, token: IssuedToken | None = None) -> None:
        """Drop ``key``'s credential, but only if it is still ``token``.

        A 401 on an old token must not evict the fresh one another thread has just minted.

        :param key: the cache key.
        :param token: the credential that was refused; ``None`` drops whatever is cached.
        """
        with self._lock:
            current = self._tokens.get(key)
            if current is not None and (token is None or current.token == token.token):
                del self._tokens[key]

    def thread_lock(self, key: TokenKey) -> threading.Lock:
        """The lock that serialises minting ``key`` across threads.

        :param key: the cache key.
        """
        with self._lock:
            return self._thread_locks.setdefault(key, threading.Lock())

    def loop_lock(self, key: TokenKey) -> asyncio.Lock:
        """The lock that serialises minting ``key`` within the running event loop.

        :param key: the cache key.
        """
        loop = asyncio.get_running_loop()
        with self._lock:
            locks = self._loop_locks.setdefault(loop, {})
            return locks.setdefault(key, asyncio.Lock())

    def clear(self) -> None:
        """Forget every credential and counter (tests; a key rotation)."""
        with self._lock:
            self._tokens.clear()
            self.mints.clear()


TOKEN_CACHE = TokenCache()
"""The process-wide cache every hook uses."""
