"""The async request loop (``httpx``), for triggers: it never blocks the event loop and never imports
``requests``."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from airflow_provider_tealium.api.request import ApiRequest, ApiResponse
from airflow_provider_tealium.api.retry import FailureKind, RetryPolicy, Step
from airflow_provider_tealium.exceptions import TealiumApiError
from airflow_provider_tealium.hooks.transport import (
    MAX_REDIRECTS,
    Credential,
    LoopState,
    TransportBase,
    answer_from,
    oversized,
    redirect_target,
    too_large,
    too_many_redirects,
)


def httpx_failure(exc: httpx.TransportError) -> FailureKind:
    """Whether an ``httpx`` failure may have reached the server.

    :param exc: the exception.
    """
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
        return FailureKind.NOT_SENT
    return FailureKind.MAYBE_SENT


class AsyncTransport(TransportBase):
    """The async loop (``httpx``), never blocking the event loop. Subclasses implement ``_atransport_*``."""

    async def _atransport_policy(self) -> RetryPolicy:
        raise NotImplementedError

    async def _atransport_client(self) -> httpx.AsyncClient:
        raise NotImplementedError

    async def _atransport_credential(self, request: ApiRequest, scope: Any) -> Credential | None:
        raise NotImplementedError

    async def _atransport_invalidate(
        self, request: ApiRequest, scope: Any, credential: Credential | None
    ) -> None:
        raise NotImplementedError

    async def _atransport_compose(
        self, request: ApiRequest, credential: Credential | None
    ) -> tuple[str, dict[str, str], tuple[tuple[str, str], ...]]:
        raise NotImplementedError

    async def _atransport_before_send(self, request: ApiRequest) -> None:
        """Called before every attempt (a client-side rate limiter waits here)."""

    async def _atransport_attempt(
        self, client: httpx.AsyncClient, request: ApiRequest, credential: Credential | None, timeout: float
    ) -> ApiResponse | tuple[FailureKind, str] | TealiumApiError:
        """Async twin of :meth:`SyncTransport._transport_attempt` (secrets stay in this frame)."""
        url, headers, params = await self._atransport_compose(request, credential)
        for _ in range(MAX_REDIRECTS + 1):
            limit = request.max_answer_bytes
            try:
                prepared = client.build_request(
                    request.method,
                    url,
                    params=params,
                    data=request.form,
                    content=None if request.form is not None else request.body_bytes(),
                    headers=headers,
                    timeout=timeout,
                )
                resp = await client.send(prepared, stream=limit is not None, follow_redirects=False)
                if limit is None:
                    content: bytes | None = resp.content
                else:
                    try:
                        content = await self._aread_capped(resp, limit)
                    finally:
                        await resp.aclose()
            except httpx.TransportError as exc:
                return httpx_failure(exc), type(exc).__name__
            if content is None:
                return too_large(request, resp.status_code, limit or 0)
            answer = answer_from(resp.status_code, resp.headers, content)
            target = redirect_target(request, url, answer)
            if target is None or isinstance(target, TealiumApiError):
                return answer if target is None else target
            url, params = target, ()  # the Location carries its own query
        return too_many_redirects(request, answer.status)

    @staticmethod
    async def _aread_capped(resp: httpx.Response, limit: int) -> bytes | None:
        """The streamed body, or ``None`` as soon as it exceeds ``limit`` bytes."""
        if oversized(resp.headers.get("content-length"), limit):
            return None
        body = bytearray()
        async for chunk in resp.aiter_bytes():
            body += chunk
            if len(body) > limit:
                return None
        return bytes(body)

    async def _atransport_send(self, request: ApiRequest, scope: Any = None) -> ApiResponse:
        """Async twin of :meth:`SyncTransport._transport_send`.

        :param request: the call.
        :param scope: what the credential depends on.
        """
        policy = await self._atransport_policy()
        client = await self._atransport_client()
        state = LoopState()
        while True:
            await self._atransport_before_send(request)  # first, as in the sync loop
            credential = await self._atransport_credential(request, scope)
            state.attempts += 1
            outcome = await self._atransport_attempt(client, request, credential, policy.timeout)
            decision = self._after_attempt(state, policy, request, outcome)
            if isinstance(decision, TealiumApiError):
                raise decision
            if decision.step is Step.RETURN and isinstance(outcome, ApiResponse):
                return outcome
            if decision.step is Step.REFRESH:
                self.log.info("%s: %s", request.description, decision.reason)
                await self._atransport_invalidate(request, scope, credential)
                state.refreshed = True
                continue
            state.retries += 1
            self._log_retry(request, decision, state, policy)
            await asyncio.sleep(decision.delay)
