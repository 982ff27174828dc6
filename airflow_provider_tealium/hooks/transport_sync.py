"""The sync request loop (``requests``), for operators, sensors and the bulk uploader."""

from __future__ import annotations

import time
from typing import Any

import requests
from urllib3.exceptions import NewConnectionError

from airflow_provider_tealium.api.request import ApiRequest, ApiResponse
from airflow_provider_tealium.api.retry import FailureKind, RetryPolicy, Step
from airflow_provider_tealium.exceptions import TealiumApiError
from airflow_provider_tealium.hooks.transport import (
    MAX_REDIRECTS,
    READ_CHUNK,
    Credential,
    LoopState,
    TransportBase,
    answer_from,
    oversized,
    redirect_target,
    too_large,
    too_many_redirects,
)


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


class SyncTransport(TransportBase):
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
        """Called before every attempt, before its credential is taken (a client-side rate limiter
        waits here)."""

    def _transport_attempt(
        self, session: requests.Session, request: ApiRequest, credential: Credential | None, timeout: float
    ) -> ApiResponse | tuple[FailureKind, str] | TealiumApiError:
        """Send once: the answer, how the send failed and the failure's type name, or the error of a
        redirect that must not be followed (:func:`~airflow_provider_tealium.hooks.transport.redirect_target`).

        Everything that carries the credential (URL parameters, headers) lives in this frame only, and
        the transport's exception is not kept: by the time the loop raises, no frame of the traceback
        holds a secret, so a renderer that shows local variables (Airflow 3.0's does) cannot print one.
        """
        url, headers, params = self._transport_compose(request, credential)
        body = request.form if request.form is not None else request.body_bytes()
        for _ in range(MAX_REDIRECTS + 1):
            limit = request.max_answer_bytes
            try:
                # requests follows redirects by default, re-sending the body and headers wherever they
                # point: the one redirect rule is applied here instead.
                resp = session.request(
                    request.method,
                    url,
                    params=params,
                    data=body,
                    headers=headers,
                    timeout=timeout,
                    allow_redirects=False,
                    stream=limit is not None,
                )
                if limit is None:
                    content = resp.content
                else:
                    with resp:
                        content = self._read_capped(resp, limit)
            except requests.RequestException as exc:
                return requests_failure(exc), type(exc).__name__
            if content is None:
                return too_large(request, resp.status_code, limit or 0)
            answer = answer_from(resp.status_code, resp.headers, content)
            target = redirect_target(request, url, answer)
            if target is None or isinstance(target, TealiumApiError):
                return answer if target is None else target
            url, params = target, ()  # the Location carries its own query
        return too_many_redirects(request, answer.status)

    @staticmethod
    def _read_capped(resp: requests.Response, limit: int) -> bytes | None:
        """The streamed body, or ``None`` as soon as it exceeds ``limit`` bytes."""
        if oversized(resp.headers.get("content-length"), limit):
            return None
        body = bytearray()
        for chunk in resp.iter_content(READ_CHUNK):
            body += chunk
            if len(body) > limit:
                return None
        return bytes(body)

    def _transport_send(self, request: ApiRequest, scope: Any = None) -> ApiResponse:
        """Send ``request`` until it succeeds, fails for good, or retries run out.

        :param request: the call.
        :param scope: what the credential depends on (the hook's business, e.g. account and profile).
        """
        policy = self._transport_policy()
        session = self._transport_session()
        state = LoopState()
        while True:
            # The limiter waits first, then the credential is taken: a token checked before a long wait
            # could expire before it is sent (IQM's limiter waits seconds; a token may live less).
            self._transport_before_send(request)
            credential = self._transport_credential(request, scope)
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
