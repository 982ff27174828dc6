"""``TealiumAsyncHook``: the async twin of :class:`~airflow_provider_tealium.hooks.tealium.TealiumHook`,
for triggers.

This module and everything it imports stays free of ``requests``: a trigger imports it when its module
loads, and nothing it runs on the triggerer's event loop may import more.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from typing import Any

import httpx

from airflow_provider_tealium._compat import aget_connection, amask_secret
from airflow_provider_tealium.api import auth
from airflow_provider_tealium.api.config import TealiumConfig
from airflow_provider_tealium.api.request import ApiRequest, ApiResponse, TokenFamily
from airflow_provider_tealium.api.retry import RetryPolicy
from airflow_provider_tealium.hooks.base import Scope, TealiumHookBase
from airflow_provider_tealium.hooks.datalayers import AsyncDataLayersHookMixin
from airflow_provider_tealium.hooks.profiles import AsyncProfilesHookMixin
from airflow_provider_tealium.hooks.revisions import AsyncRevisionsHookMixin
from airflow_provider_tealium.hooks.transport import Credential
from airflow_provider_tealium.hooks.transport_async import AsyncTransport

# A triggerer runs hundreds of triggers in one event loop, each with its own hook. A client per hook
# would build an SSL context per trigger (tens of ms of CPU and ~0.3 MB each) and its own connection
# pool, so every hook on a loop shares one client; the last hook to close it closes it. The timeout is
# passed with every request, so the shared client needs no per-connection settings. The pool is kept
# small on purpose: httpcore scans every pooled connection on each request, so a pool as large as the
# number of triggers costs CPU quadratically (measured in benchmarks/bench_triggerer_density.py); a
# request waiting for a free connection counts against its own timeout and is retried like any other.
SHARED_CLIENT_LIMITS = httpx.Limits(max_connections=20, max_keepalive_connections=20)


class _SharedClient:
    """One loop's shared client and how many open hooks use it."""

    def __init__(self) -> None:
        self.client = httpx.AsyncClient(limits=SHARED_CLIENT_LIMITS)
        self.users = 0


_SHARED_CLIENTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _SharedClient] = (
    weakref.WeakKeyDictionary()
)


class TealiumAsyncHook(
    AsyncProfilesHookMixin, AsyncDataLayersHookMixin, AsyncRevisionsHookMixin, TealiumHookBase, AsyncTransport
):
    """The async twin of :class:`TealiumHook` for triggers: httpx, async connection lookup, no blocking.

    Use it as an async context manager (or call :meth:`aclose`) so its HTTP client is released. All
    hooks on one event loop share one HTTP client (and its connection pool), closed with the last of them.
    A hook used on several event loops (one ``asyncio.run`` after another) takes each loop's client in
    turn: a client's connections belong to the loop that opened them.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._config: TealiumConfig | None = self._given_config
        # The client this hook uses on each loop; a loop that is gone drops out by itself.
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _SharedClient] = (
            weakref.WeakKeyDictionary()
        )

    async def __aenter__(self) -> TealiumAsyncHook:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Release this loop's HTTP client (closed when no other hook on this event loop uses it).

        Clients this hook took on loops that have ended are only forgotten: they cannot be closed from
        another loop, and their loop's end has dropped their connections.
        """
        loop = asyncio.get_running_loop()
        shared = self._clients.pop(loop, None)
        self._clients.clear()
        if shared is None:
            return
        shared.users -= 1
        if shared.users <= 0:
            if _SHARED_CLIENTS.get(loop) is shared:
                del _SHARED_CLIENTS[loop]
            await shared.client.aclose()

    async def aconfig(self) -> TealiumConfig:
        """The connection's settings, looked up without blocking the event loop."""
        if self._config is None:
            config = self._read_config(await aget_connection(self.tealium_conn_id))
            for secret in self._secrets_of(config):
                await amask_secret(secret)
            self._config = config
        return self._config

    async def aget_token(
        self, family: TokenFamily, account: str | None = None, profile: str | None = None
    ) -> auth.IssuedToken:
        """Async :meth:`TealiumHook.get_token`; shares the same process-wide cache.

        :param family: the token family.
        :param account: the account (v3).
        :param profile: the profile (v3).
        """
        scope = self._scope(await self.aconfig(), family, account, profile)
        return await self._acached_token(family, scope)

    async def _acached_token(self, family: TokenFamily, scope: Scope) -> auth.IssuedToken:
        config = await self.aconfig()
        key = self._token_key(config, family, scope)
        token = self.token_cache.get(key)
        if token is not None:
            return token
        async with self.token_cache.loop_lock(key):
            token = self.token_cache.get(key)
            if token is None:
                call = auth.auth_call(family, config, *scope)
                # The task before us on this lock (or a thread, or another loop) may have been refused.
                with self._refusal_memory(config, family, key):
                    self.log.info("Minting a %s token (%s)", family.value, call.request.path)
                    token = call.read(await self._atransport_send(call.request), time.time())
                for secret in token.secrets:
                    await amask_secret(secret)
                self.token_cache.put(key, token)
        return token

    # -- the transport's questions --------------------------------------------------------------------

    async def _atransport_policy(self) -> RetryPolicy:
        return (await self.aconfig()).retry

    async def _atransport_client(self) -> httpx.AsyncClient:
        # Keyed by the running loop: a client cached from an earlier loop would fail with "Event loop
        # is closed" (its pooled connections belong to that loop).
        loop = asyncio.get_running_loop()
        mine = self._clients.get(loop)
        if mine is None or mine.client.is_closed:
            shared = _SHARED_CLIENTS.get(loop)
            if shared is None or shared.client.is_closed:
                shared = _SHARED_CLIENTS[loop] = _SharedClient()
            shared.users += 1
            self._clients[loop] = mine = shared
        return mine.client

    async def _atransport_credential(self, request: ApiRequest, scope: Any) -> Credential | None:
        if request.family is TokenFamily.NONE:
            return None
        return await self._acached_token(request.family, scope)

    async def _atransport_invalidate(
        self, request: ApiRequest, scope: Any, credential: Credential | None
    ) -> None:
        key = self._token_key(await self.aconfig(), request.family, scope)
        self.token_cache.invalidate(key, credential)  # type: ignore[arg-type]

    async def _atransport_compose(
        self, request: ApiRequest, credential: Credential | None
    ) -> tuple[str, dict[str, str], tuple[tuple[str, str], ...]]:
        return self._compose(await self.aconfig(), request, credential)

    # -- public request path --------------------------------------------------------------------------

    async def arun(
        self, request: ApiRequest, *, account: str | None = None, profile: str | None = None
    ) -> ApiResponse:
        """Async :meth:`TealiumHook.run`.

        :param request: the call.
        :param account: the account (v3 calls).
        :param profile: the profile (v3 calls).
        """
        scope: Scope = (None, None)
        if request.family is not TokenFamily.NONE:
            scope = self._scope(await self.aconfig(), request.family, account, profile)
        return await self._atransport_send(request, scope)

    async def aget_json(
        self, request: ApiRequest, *, account: str | None = None, profile: str | None = None
    ) -> Any:
        """:meth:`arun` and parse the answer as JSON.

        :param request: the call.
        :param account: the account (v3 calls).
        :param profile: the profile (v3 calls).
        """
        return (await self.arun(request, account=account, profile=profile)).json(request)
