"""``IQMHook``: IQM's reporting API through the provider's one request loop.

Logs in with either documented flow, keeps the access token in the process-wide token cache (keyed by
base URL, client id, workspace host, user and a digest of the password, client secret and login flow), refreshes it with the refresh token shortly before
``expires_in`` runs out (a full login when the refresh is refused), sends ``Authorization: Bearer`` and
``X-IAA-OW-ID`` on every call, and paces calls under IQM's 20-a-minute limit process-wide.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from functools import cached_property
from typing import IO, Any

import requests

from airflow_provider_tealium._compat import BaseHook, mask_secret
from airflow_provider_tealium.api import iqm
from airflow_provider_tealium.api.errors import error_from_response
from airflow_provider_tealium.api.iqm_config import (
    CONN_TYPE,
    DEFAULT_CONN_ID,
    IQMConfig,
    config_from_connection,
)
from airflow_provider_tealium.api.request import ApiRequest, ApiResponse, TokenFamily
from airflow_provider_tealium.api.retry import (
    RetryPolicy,
)
from airflow_provider_tealium.exceptions import TealiumApiError, TealiumError
from airflow_provider_tealium.hooks.rate_limit import TokenBucket
from airflow_provider_tealium.hooks.token_cache import TOKEN_CACHE, TokenCache, TokenKey, credential_digest
from airflow_provider_tealium.hooks.transport import SECOND_401_HINT, Credential
from airflow_provider_tealium.hooks.transport_sync import SyncTransport

_LOGIN_HINT = "Check the connection's login (email), password, client_id, client_secret and workspace_host."
_RATE_HINT = "IQM allows 20 requests a minute per client; lower the connection's requests_per_minute."
# Statuses with which IQM refuses a refresh token (expired, revoked, unknown): log in again instead.
_REFRESH_REFUSED = frozenset({400, 401, 403, 422})
_FROM_CACHE = "taken from the process-wide cache"

# -- the process-wide limiter -----------------------------------------------------------------------------------

_LIMITERS: dict[tuple[str, str], tuple[tuple[int, float], TokenBucket]] = {}
_LIMITERS_LOCK = threading.Lock()


def limiter_for(base_url: str, client_id: str, limit: int, window: float = 60.0) -> TokenBucket:
    """The one limiter of an IQM client in this process: at most ``limit`` calls in any ``window`` seconds.

    A token bucket lets ``burst + rate * t`` calls through in ``t`` seconds; half the limit as burst and
    the other half spread over the window keeps every window at or under the limit, while the first
    calls of a task still go at once.

    :param base_url: the API base URL.
    :param client_id: the API client id (IQM counts per client).
    :param limit: calls allowed per window.
    :param window: the window in seconds (60 for IQM; tests shorten it).
    """
    key = (base_url, client_id)
    settings = (limit, window)
    with _LIMITERS_LOCK:
        entry = _LIMITERS.get(key)
        if entry is None or entry[0] != settings:
            burst = max(1, limit // 2)
            rate = max(limit - burst, 1) / window
            entry = (settings, TokenBucket(rate, burst))
            _LIMITERS[key] = entry
        return entry[1]


def reset_limiters() -> None:
    """Forget every IQM limiter (tests; the next call starts with a full bucket)."""
    with _LIMITERS_LOCK:
        _LIMITERS.clear()


class IQMHook(BaseHook, SyncTransport):
    """Talks to IQM's API (``https://api.iqm.com``): reports, their execution, downloads and schedules.

    The connection is read on first use, not at construction.

    :param iqm_conn_id: the ``iqm`` connection.
    :param max_retries: overrides the connection's ``max_retries`` extra (default 5).
    :param backoff_base: overrides ``backoff_base`` (seconds, default 1).
    :param backoff_max: overrides ``backoff_max`` (seconds, default 60).
    :param timeout: overrides ``timeout`` (seconds per attempt, default 30).
    :param requests_per_minute: overrides the ``requests_per_minute`` extra (default 20, IQM's limit).
    :param rate_window: the limiter's window in seconds (default 60; tests shorten it).
    :param token_cache: the credential cache; the process-wide one unless a test isolates.
    """

    conn_name_attr = "iqm_conn_id"
    default_conn_name = DEFAULT_CONN_ID
    conn_type = CONN_TYPE
    hook_name = "IQM"

    def __init__(
        self,
        iqm_conn_id: str = DEFAULT_CONN_ID,
        *,
        max_retries: int | None = None,
        backoff_base: float | None = None,
        backoff_max: float | None = None,
        timeout: float | None = None,
        requests_per_minute: int | None = None,
        rate_window: float = 60.0,
        token_cache: TokenCache | None = None,
    ) -> None:
        super().__init__()
        self.iqm_conn_id = iqm_conn_id
        self.retry_overrides: dict[str, Any] = {
            "max_retries": max_retries,
            "backoff_base": backoff_base,
            "backoff_max": backoff_max,
            "timeout": timeout,
        }
        self.requests_per_minute = requests_per_minute
        self.rate_window = rate_window
        self.token_cache = token_cache or TOKEN_CACHE
        # Credentials refused with a 401: their refresh token is tried before a full login.
        self._refused: dict[TokenKey, iqm.IQMToken] = {}
        # The credential the last attempt sent, and how this hook last obtained one: a 401 after a
        # refresh is explained with them.
        self._sent: iqm.IQMToken | None = None
        self._obtained_by = _FROM_CACHE

    @cached_property
    def config(self) -> IQMConfig:
        """The connection's settings (looked up once per hook)."""
        conn = self.get_connection(self.iqm_conn_id)
        config = config_from_connection(
            self.iqm_conn_id,
            conn.login,
            conn.password,
            conn.extra,
            retry_overrides=self.retry_overrides,
            requests_per_minute=self.requests_per_minute,
        )
        mask_secret(config.password)
        mask_secret(config.client_secret)
        mask_secret(iqm.basic_auth(config.client_id, config.client_secret).split(" ", 1)[1])
        return config

    @cached_property
    def session(self) -> requests.Session:
        """One HTTP session per hook, so consecutive calls reuse connections."""
        return requests.Session()

    @property
    def limiter(self) -> TokenBucket:
        """The process-wide limiter of this connection's client."""
        config = self.config
        return limiter_for(config.base_url, config.client_id, config.requests_per_minute, self.rate_window)

    def close(self) -> None:
        """Release pooled connections."""
        if "session" in self.__dict__:
            self.session.close()

    # -- credentials --------------------------------------------------------------------------------------

    def _token_key(self) -> TokenKey:
        c = self.config
        # Keyed by what logs in (password, client secret, flow), so a wrong secret never reuses a login.
        digest = credential_digest(c.password, c.client_secret, c.login_flow.value)
        return TokenKey(TokenFamily.IQM.value, c.base_url, c.client_id, c.workspace_host, c.email, digest)

    def get_token(self) -> iqm.IQMToken:
        """A valid access token, from the cache, refreshed, or from a new login (once per key at a time)."""
        key = self._token_key()
        token = self.token_cache.get(key)
        if token is None:
            with self.token_cache.thread_lock(key):
                token = self.token_cache.get(key)  # another thread may have minted it meanwhile
                if token is None:
                    # ``now=0`` returns the entry even when it is due for refresh: we need its refresh token.
                    stale = self._refused.pop(key, None) or self.token_cache.get(key, now=0.0)
                    token = self._obtain(stale if isinstance(stale, iqm.IQMToken) else None)
                    self.token_cache.put(key, token)
        assert isinstance(token, iqm.IQMToken)
        return token

    def _obtain(self, stale: iqm.IQMToken | None) -> iqm.IQMToken:
        if stale is not None and stale.refresh_token:
            request = iqm.refresh_request(self.config, stale.refresh_token)
            self.log.info("Refreshing the IQM access token (%s)", request.path)
            try:
                token = self._issued(request, self._transport_send(request), stale)
                self._obtained_by = "refreshed"
                return token
            except TealiumApiError as exc:
                if exc.status not in _REFRESH_REFUSED and exc.status != 200:
                    raise
                self.log.info("IQM refused the refresh token (%s); logging in again", exc.api_message)
        return self._login()

    def _login(self) -> iqm.IQMToken:
        request = iqm.login_request(self.config)
        self.log.info("Logging in to IQM as %s (%s)", self.config.email, request.path)
        token = self._issued(request, self._transport_send(request), None)
        self._obtained_by = "obtained by a new login"
        return token

    @staticmethod
    def _issued(request: ApiRequest, response: ApiResponse, previous: iqm.IQMToken | None) -> iqm.IQMToken:
        body = response.json()
        if isinstance(body, dict) and body.get("success") is False:
            iqm.unwrap(request, body)
        token = iqm.parse_token_answer(request, body, time.time(), previous)
        for secret in token.secrets:
            mask_secret(secret)
        return token

    # -- the transport's questions --------------------------------------------------------------------------

    def _transport_policy(self) -> RetryPolicy:
        return self.config.retry

    def _transport_session(self) -> requests.Session:
        return self.session

    def _transport_credential(self, request: ApiRequest, scope: Any) -> Credential | None:
        if request.family is TokenFamily.NONE:
            return None
        # Taken after the limiter's wait (see the loop), so refresh_at, shortly before expires_in, is
        # judged at the moment of sending.
        self._sent = self.get_token()
        return self._sent

    def _transport_invalidate(self, request: ApiRequest, scope: Any, credential: Credential | None) -> None:
        key = self._token_key()
        self._obtained_by = _FROM_CACHE  # until this hook renews it itself
        if isinstance(credential, iqm.IQMToken):
            self._refused[key] = credential
            self.token_cache.invalidate(key, credential)

    def _transport_compose(
        self, request: ApiRequest, credential: Credential | None
    ) -> tuple[str, dict[str, str], tuple[tuple[str, str], ...]]:
        headers = {"Accept": "application/json", **request.headers}
        if request.json_body is not None or request.content is not None:
            headers.setdefault("Content-Type", "application/json")
        params = list(request.params)
        if credential is not None:
            headers.update(dict(credential.headers))
            params.extend(credential.params)
        return self.config.base_url + request.path, headers, tuple(params)

    def _transport_before_send(self, request: ApiRequest) -> None:
        waited = self.limiter.acquire()
        if waited >= 1:
            self.log.info("IQM rate limit: waited %.1f s before %s", waited, request.description)

    def _final_error(
        self, request: ApiRequest, answer: ApiResponse, attempts: int, refreshed: bool
    ) -> TealiumApiError:
        hint = None
        if answer.status == 401:
            hint = self._second_401_hint() if refreshed else _LOGIN_HINT
        elif answer.status == 429:
            hint = _RATE_HINT
        return error_from_response(request, answer, attempts=attempts, hint=hint)

    def _second_401_hint(self) -> str:
        """What a 401 right after renewing the token means, with the token's age and lifetime."""
        token = self._sent
        if token is None:
            return SECOND_401_HINT
        age = max(time.time() - token.issued_at, 0.0)
        life = token.expires_at - token.issued_at
        how = self._obtained_by
        return (
            f"IQM refused the call again with an access token {how} {age:.1f} s before it was sent "
            f"(expires_in {life:.0f} s), so the token had not expired: IQM revoked it (the password or "
            "client secret was changed, or the user was logged out elsewhere), or the user lacks "
            "permission for this call."
        )

    # -- public request path --------------------------------------------------------------------------------

    def run(self, request: ApiRequest) -> ApiResponse:
        """Send ``request`` with the IQM credential, paced and retried by the connection's policy.

        :param request: the call, built by :mod:`airflow_provider_tealium.api.iqm`.
        :raises TealiumApiError: on a final error answer or when retries are exhausted.
        """
        return self._transport_send(request)

    def get_data(self, request: ApiRequest) -> Any:
        """:meth:`run`, parse the JSON answer and return its ``data`` (a ``success: false`` raises).

        :param request: the call.
        """
        return iqm.unwrap(request, self.run(request).json())

    def test_connection(self) -> tuple[bool, str]:
        """Log in afresh (bypassing the cache) and report the workspace; used by the UI's Test button."""
        try:
            config = self.config
            token = self._login()
            return True, (
                f"Logged in to IQM at {config.base_url} as {config.email} "
                f"({config.login_flow.value} flow); owId {token.ow_id}"
            )
        except TealiumError as exc:
            return False, str(exc)

    # -- reports --------------------------------------------------------------------------------------------

    def create_report(self, definition: Mapping[str, Any] | iqm.ReportDefinition) -> int:
        """Validate a definition and save it; returns the new report id.

        :param definition: a :class:`~airflow_provider_tealium.api.iqm.ReportDefinition` or a dict in API names.
        """
        request = iqm.create_report_request(iqm.report_body(definition))
        return iqm.parse_report_id(request, self.get_data(request))

    def get_report(self, report_id: int) -> dict[str, Any]:
        """A saved report's definition.

        :param report_id: the report id.
        """
        data = self.get_data(iqm.get_report_request(iqm.validate_report_id(report_id)))
        return dict(data) if isinstance(data, dict) else {}

    def execute_page(
        self,
        report: int | Mapping[str, Any],
        page_no: int = 1,
        page_size: int = iqm.MAX_PAGE_SIZE,
        sort_by: str | None = None,
    ) -> iqm.ExecutePage:
        """One page of a report's rows.

        :param report: a saved report id or a normalised definition (:func:`~airflow_provider_tealium.api.iqm.report_body`).
        :param page_no: the page (1-based).
        :param page_size: rows per page (at most 1,000).
        :param sort_by: ``+field`` or ``-field``.
        """
        request = iqm.execute_request(report, page_no, page_size, sort_by)
        return iqm.parse_execute_page(request, self.get_data(request))

    def iter_report_pages(
        self, report: int | Mapping[str, Any], page_size: int = iqm.MAX_PAGE_SIZE, sort_by: str | None = None
    ) -> Iterator[iqm.ExecutePage]:
        """Every page of a report, fetched one at a time (only one page is ever held).

        :param report: a saved report id or a normalised definition.
        :param page_size: rows per page (at most 1,000).
        :param sort_by: ``+field`` or ``-field``.
        """
        page_size = iqm.validate_page_size(page_size)
        page_no, seen = 1, 0
        while True:
            page = self.execute_page(report, page_no, page_size, sort_by)
            yield page
            seen += len(page.rows)
            if len(page.rows) < page_size or (page.total_records is not None and seen >= page.total_records):
                return
            page_no += 1

    def download_url(self, report: int | Mapping[str, Any]) -> str | None:
        """Ask IQM to run a report into a file; its URL, or ``None`` when the report has no data.

        :param report: a saved report id or a normalised definition.
        """
        return iqm.parse_download_url(self.get_data(iqm.download_request(report)))

    def schedule_report(self, report_id: int, schedule: Mapping[str, Any], *, update: bool = False) -> Any:
        """Create or update a report's email schedule; returns IQM's ``data``.

        :param report_id: the report.
        :param schedule: the normalised schedule (:func:`~airflow_provider_tealium.api.iqm.schedule_body`).
        :param update: change the existing schedule (``PATCH``) instead of creating one.
        """
        return self.get_data(iqm.schedule_request(iqm.validate_report_id(report_id), schedule, update=update))

    def fetch_file(self, url: str, out: IO[bytes]) -> int:
        """Stream a downloaded report file into ``out``; returns the bytes written.

        The URL is IQM's presigned file link: no IQM credential is sent to it, its query string (the
        signature) never appears in logs or errors, and a redirect is followed only within its origin.
        Transient failures are retried by the connection's policy, restarting the file.

        :param url: the file URL from :meth:`download_url`.
        :param out: a binary file open for writing (truncated on a retry).
        """
        from airflow_provider_tealium.hooks.file_fetch import fetch_to

        return fetch_to(url, out, self.config.retry, self.log)
