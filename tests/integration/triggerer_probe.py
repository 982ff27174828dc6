"""Run the provider's triggers together the way Airflow 3.3's triggerer does, and report what happened.

Run as a script (``python -m tests.integration.triggerer_probe``) by ``test_triggerer_event_loop.py``,
in a process of its own: a deadlocked event loop cannot be recovered, and would poison the test process.

The triggerer gives triggers a supervisor channel (``task_runner.SUPERVISOR_COMMS``). On Airflow 3.3 its
sync ``send``, called on the event loop's thread, re-enters the loop with ``greenback`` and runs *other*
coroutines until the supervisor answers; :class:`GreenbackComms` behaves the same way (its logic is that
of ``TriggerCommsDecoder.send`` in 3.3's ``airflow/jobs/triggerer_job_runner.py``), and every trigger runs
inside ``greenback.ensure_portal()``, as ``TriggerRunner.run_trigger`` does. Airflow 3.0 has no greenback:
its ``send`` is ``async_to_sync(asend)``, which refuses to run on the loop's thread and works from a
worker thread; :class:`AsgirefComms` is that one. Each Airflow version gets its own triggerer's channel.

Input (environment): ``PROBE_CONNECTIONS``, a JSON list of Airflow connection JSON strings, one per
trigger trio. Output (stdout, last line): JSON with the events, the longest stall of the loop, the modules
imported on the loop's thread while the triggers ran, and the channel messages sent.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
import time
from typing import Any

try:
    import greenback
except ImportError:  # Airflow 3.0's triggerer does not use it
    greenback = None

from airflow_provider_tealium.triggers.datalayers import TealiumDataLayerTrigger
from airflow_provider_tealium.triggers.publish import TealiumPublishTrigger
from airflow_provider_tealium.triggers.revisions import TealiumRevisionTrigger

# How long the supervisor takes to answer one message: long enough that other coroutines run meanwhile.
ANSWER_DELAY = 0.05


class GreenbackComms:
    """A supervisor channel with the 3.3 triggerer's semantics (answers every message with nothing)."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.loop_thread: int | None = None
        self.sent: list[str] = []

    def send(self, msg: Any) -> Any:
        assert self.loop is not None
        if threading.get_ident() == self.loop_thread:
            return greenback.await_(self.asend(msg))
        return asyncio.run_coroutine_threadsafe(self.asend(msg), self.loop).result()

    async def asend(self, msg: Any) -> Any:
        self.sent.append(type(msg).__name__)
        await asyncio.sleep(ANSWER_DELAY)
        return None


class AsgirefComms(GreenbackComms):
    """Airflow 3.0's triggerer channel: ``send`` is ``async_to_sync(asend)``."""

    def send(self, msg: Any) -> Any:
        from asgiref.sync import async_to_sync

        return async_to_sync(self.asend)(msg)


def _triggers(conn_ids: list[str]) -> list[Any]:
    soon = time.time() + 2.0
    triggers: list[Any] = []
    for conn_id in conn_ids:
        triggers += [
            TealiumPublishTrigger(
                publish_id="p-probe",
                account="demo",
                profile="main",
                targets=["dev"],
                end_time=soon,
                poll_interval=1,
                tealium_conn_id=conn_id,
            ),
            TealiumRevisionTrigger(
                baseline="2099-01-01T00:00:00+00:00", end_time=soon, poll_interval=1, tealium_conn_id=conn_id
            ),
            TealiumDataLayerTrigger(
                datalayer_ids=["probe"], since=None, deadline=soon, poll_interval=1, tealium_conn_id=conn_id
            ),
        ]
    return triggers


async def _run_trigger(trigger: Any) -> dict[str, Any]:
    if greenback is not None:
        await greenback.ensure_portal()
    async for event in trigger.run():
        return {"trigger": type(trigger).__name__, "status": event.payload.get("status")}
    return {"trigger": type(trigger).__name__, "status": None}


async def _watch_stalls(stop: asyncio.Event, worst: list[float]) -> None:
    """Record the longest gaps between two ticks of the loop: ``worst[0]`` by the wall clock, ``worst[1]``
    by the CPU the loop's thread used meanwhile (robust to a busy machine, which stretches wall time)."""
    tick = 0.02
    while not stop.is_set():
        started, cpu = time.monotonic(), time.thread_time()
        await asyncio.sleep(tick)
        worst[0] = max(worst[0], time.monotonic() - started - tick)
        worst[1] = max(worst[1], time.thread_time() - cpu)


async def main(comms: GreenbackComms, conn_ids: list[str]) -> dict[str, Any]:
    comms.loop = asyncio.get_running_loop()
    comms.loop_thread = threading.get_ident()
    triggers = _triggers(conn_ids)
    imported: list[str] = []

    def on_import(event: str, args: tuple[Any, ...]) -> None:
        # Only what runs on the loop's thread counts: Airflow 3.0 looks connections up in a worker
        # thread, and what that thread imports is Airflow's business and blocks nothing.
        if event == "import" and threading.get_ident() == comms.loop_thread and args[0] not in sys.modules:
            imported.append(args[0])

    sys.addaudithook(on_import)
    stop, worst = asyncio.Event(), [0.0, 0.0]
    watcher = asyncio.create_task(_watch_stalls(stop, worst))
    events = await asyncio.gather(*(_run_trigger(t) for t in triggers))
    stop.set()
    await watcher
    return {
        "events": events,
        "worst_stall": worst[0],
        "worst_cpu_stall": worst[1],
        "imported": sorted(set(imported)),
        "sent": comms.sent,
    }


def run() -> None:
    from airflow.sdk.execution_time import task_runner

    connections = json.loads(os.environ["PROBE_CONNECTIONS"])
    conn_ids = []
    for i, conn_json in enumerate(connections):
        conn_id = f"probe_{i}"
        os.environ[f"AIRFLOW_CONN_{conn_id.upper()}"] = conn_json
        conn_ids.append(conn_id)
    comms = GreenbackComms() if greenback is not None else AsgirefComms()
    task_runner.SUPERVISOR_COMMS = comms  # type: ignore[assignment]
    result = asyncio.run(main(comms, conn_ids))
    print(json.dumps(result))


if __name__ == "__main__":
    run()
