"""The provider's exception types: every failure a user sees is one of these."""

from __future__ import annotations

import reprlib
from collections.abc import Mapping, Sequence
from typing import Any

from airflow_provider_tealium._compat import AirflowException
from airflow_provider_tealium.api.urls import strip_userinfo

MAX_SHOWN = 200
"""The most characters of a value a message quotes."""
MAX_FIELD = 500
"""The most characters of a field path a message shows (a data layer id alone may have 250)."""
MAX_LISTED = 50
"""The most failures a :class:`TealiumValidationErrors` message lists (all stay in ``errors``)."""

_REPR = reprlib.Repr()
_REPR.maxlevel = 3
_REPR.maxstring = 120
_REPR.maxother = 120
_REPR.maxlist = _REPR.maxtuple = _REPR.maxset = _REPR.maxfrozenset = _REPR.maxdict = 8


def shown(value: object) -> str:
    """``repr(value)`` as a message may quote it: bounded in depth and length whatever the value (a
    list nested 10,000 deep, a 1 MB string, an object whose ``__repr__`` raises), and with the
    ``user:password@`` of any URL in it removed.

    :param value: the value.
    """
    try:
        text = _REPR.repr(value)
    except Exception:
        text = f"<{type(value).__name__}>"
    text = strip_userinfo(text)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 3] + "..."


class TealiumError(AirflowException):
    """Base class of every error this provider raises."""


class TealiumValidationError(TealiumError, ValueError):
    """Input that breaks a documented rule, detected before any request is sent.

    :param field: the offending field, as a dotted path (``operationList[2].value.startDate``).
    :param rule: the rule it breaks, in words.
    :param value: the offending value, included in the message only when it is not secret.
    """

    def __init__(self, field: str, rule: str, *, value: object = None, show_value: bool = True) -> None:
        self.field = field
        self.rule = rule
        quoted = f" (got {shown(value)})" if show_value and value is not None else ""
        # A field path can hold a user's key (``reportSchedulingEventDetails.<key>``): bounded too.
        where = field if len(field) <= MAX_FIELD else field[: MAX_FIELD - 3] + "..."
        super().__init__(f"{strip_userinfo(where)}: {strip_userinfo(rule)}{quoted}")


class TealiumValidationErrors(TealiumValidationError):
    """Several validation failures reported together (a bulk job validates every item first).

    :param errors: the individual failures.
    """

    def __init__(self, errors: list[TealiumValidationError]) -> None:
        self.errors = errors
        lines = "\n".join(f"  - {e}" for e in errors[:MAX_LISTED])
        if len(errors) > MAX_LISTED:
            lines += f"\n  - ... and {len(errors) - MAX_LISTED} more"
        TealiumError.__init__(self, f"{len(errors)} invalid item(s):\n{lines}")
        self.field = errors[0].field if errors else ""
        self.rule = "several rules" if len(errors) > 1 else (errors[0].rule if errors else "")


class TealiumApiError(TealiumError):
    """An API call failed for good (after any retries).

    Carries what is useful to diagnose the failure and nothing secret: the query string (which can
    hold the v1 ``utk`` session token) is never part of ``path``.

    :param method: HTTP method.
    :param path: URL path, without query string.
    :param status: HTTP status, or ``None`` when no answer arrived (connection failure).
    :param return_code: the API's ``returnCode`` (Tealium) or ``errorObjects[].error`` (IQM), if any.
    :param api_message: the API's own message.
    :param attempts: how many times the request was sent.
    :param hint: a sentence telling the user what to do, when we know.
    :param details: IQM's ``errorObjects``, each ``{"error", "reason", "field"}`` (absent ones ``None``);
        empty for APIs that answer a single message.
    """

    def __init__(
        self,
        method: str,
        path: str,
        status: int | None,
        api_message: str,
        *,
        return_code: int | str | None = None,
        attempts: int = 1,
        hint: str | None = None,
        details: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.return_code = return_code
        self.api_message = api_message
        self.attempts = attempts
        self.details: list[dict[str, Any]] = [
            {"error": d.get("error"), "reason": d.get("reason"), "field": d.get("field")}
            for d in details or ()
        ]
        what = f"HTTP {status}" if status is not None else "no answer"
        # IQM's only "code" is its first error's text, which the message already starts with.
        repeats = bool(self.details) and return_code == self.details[0]["error"]
        code = f", returnCode {return_code}" if return_code is not None and not repeats else ""
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        text = f"{method} {path} failed{tries}: {what}{code}: {strip_userinfo(str(api_message))}"
        if hint:
            text += f"{'' if text.endswith(('.', '!', '?')) else '.'} {hint}"
        super().__init__(text)


class TealiumAuthError(TealiumApiError):
    """Credentials were refused (a wrong API key, a reset key, a locked-out v1 user). Never retried."""


class TealiumAmbiguousResultError(TealiumApiError):
    """A non-idempotent request was sent but no answer came back, so whether it applied is unknown.

    Callers that can check (a PATCH that marks its version) verify and resend only if it did not apply.
    """


class TealiumUnexpectedAnswerError(TealiumApiError, ValueError):
    """An answer arrived but cannot be read: its body is not JSON, or not in the documented shape.

    Also a :class:`ValueError`, like the JSON decoding error it stands for, so code that reads answers
    defensively (``except ValueError``) keeps working. ``method`` and ``path`` are empty when the code
    reading the answer did not know which request it answers.
    """

    def __init__(self, method: str, path: str, status: int | None, api_message: str, **kwargs: Any) -> None:
        super().__init__(method, path, status, api_message, **kwargs)
        if not method:
            # Without the request, "<method> <path> failed" would read as garbage: say what is known.
            self.args = (f"Unexpected HTTP {status} answer: {api_message}",)
