"""The one request loop, in a sync and an async flavour; everything but the I/O is shared.

A hook supplies its settings and credentials through a handful of methods (:class:`CredentialSource`);
the loops send, read the answer, and follow :mod:`airflow_provider_tealium.api.retry`'s decisions.
The Tealium hooks and the IQM hooks both use them.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Protocol

import httpx
import requests
from urllib3.exceptions import NewConnectionError

from airflow_provider_tealium.api.errors import error_from_response
from airflow_provider_tealium.api.request import ApiRequest, ApiResponse, TokenFamily
from airflow_provider_tealium.api.retry import (
    Decision,
    FailureKind,
    RetryPolicy,
    Step,
    decide_on_answer,
    decide_on_failure,
)
from airflow_provider_tealium.exceptions import TealiumAmbiguousResultError, TealiumApiError

SECOND_401_HINT = (
    "The call was refused twice, the second time with freshly minted credentials: the key or password "
    "was reset, or the user lacks permission for this resource."
)


class Credential(Protocol):
    """What the loop needs of a credential: the headers and query parameters that carry it."""

    @property
    def headers(self) -> tuple[tuple[str, str], ...]:
        """Headers that carry the credential."""

    @property
    def params(self) -> tuple[tuple[str, str], ...]:
        """Query parameters that carry the credential."""


def requests_failure(exc: requests.RequestException) -> FailureKind:
    """Whether a ``requests`` failure may have reached the server.

    :param exc: the exception.
    """
    if isinstance(exc, requests.ConnectTimeout):
        return FailureKind.NOT_SENT
    if isinstance(exc, requests.ConnectionError) and not isinstance(exc, requests.ReadTimeout):
        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        if isinstance(reason, NewConnectionError):
            return FailureKind.NOT_SENT
    return FailureKind.MAYBE_SENT


def httpx_failure(exc: httpx.TransportError) -> FailureKind:
    """Whether an ``httpx`` failure may have reached the server.

    :param exc: the exception.
    """
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
        return FailureKind.NOT_SENT
    return FailureKind.MAYBE_SENT


def no_answer_error(
    request: ApiRequest, error_type: str, attempts: int, failure: FailureKind
) -> TealiumApiError:
    """The error for a call that never got an answer.

    :param request: the call.
    :param error_type: the transport exception's type name.
    :param attempts: how many times it was sent.
    :param failure: whether the last attempt may have reached the server.
    """
    # The exception's own text can quote the full URL, query string (v1 ``utk``) included, and its
    # traceback holds the request's headers: only its type name is kept.
    what = error_type
    if failure is FailureKind.MAYBE_SENT and not request.idempotent:
        return TealiumAmbiguousResultError(
            request.method,
            request.path,
            None,
            f"{what}: the request may have been applied, and was not resent because it is not idempotent",
            attempts=attempts,
        )
    return TealiumApiError(request.method, request.path, None, f"{what}: no answer", attempts=attempts)


def answer_from(status: int, headers: Any, content: bytes) -> ApiResponse:
    """The transport-neutral answer.

    :param status: HTTP status.
    :param headers: the response headers (any mapping).
    :param content: the body.
    """
    return ApiResponse(status, {k.lower(): v for k, v in headers.items()}, content)


class _LoopState:
    """Bookkeeping of one call across its attempts."""

    def __init__(self) -> None:
        self.attempts = 0
        self.retries = 0
        self.refreshed = False

    def decide(self, policy: RetryPolicy, request: ApiRequest, answer: ApiResponse) -> Decision:
        return decide_on_answer(
            policy,
            status=answer.status,
            retry_after=answer.headers.get("retry-after"),
            ok=answer.status in request.ok_statuses,
            idempotent=request.idempotent,
            uses_token=request.family is not TokenFamily.NONE,
            refreshed=self.refreshed,
            retries_used=self.retries,
        )

    def decide_failure(self, policy: RetryPolicy, request: ApiRequest, failure: FailureKind) -> Decision:
        return decide_on_failure(
            policy, kind=failure, idempotent=request.idempotent, retries_used=self.retries
        )


class _TransportBase:
    """The methods a hook provides to the loops, and the loops' shared reporting."""

    log: Any

    def _final_error(
        self, request: ApiRequest, answer: ApiResponse, attempts: int, refreshed: bool
    ) -> TealiumApiError:
        """The exception for a final error answer; hooks add hints for their API.

        :param request: the call.
        :param answer: the answer.
        :param attempts: how many times it was sent.
        :param refreshed: whether the credential was refreshed during the call.
        """
        hint = SECOND_401_HINT if answer.status == 401 and refreshed else None
        return error_from_response(request, answer, attempts=attempts, hint=hint)

    def _after_attempt(
        self,
        state: _LoopState,
        policy: RetryPolicy,
        request: ApiRequest,
        outcome: ApiResponse | tuple[FailureKind, str],
    ) -> Decision | TealiumApiError:
        """What both loops do after one attempt: a decision to act on, or the error to raise.

        :param state: the call's bookkeeping.
        :param policy: the retry policy.
        :param request: the call.
        :param outcome: the answer, or how the send failed.
        """
        if isinstance(outcome, tuple):
            failure, error_type = outcome
            decision = state.decide_failure(policy, request, failure)
            if decision.step is Step.FAIL:
                return no_answer_error(request, error_type, state.attempts, failure)
            return decision
        decision = state.decide(policy, request, outcome)
        if decision.step is Step.FAIL:
            return self._final_error(request, outcome, state.attempts, state.refreshed)
        return decision

    def _log_retry(
        self, request: ApiRequest, decision: Decision, state: _LoopState, policy: RetryPolicy
    ) -> None:
        self.log.warning(
            "%s: %s; retry %d/%d in %.1f s",
            request.description,
            decision.reason,
            state.retries,
            policy.max_retries,
            decision.delay,
        )


class SyncTransport(_TransportBase):
    """The sync loop (``requests``). Subclasses implement the ``_transport_*`` methods."""

    def _transport_policy(self) -> RetryPolicy:
        raise NotImplementedError

    def _transport_session(self) -> requests.Session:
        raise NotImplementedError

    def _transport_credential(self, request: ApiRequest, scope: Any) -> Credential | None:
        """The credential for ``request`` (``None`` for authentication calls)."""
        raise NotImplementedError

    def _transport_invalidate(self, request: ApiRequest, scope: Any, credential: Credential | None) -> None:
        """Drop a refused credential."""
        raise NotImplementedError

    def _transport_compose(
        self, request: ApiRequest, credential: Credential | None
    ) -> tuple[str, dict[str, str], tuple[tuple[str, str], ...]]:
        """URL, headers and query parameters of one attempt."""
        raise NotImplementedError

    def _transport_before_send(self, request: ApiRequest) -> None:
        """Called before every attempt (a client-side rate limiter waits here)."""

    def _transport_attempt(
        self, session: requests.Session, request: ApiRequest, credential: Credential | None, timeout: float
    ) -> ApiResponse | tuple[FailureKind, str]:
        """Send once: the answer, or how the send failed and the failure's type name.

        Everything that carries the credential (URL parameters, headers) lives in this frame only, and
        the transport's exception is not kept: by the time the loop raises, no frame of the traceback
        holds a secret, so a renderer that shows local variables (Airflow 3.0's does) cannot print one.
        """
        url, headers, params = self._transport_compose(request, credential)
        body = request.form if request.form is not None else request.body_bytes()
        try:
            resp = session.request(
                request.method, url, params=params, data=body, headers=headers, timeout=timeout
            )
        except requests.RequestException as exc:
            return requests_failure(exc), type(exc).__name__
        return answer_from(resp.status_code, resp.headers, resp.content)

    def _transport_send(self, request: ApiRequest, scope: Any = None) -> ApiResponse:
        """Send ``request`` until it succeeds, fails for good, or retries run out.

        :param request: the call.
        :param scope: what the credential depends on (the hook's business, e.g. account and profile).
        """
        policy = self._transport_policy()
        session = self._transport_session()
        state = _LoopState()
        while True:
            credential = self._transport_credential(request, scope)
            self._transport_before_send(request)
            state.attempts += 1
            outcome = self._transport_attempt(session, request, credential, policy.timeout)
            decision = self._after_attempt(state, policy, request, outcome)
            if isinstance(decision, TealiumApiError):
                raise decision
            if decision.step is Step.RETURN and isinstance(outcome, ApiResponse):
                return outcome
            if decision.step is Step.REFRESH:
                self.log.info("%s: %s", request.description, decision.reason)
                self._transport_invalidate(request, scope, credential)
                state.refreshed = True
                continue
            state.retries += 1
            self._log_retry(request, decision, state, policy)
            time.sleep(decision.delay)


class AsyncTransport(_TransportBase):
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
    ) -> ApiResponse | tuple[FailureKind, str]:
        """Async twin of :meth:`SyncTransport._transport_attempt` (secrets stay in this frame)."""
        url, headers, params = await self._atransport_compose(request, credential)
        try:
            resp = await client.request(
                request.method,
                url,
                params=params,
                data=request.form,
                content=None if request.form is not None else request.body_bytes(),
                headers=headers,
                timeout=timeout,
            )
        except httpx.TransportError as exc:
            return httpx_failure(exc), type(exc).__name__
        return answer_from(resp.status_code, resp.headers, resp.content)

    async def _atransport_send(self, request: ApiRequest, scope: Any = None) -> ApiResponse:
        """Async twin of :meth:`SyncTransport._transport_send`.

        :param request: the call.
        :param scope: what the credential depends on.
        """
        policy = await self._atransport_policy()
        client = await self._atransport_client()
        state = _LoopState()
        while True:
            credential = await self._atransport_credential(request, scope)
            await self._atransport_before_send(request)
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
