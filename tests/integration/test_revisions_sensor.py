"""TealiumRevisionSensor (sync and deferrable) and TealiumRevisionTrigger against the emulator."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any
from unittest import mock

import pytest

from airflow_provider_tealium._compat import AirflowSensorTimeout, TaskDeferred
from airflow_provider_tealium.exceptions import TealiumError, TealiumValidationError
from airflow_provider_tealium.sensors.revisions import TealiumRevisionSensor
from airflow_provider_tealium.testing.emulator import TealiumEmulator
from airflow_provider_tealium.testing.emulator import revisions_store as rs
from airflow_provider_tealium.triggers.revisions import TealiumRevisionTrigger

LIST = "GET /v1/accounts/demo/main/revisions"


def publish(emulator: TealiumEmulator, targets: list[str] | None = None, **kwargs: Any) -> str:
    fields: dict[str, Any] = {"name": "Release", "comment": "tags"}
    fields.update(kwargs)
    return rs.record_publish(
        emulator.state,
        account="demo",
        profile="main",
        created_by="user@example.com",
        targets=targets or ["prod"],
        **fields,
    )


def publish_later(emulator: TealiumEmulator, delay: float, **kwargs: Any) -> threading.Thread:
    thread = threading.Thread(target=lambda: (time.sleep(delay), publish(emulator, **kwargs)), daemon=True)
    thread.start()
    return thread


def details_calls(emulator: TealiumEmulator) -> dict[str, int]:
    return {k: v for k, v in emulator.state.stats()["calls"].items() if k.endswith("/details")}


def context(**values: Any) -> Any:
    return {"data_interval_start": None, "dag_run": None, **values}


# -- sync ------------------------------------------------------------------------------------------------


def test_sync_sensor_waits_for_a_new_prod_revision(tealium_connection: TealiumEmulator) -> None:
    baseline = datetime.now(timezone.utc)
    old = publish(tealium_connection, now=baseline)  # the baseline's own second: not newer
    threads = [
        publish_later(tealium_connection, 0.5, targets=["dev"], name="dev only"),
        publish_later(tealium_connection, 1.2, targets=["dev", "prod"], name="Big release"),
    ]
    sensor = TealiumRevisionSensor(task_id="wait", target="prod", poke_interval=0.3, timeout=20)
    result = sensor.execute(context(data_interval_start=baseline))
    for thread in threads:
        thread.join()
    assert result["name"] == "Big release" and result["revision_id"] > old
    assert "prod" in result["targets_published"]
    # Each new id's details are read once, however many pokes ran; the old revision's never.
    seen = details_calls(tealium_connection)
    assert set(seen.values()) == {1} and len(seen) == 2
    assert tealium_connection.state.stats()["calls"][LIST] >= 3


def test_sync_sensor_matches_name_or_comment(tealium_connection: TealiumEmulator) -> None:
    base = publish(tealium_connection)
    publish(tealium_connection, name="Hotfix", comment="urgent")
    wanted = publish(tealium_connection, name="Quarterly", comment="release 2026-Q1")
    publish(tealium_connection, name="Other", comment="nothing")
    sensor = TealiumRevisionSensor(
        task_id="wait", baseline=base, match=r"release \d{4}-Q\d", poke_interval=0.1
    )
    assert sensor.execute(context())["revision_id"] == wanted


def test_baseline_from_upstream_task(tealium_connection: TealiumEmulator) -> None:
    first = publish(tealium_connection)
    second = publish(tealium_connection)
    ti = mock.Mock()
    ti.xcom_pull.return_value = {"revision_id": first, "status": "published"}
    sensor = TealiumRevisionSensor(task_id="wait", baseline_task_id="publish", poke_interval=0.1)
    assert sensor.execute(context(ti=ti))["revision_id"] == second
    ti.xcom_pull.assert_called_once_with(task_ids="publish")
    ti.xcom_pull.return_value = None
    with pytest.raises(TealiumValidationError, match=r"^baseline_task_id: the task returned nothing"):
        TealiumRevisionSensor(task_id="w2", baseline_task_id="publish").execute(context(ti=ti))


REQUESTED = datetime(2026, 3, 1, 12, 0, 0, 500000, tzinfo=timezone.utc)
# TealiumPublishOperator's result, exactly as it pushes it to XCom.
PUBLISH_RESULT = {
    "publish_id": "8f2b3c4d5e6f",
    "account": "demo",
    "profile": "main",
    "version_id": "202603011159",
    "targets": ["prod"],
    "state": "started",
    "requested_at": REQUESTED.isoformat(),
}


def test_baseline_from_this_providers_publish_result(tealium_connection: TealiumEmulator) -> None:
    before = publish(tealium_connection, name="Earlier", now=REQUESTED - timedelta(seconds=1))
    # Its id is the requested second itself: ids carry no fraction, and the publish came after the request.
    own = publish(tealium_connection, name="Ours", now=REQUESTED)
    ti = mock.Mock()
    ti.xcom_pull.return_value = PUBLISH_RESULT
    sensor = TealiumRevisionSensor(
        task_id="wait", baseline_task_id="publish_prod", target="prod", poke_interval=0.1, timeout=5
    )
    result = sensor.execute(context(ti=ti))
    assert result["revision_id"] == own == "20260301120000" and result["name"] == "Ours"
    assert f"{LIST}/{before}/details" not in tealium_connection.state.stats()["calls"]


def test_baseline_from_this_providers_patch_result(tealium_connection: TealiumEmulator) -> None:
    publish(tealium_connection, name="Earlier", now=REQUESTED - timedelta(seconds=1))
    ti = mock.Mock()
    ti.xcom_pull.return_value = {
        "account": "demo",
        "profile": "main",
        "version_id": "202603011159",
        "version_title": "Release",
        "save_type": "saveAs",
        "operations": 2,
        "saved_at": REQUESTED.isoformat(),
    }
    sensor = TealiumRevisionSensor(task_id="wait", baseline_task_id="patch", poke_interval=0.1)
    assert not sensor.poke(context(ti=ti)).is_done
    later = publish(tealium_connection, name="Saved", now=REQUESTED + timedelta(seconds=2))
    assert sensor.poke(context(ti=ti)).xcom_value["revision_id"] == later


def test_deferred_wait_on_a_publish_result_keeps_its_own_second(tealium_connection: TealiumEmulator) -> None:
    publish(tealium_connection, name="Earlier", now=REQUESTED - timedelta(seconds=1))
    ti = mock.Mock()
    ti.xcom_pull.return_value = PUBLISH_RESULT
    sensor = TealiumRevisionSensor(
        task_id="wait", baseline_task_id="publish_prod", target="prod", deferrable=True, poke_interval=0.1
    )
    with pytest.raises(TaskDeferred) as info:
        sensor.execute(context(ti=ti))
    _, kwargs = info.value.trigger.serialize()
    assert kwargs["baseline"] == ">=2026-03-01T12:00:00.500000+00:00"
    assert json.loads(json.dumps(kwargs)) == kwargs
    own = publish(tealium_connection, name="Ours", now=REQUESTED)
    events = run_trigger(TealiumRevisionTrigger(**kwargs))
    assert [e["status"] for e in events] == ["success"] and events[0]["revision"]["revision_id"] == own
    timeout = run_trigger(TealiumRevisionTrigger(**{**kwargs, "target": "qa", "end_time": time.time() + 0.3}))
    assert (
        timeout[0]["message"] == "no matching revision at or after 2026-03-01T12:00:00+00:00 appeared in time"
    )


def test_default_baseline_is_the_run_time_when_no_data_interval(tealium_connection: TealiumEmulator) -> None:
    publish(tealium_connection)
    dag_run = mock.Mock(run_after=datetime.now(timezone.utc) + timedelta(seconds=5))
    sensor = TealiumRevisionSensor(task_id="wait", poke_interval=0.1)
    assert not sensor.poke(context(dag_run=dag_run)).is_done
    with pytest.raises(TealiumValidationError, match=r"^baseline: is required"):
        TealiumRevisionSensor(task_id="w2").poke(
            context(dag_run=mock.Mock(run_after=None, logical_date=None))
        )


def test_sync_sensor_times_out(tealium_connection: TealiumEmulator) -> None:
    sensor = TealiumRevisionSensor(task_id="wait", baseline="20200101000000", poke_interval=0.1, timeout=0.3)
    with pytest.raises(AirflowSensorTimeout):
        sensor.execute(context())


def test_sensor_validates_before_any_request(tealium_connection: TealiumEmulator) -> None:
    for kwargs, message in [
        ({"match": "release["}, "^match: is not a valid regular expression"),
        ({"target": "prod env"}, "^target: must be an environment name"),
        ({"baseline": "last week"}, "^baseline: must be a revision id"),
        ({"baseline": "201612131954", "revisions_api": "v4"}, "^revisions_api: must be 'v1' or 'v2'"),
    ]:
        with pytest.raises(TealiumValidationError, match=message):
            TealiumRevisionSensor(task_id="wait", **kwargs).execute(
                context(data_interval_start=datetime.now(timezone.utc))
            )
    assert tealium_connection.state.stats()["total_calls"] == 0


def test_sensor_api_errors_fail_the_task(tealium_connection: TealiumEmulator) -> None:
    from airflow_provider_tealium.testing.emulator.revisions_store import configure_revisions

    configure_revisions(tealium_connection.state, unknown_accounts=["demo"])
    with pytest.raises(TealiumError, match="returnCode 1240"):
        TealiumRevisionSensor(task_id="wait", baseline="201612131954").execute(context())


# -- deferrable ------------------------------------------------------------------------------------------


def test_deferrable_sensor_returns_at_once_when_already_there(tealium_connection: TealiumEmulator) -> None:
    base = publish(tealium_connection)
    newer = publish(tealium_connection)
    sensor = TealiumRevisionSensor(task_id="wait", baseline=base, deferrable=True)
    assert sensor.execute(context())["revision_id"] == newer


def test_deferrable_sensor_defers_and_the_trigger_finds_the_revision(
    tealium_connection: TealiumEmulator,
) -> None:
    base = publish(tealium_connection)
    sensor = TealiumRevisionSensor(
        task_id="wait",
        baseline=base,
        target="prod",
        deferrable=True,
        poke_interval=0.2,
        timeout=30,
        revisions_api="v2",
    )
    with pytest.raises(TaskDeferred) as info:
        sensor.execute(context())
    trigger = info.value.trigger
    assert isinstance(trigger, TealiumRevisionTrigger)
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_provider_tealium.triggers.revisions.TealiumRevisionTrigger"
    assert json.loads(json.dumps(kwargs)) == kwargs
    assert kwargs["baseline"] == base and kwargs["revisions_api"] == "v2" and kwargs["target"] == "prod"
    assert info.value.method_name == "execute_complete"
    threads = [
        publish_later(tealium_connection, 0.3, targets=["dev"]),
        publish_later(tealium_connection, 0.7, targets=["prod"], name="Prod push"),
    ]

    async def first_event() -> dict[str, Any]:
        rebuilt = TealiumRevisionTrigger(**kwargs)  # as the triggerer does
        async for event in rebuilt.run():
            return dict(event.payload)
        raise AssertionError("no event")

    event = asyncio.run(first_event())
    for thread in threads:
        thread.join()
    assert event["status"] == "success" and event["revision"]["name"] == "Prod push"
    assert sensor.execute_complete(context(), event)["name"] == "Prod push"
    assert set(details_calls(tealium_connection).values()) == {1}


def run_trigger(trigger: TealiumRevisionTrigger) -> list[dict[str, Any]]:
    async def collect() -> list[dict[str, Any]]:
        return [dict(event.payload) async for event in trigger.run()]

    return asyncio.run(collect())


def test_trigger_times_out_with_one_event(tealium_connection: TealiumEmulator) -> None:
    events = run_trigger(
        TealiumRevisionTrigger(
            baseline="2020-01-01T00:00:00+00:00", end_time=time.time() + 0.4, poll_interval=0.1, target="prod"
        )
    )
    assert events == [{"status": "timeout", "message": events[0]["message"]}]
    assert "no matching revision newer than 2020-01-01T00:00:00+00:00" in events[0]["message"]
    sensor = TealiumRevisionSensor(task_id="wait", baseline="20200101000000", deferrable=True)
    with pytest.raises(AirflowSensorTimeout):
        sensor.execute_complete(context(), events[0])


def test_trigger_reports_errors_as_one_event(
    tealium_connection: TealiumEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = json.loads(tealium_connection.connection_json())
    conn["extra"]["v1_password"] = "not-the-password"
    monkeypatch.setenv("AIRFLOW_CONN_TEALIUM_BADPW", json.dumps(conn))
    events = run_trigger(
        TealiumRevisionTrigger(
            baseline="20200101000000", end_time=time.time() + 5, tealium_conn_id="tealium_badpw"
        )
    )
    assert len(events) == 1 and events[0]["status"] == "error"
    assert "returnCode 1401" in events[0]["message"] and "not-the-password" not in events[0]["message"]
    with pytest.raises(TealiumError, match="1401"):
        TealiumRevisionSensor(task_id="wait").execute_complete(context(), events[0])
    assert tealium_connection.state.stats()["calls"] == {"POST /v1/login": 1}


def test_trigger_does_not_block_the_event_loop(tealium_connection: TealiumEmulator) -> None:
    base = publish(tealium_connection)
    tealium_connection.faults.add(method="GET", path="/v1/accounts/*/revisions", latency=0.3, times=1)

    async def race() -> tuple[int, dict[str, Any]]:
        ticks = 0
        stop = asyncio.Event()

        async def ticker() -> None:
            nonlocal ticks
            while not stop.is_set():
                ticks += 1
                await asyncio.sleep(0.02)

        task = asyncio.create_task(ticker())
        publish(tealium_connection)
        trigger = TealiumRevisionTrigger(baseline=base, end_time=time.time() + 5, poll_interval=0.1)
        event = None
        async for item in trigger.run():
            event = dict(item.payload)
        stop.set()
        await task
        assert event is not None
        return ticks, event

    ticks, event = asyncio.run(race())
    assert event["status"] == "success"
    assert ticks >= 5  # the loop kept running while the trigger waited on the slow answer
