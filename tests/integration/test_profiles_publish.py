"""Publishing against the emulator: the operator, the sensor and the trigger, sync and deferred."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest

from airflow_provider_tealium._compat import AirflowFailException, TaskDeferred
from airflow_provider_tealium.api.request import ApiResponse
from airflow_provider_tealium.exceptions import (
    TealiumApiError,
    TealiumError,
    TealiumUnexpectedAnswerError,
    TealiumValidationError,
    TealiumValidationErrors,
)
from airflow_provider_tealium.hooks.tealium import TealiumHook
from airflow_provider_tealium.operators.publish import TealiumPublishOperator
from airflow_provider_tealium.sensors.publish import TealiumPublishSensor
from airflow_provider_tealium.testing.emulator import TealiumEmulator, revisions_store
from airflow_provider_tealium.testing.emulator.profiles.backend import ProfilesStore, store
from airflow_provider_tealium.testing.emulator.profiles.seed import INITIAL_VERSION
from airflow_provider_tealium.triggers.publish import TealiumPublishTrigger
from tests.fakes import FakeTI


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
    return {"ti": FakeTI(dag_id="release", task_id="publish", run_id="manual__1")}


def run_trigger(trigger: TealiumPublishTrigger) -> list[dict[str, Any]]:
    async def collect() -> list[dict[str, Any]]:
        return [event.payload async for event in trigger.run()]

    return asyncio.run(collect())


def utc(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    assert moment.utcoffset() is not None and moment.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    return moment


def test_publish_and_wait_in_the_worker(emulator: TealiumEmulator) -> None:
    op = TealiumPublishOperator(
        task_id="publish",
        targets=["dev", "qa"],
        title="Release 1",
        notes="why",
        wait_for_completion=True,
        poll_interval=1,
    )
    started = datetime.now(timezone.utc)
    result = op.execute(context())
    assert result["state"] == "published"
    # Taken just before the publish request, so before the wait (at least 0.5 s here) ended.
    assert started <= utc(result["requested_at"]) <= datetime.now(timezone.utc)
    assert (datetime.now(timezone.utc) - utc(result["requested_at"])).total_seconds() >= 0.4
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
    assert utc(result["requested_at"])
    sensor = TealiumPublishSensor(task_id="wait", publish_id=result["publish_id"], poke_interval=1)
    # Given the whole upstream result (``publish.output``), the sensor also passes its request time on.
    with_result = TealiumPublishSensor(task_id="wait2", publish_id=result, poke_interval=1)
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
    assert "requested_at" not in final.xcom_value  # type: ignore[union-attr]  # unknown: omitted, never guessed
    time.sleep(1)  # Tealium refuses polling one publish more than once a second
    from_result = with_result.poke(context())
    assert from_result and from_result.xcom_value["requested_at"] == result["requested_at"]  # type: ignore[union-attr]
    assert from_result.xcom_value["targets"] == ["prod"]  # type: ignore[union-attr]


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
    assert utc(kwargs["requested_at"])
    (event,) = run_trigger(TealiumPublishTrigger(**kwargs))
    assert event["status"] == "success" and event["target_states"] == {"dev": "published"}
    result = op.execute_complete(context(), event)
    assert result["state"] == "published" and result["version_id"] == INITIAL_VERSION
    assert result["requested_at"] == kwargs["requested_at"]


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
    assert deferred.value.trigger.requested_at is None  # type: ignore[attr-defined]
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


STATUS_GLOB = "/v3/tiq/accounts/*/publish/*/status"


def started_publish(emulator: TealiumEmulator) -> str:
    result = TealiumPublishOperator(task_id="publish", targets=["dev"], title="t").execute(context())
    return str(result["publish_id"])


def status_trigger(publish_id: str) -> TealiumPublishTrigger:
    return TealiumPublishTrigger(
        publish_id=publish_id,
        account="demo",
        profile="main",
        targets=["dev"],
        end_time=time.time() + 30,
        poll_interval=1,
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"publishTargetState": "exploded"}, "unknown publish state 'exploded'"),
        ({"status": "ok"}, "the publish status answer carries no publishTargetState"),
        ("published", "unexpected publish status answer: 'published'"),
    ],
)
def test_trigger_reports_an_unreadable_status_as_one_error_event(
    emulator: TealiumEmulator, body: Any, message: str
) -> None:
    publish_id = started_publish(emulator)
    emulator.faults.add(method="GET", path=STATUS_GLOB, status=200, body=body)
    (event,) = run_trigger(status_trigger(publish_id))
    assert event["status"] == "error" and event["reason"] == "error"
    assert f"/publish/{publish_id}/status failed: HTTP 200: {message}" in event["message"]
    with pytest.raises(TealiumError, match=message):
        TealiumPublishSensor(task_id="wait", publish_id=publish_id).execute_complete(context(), event)
    # The sync paths fail with the same provider error.
    with pytest.raises(TealiumUnexpectedAnswerError, match=message):
        TealiumPublishSensor(task_id="wait", publish_id=publish_id).poke(context())


def test_trigger_reports_a_non_json_status_as_one_error_event(
    emulator: TealiumEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The emulator always answers JSON; a proxy's HTML page stands in for the status answer here.
    from airflow_provider_tealium.hooks.tealium import TealiumAsyncHook

    publish_id = started_publish(emulator)
    real_arun = TealiumAsyncHook.arun

    async def html_for_status(self: TealiumAsyncHook, request: Any, **kwargs: Any) -> ApiResponse:
        if request.path.endswith("/status"):
            return ApiResponse(200, {"content-type": "text/html"}, b"<html>Bad gateway</html>")
        return await real_arun(self, request, **kwargs)

    monkeypatch.setattr(TealiumAsyncHook, "arun", html_for_status)
    (event,) = run_trigger(status_trigger(publish_id))
    assert event["status"] == "error"
    assert (
        f"GET /v3/tiq/accounts/demo/profiles/main/publish/{publish_id}/status failed: HTTP 200: "
        "the answer is not JSON (text/html, 24 bytes" in event["message"]
    )


def test_publish_answer_without_an_id_fails_with_a_provider_error(emulator: TealiumEmulator) -> None:
    emulator.faults.add(method="POST", path="/v3/tiq/*/publish", status=200, body={"queued": True}, times=1)
    with pytest.raises(
        TealiumUnexpectedAnswerError, match="HTTP 200: the publish answer carries no publishId"
    ):
        TealiumPublishOperator(task_id="publish", targets=["dev"], title="t").execute(context())


def test_publish_templates_its_connection_and_scalars(
    emulator: TealiumEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    assert {"tealium_conn_id", "wait_for_completion", "poll_interval", "timeout_seconds"} <= set(
        TealiumPublishOperator.template_fields
    )
    assert "deferrable" not in TealiumPublishOperator.template_fields  # Airflow reads it before rendering
    assert "tealium_conn_id" in TealiumPublishSensor.template_fields
    monkeypatch.setenv("AIRFLOW_CONN_TEALIUM_RENDERED", os.environ["AIRFLOW_CONN_TEALIUM_DEFAULT"])
    op = TealiumPublishOperator(
        task_id="publish",
        targets=["dev"],
        title="t",
        tealium_conn_id="{{ params.conn }}",
        wait_for_completion="{{ params.wait }}",
        poll_interval="{{ params.poll }}",
        timeout_seconds="{{ params.timeout }}",
    )
    op.render_template_fields(
        {"params": {"conn": "tealium_rendered", "wait": "True", "poll": "1", "timeout": "30"}}
    )  # type: ignore[arg-type]
    result = op.execute(context())
    # "True" is read as a flag: the task waited; the numbers became numbers.
    assert result["state"] == "published"
    assert (op.wait_for_completion, op.poll_interval, op.timeout_seconds) == (True, 1.0, 30.0)
    sensor = TealiumPublishSensor(
        task_id="wait", publish_id="{{ params.result }}", tealium_conn_id="{{ params.conn }}", poke_interval=1
    )
    sensor.render_template_fields({"params": {"conn": "tealium_rendered", "result": result}})  # type: ignore[arg-type]
    # Rendered without native objects, the upstream result is its repr: still read, request time included.
    assert isinstance(sensor.publish_id, str)
    time.sleep(1)  # the operator's wait polled this publish last: Tealium refuses a faster second poll
    done = sensor.poke(context())
    assert done and done.xcom_value["requested_at"] == result["requested_at"]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"poll_interval": "{{ params.x }}"}, "poll_interval: must be at least 1 second"),
        ({"timeout_seconds": "{{ params.x }}"}, "timeout_seconds: must be a positive number of seconds"),
        ({"wait_for_completion": "{{ params.x }}"}, "wait_for_completion: must be true or false"),
    ],
)
def test_bad_rendered_publish_arguments_fail_before_any_request(
    emulator: TealiumEmulator, kwargs: dict[str, Any], message: str
) -> None:
    op = TealiumPublishOperator(task_id="publish", targets=["dev"], title="t", **kwargs)
    op.render_template_fields({"params": {"x": "soon"}})  # type: ignore[arg-type]
    with pytest.raises(TealiumValidationError, match=message):
        op.execute(context())
    assert emulator.state.stats()["total_calls"] == 0


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
