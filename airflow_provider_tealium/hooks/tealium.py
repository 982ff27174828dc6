"""``TealiumHook``, for operators and sensors; its async twin for triggers is in :mod:`.tealium_async`.

Both send :class:`~airflow_provider_tealium.api.request.ApiRequest` descriptions built in
:mod:`airflow_provider_tealium.api`, take credentials from the process-wide token cache, and run the
request loops of :mod:`airflow_provider_tealium.hooks.transport`; only the I/O differs. The methods of
each API family come from mixins, one module per family.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import requests

from airflow_provider_tealium.api import auth
from airflow_provider_tealium.api.config import TealiumConfig
from airflow_provider_tealium.api.request import ApiRequest, ApiResponse, TokenFamily
from airflow_provider_tealium.api.retry import RetryPolicy
from airflow_provider_tealium.exceptions import TealiumError
from airflow_provider_tealium.hooks.base import Scope, TealiumHookBase
from airflow_provider_tealium.hooks.datalayers import DataLayersHookMixin
from airflow_provider_tealium.hooks.profiles import ProfilesHookMixin
from airflow_provider_tealium.hooks.revisions import RevisionsHookMixin
from airflow_provider_tealium.hooks.token_cache import TokenKey
from airflow_provider_tealium.hooks.transport import Credential
from airflow_provider_tealium.hooks.transport_sync import SyncTransport


class TealiumHook(ProfilesHookMixin, DataLayersHookMixin, RevisionsHookMixin, TealiumHookBase, SyncTransport):
    """Talks to Tealium's v3 (iQ, publish) and v1/v2 (Hosted Data Layer, revisions) APIs.

    The connection is read on first use, not at construction, so building a hook in a DAG file costs
    nothing at parse time.
    """

    @cached_property
    def config(self) -> TealiumConfig:
        """The connection's settings (looked up once per hook)."""
        if self._given_config is not None:
            return self._given_config
        return self._config_from(self.get_connection(self.tealium_conn_id))

    @cached_property
    def session(self) -> requests.Session:
        """One HTTP session per hook, so consecutive calls reuse connections."""
        return requests.Session()

    def close(self) -> None:
        """Release pooled connections."""
        if "session" in self.__dict__:
            self.session.close()

    def get_token(
        self, family: TokenFamily, account: str | None = None, profile: str | None = None
    ) -> auth.IssuedToken:
        """A valid credential for ``family``, from the cache or freshly minted (once per key at a time).

        :param family: the token family.
        :param account: the account (v3; default from the connection).
        :param profile: the profile (v3; default from the connection).
        """
        scope = self._scope(self.config, family, account, profile)
        return self._cached_token(family, scope)

    def _cached_token(self, family: TokenFamily, scope: Scope) -> auth.IssuedToken:
        key = self._token_key(self.config, family, scope)
        token = self.token_cache.get(key)
        if token is not None:
            return token
        with self.token_cache.thread_lock(key):
            token = self.token_cache.get(key)  # another thread may have minted it meanwhile
            if token is None:
                # Raises the remembered refusal when the thread before us was refused with this secret.
                token = self._mint(family, scope, key)
                self.token_cache.put(key, token)
        return token

    def _mint(self, family: TokenFamily, scope: Scope, key: TokenKey | None = None) -> auth.IssuedToken:
        config = self.config
        call = auth.auth_call(family, config, *scope)
        key = key or self._token_key(config, family, scope)
        with self._refusal_memory(config, family, key):
            self.log.info("Minting a %s token (%s)", family.value, call.request.path)
            return self._issued(call, self._transport_send(call.request))

    # -- the transport's questions --------------------------------------------------------------------

    def _transport_policy(self) -> RetryPolicy:
        return self.config.retry

    def _transport_session(self) -> requests.Session:
        return self.session

    def _transport_credential(self, request: ApiRequest, scope: Any) -> Credential | None:
        if request.family is TokenFamily.NONE:
            return None
        return self._cached_token(request.family, scope)

    def _transport_invalidate(self, request: ApiRequest, scope: Any, credential: Credential | None) -> None:
        self.token_cache.invalidate(self._token_key(self.config, request.family, scope), credential)  # type: ignore[arg-type]

    def _transport_compose(
        self, request: ApiRequest, credential: Credential | None
    ) -> tuple[str, dict[str, str], tuple[tuple[str, str], ...]]:
        return self._compose(self.config, request, credential)

    # -- public request path --------------------------------------------------------------------------

    def run(
        self, request: ApiRequest, *, account: str | None = None, profile: str | None = None
    ) -> ApiResponse:
        """Send ``request`` with its family's credential, retrying by the connection's policy.

        :param request: the call, built by :mod:`airflow_provider_tealium.api`.
        :param account: the account (v3 calls; default from the connection).
        :param profile: the profile (v3 calls; default from the connection).
        :return: the answer, whose status is one of ``request.ok_statuses``.
        :raises TealiumApiError: on a final error answer or when retries are exhausted.
        """
        scope: Scope = (None, None)
        if request.family is not TokenFamily.NONE:
            scope = self._scope(self.config, request.family, account, profile)
        return self._transport_send(request, scope)

    def get_json(self, request: ApiRequest, *, account: str | None = None, profile: str | None = None) -> Any:
        """:meth:`run` and parse the answer as JSON.

        :param request: the call.
        :param account: the account (v3 calls).
        :param profile: the profile (v3 calls).
        """
        return self.run(request, account=account, profile=profile).json(request)

    def region_base_url(self, account: str | None = None, profile: str | None = None) -> str:
        """The v3 region base URL for a profile (mints or reuses its token).

        :param account: the account (default from the connection).
        :param profile: the profile (default from the connection).
        """
        token = self.get_token(TokenFamily.V3, account, profile)
        assert token.host is not None
        return auth.region_base_url(self.config.platform_base_url, token.host)

    def test_connection(self) -> tuple[bool, str]:
        """Mint a fresh token (v3 when the connection names an account and profile, else v2).

        Used by the UI's Test button; bypasses the cache so it really tests the credentials, except that
        a secret refused in the last 10 minutes is reported refused without logging in again.
        """
        try:
            config = self.config
            family = TokenFamily.V3 if config.account and config.profile else TokenFamily.V2
            token = self._mint(family, self._scope(config, family, None, None))
            return True, self._connection_report(config, token, family)
        except TealiumError as exc:
            return False, str(exc)


# The async twin's public import path; it lives in its own module so triggers never import ``requests``.
from airflow_provider_tealium.hooks.tealium_async import TealiumAsyncHook  # noqa: E402

__all__ = ["TealiumAsyncHook", "TealiumHook"]
