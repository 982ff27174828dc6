"""Trigger waiting, in the triggerer, until Hosted Data Layer uploads have landed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_tealium.api import datalayers as dle
from airflow_provider_tealium.api.config import DEFAULT_CONN_ID
from airflow_provider_tealium.api.defaults import DLE_PER_ID_THRESHOLD
from airflow_provider_tealium.exceptions import TealiumError

if TYPE_CHECKING:
    from airflow_provider_tealium.hooks.tealium import TealiumAsyncHook, TealiumHook

DEFAULT_PER_ID_THRESHOLD = DLE_PER_ID_THRESHOLD


class LandingPoller:
    """One wait's memory across polls: which ids landed, how long the listing was.

    Ids that landed are not asked about again, so each poll costs at most
    ``max(per_id_threshold, listing pages)`` metadata requests plus one failed-uploads request:
    per-id ``GET`` for few pending ids, the listing (one request per 1,000 files in the profile)
    for many; see :func:`~airflow_provider_tealium.api.datalayers.choose_poll_strategy`.

    :param datalayer_ids: the ids awaited.
    :param since: earliest acceptable ``lastModified`` (also the start of the failed-uploads window).
    :param expected_sizes: id -> size, where known.
    :param file_type: the kind of file awaited.
    :param account: the account.
    :param profile: the profile.
    :param fail_on_failed_uploads: check failed-uploads after ``since`` each poll.
    :param per_id_threshold: at most this many pending ids use per-id ``GET``.
    """

    def __init__(
        self,
        datalayer_ids: list[str],
        since: datetime | None,
        expected_sizes: dict[str, int] | None,
        file_type: dle.FileType | None,
        account: str | None,
        profile: str | None,
        fail_on_failed_uploads: bool,
        per_id_threshold: int,
    ) -> None:
        self.ids = list(dict.fromkeys(datalayer_ids))
        self.since = since
        self.expected_sizes = expected_sizes or {}
        self.file_type = file_type
        self.account = account
        self.profile = profile
        self.fail_fast = fail_on_failed_uploads and since is not None
        self.per_id_threshold = per_id_threshold
        self.landed: dict[str, dict[str, Any]] = {}
        self.pending: dict[str, str] = dict.fromkeys(self.ids, "not checked yet")
        self.list_pages: int | None = None
        self.requests_last_poll = 0

    @property
    def wanted(self) -> dle.FileType:
        """The file kind listing entries must have (``.json`` vs ``.js``)."""
        return dle.FileType.JSON if self.file_type is dle.FileType.JSON else dle.FileType.JAVASCRIPT

    def strategy(self) -> dle.PollStrategy:
        """Per-id or listing for the next poll."""
        return dle.choose_poll_strategy(len(self.pending), self.list_pages, self.per_id_threshold)

    def absorb(
        self, files: dict[str, dle.DataLayerFile | None], failed: list[dle.FailedUpload]
    ) -> dle.LandingCheck:
        """Judge the pending ids from one poll's reads and remember what landed."""
        check = dle.check_landing(
            list(self.pending), files, self.since, self.expected_sizes, failed, self.file_type
        )
        self.landed.update(check.landed)
        self.pending = check.pending
        return check

    def poll(self, hook: TealiumHook) -> dle.LandingCheck:
        """One poll with the sync hook (the sensor's poke); the same reads as :meth:`apoll`.

        :param hook: the sync hook.
        """
        scope = {"account": self.account, "profile": self.profile}
        files: dict[str, dle.DataLayerFile | None] = {}
        requests = 0
        if self.strategy() is dle.PollStrategy.PER_ID:
            for datalayer_id in list(self.pending):
                files[datalayer_id] = hook.get_datalayer_metadata(
                    datalayer_id, file_type=self.file_type, **scope
                )
                requests += 1
        else:
            pages = 0
            for page in hook.iter_datalayer_pages(**scope):
                pages += 1
                for item in page.files:
                    if item.file_type is self.wanted and item.datalayer_id in self.pending:
                        files[item.datalayer_id] = item
            self.list_pages = pages
            requests += pages
        failed: list[dle.FailedUpload] = []
        if self.fail_fast:
            failed = hook.get_failed_uploads(start=self.since, **scope)
            requests += 1
        self.requests_last_poll = requests
        return self.absorb(files, failed)

    async def apoll(self, hook: TealiumAsyncHook) -> dle.LandingCheck:
        """One poll with the async hook.

        :param hook: the async hook.
        """
        scope = {"account": self.account, "profile": self.profile}
        files: dict[str, dle.DataLayerFile | None] = {}
        requests = 0
        if self.strategy() is dle.PollStrategy.PER_ID:
            for datalayer_id in list(self.pending):
                files[datalayer_id] = await hook.aget_datalayer_metadata(
                    datalayer_id, file_type=self.file_type, **scope
                )
                requests += 1
        else:
            pages = 0
            async for page in hook.aiter_datalayer_pages(**scope):
                pages += 1
                for item in page.files:
                    if item.file_type is self.wanted and item.datalayer_id in self.pending:
                        files[item.datalayer_id] = item
            self.list_pages = pages
            requests += pages
        failed: list[dle.FailedUpload] = []
        if self.fail_fast:
            failed = await hook.aget_failed_uploads(start=self.since, **scope)
            requests += 1
        self.requests_last_poll = requests
        return self.absorb(files, failed)


class TealiumDataLayerTrigger(BaseTrigger):
    """Poll with :class:`~airflow_provider_tealium.hooks.tealium.TealiumAsyncHook` until every id landed.

    Yields exactly one event: ``{"status": "success", "landed": {id: metadata}}``,
    ``{"status": "error", "message": ..., "failed": {id: date}}`` (ids in failed-uploads, or an API
    error after retries), or ``{"status": "timeout", "message": ..., "pending": {id: why}}``.

    :param datalayer_ids: the ids awaited.
    :param since: ISO 8601 time; ``lastModified`` must be at or after it (to the second).
    :param deadline: epoch seconds when to give up.
    :param expected_sizes: id -> size.
    :param file_type: ``None``, ``json`` or ``javascript``.
    :param account: the account (default: the connection's).
    :param profile: the profile (default: the connection's).
    :param fail_on_failed_uploads: fail as soon as an id appears in failed-uploads after ``since``.
    :param poll_interval: seconds between polls.
    :param per_id_threshold: at most this many pending ids are read one by one.
    :param tealium_conn_id: the connection.
    :param hook_params: retry settings for the hook (``max_retries``, ``backoff_base``, ...): numbers only.
    """

    def __init__(
        self,
        datalayer_ids: list[str],
        since: str | None,
        deadline: float,
        expected_sizes: dict[str, int] | None = None,
        file_type: str | None = None,
        account: str | None = None,
        profile: str | None = None,
        fail_on_failed_uploads: bool = True,
        poll_interval: float = 30.0,
        per_id_threshold: int = DEFAULT_PER_ID_THRESHOLD,
        tealium_conn_id: str = DEFAULT_CONN_ID,
        hook_params: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.datalayer_ids = list(datalayer_ids)
        self.since = since
        self.deadline = float(deadline)
        self.expected_sizes = dict(expected_sizes or {})
        self.file_type = file_type
        self.account = account
        self.profile = profile
        self.fail_on_failed_uploads = fail_on_failed_uploads
        self.poll_interval = float(poll_interval)
        self.per_id_threshold = int(per_id_threshold)
        self.tealium_conn_id = tealium_conn_id
        self.hook_params = dict(hook_params or {})

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Class path and JSON-serialisable kwargs (ids, times, numbers; never secrets)."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "datalayer_ids": self.datalayer_ids,
                "since": self.since,
                "deadline": self.deadline,
                "expected_sizes": self.expected_sizes,
                "file_type": self.file_type,
                "account": self.account,
                "profile": self.profile,
                "fail_on_failed_uploads": self.fail_on_failed_uploads,
                "poll_interval": self.poll_interval,
                "per_id_threshold": self.per_id_threshold,
                "tealium_conn_id": self.tealium_conn_id,
                "hook_params": self.hook_params,
            },
        )

    def _poller(self) -> LandingPoller:
        return LandingPoller(
            self.datalayer_ids,
            dle.to_datetime(self.since) if self.since else None,
            self.expected_sizes,
            dle.parse_file_type(self.file_type),
            self.account,
            self.profile,
            self.fail_on_failed_uploads,
            self.per_id_threshold,
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Poll until done, failed or past the deadline; one event."""
        from airflow_provider_tealium.hooks.tealium import TealiumAsyncHook

        poller = self._poller()
        async with TealiumAsyncHook(self.tealium_conn_id, **self.hook_params) as hook:
            while True:
                try:
                    check = await poller.apoll(hook)
                except TealiumError as exc:
                    yield TriggerEvent({"status": "error", "message": str(exc), "failed": {}})
                    return
                if check.failed:
                    yield TriggerEvent(
                        {
                            "status": "error",
                            "message": dle.failed_message(check.failed),
                            "failed": check.failed,
                        }
                    )
                    return
                if not poller.pending:
                    yield TriggerEvent({"status": "success", "landed": poller.landed})
                    return
                remaining = self.deadline - time.time()
                if remaining <= 0:
                    yield TriggerEvent(
                        {
                            "status": "timeout",
                            "message": timeout_message(poller.pending, len(poller.ids)),
                            "pending": poller.pending,
                        }
                    )
                    return
                self.log.info(
                    "%d/%d data layers landed; %d request(s) this poll",
                    len(poller.landed),
                    len(poller.ids),
                    poller.requests_last_poll,
                )
                await asyncio.sleep(min(self.poll_interval, remaining))


def timeout_message(pending: dict[str, str], total: int) -> str:
    """The message when the wait ran out, naming the ids still missing.

    :param pending: id -> why it is not landed.
    :param total: ids awaited.
    """
    shown = ", ".join(f"{k} ({v})" for k, v in list(pending.items())[:20])
    more = f" and {len(pending) - 20} more" if len(pending) > 20 else ""
    return f"{len(pending)} of {total} data layer(s) had not landed in time: {shown}{more}"
