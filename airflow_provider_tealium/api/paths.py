"""Path parameters: account and profile names, and every other value put into a URL path.

Every path builder of :mod:`airflow_provider_tealium.api` quotes its parameters with :func:`segment`
(account and profile with :func:`name_segment`), so a value that would change which resource a
request reaches is refused before anything is sent: ``.`` and ``..`` (a client or server collapses
``/v3/tiq/accounts/../profiles/..`` to ``/v3/tiq/``), ``/`` and ``\\`` (some servers decode ``%2F``),
control characters, and empty values.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from airflow_provider_tealium.exceptions import TealiumValidationError

MAX_NAME_LENGTH = 100
# Tealium names profiles (and libraries) with a-z, 0-9, "." and "-", at most 50 characters, never
# starting with a period. Read leniently (any case, "_", 100 characters) for older accounts, but
# never a character that means something in a URL.
_NAME_RE = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*$")
NAME_RULE = (
    f"must be a Tealium name: 1 to {MAX_NAME_LENGTH} letters, digits, '.', '-' or '_', not starting with '.'"
)


def validate_name(value: object, field: str) -> str:
    """An account or profile name, checked against :data:`NAME_RULE`.

    :param value: the name.
    :param field: the field to name in the error (``account``, ``tealium_default.profile``).
    :raises TealiumValidationError: naming the field and the rule.
    """
    if not isinstance(value, str) or not value:
        raise TealiumValidationError(field, NAME_RULE, value=value)
    if len(value) > MAX_NAME_LENGTH or not _NAME_RE.match(value):
        raise TealiumValidationError(field, NAME_RULE, value=value)
    return value


def segment_problem(value: object) -> str | None:
    """Why ``value`` cannot be one path segment, or ``None`` when it can.

    :param value: the parameter (a string or an integer).
    """
    if isinstance(value, bool) or not isinstance(value, str | int):
        return "must be a string"
    if isinstance(value, int) and not -(10**18) < value < 10**18:
        return "is too long"
    text = str(value)
    if not text:
        return "must not be empty"
    if text in (".", ".."):
        return "must not be '.' or '..' (a dot segment: the request's path would collapse)"
    if "/" in text or "\\" in text:
        return "must not contain '/' or '\\'"
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        return "must not contain control characters"
    return None


def segment(value: object, field: str = "path parameter") -> str:
    """Quote one path segment (every character but letters, digits and ``_.-~``), refusing dot
    segments, slashes, control characters and empty values.

    :param value: the parameter.
    :param field: the field to name in the error.
    :raises TealiumValidationError: naming the field and the rule.
    """
    problem = segment_problem(value)
    if problem is not None:
        raise TealiumValidationError(field, problem, value=value)
    return quote(str(value), safe="")


def name_segment(value: object, field: str) -> str:
    """An account or profile name, checked (:func:`validate_name`) and quoted.

    :param value: the name.
    :param field: ``account`` or ``profile``.
    """
    return segment(validate_name(value, field), field)
