"""What the sync and async Tealium hooks share: settings, credentials, request composition, messages."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from airflow_provider_tealium._compat import BaseHook, mask_secret
from airflow_provider_tealium.api import auth
from airflow_provider_tealium.api.config import (
    CONN_TYPE,
    DEFAULT_CONN_ID,
    TealiumConfig,
    config_from_connection,
)
from airflow_provider_tealium.api.errors import error_from_response
from airflow_provider_tealium.api.request import ApiRequest, ApiResponse, Host, TokenFamily
from airflow_provider_tealium.exceptions import TealiumApiError, TealiumAuthError
from airflow_provider_tealium.hooks.token_cache import (
    TOKEN_CACHE,
    TokenCache,
    TokenKey,
    credential_digest,
    secret_digest,
)
from airflow_provider_tealium.hooks.transport import SECOND_401_HINT, Credential

_AUTH_HINT = "Check the connection's login (the user's email) and password (the API key)."
_V1_AUTH_HINT = (
    "Check the connection's login (the user's email) and its 'v1_password' extra (the user's password, "
    "not the API key). Refused logins are never retried: Tealium locks the user out for 10 minutes "
    "after repeated failures."
)

# Tealium's returnCodes of a refused login (1401: wrong credentials, 1402: user locked out), whatever the status.
_LOGIN_REFUSED_CODES = frozenset({1401, 1402, "1401", "1402"})

Scope = tuple[str | None, str | None]
"""What a Tealium credential depends on besides the user: (account, profile) for v3, else (None, None)."""


class TealiumHookBase(BaseHook):
    """Settings and request composition shared by :class:`TealiumHook` and :class:`TealiumAsyncHook`.

    :param tealium_conn_id: the ``tealium`` connection.
    :param account: overrides the connection's default account.
    :param profile: overrides the connection's default profile.
    :param max_retries: overrides the connection's ``max_retries`` extra (default 5).
    :param backoff_base: overrides ``backoff_base`` (seconds, default 1; doubles per retry).
    :param backoff_max: overrides ``backoff_max`` (seconds, default 60).
    :param timeout: overrides ``timeout`` (seconds per attempt, default 30).
    :param token_cache: the credential cache; the process-wide one unless a test isolates.
    :param config: settings another hook already read from the same connection (with the same overrides),
        so this one never looks the connection up: for worker threads of a task (Airflow's supervisor
        channel, which lookups go through, is not thread-safe) and for readers shared by triggers.
    """

    conn_name_attr = "tealium_conn_id"
    default_conn_name = DEFAULT_CONN_ID
    conn_type = CONN_TYPE
    hook_name = "Tealium"

    def __init__(
        self,
        tealium_conn_id: str = DEFAULT_CONN_ID,
        *,
        account: str | None = None,
        profile: str | None = None,
        max_retries: int | None = None,
        backoff_base: float | None = None,
        backoff_max: float | None = None,
        timeout: float | None = None,
        token_cache: TokenCache | None = None,
        config: TealiumConfig | None = None,
    ) -> None:
        super().__init__()
        self.tealium_conn_id = tealium_conn_id
        self.account = account
        self.profile = profile
        self.retry_overrides: dict[str, Any] = {
            "max_retries": max_retries,
            "backoff_base": backoff_base,
            "backoff_max": backoff_max,
            "timeout": timeout,
        }
        self.token_cache = token_cache or TOKEN_CACHE
        self._given_config = config

    def _read_config(self, conn: Any) -> TealiumConfig:
        """The settings of ``conn`` with this hook's overrides; the caller masks :meth:`_secrets_of` them."""
        return config_from_connection(
            self.tealium_conn_id,
            conn.login,
            conn.password,
            conn.extra,
            account=self.account,
            profile=self.profile,
            retry_overrides=self.retry_overrides,
        )

    @staticmethod
    def _secrets_of(config: TealiumConfig) -> tuple[str | None, ...]:
        """What of the settings must be masked in logs and rendered fields."""
        return (config.api_key, config.v1_password)

    def _config_from(self, conn: Any) -> TealiumConfig:
        """:meth:`_read_config`, masked with the sync masker (threads only; coroutines mask with
        :func:`~airflow_provider_tealium._compat.amask_secret`)."""
        config = self._read_config(conn)
        for secret in self._secrets_of(config):
            mask_secret(secret)
        return config

    @staticmethod
    def _scope(config: TealiumConfig, family: TokenFamily, account: str | None, profile: str | None) -> Scope:
        # Only v3 tokens are scoped to a profile; v2 and v1 credentials are per user.
        if family is TokenFamily.V3:
            return config.account_profile(account, profile)
        return None, None

    @staticmethod
    def _token_key(config: TealiumConfig, family: TokenFamily, scope: Scope) -> TokenKey:
        account, profile = scope
        base_url = config.base_url(auth.AUTH_HOST[family])
        # The secret the family logs in with: a token minted with one key is never another key's.
        secret = config.v1_password if family is TokenFamily.V1 else config.api_key
        return TokenKey(
            family.value, base_url, account or "", profile or "", config.email, credential_digest(secret)
        )

    @contextmanager
    def _refusal_memory(self, config: TealiumConfig, family: TokenFamily, key: TokenKey) -> Iterator[None]:
        """Around one login: raise the remembered refusal instead of sending a secret Tealium refused
        lately, and remember this login's refusal. Every refused attempt counts towards Tealium's lockout.

        :param config: the connection's settings (the secret the login sends).
        :param family: the token family.
        :param key: the token cache key.
        """
        digest = secret_digest(config.v1_password if family is TokenFamily.V1 else config.api_key)
        refused = self.token_cache.refusal(key, digest)
        if refused is not None:
            raise refused
        try:
            yield
        except TealiumApiError as exc:
            if isinstance(exc, TealiumAuthError) or exc.return_code in _LOGIN_REFUSED_CODES:
                self.token_cache.refuse(key, digest, exc)
            raise

    @staticmethod
    def _issued(call: auth.AuthCall, response: ApiResponse) -> auth.IssuedToken:
        """The credential in a login answer, masked with the sync masker (async callers use ``call.read``
        and :func:`~airflow_provider_tealium._compat.amask_secret`)."""
        token = call.read(response, time.time())
        for secret in token.secrets:
            mask_secret(secret)
        return token

    @staticmethod
    def _compose(
        config: TealiumConfig, request: ApiRequest, credential: Credential | None
    ) -> tuple[str, dict[str, str], tuple[tuple[str, str], ...]]:
        """The URL, headers and query parameters of one attempt."""
        if request.host is Host.REGION:
            host = getattr(credential, "host", None)
            if not host:
                raise ValueError("a region-host call needs a v3 token")
            base = auth.region_base_url(config.platform_base_url, host)
        else:
            base = config.base_url(request.host)
        headers = {"Accept": "application/json", **request.headers}
        params = list(request.params)
        if request.json_body is not None or request.content is not None:
            headers.setdefault("Content-Type", "application/json")
        if credential is not None:
            headers.update(dict(credential.headers))
            params.extend(credential.params)
        return base + request.path, headers, tuple(params)

    def _final_error(
        self, request: ApiRequest, answer: ApiResponse, attempts: int, refreshed: bool
    ) -> TealiumApiError:
        """Tealium's final errors, with a hint when credentials were refused."""
        hint = None
        if answer.status == 401 and request.path == auth.V1_LOGIN_PATH:
            hint = _V1_AUTH_HINT
        elif answer.status == 401:
            hint = SECOND_401_HINT if refreshed else _AUTH_HINT
        return error_from_response(request, answer, attempts=attempts, hint=hint)

    @staticmethod
    def _connection_report(config: TealiumConfig, token: auth.IssuedToken, family: TokenFamily) -> str:
        if family is TokenFamily.V3:
            return (
                f"Authenticated {config.email} for {config.account}/{config.profile}; "
                f"v3 region host: {token.host}"
            )
        return f"Authenticated {config.email} with the v2 API at {config.api_base_url}"
