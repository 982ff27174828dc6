"""Authentication calls of the three Tealium token families, and reading tokens' lifetimes."""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from airflow_provider_tealium.api.paths import name_segment
from airflow_provider_tealium.api.paths import segment as segment  # re-exported: api modules import it here
from airflow_provider_tealium.api.request import ApiRequest, ApiResponse, Host, TokenFamily
from airflow_provider_tealium.api.urls import host_without_port, is_bare_host, strip_userinfo
from airflow_provider_tealium.exceptions import TealiumApiError, TealiumValidationError

if TYPE_CHECKING:
    from airflow_provider_tealium.api.config import TealiumConfig

V3_AUTH_PATH = "/v3/auth/accounts/{account}/profiles/{profile}"
V2_AUTH_PATH = "/v2/auth"
V1_LOGIN_PATH = "/v1/login"

DEFAULT_PLATFORM_BASE_URL = "https://platform.tealiumapis.com"
DEFAULT_API_BASE_URL = "https://api.tealiumiq.com"
TEALIUM_API_DOMAIN = "tealiumapis.com"
"""Tealium's v3 API domain: with a platform URL under it, the region host must be under it too."""

# Which host each family authenticates against (and so which base URL keys its cache entry).
AUTH_HOST = {TokenFamily.V3: Host.PLATFORM, TokenFamily.V2: Host.API, TokenFamily.V1: Host.API}

# Tealium documents 30 minutes; used only when a token carries no readable ``exp``.
DEFAULT_TOKEN_LIFETIME = 1800.0
# v1 sessions carry no expiry; assume Tealium's token lifetime and rely on a 401 (one new login) if shorter.
V1_SESSION_LIFETIME = 1800.0
V1_SESSION_COOKIE = "JSESSIONID"
# Several Set-Cookie headers arrive joined by ", " (both HTTP clients do it), so match the name anywhere.
_JSESSIONID_RE = re.compile(r"(?:^|[\s,;])JSESSIONID=([^;,\s]+)")
# Refresh this long before ``exp`` (capped at a tenth of the lifetime, so short-lived tokens still get used).
REFRESH_MARGIN = 60.0


def v3_auth_request(account: str, profile: str, email: str, api_key: str) -> ApiRequest:
    """``POST /v3/auth/accounts/{account}/profiles/{profile}``, form ``username`` + ``key``.

    :param account: Tealium account.
    :param profile: Tealium profile.
    :param email: the user's email.
    :param api_key: the user's API key.
    """
    return ApiRequest(
        "POST",
        V3_AUTH_PATH.format(
            account=name_segment(account, "account"), profile=name_segment(profile, "profile")
        ),
        TokenFamily.NONE,
        Host.PLATFORM,
        form={"username": email, "key": api_key},
        credential_call=True,
    )


def v2_auth_request(email: str, api_key: str) -> ApiRequest:
    """``POST /v2/auth``, form ``username`` + ``key``.

    :param email: the user's email.
    :param api_key: the user's API key.
    """
    return ApiRequest(
        "POST",
        V2_AUTH_PATH,
        TokenFamily.NONE,
        Host.API,
        form={"username": email, "key": api_key},
        credential_call=True,
    )


def v1_login_request(email: str, password: str) -> ApiRequest:
    """``POST /v1/login``, form ``username`` + ``password`` (the user's password, not the API key).

    :param email: the user's email.
    :param password: the user's v1 password.
    """
    return ApiRequest(
        "POST",
        V1_LOGIN_PATH,
        TokenFamily.NONE,
        Host.API,
        form={"username": email, "password": password},
        credential_call=True,
    )


@dataclass(frozen=True)
class IssuedToken:
    """A credential and what we know about it. The secret parts are kept out of ``repr``.

    :param token: the token itself (secret).
    :param host: the region host (v3 only), without scheme.
    :param issued_at: epoch seconds.
    :param expires_at: epoch seconds.
    :param headers: headers that carry it (``Authorization: Bearer ...``; a cookie for v1).
    :param params: query parameters that carry it (v1's ``utk``).
    """

    token: str = field(repr=False)
    host: str | None
    issued_at: float
    expires_at: float
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    params: tuple[tuple[str, str], ...] = field(default=(), repr=False)

    @property
    def refresh_at(self) -> float:
        """When to mint a new one: shortly before ``exp``, never per request."""
        lifetime = max(self.expires_at - self.issued_at, 0.0)
        return self.expires_at - min(REFRESH_MARGIN, lifetime / 10)

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every secret value it carries, for the secrets masker."""
        return (self.token, *(v for _, v in self.params))


def jwt_claims(token: str) -> dict[str, Any]:
    """The claims of a JWT, read without verifying its signature; ``{}`` when it is not a readable JWT.

    We cannot verify (Tealium's key is not public) and do not need to: the claims only decide when to
    refresh. Read with the standard library rather than pyjwt, whose import (with ``cryptography``) costs
    about 0.15 s: triggers read tokens too, and Airflow's triggerer imports trigger modules on its event
    loop, where that much blocks every other trigger.

    :param token: the JWT (``header.payload.signature``, base64url without padding).
    """
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")))
    except (ValueError, UnicodeError):
        return {}
    return claims if isinstance(claims, dict) else {}


def token_times(token: str, now: float) -> tuple[float, float]:
    """``(issued_at, expires_at)`` from a JWT's ``iat``/``exp`` (unverified: see :func:`jwt_claims`); a wrong
    guess costs one 401 and one refresh.

    :param token: the JWT.
    :param now: the current time, used when the claims are missing.
    """
    claims = jwt_claims(token)
    expires_at = _epoch(claims.get("exp"), now + DEFAULT_TOKEN_LIFETIME)
    issued_at = _epoch(claims.get("iat"), now)
    return issued_at, expires_at


def _epoch(value: Any, default: float) -> float:
    """A claim's epoch seconds, or ``default`` when it is not a finite number."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return default
    return float(value)


def _under_tealium_domain(host: str) -> bool:
    name = host_without_port(host)
    return name == TEALIUM_API_DOMAIN or name.endswith("." + TEALIUM_API_DOMAIN)


def region_host_problem(host: object, platform_base_url: str) -> str | None:
    """Why the ``host`` of a v3 auth answer must not receive the bearer token, or ``None`` when it may.

    The token goes to ``https://{host}`` (the platform URL's scheme), so the answer can name only a
    host: a bare host name, never a scheme (``http://`` would downgrade), userinfo, path or query. When
    the platform URL is under Tealium's API domain (the default), the region host must be under it
    too; with another platform URL (the emulator, a proxy) any bare host name with an optional port is
    accepted, as that URL's operator vouches for its answers.

    :param host: the answer's ``host``.
    :param platform_base_url: the configured v3 platform URL.
    """
    if not is_bare_host(host):
        return "is not a bare host name (no scheme, user, path, query or spaces)"
    assert isinstance(host, str)
    platform_host = urlsplit(platform_base_url).hostname or ""
    if _under_tealium_domain(platform_host):
        if not _under_tealium_domain(host):
            return f"is not under {TEALIUM_API_DOMAIN}, Tealium's API domain"
        if ":" in host:
            return f"must not name a port: the platform URL is Tealium's ({TEALIUM_API_DOMAIN})"
    return None


def shown_host(host: object) -> str:
    """A refused ``host`` as a message may quote it: no userinfo, no query, at most 100 characters.

    :param host: the answer's ``host``.
    """
    text = strip_userinfo(str(host)).split("?", 1)[0].split("#", 1)[0]
    text = text.rpartition("@")[2]
    return repr(text if len(text) <= 100 else text[:97] + "...")


def parse_token_answer(
    request: ApiRequest,
    body: object,
    now: float,
    *,
    needs_host: bool,
    platform_base_url: str = DEFAULT_PLATFORM_BASE_URL,
) -> IssuedToken:
    """Read ``{"token": ..., "host": ...}`` from an authentication answer.

    :param request: the auth request (for error messages).
    :param body: the parsed JSON answer.
    :param now: the current epoch time.
    :param needs_host: v3 answers must name the region host.
    :param platform_base_url: the configured v3 platform URL, which decides what region host is
        accepted (:func:`region_host_problem`).
    :raises TealiumApiError: without a token, or (v3) without an acceptable region host: the token is
        then never cached, so never sent.
    """
    token = body.get("token") if isinstance(body, dict) else None
    host = body.get("host") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token:
        raise TealiumApiError(request.method, request.path, 200, "authentication answer has no token")
    if needs_host and (not isinstance(host, str) or not host):
        raise TealiumApiError(
            request.method, request.path, 200, "v3 authentication answer has no region host"
        )
    if needs_host:
        problem = region_host_problem(host, platform_base_url)
        if problem is not None:
            raise TealiumApiError(
                request.method,
                request.path,
                200,
                f"the region host of the answer, {shown_host(host)}, {problem}: the token is not sent to it",
            )
    issued_at, expires_at = token_times(token, now)
    return IssuedToken(
        token=token,
        host=host if needs_host else None,
        issued_at=issued_at,
        expires_at=expires_at,
        headers=(("Authorization", f"Bearer {token}"),),
    )


def parse_v1_login(request: ApiRequest, response: ApiResponse, now: float) -> IssuedToken:
    """Read the ``JSESSIONID`` cookie and the ``{"utk": ...}`` body of a v1 login answer.

    :param request: the login request (for error messages).
    :param response: the whole answer (the cookie is in its headers).
    :param now: the current epoch time.
    """
    match = _JSESSIONID_RE.search(response.headers.get("set-cookie", ""))
    try:
        body = response.json()
    except ValueError:
        body = None
    utk = body.get("utk") if isinstance(body, dict) else None
    if match is None:
        raise TealiumApiError(
            request.method, request.path, response.status, "v1 login answer sets no JSESSIONID cookie"
        )
    if not isinstance(utk, str) or not utk:
        raise TealiumApiError(request.method, request.path, response.status, "v1 login answer has no utk")
    session_id = match.group(1)
    return IssuedToken(
        token=session_id,
        host=None,
        issued_at=now,
        expires_at=now + V1_SESSION_LIFETIME,
        headers=(("Cookie", f"{V1_SESSION_COOKIE}={session_id}"),),
        params=(("utk", utk),),
    )


def region_base_url(platform_base_url: str, host: str) -> str:
    """The base URL of the region host, with the configured platform URL's scheme (``http`` for the
    emulator): an answer never chooses the scheme.

    :param platform_base_url: the configured v3 platform URL.
    :param host: the ``host`` of the v3 auth answer, accepted by :func:`region_host_problem`.
    :raises TealiumValidationError: when ``host`` is not acceptable (checked again here, so no path
        builds a region URL from an unchecked host).
    """
    problem = region_host_problem(host, platform_base_url)
    if problem is not None:
        raise TealiumValidationError("region host", f"{shown_host(host)} {problem}", show_value=False)
    scheme = platform_base_url.split("://", 1)[0].lower() if "://" in platform_base_url else "https"
    return f"{scheme}://{host}"


@dataclass(frozen=True)
class AuthCall:
    """How to obtain one family's credential: the request, and how to read its answer.

    :param request: the authentication request.
    :param parse: turns ``(whole answer, now)`` into the credential; the whole answer, because v1's
        credential is partly in a header (the ``JSESSIONID`` cookie).
    """

    request: ApiRequest
    parse: Callable[[ApiResponse, float], IssuedToken]

    def read(self, response: ApiResponse, now: float) -> IssuedToken:
        """The credential in ``response``.

        :param response: the authentication answer.
        :param now: the current epoch time.
        """
        return self.parse(response, now)


def auth_call(
    family: TokenFamily, config: TealiumConfig, account: str | None, profile: str | None
) -> AuthCall:
    """The authentication call for ``family``, shared by the sync and the async hook.

    :param family: the token family.
    :param config: the connection settings (credentials).
    :param account: the account (v3 only).
    :param profile: the profile (v3 only).
    """
    if family is TokenFamily.V3:
        if not account or not profile:
            raise ValueError("v3 authentication needs an account and a profile")
        req = v3_auth_request(account, profile, config.email, config.api_key)
        platform = config.platform_base_url
        return AuthCall(
            req,
            lambda answer, now: parse_token_answer(
                req, answer.json(), now, needs_host=True, platform_base_url=platform
            ),
        )
    if family is TokenFamily.V2:
        req = v2_auth_request(config.email, config.api_key)
        return AuthCall(
            req, lambda answer, now: parse_token_answer(req, answer.json(), now, needs_host=False)
        )
    if family is TokenFamily.V1:
        if not config.v1_password:
            raise TealiumValidationError(
                f"{config.conn_id}.v1_password",
                "is required by the v1 revisions API: set the 'v1_password' extra to the user's password "
                "(not the API key), or use revisions_api='v2'",
            )
        req = v1_login_request(config.email, config.v1_password)
        return AuthCall(req, lambda answer, now: parse_v1_login(req, answer, now))
    raise ValueError(f"no authentication call for token family {family.value!r}")
