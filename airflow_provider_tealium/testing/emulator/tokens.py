"""Minting and checking the emulator's bearer tokens: real HS256 JWTs with Tealium's ``iat``/``exp``."""

from __future__ import annotations

import secrets
import time
from typing import TYPE_CHECKING, Any

import jwt

from airflow_provider_tealium.testing.emulator.errors import tealium_error
from airflow_provider_tealium.testing.emulator.state import EmulatorState

if TYPE_CHECKING:
    from starlette.requests import Request

ALGORITHM = "HS256"
INVALID_TOKEN_MESSAGE = "Invalid or expired token"


def mint_key(family: str, email: str, account: str | None = None, profile: str | None = None) -> str:
    """The :attr:`EmulatorState.mints` key of one token.

    :param family: ``"v3"``, ``"v2"``, ...
    :param email: the user's email.
    :param account: the v3 account.
    :param profile: the v3 profile.
    """
    if family == "v3":
        return f"v3:{account}/{profile}:{email}"
    return f"{family}:{email}"


def issue_token(
    state: EmulatorState, family: str, email: str, account: str | None = None, profile: str | None = None
) -> str:
    """Mint a token and count it.

    :param state: the emulator state (signing secret, lifetime, counters).
    :param family: the token family, checked by :func:`verify_bearer`.
    :param email: the user (``sub``).
    :param account: the v3 account the token is scoped to.
    :param profile: the v3 profile the token is scoped to.
    """
    issued_at = int(time.time())
    claims: dict[str, Any] = {
        "iat": issued_at,
        "exp": issued_at + int(state.token_lifetime),
        "sub": email,
        "fam": family,
        "acct": account,
        "prof": profile,
        # Two tokens minted in the same second must still differ, as Tealium's do.
        "jti": secrets.token_hex(8),
    }
    token = jwt.encode(claims, state.signing_secret, algorithm=ALGORITHM)
    state.count_mint(mint_key(family, email, account, profile))
    with state.lock:
        state.issued_tokens.append(token)
    return token


def verify_bearer(
    state: EmulatorState,
    request: Request,
    family: str,
    account: str | None = None,
    profile: str | None = None,
) -> dict[str, Any]:
    """The claims of the request's bearer token, or a 401 :class:`EmulatorHTTPError`.

    :param state: the emulator state (signing secret).
    :param request: the request carrying ``Authorization: Bearer ...``.
    :param family: the family the route needs.
    :param account: the account in the URL; a v3 token answers only for its own.
    :param profile: the profile in the URL.
    """
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    claims: dict[str, Any] | None = None
    if scheme.lower() == "bearer" and token.strip():
        try:
            claims = jwt.decode(token.strip(), state.signing_secret, algorithms=[ALGORITHM])
        except jwt.PyJWTError:
            claims = None
    if claims is not None and claims.get("fam") != family:
        claims = None
    if claims is not None and account is not None and claims.get("acct") != account:
        claims = None
    if claims is not None and profile is not None and claims.get("prof") != profile:
        claims = None
    if claims is None:
        state.count_token_rejection()
        raise tealium_error(401, 1401, INVALID_TOKEN_MESSAGE)
    return claims
