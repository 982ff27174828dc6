"""``TealiumHook`` (sync, for operators and sensors) and ``TealiumAsyncHook`` (for triggers).

Both send :class:`~airflow_provider_tealium.api.request.ApiRequest` descriptions built in
:mod:`airflow_provider_tealium.api`, take credentials from the process-wide token cache, and run the
request loops of :mod:`airflow_provider_tealium.hooks.transport`; only the I/O differs. The methods of
each API family come from mixins, one module per family.
"""

from __future__ import annotations

import asyncio
import weakref
from functools import cached_property
from typing import Any

import httpx
import requests

from airflow_provider_tealium._compat import aget_connection
from airflow_provider_tealium.api import auth
from airflow_provider_tealium.api.config import TealiumConfig
from airflow_provider_tealium.api.request import ApiRequest, ApiResponse, TokenFamily
from airflow_provider_tealium.api.retry import RetryPolicy
from airflow_provider_tealium.exceptions import TealiumError
from airflow_provider_tealium.hooks.base import Scope, TealiumHookBase
from airflow_provider_tealium.hooks.datalayers import AsyncDataLayersHookMixin, DataLayersHookMixin
from airflow_provider_tealium.hooks.profiles import AsyncProfilesHookMixin, ProfilesHookMixin
from airflow_provider_tealium.hooks.revisions import AsyncRevisionsHookMixin, RevisionsHookMixin
from airflow_provider_tealium.hooks.token_cache import TokenKey
from airflow_provider_tealium.hooks.transport import AsyncTransport, Credential, SyncTransport


class TealiumHook(ProfilesHookMixin, DataLayersHookMixin, RevisionsHookMixin, TealiumHookBase, SyncTransport):
    """Talks to Tealium's v3 (iQ, publish) and v1/v2 (Hosted Data Layer, revisions) APIs.

    The connection is read on first use, not at construction, so building a hook in a DAG file costs
    nothing at parse time.
    """

    @cached_property
    def config(self) -> TealiumConfig:
        """The connection's settings (looked up once per hook)."""
        if self._given_config is not None:
            return self._given_config
        return self._config_from(self.get_connection(self.tealium_conn_id))

    @cached_property
    def session(self) -> requests.Session:
        """One HTTP session per hook, so consecutive calls reuse connections."""
        return requests.Session()

    def close(self) -> None:
        """Release pooled connections."""
        if "session" in self.__dict__:
            self.session.close()

    def get_token(
        self, family: TokenFamily, account: str | None = None, profile: str | None = None
    ) -> auth.IssuedToken:
        """A valid credential for ``family``, from the cache or freshly minted (once per key at a time).

        :param family: the token family.
        :param account: the account (v3; default from the connection).
        :param profile: the profile (v3; default from the connection).
        """
        scope = self._scope(self.config, family, account, profile)
        return self._cached_token(family, scope)

    def _cached_token(self, family: TokenFamily, scope: Scope) -> auth.IssuedToken:
        key = self._token_key(self.config, family, scope)
        token = self.token_cache.get(key)
        if token is not None:
            return token
        with self.token_cache.thread_lock(key):
            token = self.token_cache.get(key)  # another thread may have minted it meanwhile
            if token is None:
                # Raises the remembered refusal when the thread before us was refused with this secret.
                token = self._mint(family, scope, key)
                self.token_cache.put(key, token)
        return token

    def _mint(self, family: TokenFamily, scope: Scope, key: TokenKey | None = None) -> auth.IssuedToken:
        config = self.config
        call = auth.auth_call(family, config, *scope)
        key = key or self._token_key(config, family, scope)
        with self._refusal_memory(config, family, key):
            self.log.info("Minting a %s token (%s)", family.value, call.request.path)
            return self._issued(call, self._transport_send(call.request))

    # -- the transport's questions --------------------------------------------------------------------

    def _transport_policy(self) -> RetryPolicy:
        return self.config.retry

    def _transport_session(self) -> requests.Session:
        return self.session

    def _transport_credential(self, request: ApiRequest, scope: Any) -> Credential | None:
        if request.family is TokenFamily.NONE:
            return None
        return self._cached_token(request.family, scope)

    def _transport_invalidate(self, request: ApiRequest, scope: Any, credential: Credential | None) -> None:
        self.token_cache.invalidate(self._token_key(self.config, request.family, scope), credential)  # type: ignore[arg-type]

    def _transport_compose(
        self, request: ApiRequest, credential: Credential | None
    ) -> tuple[str, dict[str, str], tuple[tuple[str, str], ...]]:
        return self._compose(self.config, request, credential)

    # -- public request path --------------------------------------------------------------------------

    def run(
        self, request: ApiRequest, *, account: str | None = None, profile: str | None = None
    ) -> ApiResponse:
        """Send ``request`` with its family's credential, retrying by the connection's policy.

        :param request: the call, built by :mod:`airflow_provider_tealium.api`.
        :param account: the account (v3 calls; default from the connection).
        :param profile: the profile (v3 calls; default from the connection).
        :return: the answer, whose status is one of ``request.ok_statuses``.
        :raises TealiumApiError: on a final error answer or when retries are exhausted.
        """
        scope: Scope = (None, None)
        if request.family is not TokenFamily.NONE:
            scope = self._scope(self.config, request.family, account, profile)
        return self._transport_send(request, scope)

    def get_json(self, request: ApiRequest, *, account: str | None = None, profile: str | None = None) -> Any:
        """:meth:`run` and parse the answer as JSON.

        :param request: the call.
        :param account: the account (v3 calls).
        :param profile: the profile (v3 calls).
        """
        return self.run(request, account=account, profile=profile).json(request)

    def region_base_url(self, account: str | None = None, profile: str | None = None) -> str:
        """The v3 region base URL for a profile (mints or reuses its token).

        :param account: the account (default from the connection).
        :param profile: the profile (default from the connection).
        """
        token = self.get_token(TokenFamily.V3, account, profile)
        assert token.host is not None
        return auth.region_base_url(self.config.platform_base_url, token.host)

    def test_connection(self) -> tuple[bool, str]:
        """Mint a fresh token (v3 when the connection names an account and profile, else v2).

        Used by the UI's Test button; bypasses the cache so it really tests the credentials, except that
        a secret refused in the last 10 minutes is reported refused without logging in again.
        """
        try:
            config = self.config
            family = TokenFamily.V3 if config.account and config.profile else TokenFamily.V2
            token = self._mint(family, self._scope(config, family, None, None))
            return True, self._connection_report(config, token, family)
        except TealiumError as exc:
            return False, str(exc)


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
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._config: TealiumConfig | None = self._given_config
        self._client: httpx.AsyncClient | None = None
        self._shared: _SharedClient | None = None

    async def __aenter__(self) -> TealiumAsyncHook:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Release the HTTP client (closed when no other hook on this event loop uses it)."""
        shared, self._shared, self._client = self._shared, None, None
        if shared is None:
            return
        shared.users -= 1
        if shared.users <= 0:
            loop = asyncio.get_running_loop()
            if _SHARED_CLIENTS.get(loop) is shared:
                del _SHARED_CLIENTS[loop]
            await shared.client.aclose()

    async def aconfig(self) -> TealiumConfig:
        """The connection's settings, looked up without blocking the event loop."""
        if self._config is None:
            conn = await aget_connection(self.tealium_conn_id)
            self._config = self._config_from(conn)
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
                    token = self._issued(call, await self._atransport_send(call.request))
                self.token_cache.put(key, token)
        return token

    # -- the transport's questions --------------------------------------------------------------------

    async def _atransport_policy(self) -> RetryPolicy:
        return (await self.aconfig()).retry

    async def _atransport_client(self) -> httpx.AsyncClient:
        if self._client is None:
            loop = asyncio.get_running_loop()
            shared = _SHARED_CLIENTS.get(loop)
            if shared is None or shared.client.is_closed:
                shared = _SHARED_CLIENTS[loop] = _SharedClient()
            shared.users += 1
            self._shared, self._client = shared, shared.client
        return self._client

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
