"""How a wait for Hosted Data Layer uploads reads Tealium.

- :class:`LandingPoller`: one wait's memory across polls (which ids landed, how long the listing was).
- :func:`read_landing` / :func:`aread_landing`: the reads of one poll, sync (the sensor) and async.
- :class:`SharedLandingReads`: those reads made once for every trigger of one event loop that waits on
  the same profile. 1,000 deferred waits polling every 10 s alone would send 200 requests a second
  (twice Tealium's limit) and spend the triggerer's CPU on HTTP bookkeeping; shared, they send about two
  requests per window.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import AsyncIterator, Collection, Hashable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from airflow_provider_tealium.api import datalayers as dle
from airflow_provider_tealium.hooks.tealium_async import TealiumAsyncHook

if TYPE_CHECKING:
    from airflow_provider_tealium.hooks.tealium import TealiumHook


@dataclass
class LandingReads:
    """What one round of reads found about the ids it was asked about.

    :param files: id -> its metadata (``None`` or absent: not there).
    :param failed: the profile's failed uploads since the earliest ``since`` asked for.
    :param list_pages: how many pages the listing took, when the round listed.
    :param requests: requests the round sent.
    :param started: epoch seconds when the round's first request went out.
    :param shared_by: how many polls the round answered.
    """

    files: dict[str, dle.DataLayerFile | None] = field(default_factory=dict)
    failed: list[dle.FailedUpload] = field(default_factory=list)
    list_pages: int | None = None
    requests: int = 0
    started: float = 0.0
    shared_by: int = 1


def _collect(
    reads: LandingReads, page: dle.DataLayerPage, wanted_ids: set[str], wanted: dle.FileType
) -> None:
    for item in page.files:
        if item.file_type is wanted and item.datalayer_id in wanted_ids:
            reads.files[item.datalayer_id] = item


def _wanted(file_type: dle.FileType | None) -> dle.FileType:
    return dle.FileType.JSON if file_type is dle.FileType.JSON else dle.FileType.JAVASCRIPT


def read_landing(
    hook: TealiumHook,
    ids: Collection[str],
    strategy: dle.PollStrategy,
    *,
    file_type: dle.FileType | None,
    account: str | None,
    profile: str | None,
    failed_since: datetime | None,
) -> LandingReads:
    """Read the metadata of ``ids`` (per id or from the listing) and, if asked, the failed uploads.

    :param hook: the sync hook.
    :param ids: the ids to read.
    :param strategy: per-id ``GET`` or the listing.
    :param file_type: the kind of file awaited.
    :param account: the account.
    :param profile: the profile.
    :param failed_since: read failed-uploads from this time; ``None`` skips that call.
    """
    reads = LandingReads(started=time.time())
    scope: dict[str, Any] = {"account": account, "profile": profile}
    if strategy is dle.PollStrategy.PER_ID:
        for datalayer_id in ids:
            reads.files[datalayer_id] = hook.get_datalayer_metadata(
                datalayer_id, file_type=file_type, **scope
            )
            reads.requests += 1
    else:
        wanted_ids, wanted, pages = set(ids), _wanted(file_type), 0
        for page in hook.iter_datalayer_pages(**scope):
            pages += 1
            _collect(reads, page, wanted_ids, wanted)
        reads.list_pages = pages
        reads.requests += pages
    if failed_since is not None:
        reads.failed = hook.get_failed_uploads(start=failed_since, **scope)
        reads.requests += 1
    return reads


async def aread_landing(
    hook: TealiumAsyncHook,
    ids: Collection[str],
    strategy: dle.PollStrategy,
    *,
    file_type: dle.FileType | None,
    account: str | None,
    profile: str | None,
    failed_since: datetime | None,
) -> LandingReads:
    """Async :func:`read_landing` (the same reads).

    :param hook: the async hook.
    :param ids: the ids to read.
    :param strategy: per-id ``GET`` or the listing.
    :param file_type: the kind of file awaited.
    :param account: the account.
    :param profile: the profile.
    :param failed_since: read failed-uploads from this time; ``None`` skips that call.
    """
    reads = LandingReads(started=time.time())
    scope: dict[str, Any] = {"account": account, "profile": profile}
    if strategy is dle.PollStrategy.PER_ID:
        for datalayer_id in ids:
            reads.files[datalayer_id] = await hook.aget_datalayer_metadata(
                datalayer_id, file_type=file_type, **scope
            )
            reads.requests += 1
    else:
        wanted_ids, wanted, pages = set(ids), _wanted(file_type), 0
        async for page in hook.aiter_datalayer_pages(**scope):
            pages += 1
            _collect(reads, page, wanted_ids, wanted)
        reads.list_pages = pages
        reads.requests += pages
    if failed_since is not None:
        reads.failed = await hook.aget_failed_uploads(start=failed_since, **scope)
        reads.requests += 1
    return reads


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
        self.last_reads = LandingReads()

    @property
    def failed_since(self) -> datetime | None:
        """Where failed-uploads are read from (``None``: they are not)."""
        return self.since if self.fail_fast else None

    def strategy(self) -> dle.PollStrategy:
        """Per-id or listing for the next poll."""
        return dle.choose_poll_strategy(len(self.pending), self.list_pages, self.per_id_threshold)

    def absorb(self, reads: LandingReads) -> dle.LandingCheck:
        """Judge the pending ids from one round's reads (which may cover other waits' ids too).

        :param reads: the reads.
        """
        # A shared round may have read failed-uploads for other waits: only a fail-fast wait looks at them
        # (and only at those after its own since, which check_landing filters).
        failed = reads.failed if self.fail_fast else []
        check = dle.check_landing(
            list(self.pending), reads.files, self.since, self.expected_sizes, failed, self.file_type
        )
        self.landed.update(check.landed)
        self.pending = check.pending
        self.last_reads = reads
        return check

    def _scope(self) -> dict[str, Any]:
        return {
            "file_type": self.file_type,
            "account": self.account,
            "profile": self.profile,
            "failed_since": self.failed_since,
        }

    def _remember(self, reads: LandingReads) -> LandingReads:
        if reads.list_pages is not None:
            self.list_pages = reads.list_pages
        return reads

    def poll(self, hook: TealiumHook) -> dle.LandingCheck:
        """One poll of this wait alone, with the sync hook (the sensor's poke).

        :param hook: the sync hook.
        """
        reads = read_landing(hook, list(self.pending), self.strategy(), **self._scope())
        return self.absorb(self._remember(reads))

    async def apoll(self, hook: TealiumAsyncHook) -> dle.LandingCheck:
        """One poll of this wait alone, with the async hook.

        :param hook: the async hook.
        """
        reads = await aread_landing(hook, list(self.pending), self.strategy(), **self._scope())
        return self.absorb(self._remember(reads))


class _Round:
    """The polls that asked within one window, and the task that answers them all."""

    def __init__(self) -> None:
        self.ids: dict[str, None] = {}
        self.failed_since: datetime | None = None
        self.per_id_threshold: int | None = None
        self.polls = 0
        self.task: asyncio.Task[LandingReads] | None = None

    def add(self, poller: LandingPoller) -> None:
        self.ids.update(dict.fromkeys(poller.pending))
        since = poller.failed_since
        if since is not None:
            self.failed_since = since if self.failed_since is None else min(self.failed_since, since)
        threshold = poller.per_id_threshold
        self.per_id_threshold = (
            threshold if self.per_id_threshold is None else min(self.per_id_threshold, threshold)
        )
        self.polls += 1


def _retrieve(task: asyncio.Task[LandingReads]) -> None:
    # Every waiter may have gone (cancelled) before the round ended: consume its outcome so asyncio
    # does not log "exception was never retrieved".
    if not task.cancelled():
        task.exception()


class SharedLandingReads:
    """The reads of every wait in one event loop on the same connection, profile and file kind, shared.

    A poll joins the round that is open, or opens one; a round closes ``window`` seconds after it
    opened and then reads once for all its polls: per-id ``GET`` or the listing for the union of their
    pending ids (whichever is cheaper, as for one wait) and one failed-uploads call from the earliest
    ``since``. Each poll then judges its own ids (and its own ``since``) from those reads. The data a
    poll gets is never older than the moment it asked; a trigger asks ``window`` seconds early, so its
    reads stay at most one poll interval apart.

    Use :func:`shared_landing_reads`, which creates, joins and closes these.

    :param hook: a hook of its own (it outlives any one trigger), with settings already read.
    :param window: seconds a round stays open.
    """

    def __init__(
        self,
        hook: TealiumAsyncHook,
        window: float,
        file_type: dle.FileType | None,
        account: str | None,
        profile: str | None,
    ) -> None:
        self.hook = hook
        self.window = window
        self.file_type = file_type
        self.account = account
        self.profile = profile
        self.members = 0
        self.list_pages: int | None = None
        self._open: _Round | None = None
        self._running: set[asyncio.Task[LandingReads]] = set()

    async def read(self, poller: LandingPoller) -> LandingReads:
        """Reads covering ``poller``'s pending ids, made at or after this call.

        :param poller: the wait asking.
        """
        batch = self._open
        if batch is None:
            batch = self._open = _Round()
            batch.task = asyncio.get_running_loop().create_task(self._answer(batch))
            self._running.add(batch.task)
            batch.task.add_done_callback(self._running.discard)
            batch.task.add_done_callback(_retrieve)
        batch.add(poller)
        assert batch.task is not None
        # shield: one trigger cancelled must not cancel the round the others wait for.
        return await asyncio.shield(batch.task)

    async def _answer(self, batch: _Round) -> LandingReads:
        await asyncio.sleep(self.window)
        self._open = None  # polls from now on go to the next round
        strategy = dle.choose_poll_strategy(len(batch.ids), self.list_pages, batch.per_id_threshold or 0)
        reads = await aread_landing(
            self.hook,
            list(batch.ids),
            strategy,
            file_type=self.file_type,
            account=self.account,
            profile=self.profile,
            failed_since=batch.failed_since,
        )
        if reads.list_pages is not None:
            self.list_pages = reads.list_pages
        reads.shared_by = batch.polls
        return reads

    async def aclose(self) -> None:
        """Cancel the rounds nobody waits for any more, then release the hook.

        A round still in flight would otherwise go on using the hook after its client was released.
        """
        self._open = None
        running = list(self._running)
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        await self.hook.aclose()


_SHARED: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Hashable, SharedLandingReads]] = (
    weakref.WeakKeyDictionary()
)


@asynccontextmanager
async def shared_landing_reads(
    hook: TealiumAsyncHook, poller: LandingPoller, window: float, key: Hashable
) -> AsyncIterator[SharedLandingReads]:
    """Join this event loop's shared reads for ``key`` (creating them), leave on exit (the last closes them).

    :param hook: the joining trigger's hook; its settings (already read) seed the shared hook, which
        therefore never looks the connection up.
    :param poller: the joining wait (its file kind, account and profile).
    :param window: seconds a round stays open (the first member's value wins).
    :param key: what must be equal for waits to share reads: connection, hook settings, account,
        profile, file kind.
    """
    config = await hook.aconfig()
    groups = _SHARED.setdefault(asyncio.get_running_loop(), {})
    shared = groups.get(key)
    if shared is None:
        own = TealiumAsyncHook(hook.tealium_conn_id, config=config, token_cache=hook.token_cache)
        shared = groups[key] = SharedLandingReads(
            own, window, poller.file_type, poller.account, poller.profile
        )
    shared.members += 1
    try:
        yield shared
    finally:
        shared.members -= 1
        if shared.members == 0:
            if groups.get(key) is shared:
                del groups[key]
            await shared.aclose()
