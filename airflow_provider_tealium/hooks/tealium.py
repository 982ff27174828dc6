"""``TealiumHook`` (sync, for operators and sensors) and ``TealiumAsyncHook`` (for triggers).

Both send :class:`~airflow_provider_tealium.api.request.ApiRequest` descriptions built in
:mod:`airflow_provider_tealium.api`, take credentials from the process-wide token cache, and follow the
same retry decisions (:func:`~airflow_provider_tealium.api.retry.decide_on_answer`); only the I/O differs.
"""

from __future__ import annotations

import asyncio
import time
from functools import cached_property
from typing import Any

import httpx
import requests
from urllib3.exceptions import NewConnectionError

from airflow_provider_tealium._compat import aget_connection
from airflow_provider_tealium.api import auth
from airflow_provider_tealium.api.config import TealiumConfig
from airflow_provider_tealium.api.request import ApiRequest, ApiResponse, TokenFamily
from airflow_provider_tealium.api.retry import (
    FailureKind,
    Step,
    decide_on_answer,
    decide_on_failure,
)
from airflow_provider_tealium.exceptions import TealiumError
from airflow_provider_tealium.hooks.base import TealiumHookBase


def _requests_failure(exc: requests.RequestException) -> FailureKind:
    if isinstance(exc, requests.ConnectTimeout):
        return FailureKind.NOT_SENT
    if isinstance(exc, requests.ConnectionError) and not isinstance(exc, requests.ReadTimeout):
        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        if isinstance(reason, NewConnectionError):
            return FailureKind.NOT_SENT
    return FailureKind.MAYBE_SENT


def _httpx_failure(exc: httpx.TransportError) -> FailureKind:
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
        return FailureKind.NOT_SENT
    return FailureKind.MAYBE_SENT


class TealiumHook(TealiumHookBase):
    """Talks to Tealium's v3 (iQ, publish) and v2 (Hosted Data Layer, revisions) APIs.

    The connection is read on first use, not at construction, so building a hook in a DAG file costs
    nothing at parse time.
    """

    @cached_property
    def config(self) -> TealiumConfig:
        """The connection's settings (looked up once per hook)."""
        return self._config_from(self.get_connection(self.tealium_conn_id))

    @cached_property
    def session(self) -> requests.Session:
        """One HTTP session per hook, so consecutive calls reuse connections."""
        return requests.Session()

    def close(self) -> None:
        """Release pooled connections."""
        if "session" in self.__dict__:
            self.session.close()

    # -- credentials -------------------------------------------------------------------------------------

    def get_token(
        self, family: TokenFamily, account: str | None = None, profile: str | None = None
    ) -> auth.IssuedToken:
        """A valid credential for ``family``, from the cache or freshly minted.

        :param family: the token family.
        :param account: the account (v3; default from the connection).
        :param profile: the profile (v3; default from the connection).
        """
        config = self.config
        account, profile = self._scope(config, family, account, profile)
        key = self._token_key(config, family, account, profile)
        token = self.token_cache.get(key)
        if token is not None:
            return token
        with self.token_cache.thread_lock(key):
            token = self.token_cache.get(key)  # another thread may have minted it meanwhile
            if token is None:
                token = self._mint(family, account, profile)
                self.token_cache.put(key, token)
        return token

    def _mint(self, family: TokenFamily, account: str | None, profile: str | None) -> auth.IssuedToken:
        call = auth.auth_call(family, self.config, account, profile)
        self.log.info("Minting a %s token for %s", family.value, call.request.path)
        return self._issued(call, self._send(call.request, None, None))

    # -- the one request path ----------------------------------------------------------------------------

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
        if request.family is TokenFamily.NONE:
            return self._send(request, None, None)
        return self._send(request, account, profile)

    def _send(self, request: ApiRequest, account: str | None, profile: str | None) -> ApiResponse:
        config = self.config
        policy = config.retry
        uses_token = request.family is not TokenFamily.NONE
        if uses_token:
            account, profile = self._scope(config, request.family, account, profile)
        key = self._token_key(config, request.family, account, profile) if uses_token else None
        body = request.body_bytes()
        attempts = retries = 0
        refreshed = False
        while True:
            token = self.get_token(request.family, account, profile) if uses_token else None
            url, headers, params = self._compose(config, request, token)
            attempts += 1
            try:
                resp = self.session.request(
                    request.method,
                    url,
                    params=params,
                    data=request.form if request.form is not None else body,
                    headers=headers,
                    timeout=policy.timeout,
                )
            except requests.RequestException as exc:
                failure = _requests_failure(exc)
                decision = decide_on_failure(
                    policy, kind=failure, idempotent=request.idempotent, retries_used=retries
                )
                if decision.step is Step.FAIL:
                    ambiguous = failure is FailureKind.MAYBE_SENT and not request.idempotent
                    raise self._no_answer_error(request, exc, attempts, ambiguous) from exc
            else:
                answer = ApiResponse(
                    resp.status_code, {k.lower(): v for k, v in resp.headers.items()}, resp.content
                )
                decision = decide_on_answer(
                    policy,
                    status=answer.status,
                    retry_after=answer.headers.get("retry-after"),
                    ok=answer.status in request.ok_statuses,
                    idempotent=request.idempotent,
                    uses_token=uses_token,
                    refreshed=refreshed,
                    retries_used=retries,
                )
                if decision.step is Step.RETURN:
                    return answer
                if decision.step is Step.FAIL:
                    raise self._final_error(request, answer, attempts, refreshed)
                if decision.step is Step.REFRESH:
                    assert key is not None
                    self.log.info("%s: %s", request.description, decision.reason)
                    self.token_cache.invalidate(key, token)
                    refreshed = True
                    continue
            retries += 1
            self._log_retry(request, decision, retries, policy.max_retries)
            time.sleep(decision.delay)

    def get_json(self, request: ApiRequest, *, account: str | None = None, profile: str | None = None) -> Any:
        """:meth:`run` and parse the answer as JSON.

        :param request: the call.
        :param account: the account (v3 calls).
        :param profile: the profile (v3 calls).
        """
        return self.run(request, account=account, profile=profile).json()

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

        Used by the UI's Test button; bypasses the cache so it really tests the credentials.
        """
        try:
            config = self.config
            family = TokenFamily.V3 if config.account and config.profile else TokenFamily.V2
            token = self._mint(family, config.account, config.profile)
            return True, self._connection_report(config, token, family)
        except TealiumError as exc:
            return False, str(exc)


class TealiumAsyncHook(TealiumHookBase):
    """The async twin of :class:`TealiumHook` for triggers: httpx, async connection lookup, no blocking.

    Use it as an async context manager (or call :meth:`aclose`) so its HTTP client is released.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._config: TealiumConfig | None = None
        self._client: httpx.AsyncClient | None = None

    async def __aenter__(self) -> TealiumAsyncHook:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP client."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def aconfig(self) -> TealiumConfig:
        """The connection's settings, looked up without blocking the event loop."""
        if self._config is None:
            conn = await aget_connection(self.tealium_conn_id)
            self._config = self._config_from(conn)
        return self._config

    def _http(self, config: TealiumConfig) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=config.retry.timeout)
        return self._client

    async def aget_token(
        self, family: TokenFamily, account: str | None = None, profile: str | None = None
    ) -> auth.IssuedToken:
        """Async :meth:`TealiumHook.get_token`; shares the same process-wide cache.

        :param family: the token family.
        :param account: the account (v3).
        :param profile: the profile (v3).
        """
        config = await self.aconfig()
        account, profile = self._scope(config, family, account, profile)
        key = self._token_key(config, family, account, profile)
        token = self.token_cache.get(key)
        if token is not None:
            return token
        async with self.token_cache.loop_lock(key):
            token = self.token_cache.get(key)
            if token is None:
                call = auth.auth_call(family, config, account, profile)
                self.log.info("Minting a %s token for %s", family.value, call.request.path)
                token = self._issued(call, await self._asend(call.request, None, None))
                self.token_cache.put(key, token)
        return token

    async def arun(
        self, request: ApiRequest, *, account: str | None = None, profile: str | None = None
    ) -> ApiResponse:
        """Async :meth:`TealiumHook.run`.

        :param request: the call.
        :param account: the account (v3 calls).
        :param profile: the profile (v3 calls).
        """
        return await self._asend(request, account, profile)

    async def aget_json(
        self, request: ApiRequest, *, account: str | None = None, profile: str | None = None
    ) -> Any:
        """:meth:`arun` and parse the answer as JSON.

        :param request: the call.
        :param account: the account (v3 calls).
        :param profile: the profile (v3 calls).
        """
        return (await self.arun(request, account=account, profile=profile)).json()

    async def _asend(self, request: ApiRequest, account: str | None, profile: str | None) -> ApiResponse:
        config = await self.aconfig()
        policy = config.retry
        uses_token = request.family is not TokenFamily.NONE
        if uses_token:
            account, profile = self._scope(config, request.family, account, profile)
        key = self._token_key(config, request.family, account, profile) if uses_token else None
        body = request.body_bytes()
        client = self._http(config)
        attempts = retries = 0
        refreshed = False
        while True:
            token = await self.aget_token(request.family, account, profile) if uses_token else None
            url, headers, params = self._compose(config, request, token)
            attempts += 1
            try:
                resp = await client.request(
                    request.method,
                    url,
                    params=params,
                    data=request.form,
                    content=None if request.form is not None else body,
                    headers=headers,
                )
            except httpx.TransportError as exc:
                failure = _httpx_failure(exc)
                decision = decide_on_failure(
                    policy, kind=failure, idempotent=request.idempotent, retries_used=retries
                )
                if decision.step is Step.FAIL:
                    ambiguous = failure is FailureKind.MAYBE_SENT and not request.idempotent
                    raise self._no_answer_error(request, exc, attempts, ambiguous) from exc
            else:
                answer = ApiResponse(
                    resp.status_code, {k.lower(): v for k, v in resp.headers.items()}, resp.content
                )
                decision = decide_on_answer(
                    policy,
                    status=answer.status,
                    retry_after=answer.headers.get("retry-after"),
                    ok=answer.status in request.ok_statuses,
                    idempotent=request.idempotent,
                    uses_token=uses_token,
                    refreshed=refreshed,
                    retries_used=retries,
                )
                if decision.step is Step.RETURN:
                    return answer
                if decision.step is Step.FAIL:
                    raise self._final_error(request, answer, attempts, refreshed)
                if decision.step is Step.REFRESH:
                    assert key is not None
                    self.log.info("%s: %s", request.description, decision.reason)
                    self.token_cache.invalidate(key, token)
                    refreshed = True
                    continue
            retries += 1
            self._log_retry(request, decision, retries, policy.max_retries)
            await asyncio.sleep(decision.delay)
