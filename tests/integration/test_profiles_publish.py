"""Publishing against the emulator: the operator, the sensor and the trigger, sync and deferred."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_tealium._compat import AirflowFailException, TaskDeferred
from airflow_provider_tealium.exceptions import TealiumApiError, TealiumError, TealiumValidationErrors
from airflow_provider_tealium.hooks.tealium import TealiumHook
from airflow_provider_tealium.operators.publish import TealiumPublishOperator
from airflow_provider_tealium.sensors.publish import TealiumPublishSensor
from airflow_provider_tealium.testing.emulator import TealiumEmulator, revisions_store
from airflow_provider_tealium.testing.emulator.routes_profiles import INITIAL_VERSION, ProfilesStore, store
from airflow_provider_tealium.triggers.publish import TealiumPublishTrigger


@pytest.fixture
def emulator(
    tealium_connection: TealiumEmulator, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TealiumEmulator]:
    conn = json.loads(tealium_connection.connection_json())
    conn["extra"].update({"backoff_base": 0.01, "backoff_max": 0.05})
    monkeypatch.setenv("AIRFLOW_CONN_TEALIUM_DEFAULT", json.dumps(conn))
    profiles(tealium_connection).configure(publish_queued_seconds=0.2, publish_processing_seconds=0.3)
    yield tealium_connection


def profiles(emulator: TealiumEmulator) -> ProfilesStore:
    return store(emulator.state)


def context() -> dict[str, Any]:
    return {
        "ti": SimpleNamespace(
            dag_id="release", task_id="publish", run_id="manual__1", try_number=1, map_index=-1
        )
    }


def run_trigger(trigger: TealiumPublishTrigger) -> list[dict[str, Any]]:
    async def collect() -> list[dict[str, Any]]:
        return [event.payload async for event in trigger.run()]

    return asyncio.run(collect())


def test_publish_and_wait_in_the_worker(emulator: TealiumEmulator) -> None:
    op = TealiumPublishOperator(
        task_id="publish",
        targets=["dev", "qa"],
        title="Release 1",
        notes="why",
        wait_for_completion=True,
        poll_interval=1,
    )
    result = op.execute(context())
    assert result["state"] == "published"
    assert result["target_states"] == {"dev": "published", "qa": "published"}
    assert result["version_id"] == INITIAL_VERSION  # the latest version when none is named
    publish = profiles(emulator).publishes[result["publish_id"]]
    assert (publish.title, publish.notes, publish.operator) == ("Release 1", "why", emulator.email)
    # The completed publish left a revision with the publish's title, notes, user and targets.
    (revision,) = revisions_store.store(emulator.state).revisions[("demo", "main")].values()
    assert publish.revision_id in revisions_store.store(emulator.state).revisions[("demo", "main")]
    details = json.dumps(revision.details)
    assert "Release 1" in details and emulator.email in details


def test_publish_without_waiting_then_sensor_pokes(emulator: TealiumEmulator) -> None:
    result = TealiumPublishOperator(task_id="publish", targets="prod", version_id=INITIAL_VERSION).execute(
        context()
    )
    assert result["state"] == "started" and result["targets"] == ["prod"]
    sensor = TealiumPublishSensor(task_id="wait", publish_id=result["publish_id"], poke_interval=1)
    answers = []
    for _ in range(5):
        answer = sensor.poke(context())
        answers.append(answer)
        if answer:
            break
        time.sleep(1)
    assert answers[0] is False
    final = answers[-1]
    assert final and final.xcom_value["target_states"] == {"prod": "published"}  # type: ignore[union-attr]


def test_stopped_publish_fails_at_once(emulator: TealiumEmulator) -> None:
    profiles(emulator).configure(stop_next_publishes=1)
    op = TealiumPublishOperator(
        task_id="publish", targets=["dev"], title="t", wait_for_completion=True, poll_interval=1
    )
    with pytest.raises(AirflowFailException, match="stopped for dev"):
        op.execute(context())
    assert revisions_store.store(emulator.state).revisions.get(("demo", "main"), {}) == {}


def test_deferred_publish_resumes_with_the_trigger_event(emulator: TealiumEmulator) -> None:
    op = TealiumPublishOperator(
        task_id="publish",
        targets=["dev"],
        title="t",
        wait_for_completion=True,
        deferrable=True,
        poll_interval=1,
    )
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(context())
    trigger = deferred.value.trigger
    assert isinstance(trigger, TealiumPublishTrigger)
    assert deferred.value.method_name == "execute_complete"
    _, kwargs = trigger.serialize()
    json.dumps(kwargs)
    (event,) = run_trigger(TealiumPublishTrigger(**kwargs))
    assert event["status"] == "success" and event["target_states"] == {"dev": "published"}
    result = op.execute_complete(context(), event)
    assert result["state"] == "published" and result["version_id"] == INITIAL_VERSION


def test_deferrable_sensor_and_stopped_trigger(emulator: TealiumEmulator) -> None:
    profiles(emulator).configure(stop_next_publishes=1)
    publish_id = TealiumPublishOperator(task_id="publish", targets=["qa"], title="t").execute(context())[
        "publish_id"
    ]
    sensor = TealiumPublishSensor(
        task_id="wait", publish_id=publish_id, deferrable=True, poke_interval=1, timeout=60
    )
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute(context())
    (event,) = run_trigger(deferred.value.trigger)  # type: ignore[arg-type]
    assert event["status"] == "error" and "stopped for qa" in event["message"]
    assert event["reason"] == "stopped"
    with pytest.raises(AirflowFailException, match="stopped for qa"):
        sensor.execute_complete(context(), event)


def test_trigger_enforces_its_deadline(emulator: TealiumEmulator) -> None:
    profiles(emulator).configure(publish_processing_seconds=30)
    publish_id = TealiumPublishOperator(task_id="publish", targets=["dev"], title="t").execute(context())[
        "publish_id"
    ]
    trigger = TealiumPublishTrigger(
        publish_id=publish_id,
        account="demo",
        profile="main",
        targets=["dev"],
        end_time=time.time() + 1.5,
        poll_interval=1,
    )
    started = time.monotonic()
    (event,) = run_trigger(trigger)
    assert event["status"] == "timeout" and "dev=processing" in event["message"]
    assert time.monotonic() - started < 5
    with pytest.raises(TealiumError, match="not finished before the deadline"):
        TealiumPublishSensor(task_id="wait", publish_id=publish_id).execute_complete(context(), event)


def test_trigger_reports_api_errors_as_one_event(emulator: TealiumEmulator) -> None:
    trigger = TealiumPublishTrigger(
        publish_id="nope", account="demo", profile="main", targets=["dev"], end_time=time.time() + 30
    )
    (event,) = run_trigger(trigger)
    assert (
        event["status"] == "error"
        and "HTTP 404" in event["message"]
        and "Publish nope not found" in event["message"]
    )
    assert event["reason"] == "error"
    with pytest.raises(TealiumError, match="Publish nope not found") as info:
        TealiumPublishSensor(task_id="wait", publish_id="nope").execute_complete(context(), event)
    assert not isinstance(info.value, AirflowFailException)  # an API error may be retried; stopped may not


def test_polling_faster_than_once_a_second_is_refused(emulator: TealiumEmulator) -> None:
    publish_id = TealiumPublishOperator(task_id="publish", targets=["dev"], title="t").execute(context())[
        "publish_id"
    ]
    hook = TealiumHook(max_retries=0)
    hook.get_publish_status(publish_id)
    with pytest.raises(TealiumApiError, match="HTTP 429"):
        hook.get_publish_status(publish_id)
    with pytest.raises(ValueError, match="poll_interval: must be at least 1 second"):
        TealiumPublishOperator(task_id="p", targets=["dev"], poll_interval=0.5)
    with pytest.raises(ValueError, match="poke_interval: must be at least 1 second"):
        TealiumPublishSensor(task_id="w", publish_id="x", poke_interval=0.2)


def test_invalid_publish_fails_before_any_request(emulator: TealiumEmulator) -> None:
    op = TealiumPublishOperator(
        task_id="publish", targets=["dev", "staging"], version_id="1", title="x" * 200
    )
    with pytest.raises(TealiumValidationErrors) as info:
        op.execute(context())
    assert [e.field for e in info.value.errors] == ["publishTargets[1]", "title"]
    # Only the token for the resolved profile could have been needed; no publish call was made.
    assert not [c for c in emulator.state.stats()["calls"] if "publish" in c]


def test_unknown_version_fails_with_the_api_message(emulator: TealiumEmulator) -> None:
    with pytest.raises(TealiumApiError, match=r"HTTP 404.*Version 209901010000 not found"):
        TealiumPublishOperator(task_id="publish", targets=["dev"], version_id="209901010000").execute(
            context()
        )


def test_lost_publish_answer_is_not_resent(emulator: TealiumEmulator) -> None:
    emulator.faults.add(method="POST", path="/v3/tiq/*/publish", drop_after_apply=True, times=1)
    with pytest.raises(TealiumApiError, match="not resent because it is not idempotent"):
        TealiumPublishOperator(task_id="publish", targets=["dev"], title="t").execute(context())
    assert len(profiles(emulator).publishes) == 1


def test_no_secret_reaches_logs_errors_or_results(
    emulator: TealiumEmulator, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs: list[str] = []
    with caplog.at_level(logging.DEBUG):
        op = TealiumPublishOperator(
            task_id="publish", targets=["dev"], title="t", wait_for_completion=True, poll_interval=1
        )
        outputs.append(json.dumps(op.execute(context())))
        profiles(emulator).configure(stop_next_publishes=1)
        with pytest.raises(AirflowFailException) as info:
            op.execute(context())
        outputs.append(str(info.value))
        trigger = TealiumPublishTrigger(
            publish_id="x", account="demo", profile="main", targets=["dev"], end_time=time.time() + 5
        )
        outputs.extend(json.dumps(e) for e in run_trigger(trigger))
        outputs.append(json.dumps(trigger.serialize()))
    out = capsys.readouterr()
    text = "\n".join([caplog.text, out.out, out.err, *(repr(r.__dict__) for r in caplog.records)])
    assert "Publishing demo/main" in text
    haystack = "\n".join([text, *outputs, *(str(getattr(op, f)) for f in op.template_fields)])
    for secret in [emulator.api_key, *emulator.state.issued_tokens]:
        assert secret not in haystack
