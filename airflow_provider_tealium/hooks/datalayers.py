"""Hosted Data Layer methods of :class:`~airflow_provider_tealium.hooks.tealium.TealiumHook` and
:class:`~airflow_provider_tealium.hooks.tealium.TealiumAsyncHook` (v2 token, the v1/v2 API host).

Each method builds its request with :mod:`airflow_provider_tealium.api.datalayers`, sends it and parses
the answer. Account and profile default to the connection's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from airflow_provider_tealium.api import datalayers as dle

if TYPE_CHECKING:
    from airflow_provider_tealium.api.config import TealiumConfig
    from airflow_provider_tealium.api.request import ApiRequest, ApiResponse


class DataLayersHookMixin:
    """Hosted Data Layer calls for the sync hook."""

    if TYPE_CHECKING:

        @property
        def config(self) -> TealiumConfig: ...

        def run(
            self, request: ApiRequest, *, account: str | None = None, profile: str | None = None
        ) -> ApiResponse: ...

    def dle_account_profile(self, account: str | None = None, profile: str | None = None) -> tuple[str, str]:
        """The account and profile a data layer call goes to (arguments, else the connection's).

        :param account: the account.
        :param profile: the profile.
        """
        return self.config.account_profile(account, profile)

    def upload_prepared_datalayer(
        self,
        upload: dle.PreparedUpload,
        *,
        account: str | None = None,
        profile: str | None = None,
        file_type: dle.FileType | str | None = None,
        mode: dle.UploadMode | str = dle.UploadMode.CREATE,
    ) -> str:
        """Send one already validated data layer; returns the method used (``POST`` or ``PUT``).

        ``upsert`` sends ``PUT`` and, if Tealium does not know the id (404), ``POST``.

        :param upload: from :func:`~airflow_provider_tealium.api.datalayers.prepare_upload`.
        :param account: the account.
        :param profile: the profile.
        :param file_type: ``None``, ``json`` or ``javascript``.
        :param mode: ``create`` (POST), ``update`` (PUT) or ``upsert``.
        """
        acc, prof = self.dle_account_profile(account, profile)
        kind = dle.parse_file_type(file_type)
        how = dle.parse_mode(mode)
        if how is dle.UploadMode.CREATE:
            self.run(dle.upload_request(acc, prof, upload, file_type=kind))
            return "POST"
        put = dle.upload_request(acc, prof, upload, file_type=kind, update=True)
        if how is dle.UploadMode.UPSERT:
            put = dataclasses.replace(put, ok_statuses=put.ok_statuses | {404})
        if self.run(put).status != 404:
            return "PUT"
        self.run(dle.upload_request(acc, prof, upload, file_type=kind))
        return "POST"

    def upload_datalayer(
        self,
        datalayer_id: str,
        data: Any,
        *,
        account: str | None = None,
        profile: str | None = None,
        file_type: dle.FileType | str | None = None,
        mode: dle.UploadMode | str = dle.UploadMode.CREATE,
    ) -> str:
        """Validate and send one data layer; returns the method used.

        :param datalayer_id: the id.
        :param data: a JSON object (keys without periods, at most 1 MB serialised).
        :param account: the account.
        :param profile: the profile.
        :param file_type: ``None``, ``json`` or ``javascript``.
        :param mode: ``create``, ``update`` or ``upsert``.
        :raises TealiumValidationError: before sending, naming the id and every rule broken.
        """
        acc, prof = self.dle_account_profile(account, profile)
        dle.parse_file_type(file_type)
        upload = dle.prepare_upload(acc, prof, datalayer_id, data)
        return self.upload_prepared_datalayer(
            upload, account=acc, profile=prof, file_type=file_type, mode=mode
        )

    def delete_datalayer(
        self,
        datalayer_id: str,
        *,
        account: str | None = None,
        profile: str | None = None,
        file_type: dle.FileType | str | None = None,
    ) -> bool:
        """Delete one data layer; ``False`` when Tealium did not know it (404).

        :param datalayer_id: the id.
        :param account: the account.
        :param profile: the profile.
        :param file_type: ``None``, ``json`` or ``javascript``.
        """
        acc, prof = self.dle_account_profile(account, profile)
        request = dle.delete_request(acc, prof, datalayer_id, file_type=dle.parse_file_type(file_type))
        return self.run(request).status != 404

    def get_datalayer_metadata(
        self,
        datalayer_id: str,
        *,
        account: str | None = None,
        profile: str | None = None,
        file_type: dle.FileType | str | None = None,
    ) -> dle.DataLayerFile | None:
        """One file's metadata, or ``None`` while it is absent (404: not uploaded, or not landed yet).

        :param datalayer_id: the id.
        :param account: the account.
        :param profile: the profile.
        :param file_type: ``None``, ``json`` or ``javascript``.
        """
        acc, prof = self.dle_account_profile(account, profile)
        answer = self.run(
            dle.metadata_request(acc, prof, datalayer_id, file_type=dle.parse_file_type(file_type))
        )
        return None if answer.status == 404 else dle.parse_file(answer.json())

    def iter_datalayer_pages(
        self, *, account: str | None = None, profile: str | None = None
    ) -> Iterator[dle.DataLayerPage]:
        """The listing page by page, following ``continuationToken`` until ``isTruncated`` is false.

        :param account: the account.
        :param profile: the profile.
        """
        acc, prof = self.dle_account_profile(account, profile)
        token: str | None = None
        while True:
            page = dle.parse_page(self.run(dle.list_request(acc, prof, token)).json())
            yield page
            if page.continuation_token is None:
                return
            token = page.continuation_token

    def iter_datalayers(
        self, *, account: str | None = None, profile: str | None = None
    ) -> Iterator[dle.DataLayerFile]:
        """Every data layer file of the profile (both file types), fetched a page at a time.

        :param account: the account.
        :param profile: the profile.
        """
        for page in self.iter_datalayer_pages(account=account, profile=profile):
            yield from page.files

    def get_failed_uploads(
        self,
        start: datetime | str | None = None,
        end: datetime | str | None = None,
        *,
        account: str | None = None,
        profile: str | None = None,
    ) -> list[dle.FailedUpload]:
        """Failed uploads between ``start`` and ``end`` (inclusive; at most 5,000, not paginated).

        :param start: earliest date (datetime, pendulum or ISO string; naive means UTC).
        :param end: latest date.
        :param account: the account.
        :param profile: the profile.
        """
        acc, prof = self.dle_account_profile(account, profile)
        return dle.parse_failed_uploads(self.run(dle.failed_uploads_request(acc, prof, start, end)).json())


class AsyncDataLayersHookMixin:
    """Hosted Data Layer reads for the async hook (what the sensor's trigger needs)."""

    if TYPE_CHECKING:

        async def aconfig(self) -> TealiumConfig: ...

        async def arun(
            self, request: ApiRequest, *, account: str | None = None, profile: str | None = None
        ) -> ApiResponse: ...

    async def adle_account_profile(
        self, account: str | None = None, profile: str | None = None
    ) -> tuple[str, str]:
        """Async :meth:`DataLayersHookMixin.dle_account_profile`.

        :param account: the account.
        :param profile: the profile.
        """
        return (await self.aconfig()).account_profile(account, profile)

    async def aget_datalayer_metadata(
        self,
        datalayer_id: str,
        *,
        account: str | None = None,
        profile: str | None = None,
        file_type: dle.FileType | str | None = None,
    ) -> dle.DataLayerFile | None:
        """Async :meth:`DataLayersHookMixin.get_datalayer_metadata`.

        :param datalayer_id: the id.
        :param account: the account.
        :param profile: the profile.
        :param file_type: ``None``, ``json`` or ``javascript``.
        """
        acc, prof = await self.adle_account_profile(account, profile)
        request = dle.metadata_request(acc, prof, datalayer_id, file_type=dle.parse_file_type(file_type))
        answer = await self.arun(request)
        return None if answer.status == 404 else dle.parse_file(answer.json())

    async def aiter_datalayer_pages(
        self, *, account: str | None = None, profile: str | None = None
    ) -> AsyncIterator[dle.DataLayerPage]:
        """Async :meth:`DataLayersHookMixin.iter_datalayer_pages`.

        :param account: the account.
        :param profile: the profile.
        """
        acc, prof = await self.adle_account_profile(account, profile)
        token: str | None = None
        while True:
            page = dle.parse_page((await self.arun(dle.list_request(acc, prof, token))).json())
            yield page
            if page.continuation_token is None:
                return
            token = page.continuation_token

    async def aget_failed_uploads(
        self,
        start: datetime | str | None = None,
        end: datetime | str | None = None,
        *,
        account: str | None = None,
        profile: str | None = None,
    ) -> list[dle.FailedUpload]:
        """Async :meth:`DataLayersHookMixin.get_failed_uploads`.

        :param start: earliest date.
        :param end: latest date.
        :param account: the account.
        :param profile: the profile.
        """
        acc, prof = await self.adle_account_profile(account, profile)
        answer = await self.arun(dle.failed_uploads_request(acc, prof, start, end))
        return dle.parse_failed_uploads(answer.json())
