"""Trigger that waits, in the triggerer, for a revision newer than a baseline."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_tealium.api import revisions as rev
from airflow_provider_tealium.api.config import DEFAULT_CONN_ID
from airflow_provider_tealium.exceptions import TealiumError
from airflow_provider_tealium.hooks.tealium_async import TealiumAsyncHook


class TealiumRevisionTrigger(BaseTrigger):
    """Poll the revision list until a revision newer than ``baseline`` matches, or ``end_time`` passes.

    Each poll is one list call plus a details call for each id not seen before that is newer than the
    baseline. Yields one event: ``{"status": "success", "revision": {...details...}}``,
    ``{"status": "timeout", "message": ...}`` or ``{"status": "error", "message": ...}``.

    :param baseline: a revision id, an ISO 8601 time, or ``">="`` and an ISO time (that second included), as
        :meth:`~airflow_provider_tealium.api.revisions.Baseline.to_string` writes it (see
        :func:`~airflow_provider_tealium.api.revisions.parse_baseline`).
    :param end_time: epoch seconds after which the wait times out.
    :param poll_interval: seconds between polls.
    :param target: an environment the revision must have been published to.
    :param match: a regular expression the revision's name or comment must match.
    :param account: the account (default: the connection's).
    :param profile: the profile (default: the connection's).
    :param revisions_api: ``"v1"`` or ``"v2"`` (default: the connection's, else v1).
    :param tealium_conn_id: the ``tealium`` connection.
    """

    def __init__(
        self,
        *,
        baseline: str,
        end_time: float,
        poll_interval: float = 60.0,
        target: str | None = None,
        match: str | None = None,
        account: str | None = None,
        profile: str | None = None,
        revisions_api: str | None = None,
        tealium_conn_id: str = DEFAULT_CONN_ID,
    ) -> None:
        super().__init__()
        self.baseline = baseline
        self.end_time = float(end_time)
        self.poll_interval = float(poll_interval)
        self.target = target
        self.match = match
        self.account = account
        self.profile = profile
        self.revisions_api = revisions_api
        self.tealium_conn_id = tealium_conn_id

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """The classpath and JSON-serialisable kwargs (no secrets: the hook reads the connection)."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "baseline": self.baseline,
                "end_time": self.end_time,
                "poll_interval": self.poll_interval,
                "target": self.target,
                "match": self.match,
                "account": self.account,
                "profile": self.profile,
                "revisions_api": self.revisions_api,
                "tealium_conn_id": self.tealium_conn_id,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Poll until a matching revision appears, the deadline passes or an error; one event.

        The wait returns before the event is yielded, so the hook is released in this event loop, not
        by the garbage collector when a runner stops iterating after the event (``dag.test()`` does).
        """
        yield TriggerEvent(await self._wait())

    async def _wait(self) -> dict[str, Any]:
        seen: set[str] = set()
        try:
            baseline = rev.parse_baseline(self.baseline)
            async with TealiumAsyncHook(self.tealium_conn_id) as hook:
                while True:
                    ids = await hook.alist_revision_ids(
                        self.account, self.profile, revisions_api=self.revisions_api
                    )
                    for revision_id in rev.new_revision_ids(ids, baseline, seen):
                        details = await hook.aget_revision(
                            revision_id, self.account, self.profile, revisions_api=self.revisions_api
                        )
                        seen.add(revision_id)
                        if details.matches(self.target, self.match):
                            return {"status": "success", "revision": details.to_dict()}
                    remaining = self.end_time - time.time()
                    if remaining <= 0:
                        return {
                            "status": "timeout",
                            "message": f"no matching revision {baseline.describe()} appeared in time",
                        }
                    self.log.info(
                        "No matching revision %s yet; next poll in %.0f s",
                        baseline.describe(),
                        self.poll_interval,
                    )
                    await asyncio.sleep(min(self.poll_interval, remaining))
        except TealiumError as exc:
            return {"status": "error", "message": str(exc)}
