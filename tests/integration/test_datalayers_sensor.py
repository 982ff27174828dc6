"""TealiumDataLayerSensor (sync pokes) and TealiumDataLayerTrigger (run directly with asyncio) against the emulator."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pendulum
import pytest

from airflow_provider_tealium._compat import AirflowFailException, AirflowSensorTimeout, TaskDeferred
from airflow_provider_tealium.exceptions import TealiumError, TealiumValidationError
from airflow_provider_tealium.hooks.tealium import TealiumHook
from airflow_provider_tealium.sensors.datalayers import TealiumDataLayerSensor
from airflow_provider_tealium.testing.emulator import TealiumEmulator
from airflow_provider_tealium.testing.emulator.datalayers.backend import store
from airflow_provider_tealium.triggers.datalayers import TealiumDataLayerTrigger

FAST: dict[str, Any] = {"max_retries": 2, "backoff_base": 0.01}


class FakeTI:
    def __init__(self, pulled: Any = None, by_task: dict[str, Any] | None = None) -> None:
        self.pulled = pulled
        self.by_task = by_task

    def xcom_pull(self, task_ids: str, key: str = "return_value") -> Any:
        return self.by_task.get(task_ids) if self.by_task is not None else self.pulled


def context(pulled: Any = None) -> dict[str, Any]:
    return {"ti": FakeTI(pulled)}


def now_iso() -> str:
    return pendulum.now("UTC").isoformat()


def upload(ids: list[str], **kwargs: Any) -> None:
    hook = TealiumHook(backoff_base=0.01)
    for datalayer_id in ids:
        hook.upload_datalayer(datalayer_id, {"id": datalayer_id}, **kwargs)


def sensor(**kwargs: Any) -> TealiumDataLayerSensor:
    defaults: dict[str, Any] = {"task_id": "wait", "poke_interval": 0.1, "timeout": 5, **FAST}
    defaults.update(kwargs)
    return TealiumDataLayerSensor(**defaults)


def dle_gets(emulator: TealiumEmulator) -> dict[str, int]:
    calls = emulator.state.stats()["calls"]
    return {
        "item": sum(n for k, n in calls.items() if k.startswith("GET /v2/dle/") and "/datalayers/" in k),
        "list": sum(
            n for k, n in calls.items() if k.startswith("GET /v2/dle/") and k.endswith("/datalayers")
        ),
        "failed": sum(
            n for k, n in calls.items() if k.startswith("GET /v2/dle/") and k.endswith("/failed-uploads")
        ),
    }


# -- sync -------------------------------------------------------------------------------------------------


def test_sync_success_waits_for_the_landing_delay(tealium_connection: TealiumEmulator) -> None:
    store(tealium_connection.state).configure(landing_delay=0.4)
    since = now_iso()
    upload(["a", "b", "c"])
    started = time.monotonic()
    result = sensor(datalayer_ids=["a", "b", "c"], since=since).execute(context())
    assert time.monotonic() - started >= 0.3
    assert result == {"landed": ["a", "b", "c"]}
    assert dle_gets(tealium_connection)["failed"] >= 2  # fail-fast checked on every poll


def test_sync_defaults_from_the_upload_result(tealium_connection: TealiumEmulator) -> None:
    store(tealium_connection.state).configure(landing_delay=0.1)
    previous = {
        "account": "demo",
        "profile": "other",
        "file_type": "json",
        "landed": ["x1", "x2"],
        "failed": {},
        "started_at": now_iso(),
    }
    upload(["x1", "x2"], profile="other", file_type="json")
    op = sensor(upload_task_id="upload")
    assert op.execute(context(previous)) == {"landed": ["x1", "x2"]}
    assert (op.profile, op.file_type, op.since) == ("other", "json", previous["started_at"])


def test_sync_merges_an_upload_and_its_rerun(tealium_connection: TealiumEmulator) -> None:
    store(tealium_connection.state).configure(landing_delay=0.1)
    first_start = pendulum.now("UTC").subtract(seconds=30).isoformat()
    results = {
        "upload": {"landed": ["r1", "r2"], "failed": {"r3": "HTTP 500"}, "started_at": first_start},
        "resend": {"landed": ["r3"], "failed": {}, "started_at": now_iso()},
        "skipped": None,
    }
    upload(["r1", "r2", "r3"])
    op = sensor(upload_task_id=["upload", "resend", "skipped"])
    assert op.execute({"ti": FakeTI(by_task=results)}) == {"landed": ["r1", "r2", "r3"]}
    assert op.datalayer_ids == ["r1", "r2", "r3"]
    assert pendulum.parse(op.since) == pendulum.parse(first_start)


def test_sync_timeout(tealium_connection: TealiumEmulator) -> None:
    with pytest.raises(AirflowSensorTimeout):
        sensor(datalayer_ids="never", since=now_iso(), timeout=0.4).execute(context())


def test_old_file_or_wrong_size_does_not_count(tealium_connection: TealiumEmulator) -> None:
    store(tealium_connection.state).configure(landing_delay=0)
    upload(["old"])
    future = pendulum.now("UTC").add(hours=1).isoformat()
    with pytest.raises(AirflowSensorTimeout):
        sensor(datalayer_ids="old", since=future, timeout=0.3).execute(context())
    with pytest.raises(AirflowSensorTimeout):
        sensor(datalayer_ids="old", expected_size=999, timeout=0.3).execute(context())
    size = len(b'{"id":"old"}')
    assert sensor(datalayer_ids="old", expected_size={"old": size}).execute(context()) == {"landed": ["old"]}


def test_sync_fails_fast_naming_failed_ids(tealium_connection: TealiumEmulator) -> None:
    store(tealium_connection.state).configure(landing_delay=0.05, fail_ids=["bad-2", "bad-5"])
    since = now_iso()
    upload(["ok-1", "bad-2", "bad-5"])
    started = time.monotonic()
    with pytest.raises(AirflowFailException) as info:
        sensor(datalayer_ids=["ok-1", "bad-2", "bad-5"], since=since, timeout=30).execute(context())
    assert time.monotonic() - started < 5
    assert "2 data layer upload(s) failed" in str(info.value)
    assert "bad-2 (" in str(info.value) and "bad-5 (" in str(info.value) and "ok-1" not in str(info.value)


def test_many_ids_use_the_listing(tealium_connection: TealiumEmulator) -> None:
    ids = [f"m{i:03d}" for i in range(40)]
    store(tealium_connection.state).seed_files("demo", "main", ids + [f"other{i}" for i in range(2100)])
    op = sensor(
        datalayer_ids=ids, since=pendulum.now("UTC").subtract(minutes=1).isoformat(), per_id_threshold=10
    )
    assert op.execute(context()) == {"landed": ids}
    # One poll: three listing pages instead of forty GETs.
    assert dle_gets(tealium_connection) == {"item": 0, "list": 3, "failed": 1}


def test_validation_errors(tealium_connection: TealiumEmulator) -> None:
    with pytest.raises(TealiumValidationError, match="datalayer_ids: must name at least one"):
        sensor().execute(context())
    with pytest.raises(TealiumValidationError, match="left no upload result"):
        sensor(upload_task_id="upload").execute(context(None))
    with pytest.raises(TealiumValidationError, match="file_type"):
        sensor(datalayer_ids="a", file_type="xml").execute(context())


# -- deferrable -------------------------------------------------------------------------------------------


def test_deferrable_sensor_defers_with_serialisable_kwargs(tealium_connection: TealiumEmulator) -> None:
    op = sensor(datalayer_ids=["a", "b"], since="2026-01-01T00:00:00+00:00", expected_size=5, deferrable=True)
    with pytest.raises(TaskDeferred) as info:
        op.execute(context())
    trigger = info.value.trigger
    assert isinstance(trigger, TealiumDataLayerTrigger)
    assert info.value.method_name == "execute_complete"
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_provider_tealium.triggers.datalayers.TealiumDataLayerTrigger"
    text = json.dumps(kwargs)
    assert kwargs["expected_sizes"] == {"a": 5, "b": 5}
    assert kwargs["deadline"] > time.time() + 3
    assert tealium_connection.api_key not in text
    assert TealiumDataLayerTrigger(**json.loads(text)).serialize() == (classpath, kwargs)


def test_execute_complete_maps_events() -> None:
    op = sensor(datalayer_ids="a")
    assert op.execute_complete(context(), {"status": "success", "landed": {"b": {}, "a": {}}}) == {
        "landed": ["a", "b"]
    }
    with pytest.raises(AirflowSensorTimeout, match="1 of 2"):
        op.execute_complete(
            context(), {"status": "timeout", "message": "1 of 2 data layer(s) had not landed"}
        )
    with pytest.raises(AirflowFailException, match="bad-1"):
        op.execute_complete(
            context(), {"status": "error", "message": "failed: bad-1", "failed": {"bad-1": "x"}}
        )
    with pytest.raises(TealiumError, match="HTTP 500"):
        op.execute_complete(context(), {"status": "error", "message": "GET ... HTTP 500", "failed": {}})


async def run_trigger(trigger: TealiumDataLayerTrigger) -> list[dict[str, Any]]:
    return [event.payload async for event in trigger.run()]


def trigger(ids: list[str], since: str | None, timeout: float = 5, **kwargs: Any) -> TealiumDataLayerTrigger:
    return TealiumDataLayerTrigger(
        datalayer_ids=ids,
        since=since,
        deadline=time.time() + timeout,
        poll_interval=0.1,
        hook_params={"backoff_base": 0.01},
        **kwargs,
    )


async def test_trigger_success_polls_many_ids_in_bounded_requests(
    tealium_connection: TealiumEmulator,
) -> None:
    since = now_iso()
    ids = [f"t{i}" for i in range(30)]
    waiting = asyncio.create_task(run_trigger(trigger(ids, since, per_id_threshold=10)))
    await asyncio.sleep(0.35)  # a few polls with nothing there yet
    # All at once: files landing one by one could leave a tail of <= 10 ids, read per id (by design).
    store(tealium_connection.state).seed_files("demo", "main", ids)
    events = await waiting
    assert len(events) == 1 and events[0]["status"] == "success"
    assert sorted(events[0]["landed"]) == sorted(ids)
    assert events[0]["landed"]["t3"]["file"] == "dle/demo/main/t3.js"
    json.dumps(events[0])
    gets = dle_gets(tealium_connection)
    # Every poll read the listing (one page), never thirty GETs.
    assert gets["item"] == 0 and gets["list"] == gets["failed"] >= 2


async def test_trigger_timeout_names_pending_ids(tealium_connection: TealiumEmulator) -> None:
    store(tealium_connection.state).configure(landing_delay=0)
    upload(["here"])
    events = await run_trigger(trigger(["here", "missing"], now_iso(), timeout=0.3))
    assert [e["status"] for e in events] == ["timeout"]
    assert events[0]["pending"] == {"missing": "not found yet"}
    assert events[0]["message"] == "1 of 2 data layer(s) had not landed in time: missing (not found yet)"


async def test_trigger_fails_fast(tealium_connection: TealiumEmulator) -> None:
    store(tealium_connection.state).configure(landing_delay=0.05, fail_ids=["broken"])
    since = now_iso()
    upload(["fine", "broken"])
    started = time.monotonic()
    events = await run_trigger(trigger(["fine", "broken"], since, timeout=30))
    assert time.monotonic() - started < 5
    assert [e["status"] for e in events] == ["error"]
    assert list(events[0]["failed"]) == ["broken"]
    assert "broken (" in events[0]["message"]


async def test_trigger_reports_api_errors(tealium_connection: TealiumEmulator) -> None:
    tealium_connection.faults.add(method="GET", path="/v2/dle/*", status=500)
    events = await run_trigger(trigger(["a"], now_iso()))
    assert [e["status"] for e in events] == ["error"]
    assert "HTTP 500" in events[0]["message"] and events[0]["failed"] == {}
