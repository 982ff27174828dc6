"""Data-layer triggers in one event loop share their reads (``SharedLandingReads``), against the emulator:
fewer requests, each wait still judged on its own ids and ``since``, cancellation-safe, cleaned up."""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

import pendulum
import pytest

from airflow_provider_tealium.hooks import tealium_async as tealium_hooks
from airflow_provider_tealium.hooks.tealium import TealiumHook
from airflow_provider_tealium.testing.emulator import TealiumEmulator
from airflow_provider_tealium.testing.emulator.datalayers.backend import store
from airflow_provider_tealium.triggers import landing
from airflow_provider_tealium.triggers.datalayers import TealiumDataLayerTrigger


def now_iso() -> str:
    return pendulum.now("UTC").isoformat()


def dle_requests(emulator: TealiumEmulator) -> int:
    calls = emulator.state.stats()["calls"]
    return sum(n for k, n in calls.items() if k.startswith("GET /v2/dle/"))


def trigger(ids: list[str], since: str | None, **kwargs: Any) -> TealiumDataLayerTrigger:
    params: dict[str, Any] = {
        "deadline": time.time() + 20,
        "poll_interval": 1.0,
        "batch_window": 0.25,
        "hook_params": {"backoff_base": 0.01},
        **kwargs,
    }
    return TealiumDataLayerTrigger(datalayer_ids=ids, since=since, **params)


async def run_trigger(trig: TealiumDataLayerTrigger) -> list[dict[str, Any]]:
    return [event.payload async for event in trig.run()]


async def wait_then_land(
    emulator: TealiumEmulator, triggers: list[TealiumDataLayerTrigger], ids: list[str]
) -> list[list[dict[str, Any]]]:
    tasks = [asyncio.create_task(run_trigger(t)) for t in triggers]
    await asyncio.sleep(1.5)  # every wait has polled at least twice; nothing is there yet
    assert not any(task.done() for task in tasks)
    store(emulator.state).seed_files("demo", "main", ids)
    return await asyncio.wait_for(asyncio.gather(*tasks), timeout=10)


@pytest.mark.parametrize(("window", "at_least", "at_most"), [(0.25, 4, 10), (0, 160, 400)])
async def test_waits_in_one_event_loop_share_their_reads(
    tealium_connection: TealiumEmulator,
    monkeypatch: pytest.MonkeyPatch,
    window: float,
    at_least: int,
    at_most: int,
) -> None:
    lookups: list[str] = []
    original = tealium_hooks.aget_connection

    async def counting(conn_id: str) -> Any:
        lookups.append(conn_id)
        return await original(conn_id)

    monkeypatch.setattr(tealium_hooks, "aget_connection", counting)
    since = now_iso()
    ids = [f"s{i:02d}" for i in range(40)]
    results = await wait_then_land(
        tealium_connection, [trigger([i], since, batch_window=window) for i in ids], ids
    )
    for datalayer_id, events in zip(ids, results, strict=True):
        assert [e["status"] for e in events] == ["success"]
        assert list(events[0]["landed"]) == [datalayer_id]
    # Alone, each of 40 waits sends a metadata GET and a failed-uploads GET per poll (at least 2 polls
    # each); shared, each round sends one listing and one failed-uploads call for all of them.
    assert at_least <= dle_requests(tealium_connection) <= at_most
    assert len(lookups) == 40, "the shared reads must reuse the waits' settings, not look the connection up"
    assert not landing._SHARED.get(asyncio.get_running_loop()), "the last wait out closes the shared reads"
    assert asyncio.get_running_loop() not in tealium_hooks._SHARED_CLIENTS, "the HTTP client is released"


async def test_each_wait_judges_its_own_ids_and_since(tealium_connection: TealiumEmulator) -> None:
    store(tealium_connection.state).configure(landing_delay=0, fail_ids=["broken"])
    early = pendulum.now("UTC").subtract(minutes=5).isoformat()
    hook = TealiumHook(backoff_base=0.01)
    hook.upload_datalayer("broken", {"id": "broken"})
    hook.upload_datalayer("fine", {"id": "fine"})
    late = pendulum.now("UTC").add(seconds=2).isoformat()
    results = await asyncio.gather(
        run_trigger(trigger(["broken"], early)),
        run_trigger(trigger(["fine"], early)),
        # The failure happened before this wait's since: it is not this wait's failure.
        run_trigger(trigger(["broken"], late, deadline=time.time() + 1.5)),
        # These two do not fail fast, although their round reads failed-uploads for the first one.
        run_trigger(trigger(["broken"], early, deadline=time.time() + 1.5, fail_on_failed_uploads=False)),
        run_trigger(trigger(["broken"], None, deadline=time.time() + 1.5)),
    )
    assert [e["status"] for e in results[0]] == ["error"] and list(results[0][0]["failed"]) == ["broken"]
    assert [e["status"] for e in results[1]] == ["success"]
    assert [[e["status"] for e in r] for r in results[2:]] == [["timeout"]] * 3


async def test_a_cancelled_wait_does_not_cancel_the_round_of_the_others(
    tealium_connection: TealiumEmulator,
) -> None:
    since = now_iso()
    ids = ["c0", "c1", "c2"]
    tasks = [asyncio.create_task(run_trigger(trigger([i], since))) for i in ids]
    await asyncio.sleep(0.1)  # all three are inside the first round's window
    tasks[0].cancel()
    store(tealium_connection.state).seed_files("demo", "main", ids)
    results = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout=10)
    assert isinstance(results[0], asyncio.CancelledError)
    assert [e["status"] for e in results[1]] == ["success"]  # type: ignore[index]
    assert [e["status"] for e in results[2]] == ["success"]  # type: ignore[index]
    assert not landing._SHARED.get(asyncio.get_running_loop())


async def test_reads_stay_one_poll_interval_apart(
    tealium_connection: TealiumEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    starts: list[float] = []
    original = landing.aread_landing

    async def recording(*args: Any, **kwargs: Any) -> landing.LandingReads:
        reads = await original(*args, **kwargs)
        starts.append(reads.started)
        return reads

    monkeypatch.setattr(landing, "aread_landing", recording)
    events = await run_trigger(trigger(["never"], now_iso(), deadline=time.time() + 4.2, batch_window=0.4))
    assert [e["status"] for e in events] == ["timeout"]
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert len(gaps) >= 3
    # The trigger asks one window early, so the open window does not stretch its interval.
    assert all(0.6 <= gap <= 1.1 for gap in gaps), gaps


def test_the_window_is_at_most_a_quarter_of_the_poll_interval() -> None:
    assert trigger(["a"], None, poll_interval=2, batch_window=None).batch_window == 0.5
    assert trigger(["a"], None, poll_interval=30, batch_window=None).batch_window == 1.0
    assert trigger(["a"], None, batch_window=-1).batch_window == 0
    _, kwargs = trigger(["a"], None, poll_interval=30, batch_window=2).serialize()
    assert kwargs["batch_window"] == 2.0


async def test_the_last_wait_cancelled_mid_request_releases_everything(
    tealium_connection: TealiumEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    ended: list[str] = []

    def record(task: asyncio.Task[Any]) -> None:
        ended.append("cancelled" if task.cancelled() else repr(task.exception()))

    monkeypatch.setattr(landing, "_retrieve", record)
    tealium_connection.faults.add(method="GET", path="/v2/dle/*", latency=1.0)
    task = asyncio.create_task(run_trigger(trigger(["slow"], now_iso(), batch_window=0.05)))
    await asyncio.sleep(0.4)  # the round has closed its window and waits for the slow answer
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # The round in flight is cancelled with its last waiter, not left to fail on a released client.
    assert ended == ["cancelled"]
    assert asyncio.all_tasks() == {asyncio.current_task()}
    loop = asyncio.get_running_loop()
    assert not landing._SHARED.get(loop)
    assert loop not in tealium_hooks._SHARED_CLIENTS, "a round left in flight would keep the client open"


async def test_everything_is_released_before_the_event_is_yielded(
    tealium_connection: TealiumEmulator,
) -> None:
    # dag.test() stops iterating after the event: anything still open would be closed by the garbage
    # collector, outside the event loop.
    store(tealium_connection.state).seed_files("demo", "main", ["here"])
    events = trigger(["here"], None).run()
    event = await events.__anext__()
    assert event.payload["status"] == "success"
    loop = asyncio.get_running_loop()
    assert not landing._SHARED.get(loop)
    assert loop not in tealium_hooks._SHARED_CLIENTS
    await events.aclose()
