"""What the sync and the async request loops share: the decision after each attempt, errors, reporting.

The loops themselves live in :mod:`~airflow_provider_tealium.hooks.transport_sync` (``requests``) and
:mod:`~airflow_provider_tealium.hooks.transport_async` (``httpx``), so a trigger, which only needs the
async loop, never imports ``requests``: a fresh triggerer would pay for it on its event loop. Only the
I/O differs between the two loops; every decision they make is taken here or in
:mod:`airflow_provider_tealium.api.retry`.
"""

from __future__ import annotations

from typing import Any, Protocol
from urllib.parse import urljoin

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
from airflow_provider_tealium.api.urls import origin, url_host
from airflow_provider_tealium.exceptions import TealiumAmbiguousResultError, TealiumApiError

SECOND_401_HINT = (
    "The call was refused twice, the second time with freshly minted credentials: the key or password "
    "was reset, or the user lacks permission for this resource."
)


REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5


def redirect_target(request: ApiRequest, url: str, answer: ApiResponse) -> str | TealiumApiError | None:
    """Where a redirect answer may be followed: ``None`` when ``answer`` is no redirect, the error to
    raise when it must not be followed, else the absolute URL to send the same request to.

    Redirects are never followed by the HTTP clients themselves (``requests`` follows them by default,
    ``httpx`` does not): this one rule decides for both. A credential call (a login, a token call)
    follows none, as its form carries the API key or password; any other call follows one only within
    its origin (scheme, host and port), as it carries a token, and only when the method stays the same.

    :param request: the call.
    :param url: the URL the answer came from.
    :param answer: the answer.
    """
    location = answer.headers.get("location")
    if answer.status not in REDIRECT_STATUSES or not location:
        return None
    try:
        target = urljoin(url, location.strip())
    except ValueError:
        target = location
    why = None
    if request.credential_call:
        why = "credential calls never follow redirects (the request carries the API key or password)"
    elif origin(target) != origin(url):
        why = "a redirect to another origin is not followed (the request carries a token)"
    elif answer.status in (301, 302, 303) and request.method not in ("GET", "HEAD"):
        why = f"following a {answer.status} would change the method of a {request.method}"
    if why is None:
        return target
    return TealiumApiError(
        request.method, request.path, answer.status, f"redirected to {url_host(target)}: {why}"
    )


READ_CHUNK = 64 * 1024


def oversized(length: str | None, limit: int) -> bool:
    """Whether a ``Content-Length`` already says the answer is larger than ``limit``.

    :param length: the header's value.
    :param limit: the cap in bytes.
    """
    return bool(length and length.strip().isdigit() and int(length) > limit)


def too_large(request: ApiRequest, status: int, limit: int) -> TealiumApiError:
    """The error for an answer larger than ``request.max_answer_bytes`` (final: resending cannot help).

    :param request: the call.
    :param status: the answer's status.
    :param limit: the cap in bytes.
    """
    return TealiumApiError(
        request.method,
        request.path,
        status,
        f"the answer is larger than {limit} bytes, the most this call reads; it was not read",
    )


def too_many_redirects(request: ApiRequest, status: int) -> TealiumApiError:
    """The error for a call redirected more than :data:`MAX_REDIRECTS` times.

    :param request: the call.
    :param status: the last redirect's status.
    """
    return TealiumApiError(
        request.method, request.path, status, f"redirected more than {MAX_REDIRECTS} times"
    )


class Credential(Protocol):
    """What the loop needs of a credential: the headers and query parameters that carry it."""

    @property
    def headers(self) -> tuple[tuple[str, str], ...]:
        """Headers that carry the credential."""

    @property
    def params(self) -> tuple[tuple[str, str], ...]:
        """Query parameters that carry the credential."""


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


class LoopState:
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


class TransportBase:
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
        state: LoopState,
        policy: RetryPolicy,
        request: ApiRequest,
        outcome: ApiResponse | tuple[FailureKind, str] | TealiumApiError,
    ) -> Decision | TealiumApiError:
        """What both loops do after one attempt: a decision to act on, or the error to raise.

        :param state: the call's bookkeeping.
        :param policy: the retry policy.
        :param request: the call.
        :param outcome: the answer, how the send failed, or an error the attempt itself found (a
            redirect it must not follow).
        """
        if isinstance(outcome, TealiumApiError):
            outcome.attempts = state.attempts
            return outcome
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
        self, request: ApiRequest, decision: Decision, state: LoopState, policy: RetryPolicy
    ) -> None:
        self.log.warning(
            "%s: %s; retry %d/%d in %.1f s",
            request.description,
            decision.reason,
            state.retries,
            policy.max_retries,
            decision.delay,
        )
