"""The trigger that waits for a publish to reach every target, polling with the async hook."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_tealium.api.config import DEFAULT_CONN_ID
from airflow_provider_tealium.exceptions import TealiumError
from airflow_provider_tealium.hooks.tealium_async import TealiumAsyncHook


class TealiumPublishTrigger(BaseTrigger):
    """Polls a publish's status until every target is ``published`` (success), one is ``stopped``
    (error), or ``end_time`` passes (timeout). Yields exactly one event.

    :param publish_id: the publish.
    :param account: the account.
    :param profile: the profile.
    :param targets: the targets published.
    :param end_time: epoch seconds after which it gives up.
    :param poll_interval: seconds between polls (at least 1: Tealium answers 429 to faster polling).
    :param tealium_conn_id: the ``tealium`` connection.
    :param version_id: the version published (echoed in the event).
    :param requested_at: when the publish was requested, ISO 8601 UTC (echoed in the event).
    :param retry: retry overrides for the hook (``max_retries``, ``backoff_base``, ``backoff_max``, ``timeout``).
    """

    def __init__(
        self,
        *,
        publish_id: str,
        account: str,
        profile: str,
        targets: list[str],
        end_time: float,
        poll_interval: float = 5.0,
        tealium_conn_id: str = DEFAULT_CONN_ID,
        version_id: str | None = None,
        requested_at: str | None = None,
        retry: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.publish_id = publish_id
        self.account = account
        self.profile = profile
        self.targets = list(targets)
        self.end_time = end_time
        self.poll_interval = max(float(poll_interval), 1.0)
        self.tealium_conn_id = tealium_conn_id
        self.version_id = version_id
        self.requested_at = requested_at
        self.retry = dict(retry or {})

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Class path and JSON-serialisable kwargs (ids and numbers only, never credentials)."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "publish_id": self.publish_id,
                "account": self.account,
                "profile": self.profile,
                "targets": self.targets,
                "end_time": self.end_time,
                "poll_interval": self.poll_interval,
                "tealium_conn_id": self.tealium_conn_id,
                "version_id": self.version_id,
                "requested_at": self.requested_at,
                "retry": self.retry,
            },
        )

    def _event(
        self, status: str, message: str, state: dict[str, Any] | None = None, reason: str | None = None
    ) -> TriggerEvent:
        return TriggerEvent(
            {
                "status": status,
                "reason": reason or status,
                "message": message,
                "publish_id": self.publish_id,
                "account": self.account,
                "profile": self.profile,
                "version_id": self.version_id,
                "requested_at": self.requested_at,
                "targets": self.targets,
                "target_states": (state or {}).get("targets", {}),
            }
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Poll until done, stopped, failed or timed out.

        Every provider error ends in an ``error`` event, an answer it cannot read included
        (:class:`~airflow_provider_tealium.exceptions.TealiumUnexpectedAnswerError`). The wait returns
        before the event is yielded, so the hook is released in this event loop, not by the garbage
        collector when a runner stops iterating after the event (``dag.test()`` does).
        """
        yield await self._wait()

    async def _wait(self) -> TriggerEvent:
        try:
            async with TealiumAsyncHook(
                self.tealium_conn_id, account=self.account, profile=self.profile, **self.retry
            ) as hook:
                while True:
                    status = await hook.aget_publish_status(
                        self.publish_id, self.account, self.profile, self.targets
                    )
                    if status.stopped:
                        return self._event(
                            "error",
                            f"Publish {self.publish_id} stopped for {', '.join(status.stopped)} ({status.summary()})",
                            status.to_dict(),
                            reason="stopped",
                        )
                    if status.done:
                        return self._event(
                            "success", f"Publish {self.publish_id}: {status.summary()}", status.to_dict()
                        )
                    if time.time() + self.poll_interval > self.end_time:
                        return self._event(
                            "timeout",
                            f"Publish {self.publish_id} not finished before the deadline ({status.summary()})",
                            status.to_dict(),
                        )
                    self.log.info("Publish %s: %s", self.publish_id, status.summary())
                    await asyncio.sleep(self.poll_interval)
        except TealiumError as exc:
            return self._event("error", str(exc))
