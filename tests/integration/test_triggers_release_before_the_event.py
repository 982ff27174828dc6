"""Every trigger releases its HTTP client before it yields its event.

A runner may stop iterating after the one event (``dag.test()`` does): anything still open would then be
closed by the garbage collector, outside the event loop.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest
from airflow.triggers.base import BaseTrigger

from airflow_provider_tealium.hooks import tealium_async as tealium_hooks
from airflow_provider_tealium.testing.emulator import TealiumEmulator
from airflow_provider_tealium.triggers.datalayers import TealiumDataLayerTrigger
from airflow_provider_tealium.triggers.publish import TealiumPublishTrigger
from airflow_provider_tealium.triggers.revisions import TealiumRevisionTrigger

PAST = 0.0  # a deadline already gone: each trigger polls once and ends


def datalayer() -> BaseTrigger:
    return TealiumDataLayerTrigger(datalayer_ids=["absent"], since=None, deadline=PAST, poll_interval=1)


def publish() -> BaseTrigger:
    return TealiumPublishTrigger(
        publish_id="p-unknown",
        account="demo",
        profile="main",
        targets=["dev"],
        end_time=PAST,
        poll_interval=1,
    )


def revision() -> BaseTrigger:
    return TealiumRevisionTrigger(baseline="2099-01-01T00:00:00+00:00", end_time=PAST, poll_interval=1)


@pytest.mark.parametrize("make", [datalayer, publish, revision], ids=lambda f: f.__name__)
async def test_the_client_is_released_before_the_event(
    tealium_connection: TealiumEmulator, make: Callable[[], BaseTrigger]
) -> None:
    # A publish still in progress, so the publish trigger ends by its deadline, inside its hook's block.
    tealium_connection.faults.add(
        method="GET", path="/v3/tiq/*/publish/*", status=200, body={"publishTargetState": "processing"}
    )
    started = time.monotonic()
    events = make().run()
    event = await events.__anext__()
    assert event.payload["status"] == "timeout", event.payload
    assert time.monotonic() - started < 10
    assert asyncio.get_running_loop() not in tealium_hooks._SHARED_CLIENTS
    await events.aclose()
