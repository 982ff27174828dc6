"""One retry policy for every call, sync or async: what is retried, and how long to wait.

The policy is plain numbers so a trigger can carry it through serialisation.
"""

from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass
from email.utils import parsedate_to_datetime
from enum import Enum
from typing import Any

import pendulum

FINAL_SERVER_STATUSES = frozenset({501, 505})
"""5xx answers that say the request can never work (not implemented, HTTP version): not retried."""


def is_retryable_status(status: int) -> bool:
    """429 and every 5xx but :data:`FINAL_SERVER_STATUSES` (gateways and CDNs answer 520-530 too).

    :param status: the HTTP status.
    """
    return status == 429 or (500 <= status <= 599 and status not in FINAL_SERVER_STATUSES)


# Answers that say "not processed": safe to resend even for a non-idempotent call.
NOT_PROCESSED_STATUSES = frozenset({429, 503})

MAX_RETRIES_LIMIT = 100
"""The most ``max_retries`` may be: a million retries is a task that never ends, not a policy."""
MAX_SECONDS = 3600.0
"""The most any of the policy's durations may be (one attempt's timeout, one backoff)."""


def policy_value_problem(name: str, value: object) -> str | None:
    """Why ``value`` cannot be the policy's ``name``, or ``None`` when it can.

    :param name: ``max_retries``, ``backoff_base``, ``backoff_max``, ``timeout`` or ``retry_after_max``.
    :param value: the value, already a number.
    """
    if name == "max_retries":
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_RETRIES_LIMIT:
            return f"must be a whole number from 0 to {MAX_RETRIES_LIMIT}"
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return "must be a finite number of seconds"
    low = "more than 0" if name == "timeout" else "0 or more"
    if value < 0 or (name == "timeout" and value == 0) or value > MAX_SECONDS:
        return f"must be {low} and at most {MAX_SECONDS:g} seconds"
    return None


@dataclass(frozen=True)
class RetryPolicy:
    """How many times to resend, how long to wait, when to give up on an answer.

    :param max_retries: resends after the first attempt (0 disables retrying).
    :param backoff_base: first backoff in seconds; doubles with each retry.
    :param backoff_max: ceiling of one backoff in seconds.
    :param timeout: seconds to wait for an answer to one attempt.
    :param retry_after_max: ceiling for a server-sent ``Retry-After``, so a bad header cannot stall a task.
    """

    max_retries: int = 5
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    timeout: float = 30.0
    retry_after_max: float = 300.0

    def __post_init__(self) -> None:
        # NaN passes every comparison test, infinity every lower bound: both are refused by name, as
        # is an absurd size, so nothing fails later with a raw error (time.sleep(nan)).
        for name in ("max_retries", "backoff_base", "backoff_max", "timeout", "retry_after_max"):
            problem = policy_value_problem(name, getattr(self, name))
            if problem is not None:
                raise ValueError(f"{name}: {problem} (got {getattr(self, name)!r})")

    def backoff(self, retry_number: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry ``retry_number`` (1-based).

        Exponential with "equal jitter": half the step is fixed, half random, so concurrent clients
        spread out but none retries at once. A ``Retry-After`` from the server wins when present.

        :param retry_number: 1 for the first retry.
        :param retry_after: the server's ``Retry-After`` in seconds, if it sent one.
        """
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.retry_after_max)
        step = min(self.backoff_max, self.backoff_base * (2 ** (retry_number - 1)))
        return step / 2 + random.uniform(0, step / 2)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form, for trigger kwargs."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> RetryPolicy:
        """Inverse of :meth:`to_dict`; unknown keys are ignored."""
        if not data:
            return cls()
        names = cls.__dataclass_fields__.keys()
        return cls(**{k: v for k, v in data.items() if k in names})


def parse_retry_after(value: str | None) -> float | None:
    """Read ``Retry-After`` as seconds: either a number or an HTTP date.

    :param value: the header value.
    """
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        # "nan" and "inf" parse as floats; a header that names no real duration is ignored.
        return max(seconds, 0.0) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max((when - pendulum.now("UTC")).total_seconds(), 0.0)


class FailureKind(str, Enum):
    """How a send failed without an answer; the transports map their own exceptions to these."""

    NOT_SENT = "not_sent"
    """Connecting failed: the server never saw the request, so resending is always safe."""
    MAYBE_SENT = "maybe_sent"
    """The request went out but no answer came (read timeout, reset, dropped connection)."""


class Step(str, Enum):
    """What the transport does next."""

    RETURN = "return"
    RETRY = "retry"
    REFRESH = "refresh"
    FAIL = "fail"


@dataclass(frozen=True)
class Decision:
    """The transport's next step.

    :param step: what to do.
    :param delay: seconds to wait first (``RETRY``).
    :param reason: why, for the log line.
    """

    step: Step
    delay: float = 0.0
    reason: str = ""


def decide_on_answer(
    policy: RetryPolicy,
    *,
    status: int,
    retry_after: str | None,
    ok: bool,
    idempotent: bool,
    uses_token: bool,
    refreshed: bool,
    retries_used: int,
) -> Decision:
    """Decide after an HTTP answer arrived. One rule set for both transports.

    - an expected status returns;
    - a 401 on a token call invalidates the token and retries once with a new one (a second fails);
    - 429 and 5xx are retried with backoff (``Retry-After`` honoured) while retries remain, except
      that a non-idempotent call is resent only on answers that mean "not processed" (429, 503);
    - anything else (400, 403, 404, 409, ...) fails at once: resending a bad request cannot help.

    :param policy: the retry policy.
    :param status: HTTP status.
    :param retry_after: the ``Retry-After`` header, if any.
    :param ok: whether the status is one the caller accepts.
    :param idempotent: whether the call may be resent.
    :param uses_token: whether the call carried a cached credential.
    :param refreshed: whether this call already refreshed its credential once.
    :param retries_used: retries spent so far.
    """
    if ok:
        return Decision(Step.RETURN)
    if status == 401 and uses_token and not refreshed:
        return Decision(Step.REFRESH, reason="token refused (401); minting a new one")
    resendable = idempotent or status in NOT_PROCESSED_STATUSES
    if is_retryable_status(status) and retries_used < policy.max_retries and resendable:
        delay = policy.backoff(retries_used + 1, parse_retry_after(retry_after))
        return Decision(Step.RETRY, delay, f"HTTP {status}")
    return Decision(Step.FAIL)


def decide_on_failure(
    policy: RetryPolicy, *, kind: FailureKind, idempotent: bool, retries_used: int
) -> Decision:
    """Decide after a send failed with no answer.

    A call that may have reached the server is resent only if it is idempotent; otherwise the caller
    must find out whether it applied (see :class:`~airflow_provider_tealium.exceptions.TealiumAmbiguousResultError`).

    :param policy: the retry policy.
    :param kind: whether the request may have been sent.
    :param idempotent: whether the call may be resent.
    :param retries_used: retries spent so far.
    """
    if retries_used >= policy.max_retries:
        return Decision(Step.FAIL)
    if kind is FailureKind.NOT_SENT or idempotent:
        return Decision(Step.RETRY, policy.backoff(retries_used + 1), kind.value.replace("_", " "))
    return Decision(Step.FAIL)
