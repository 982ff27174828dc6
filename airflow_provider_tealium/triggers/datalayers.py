"""Trigger waiting, in the triggerer, until Hosted Data Layer uploads have landed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_tealium.api import datalayers as dle
from airflow_provider_tealium.api.config import DEFAULT_CONN_ID
from airflow_provider_tealium.api.defaults import DLE_BATCH_WINDOW, DLE_PER_ID_THRESHOLD
from airflow_provider_tealium.exceptions import TealiumError
from airflow_provider_tealium.hooks.tealium_async import TealiumAsyncHook
from airflow_provider_tealium.triggers.landing import LandingPoller, shared_landing_reads

if TYPE_CHECKING:
    from airflow_provider_tealium.triggers.landing import SharedLandingReads

DEFAULT_PER_ID_THRESHOLD = DLE_PER_ID_THRESHOLD


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
    :param batch_window: seconds this trigger's polls wait for others in the triggerer watching the same
        profile, to read Tealium once for all of them (see
        :class:`~airflow_provider_tealium.triggers.landing.SharedLandingReads`). Default 1 s, at most a
        quarter of ``poll_interval``; ``0`` polls alone.
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
        batch_window: float | None = None,
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
        window = DLE_BATCH_WINDOW if batch_window is None else float(batch_window)
        self.batch_window = max(0.0, min(window, self.poll_interval / 4))

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
                "batch_window": self.batch_window,
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

    def _share_key(self) -> tuple[Any, ...]:
        return (
            self.tealium_conn_id,
            tuple(sorted(self.hook_params.items())),
            self.account,
            self.profile,
            dle.parse_file_type(self.file_type),
            self.batch_window,
        )

    @asynccontextmanager
    async def _reads(
        self, hook: TealiumAsyncHook, poller: LandingPoller
    ) -> AsyncIterator[SharedLandingReads | None]:
        if self.batch_window <= 0:
            yield None
            return
        async with shared_landing_reads(hook, poller, self.batch_window, self._share_key()) as shared:
            yield shared

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Poll until done, failed or past the deadline; one event.

        The wait returns before the event is yielded, so the hook and the shared reads are released in
        this event loop: a runner that stops iterating after the event (``dag.test()`` does) would
        otherwise leave them to be closed by the garbage collector, outside any loop.
        """
        yield TriggerEvent(await self._wait())

    async def _wait(self) -> dict[str, Any]:
        poller = self._poller()
        async with (
            TealiumAsyncHook(self.tealium_conn_id, **self.hook_params) as hook,
            self._reads(hook, poller) as shared,
        ):
            while True:
                try:
                    if shared is None:
                        check = await poller.apoll(hook)
                    else:
                        check = poller.absorb(await shared.read(poller))
                except TealiumError as exc:
                    return {"status": "error", "message": str(exc), "failed": {}}
                if check.failed:
                    return {
                        "status": "error",
                        "message": dle.failed_message(check.failed),
                        "failed": check.failed,
                    }
                if not poller.pending:
                    return {"status": "success", "landed": poller.landed}
                remaining = self.deadline - time.time()
                if remaining <= 0:
                    return {
                        "status": "timeout",
                        "message": timeout_message(poller.pending, len(poller.ids)),
                        "pending": poller.pending,
                    }
                reads = poller.last_reads
                self.log.info(
                    "%d/%d data layers landed; %d request(s) this poll, shared by %d wait(s)",
                    len(poller.landed),
                    len(poller.ids),
                    reads.requests,
                    reads.shared_by,
                )
                # Ask a window early so that, however long the shared round stays open, this wait's
                # reads are at most one poll interval apart.
                due = reads.started + self.poll_interval - self.batch_window
                await asyncio.sleep(max(0.0, min(due - time.time(), remaining)))


def timeout_message(pending: dict[str, str], total: int) -> str:
    """The message when the wait ran out, naming the ids still missing.

    :param pending: id -> why it is not landed.
    :param total: ids awaited.
    """
    shown = ", ".join(f"{k} ({v})" for k, v in list(pending.items())[:20])
    more = f" and {len(pending) - 20} more" if len(pending) > 20 else ""
    return f"{len(pending)} of {total} data layer(s) had not landed in time: {shown}{more}"
