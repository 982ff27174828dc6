"""The plain-data description of one HTTP call, shared by the sync and the async transport."""

from __future__ import annotations

import json as _json
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from airflow_provider_tealium.exceptions import TealiumUnexpectedAnswerError


class TokenFamily(str, Enum):
    """Which credential a call needs; each family has its own token and cache entry."""

    NONE = "none"
    """The authentication calls themselves."""
    V3 = "v3"
    """Bearer token from ``/v3/auth/accounts/{account}/profiles/{profile}``, scoped to one profile."""
    V2 = "v2"
    """Bearer token from ``/v2/auth`` (Hosted Data Layer, v2 revisions)."""
    V1 = "v1"
    """``JSESSIONID`` cookie plus ``utk`` query parameter from ``/v1/login`` (v1 revisions)."""
    IQM = "iqm"
    """IQM bearer token plus ``X-IAA-OW-ID``."""


class Host(str, Enum):
    """Which base URL a call goes to."""

    PLATFORM = "platform"
    """The v3 platform host (``https://platform.tealiumapis.com``): v3 authentication only."""
    REGION = "region"
    """The region host named by the v3 authentication answer: every other v3 call."""
    API = "api"
    """The v1/v2 host (``https://api.tealiumiq.com``)."""
    IQM = "iqm"
    """The IQM API (``https://api.iqm.com``)."""


Params = list[tuple[str, str]]


@dataclass(frozen=True)
class ApiRequest:
    """One call, described without doing it.

    :param method: HTTP method.
    :param path: URL path (already formatted and quoted).
    :param family: which token the call needs.
    :param host: which base URL it goes to.
    :param params: query parameters as pairs, so a name may repeat (``includes=a&includes=b``).
    :param json_body: a JSON body.
    :param form: a form-encoded body.
    :param content: a raw body (already serialised JSON, for streaming uploads).
    :param headers: extra headers.
    :param ok_statuses: statuses that count as an answer rather than an error (a sensor may accept 404).
    :param idempotent: whether sending it twice is harmless. A non-idempotent call whose answer was
        lost is not resent; the caller gets :class:`~airflow_provider_tealium.exceptions.TealiumAmbiguousResultError`.
    :param raw: the answer is binary (a zip), not JSON.
    :param credential_call: it sends a secret to obtain a credential (a login, a token call): it never
        follows a redirect, wherever it points.
    :param max_answer_bytes: read at most this many bytes of the answer (a bundle zip); a larger answer
        is refused unread (streamed, so it never lands in memory whole). ``None``: no cap.
    """

    method: str
    path: str
    family: TokenFamily
    host: Host
    params: Params = field(default_factory=list)
    json_body: Any = None
    # Auth forms carry the API key or password: kept out of repr (tracebacks may render locals).
    form: dict[str, str] | None = field(default=None, repr=False)
    content: bytes | None = None
    # May carry a Basic auth header (IQM login): kept out of repr, like ``form``.
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    ok_statuses: frozenset[int] = frozenset({200})
    idempotent: bool = True
    raw: bool = False
    credential_call: bool = False
    max_answer_bytes: int | None = None

    @property
    def description(self) -> str:
        """``METHOD /path`` for logs and errors; never includes the query string or body."""
        return f"{self.method} {self.path}"

    def body_bytes(self) -> bytes | None:
        """The JSON body serialised once, identically for both transports."""
        if self.content is not None:
            return self.content
        if self.json_body is not None:
            return _json.dumps(self.json_body, separators=(",", ":")).encode()
        return None


@dataclass(frozen=True)
class ApiResponse:
    """What came back, in the same shape from both transports.

    :param status: HTTP status.
    :param headers: response headers, lower-cased names.
    :param content: the raw body.
    """

    status: int
    headers: dict[str, str] = field(repr=False)
    # An auth answer's body is a token: kept out of repr (tracebacks may render locals).
    content: bytes = field(repr=False)

    def json(self, request: ApiRequest | None = None) -> Any:
        """The body parsed as JSON (``None`` for an empty body).

        :param request: the request this answers, named in the error when the body is not JSON.
        :raises TealiumUnexpectedAnswerError: when the body is not JSON (an HTML page from a proxy, a
            truncated answer). It is a :class:`ValueError` too.
        """
        if not self.content:
            return None
        try:
            return _json.loads(self.content)
        except ValueError as exc:
            # Never the body, not even its start: a truncated token answer would leak part of a token.
            kind = self.headers.get("content-type") or "no content type"
            raise TealiumUnexpectedAnswerError(
                request.method if request is not None else "",
                request.path if request is not None else "",
                self.status,
                f"the answer is not JSON ({kind}, {len(self.content)} bytes: {exc})",
            ) from None
