"""Revision methods of :class:`~airflow_provider_tealium.hooks.tealium.TealiumHook` and its async twin.

Which API serves them (``"v1"``, the documented one with the v1 login, or ``"v2"``, the manifest API
with the v2 token) is chosen per call, else by the connection's ``revisions_api`` extra, else ``"v1"``.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from airflow_provider_tealium.api import revisions as rev
from airflow_provider_tealium.api.config import parse_extra
from airflow_provider_tealium.exceptions import TealiumApiError

if TYPE_CHECKING:
    from airflow_provider_tealium.api.config import TealiumConfig
    from airflow_provider_tealium.api.request import ApiRequest, ApiResponse

EXTRA_REVISIONS_API = "revisions_api"

_UTK_RE = re.compile(r"(utk=)[^&\s\"']+")
# The HTTP clients log request URLs (urllib3 at DEBUG, httpx at INFO), and the v1 API puts its session
# token in the query string. Airflow's masker also redacts it in task logs; this covers every handler.
_URL_LOGGERS = ("urllib3.connectionpool", "httpx")


class RedactUtkFilter(logging.Filter):
    """Replace the value of a ``utk=`` query parameter in log records with ``***``."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the logging system's problem, not ours
            return True
        if "utk=" in message:
            record.msg = _UTK_RE.sub(r"\1***", message)
            record.args = ()
        return True


def _install_utk_filter() -> None:
    for name in _URL_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactUtkFilter) for f in logger.filters):
            logger.addFilter(RedactUtkFilter())


_install_utk_filter()


def _extra_revisions_api(conn: Any) -> str | None:
    extra = parse_extra(getattr(conn, "extra", None))
    value = extra.get(EXTRA_REVISIONS_API) or extra.get(f"extra__tealium__{EXTRA_REVISIONS_API}")
    return str(value) if value else None


class RevisionsHookMixin:
    """List revisions, read their details, download bundles (sync)."""

    tealium_conn_id: str

    if TYPE_CHECKING:

        @property
        def config(self) -> TealiumConfig: ...

        def run(
            self, request: ApiRequest, *, account: str | None = None, profile: str | None = None
        ) -> ApiResponse: ...

        def get_connection(self, conn_id: str) -> Any: ...

    def revisions_api(self, revisions_api: str | None = None) -> rev.RevisionsApi:
        """The API family serving revisions: the argument, else the connection's extra, else v1.

        :param revisions_api: ``"v1"``, ``"v2"`` or ``None``.
        """
        if revisions_api:
            return rev.revisions_api(revisions_api)
        if "_revisions_api_extra" not in self.__dict__:
            self.__dict__["_revisions_api_extra"] = _extra_revisions_api(
                self.get_connection(self.tealium_conn_id)
            )
        return rev.revisions_api(
            self.__dict__["_revisions_api_extra"], f"{self.tealium_conn_id}.{EXTRA_REVISIONS_API}"
        )

    def _revision_call(self, request: ApiRequest) -> ApiResponse:
        try:
            return self.run(request)
        except TealiumApiError as exc:
            raise rev.explain_error(exc) from exc

    def list_revision_ids(
        self, account: str | None = None, profile: str | None = None, *, revisions_api: str | None = None
    ) -> list[str]:
        """Revision ids of a profile, newest first (compared as times).

        :param account: the account (default from the connection).
        :param profile: the profile (default from the connection).
        :param revisions_api: ``"v1"`` or ``"v2"`` (default: the connection's, else v1).
        """
        acc, prof = self.config.account_profile(account, profile)
        request = rev.list_revisions_request(self.revisions_api(revisions_api), acc, prof)
        return rev.parse_revision_ids(request, self._revision_call(request).json())

    def get_revision(
        self,
        revision_id: str,
        account: str | None = None,
        profile: str | None = None,
        *,
        revisions_api: str | None = None,
    ) -> rev.RevisionDetails:
        """One revision's details.

        :param revision_id: the revision id.
        :param account: the account (default from the connection).
        :param profile: the profile (default from the connection).
        :param revisions_api: ``"v1"`` or ``"v2"``.
        """
        acc, prof = self.config.account_profile(account, profile)
        request = rev.revision_details_request(self.revisions_api(revisions_api), acc, prof, revision_id)
        return rev.parse_revision_details(request, self._revision_call(request).json())

    def get_latest_revision(
        self, account: str | None = None, profile: str | None = None, *, revisions_api: str | None = None
    ) -> rev.RevisionDetails | None:
        """The newest revision's details, or ``None`` when the profile has none.

        :param account: the account (default from the connection).
        :param profile: the profile (default from the connection).
        :param revisions_api: ``"v1"`` or ``"v2"``.
        """
        ids = self.list_revision_ids(account, profile, revisions_api=revisions_api)
        return self.get_revision(ids[0], account, profile, revisions_api=revisions_api) if ids else None

    def download_revision_bundle(
        self,
        revision_id: str,
        target: str,
        account: str | None = None,
        profile: str | None = None,
        *,
        revisions_api: str | None = None,
    ) -> bytes:
        """The zip bundle of one revision for one target, unverified (see :func:`~airflow_provider_tealium.api.revisions.verify_bundle`).

        :param revision_id: the revision id.
        :param target: the environment (``prod``).
        :param account: the account (default from the connection).
        :param profile: the profile (default from the connection).
        :param revisions_api: ``"v1"`` or ``"v2"``.
        """
        acc, prof = self.config.account_profile(account, profile)
        request = rev.revision_bundle_request(
            self.revisions_api(revisions_api), acc, prof, revision_id, target
        )
        return self._revision_call(request).content


class AsyncRevisionsHookMixin:
    """The calls a revision trigger makes, without blocking the event loop."""

    tealium_conn_id: str

    if TYPE_CHECKING:

        async def arun(
            self, request: ApiRequest, *, account: str | None = None, profile: str | None = None
        ) -> ApiResponse: ...

        async def aconfig(self) -> TealiumConfig: ...

    async def arevisions_api(self, revisions_api: str | None = None) -> rev.RevisionsApi:
        """Async :meth:`RevisionsHookMixin.revisions_api`.

        :param revisions_api: ``"v1"``, ``"v2"`` or ``None``.
        """
        if revisions_api:
            return rev.revisions_api(revisions_api)
        if "_revisions_api_extra" not in self.__dict__:
            from airflow_provider_tealium._compat import aget_connection

            self.__dict__["_revisions_api_extra"] = _extra_revisions_api(
                await aget_connection(self.tealium_conn_id)
            )
        return rev.revisions_api(
            self.__dict__["_revisions_api_extra"], f"{self.tealium_conn_id}.{EXTRA_REVISIONS_API}"
        )

    async def _arevision_call(self, request: ApiRequest) -> ApiResponse:
        try:
            return await self.arun(request)
        except TealiumApiError as exc:
            raise rev.explain_error(exc) from exc

    async def alist_revision_ids(
        self, account: str | None = None, profile: str | None = None, *, revisions_api: str | None = None
    ) -> list[str]:
        """Async :meth:`RevisionsHookMixin.list_revision_ids`.

        :param account: the account (default from the connection).
        :param profile: the profile (default from the connection).
        :param revisions_api: ``"v1"`` or ``"v2"``.
        """
        acc, prof = (await self.aconfig()).account_profile(account, profile)
        request = rev.list_revisions_request(await self.arevisions_api(revisions_api), acc, prof)
        return rev.parse_revision_ids(request, (await self._arevision_call(request)).json())

    async def aget_revision(
        self,
        revision_id: str,
        account: str | None = None,
        profile: str | None = None,
        *,
        revisions_api: str | None = None,
    ) -> rev.RevisionDetails:
        """Async :meth:`RevisionsHookMixin.get_revision`.

        :param revision_id: the revision id.
        :param account: the account (default from the connection).
        :param profile: the profile (default from the connection).
        :param revisions_api: ``"v1"`` or ``"v2"``.
        """
        acc, prof = (await self.aconfig()).account_profile(account, profile)
        request = rev.revision_details_request(
            await self.arevisions_api(revisions_api), acc, prof, revision_id
        )
        return rev.parse_revision_details(request, (await self._arevision_call(request)).json())
