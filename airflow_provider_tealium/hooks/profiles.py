"""iQ Profiles and publish methods of :class:`~airflow_provider_tealium.hooks.tealium.TealiumHook` and
:class:`~airflow_provider_tealium.hooks.tealium.TealiumAsyncHook`.

Each method builds its request with :mod:`airflow_provider_tealium.api.profiles` or
:mod:`airflow_provider_tealium.api.publish`, sends it, and parses the answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from airflow_provider_tealium.api import profiles as api
from airflow_provider_tealium.api import publish as publish_api

if TYPE_CHECKING:
    from airflow_provider_tealium.api.config import TealiumConfig
    from airflow_provider_tealium.api.request import ApiRequest, ApiResponse


class ProfilesHookMixin:
    """iQ Profiles GET/PATCH and publish, for the sync hook."""

    if TYPE_CHECKING:

        def run(
            self, request: ApiRequest, *, account: str | None = None, profile: str | None = None
        ) -> ApiResponse: ...

        def get_json(
            self, request: ApiRequest, *, account: str | None = None, profile: str | None = None
        ) -> Any: ...

        @property
        def config(self) -> TealiumConfig: ...

        log: Any

    def account_profile(self, account: str | None = None, profile: str | None = None) -> tuple[str, str]:
        """The (account, profile) a call goes to: the arguments, else the hook's, else the connection's.

        :param account: the account.
        :param profile: the profile.
        """
        return self.config.account_profile(account, profile)

    def get_profile(
        self,
        account: str | None = None,
        profile: str | None = None,
        *,
        includes: Iterable[str] = (),
        publish_version: str | datetime | None = None,
    ) -> dict[str, Any]:
        """The profile (the latest version unless ``publish_version`` names one).

        :param account: the account (default from the connection).
        :param profile: the profile (default from the connection).
        :param includes: components to include (``loadRules``, ``variables``, ``versionIds``...).
        :param publish_version: a version id (``yyyyMMddHHmm``).
        """
        account, profile = self.account_profile(account, profile)
        request = api.get_profile_request(account, profile, includes, publish_version)
        result: dict[str, Any] = self.get_json(request, account=account, profile=profile)
        return result

    def patch_profile(
        self,
        body: api.PatchRequest | Mapping[str, Any],
        account: str | None = None,
        profile: str | None = None,
        *,
        log_warnings: bool = True,
    ) -> Any:
        """Send one PATCH (validated first). Not resent when its answer is lost: the caller checks.

        What validation lets through but is worth knowing (an unknown load-rule operator sent as is, a
        replace that drops an extension's conditions) is logged as warnings.

        :param body: the PATCH envelope.
        :param account: the account.
        :param profile: the profile.
        :param log_warnings: log the validation warnings; a caller that validated the body itself and
            reported them already (and may send it several times) passes ``False``.
        :raises TealiumValidationErrors: when the body breaks a rule (nothing is sent).
        :raises TealiumAmbiguousResultError: when it was sent and no answer came.
        """
        account, profile = self.account_profile(account, profile)
        request, warnings = api.patch_profile_call(account, profile, body)
        if log_warnings:
            for warning in warnings:
                self.log.warning("PATCH %s/%s: %s", account, profile, warning)
        return self.run(request, account=account, profile=profile).json(request)

    def publish_profile(
        self, publish: publish_api.PublishRequest, account: str | None = None, profile: str | None = None
    ) -> str:
        """Start a publish; returns its ``publishId``.

        :param publish: the validated publish.
        :param account: the account.
        :param profile: the profile.
        """
        account, profile = self.account_profile(account, profile)
        request = publish_api.publish_request(account, profile, publish)
        body = self.get_json(request, account=account, profile=profile)
        return publish_api.parse_publish_id(body, request)

    def get_publish_status(
        self,
        publish_id: str,
        account: str | None = None,
        profile: str | None = None,
        targets: Iterable[str] = (),
    ) -> publish_api.PublishStatus:
        """Where a publish stands.

        :param publish_id: the publish.
        :param account: the account.
        :param profile: the profile.
        :param targets: the targets published (to read a single-state answer).
        """
        account, profile = self.account_profile(account, profile)
        request = publish_api.publish_status_request(account, profile, publish_id)
        body = self.get_json(request, account=account, profile=profile)
        return publish_api.parse_publish_status(publish_id, body, targets, request=request)


class AsyncProfilesHookMixin:
    """The publish status poll, for triggers."""

    if TYPE_CHECKING:

        async def aget_json(
            self, request: ApiRequest, *, account: str | None = None, profile: str | None = None
        ) -> Any: ...

        async def aconfig(self) -> TealiumConfig: ...

    async def aaccount_profile(
        self, account: str | None = None, profile: str | None = None
    ) -> tuple[str, str]:
        """Async :meth:`ProfilesHookMixin.account_profile`.

        :param account: the account.
        :param profile: the profile.
        """
        return (await self.aconfig()).account_profile(account, profile)

    async def aget_publish_status(
        self,
        publish_id: str,
        account: str | None = None,
        profile: str | None = None,
        targets: Iterable[str] = (),
    ) -> publish_api.PublishStatus:
        """Async :meth:`ProfilesHookMixin.get_publish_status`.

        :param publish_id: the publish.
        :param account: the account.
        :param profile: the profile.
        :param targets: the targets published.
        """
        account, profile = await self.aaccount_profile(account, profile)
        request = publish_api.publish_status_request(account, profile, publish_id)
        body = await self.aget_json(request, account=account, profile=profile)
        return publish_api.parse_publish_status(publish_id, body, targets, request=request)
