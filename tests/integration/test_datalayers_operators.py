"""Upload and delete operators against the emulator: bulk at the rate limit, injected 429s and failures,
reruns of just the failed ids, streamed sources, validation before any request, and secrets."""

from __future__ import annotations

import _thread
import json
import logging
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk import ObjectStoragePath

from airflow_provider_tealium.exceptions import TealiumError, TealiumValidationError, TealiumValidationErrors
from airflow_provider_tealium.hooks.datalayers_bulk import iter_source
from airflow_provider_tealium.operators.datalayers import (
    TealiumDataLayerLink,
    TealiumDeleteDataLayerOperator,
    TealiumUploadDataLayerOperator,
)
from airflow_provider_tealium.testing.emulator import TealiumEmulator
from airflow_provider_tealium.testing.emulator.datalayers.backend import store
from tests.fakes import FakeTI

FAST: dict[str, Any] = {"backoff_base": 0.01, "backoff_max": 0.05}
ITEM = "/v2/dle/accounts/demo/profiles/main/datalayers/{}"


def products(n: int, prefix: str = "sku") -> dict[str, dict[str, Any]]:
    return {f"{prefix}-{i}": {"sku": f"{prefix}-{i}", "price": i, "tags": ["a", "b"]} for i in range(n)}


def uploads(emulator: TealiumEmulator) -> dict[str, int]:
    return {k.rsplit("/", 1)[-1].rsplit(".", 1)[0]: v for k, v in store(emulator.state).uploads.items()}


def dle_requests(emulator: TealiumEmulator) -> int:
    return sum(n for k, n in emulator.state.stats()["calls"].items() if "/v2/dle/" in k)


def test_bulk_survives_429s_reports_failures_and_rerun_sends_only_those(
    tealium_connection: TealiumEmulator,
) -> None:
    items = products(120)
    # Ten ids meet two 429s each (one asking to wait 0 s), so each needs three attempts.
    for i in range(20, 30):
        headers = {"Retry-After": "0"} if i % 2 else None
        tealium_connection.faults.add(
            method="POST", path=ITEM.format(f"sku-{i}"), status=429, times=2, headers=headers
        )
    for bad in ("sku-7", "sku-99"):
        tealium_connection.faults.add(method="POST", path=ITEM.format(bad), status=500)
    ti = FakeTI()
    op = TealiumUploadDataLayerOperator(
        task_id="upload", datalayers=items, requests_per_second=100, max_workers=6, max_retries=2, **FAST
    )
    assert sum(rule.applied for rule in tealium_connection.faults.rules) == 0
    with pytest.raises(TealiumError) as info:
        op.execute({"ti": ti})
    assert "2 of 120 data layer upload(s) failed" in str(info.value)
    assert (
        "sku-7: POST /v2/dle/accounts/demo/profiles/main/datalayers/sku-7 failed after 3 attempts: HTTP 500"
        in str(info.value)
    )
    result = ti.xcom["return_value"]
    assert set(result["failed"]) == {"sku-7", "sku-99"}
    assert "HTTP 500" in result["failed"]["sku-99"]
    # Nothing lost: every id is either landed or failed, exactly once.
    assert sorted(result["landed"] + list(result["failed"])) == sorted(items)
    assert len(result["landed"]) == 118 and result["total"] == 120
    counts = uploads(tealium_connection)
    assert set(counts) == set(items) - {"sku-7", "sku-99"} and set(counts.values()) == {1}
    assert sum(rule.applied for rule in tealium_connection.faults.rules) == 20 + 2 * 3

    tealium_connection.faults.clear()
    before = dle_requests(tealium_connection)
    rerun = TealiumUploadDataLayerOperator(
        task_id="upload", datalayers=items, retry_failed_from=result, max_retries=2, **FAST
    )
    second = rerun.execute({"ti": FakeTI()})
    assert dle_requests(tealium_connection) - before == 2
    assert sorted(second["landed"]) == ["sku-7", "sku-99"]
    assert second["failed"] == {} and second["total"] == 2 and second["skipped"] == 118
    assert set(uploads(tealium_connection).values()) == {1}


def test_retry_failed_from_accepts_templated_json_string(tealium_connection: TealiumEmulator) -> None:
    previous = {"failed": {"sku-1": "HTTP 500"}, "landed": ["sku-0"]}
    op = TealiumUploadDataLayerOperator(
        task_id="upload", datalayers=products(3), retry_failed_from=json.dumps(previous), **FAST
    )
    assert op.execute({"ti": FakeTI()})["landed"] == ["sku-1"]
    assert uploads(tealium_connection) == {"sku-1": 1}


def test_retry_failed_from_accepts_a_jinja_rendered_dict(tealium_connection: TealiumEmulator) -> None:
    previous = {"failed": {"sku-2": "HTTP 500"}, "landed": ["sku-0"], "file_type": None}
    op = TealiumUploadDataLayerOperator(
        task_id="upload", datalayers=products(3), retry_failed_from=str(previous), **FAST
    )
    assert op.execute({"ti": FakeTI()})["landed"] == ["sku-2"]
    bad = TealiumUploadDataLayerOperator(task_id="upload", datalayers=products(3), retry_failed_from="{nope")
    with pytest.raises(TealiumValidationError, match="retry_failed_from: must be a previous upload result"):
        bad.execute({"ti": FakeTI()})


@pytest.mark.parametrize("rendered", ["None", "", "  "])
def test_retry_failed_from_that_renders_to_nothing_fails_instead_of_sending_everything(
    tealium_connection: TealiumEmulator, rendered: str
) -> None:
    op = TealiumUploadDataLayerOperator(
        task_id="upload", datalayers=products(3), retry_failed_from=rendered, **FAST
    )
    with pytest.raises(TealiumValidationError, match="retry_failed_from: rendered to nothing"):
        op.execute({"ti": FakeTI()})
    assert dle_requests(tealium_connection) == 0


def test_client_rate_limit_keeps_under_the_emulator_limit(
    tealium_connection: TealiumEmulator, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.INFO)
    started = time.monotonic()
    op = TealiumUploadDataLayerOperator(
        task_id="upload", datalayers=products(100), requests_per_second=50, progress_interval=0.5, **FAST
    )
    result = op.execute({"ti": FakeTI()})
    elapsed = time.monotonic() - started
    assert len(result["landed"]) == 100
    # 100 requests at 50/s with a burst of 5 (a tenth of a second's worth) take at least (100 - 5) / 50 s.
    assert elapsed >= 1.85
    assert store(tealium_connection.state).rate_limited == 0
    # Airflow's task logger writes through structlog (stdout) or logging, depending on the setup.
    output = capsys.readouterr().out.splitlines() + [r.getMessage() for r in caplog.records]
    progress = [line for line in output if "done (" in line]
    assert progress and "Data layers: 100/100 done (0 failed)" in progress[-1]
    assert any("ETA" in line and "/s" in line for line in progress)


def test_worker_threads_never_look_up_the_connection(
    tealium_connection: TealiumEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Inside a task a lookup goes through Airflow's supervisor channel, which is not thread-safe: on
    # Airflow 3.0, eight workers looking the connection up at once left the task unable to push its XCom.
    from airflow_provider_tealium.hooks.tealium import TealiumHook

    lookups: list[str] = []
    original = TealiumHook.get_connection.__func__  # type: ignore[attr-defined]

    def recording(cls: type[TealiumHook], conn_id: str) -> Any:
        lookups.append(threading.current_thread().name)
        return original(cls, conn_id)

    monkeypatch.setattr(TealiumHook, "get_connection", classmethod(recording))
    op = TealiumUploadDataLayerOperator(task_id="upload", datalayers=products(40), max_workers=8, **FAST)
    assert len(op.execute({"ti": FakeTI()})["landed"]) == 40
    assert lookups == [threading.current_thread().name]


def test_default_workers_keep_the_rate_when_answers_are_slow(tealium_connection: TealiumEmulator) -> None:
    # 200 ms per answer: 8 workers would cap the upload at 40/s whatever rate was asked for.
    tealium_connection.faults.add(method="PUT", path=ITEM.format("*"), latency=0.2)
    started = time.monotonic()
    op = TealiumUploadDataLayerOperator(
        task_id="upload", datalayers=products(150), requests_per_second=100, **FAST
    )
    assert len(op.execute({"ti": FakeTI()})["landed"]) == 150
    # At 100/s that is about 1.5 s plus one round trip; at 40/s it would be 3.75 s.
    assert time.monotonic() - started < 3.0


def test_an_interrupted_upload_keeps_what_landed_and_a_rerun_sends_only_the_rest(
    tealium_connection: TealiumEmulator,
) -> None:
    items = products(300)
    ti = FakeTI()
    op = TealiumUploadDataLayerOperator(task_id="upload", datalayers=items, requests_per_second=100, **FAST)
    # execution_timeout and SIGTERM raise in the task's main thread, wherever it is: so does this.
    timer = threading.Timer(1.0, _thread.interrupt_main)
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        op.execute({"ti": ti})
    partial = ti.xcom["return_value"]
    landed_before = set(partial["landed"])
    assert partial["complete"] is False and 0 < len(landed_before) < 300
    counts = uploads(tealium_connection)
    assert landed_before <= set(counts), "every id reported landed is in Tealium"
    time.sleep(0.3)  # uploads that were in flight have finished or stopped by now
    sent_before = dle_requests(tealium_connection)
    assert sent_before < 300, "the interrupted run went on sending"

    rerun = TealiumUploadDataLayerOperator(
        task_id="resend", datalayers=items, retry_failed_from=json.dumps(partial), **FAST
    )
    result = rerun.execute({"ti": FakeTI()})
    assert result["complete"] is True
    assert set(result["landed"]) == set(items) - landed_before
    assert result["skipped"] == len(landed_before)
    counts = uploads(tealium_connection)
    assert set(counts) == set(items)
    assert all(counts[i] == 1 for i in landed_before), "a landed data layer was sent again"


def test_rate_above_tealium_maximum_is_refused(tealium_connection: TealiumEmulator) -> None:
    op = TealiumUploadDataLayerOperator(task_id="upload", datalayers=products(2), requests_per_second=150)
    with pytest.raises(TealiumValidationError, match="requests_per_second: must be at most 100"):
        op.execute({"ti": FakeTI()})
    assert dle_requests(tealium_connection) == 0


def test_every_invalid_item_reported_before_any_request(
    tmp_path: Path, tealium_connection: TealiumEmulator
) -> None:
    source = tmp_path / "catalog.jsonl"
    lines = [
        {"datalayer_id": "ok-1", "data": {"a": 1}},
        {"datalayer_id": "bad id", "data": {"a": 1}},
        {"datalayer_id": "ok-2", "data": {"a.b": 1}},
        {"datalayer_id": "ok-3", "data": {}},
        {"datalayer_id": "ok-1", "data": {"a": 2}},
    ]
    source.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    op = TealiumUploadDataLayerOperator(task_id="upload", datalayers=str(source), **FAST)
    with pytest.raises(TealiumValidationErrors) as info:
        op.execute({"ti": FakeTI()})
    assert [str(e) for e in info.value.errors] == [
        "datalayers['bad id'].datalayer_id: must not contain whitespace",
        "datalayers['ok-2'].data.a.b: keys must not contain a period",
        "datalayers['ok-3'].data: must not be empty",
        "datalayers['ok-1'].datalayer_id: appears more than once",
    ]
    assert dle_requests(tealium_connection) == 0


def test_bad_jsonl_line_names_the_line(tmp_path: Path) -> None:
    source = tmp_path / "x.jsonl"
    source.write_text('{"datalayer_id": "a", "data": {"x": 1}}\n\n{oops\n')
    with pytest.raises(TealiumValidationError, match=r"x.jsonl line 3\): must be valid JSON"):
        list(iter_source(str(source)))
    source.write_text('{"id": "a"}\n')
    with pytest.raises(TealiumValidationError, match="line 1"):
        list(iter_source(source))


def test_only_ids_must_exist_in_the_source(tealium_connection: TealiumEmulator) -> None:
    op = TealiumUploadDataLayerOperator(task_id="u", datalayers=products(3), only_ids=["sku-1", "nope"])
    with pytest.raises(TealiumValidationError, match="only_ids: names ids that are not in the source"):
        op.execute({"ti": FakeTI()})
    assert dle_requests(tealium_connection) == 0


def test_jsonl_is_streamed_not_loaded(tmp_path: Path, tealium_connection: TealiumEmulator) -> None:
    source = tmp_path / "big.jsonl"
    with source.open("w") as handle:
        for i in range(40):
            handle.write(json.dumps({"datalayer_id": f"row-{i}", "data": {"i": i}}) + "\n")
    reads: list[int] = []

    class CountingPath(ObjectStoragePath):
        def open(self, *args: Any, **kwargs: Any) -> Any:
            handle = super().open(*args, **kwargs)
            reads.append(1)
            return handle

    path = ObjectStoragePath(f"file://{source}")
    op = TealiumUploadDataLayerOperator(
        task_id="u", datalayers=path, requests_per_second=100, file_type="json", **FAST
    )
    result = op.execute({"ti": FakeTI()})
    assert sorted(result["landed"]) == sorted(f"row-{i}" for i in range(40))
    assert result["file_type"] == "json"
    assert all(k.endswith(".json") for k in store(tealium_connection.state).uploads)
    # iter_source yields lazily: the first pair is available before the file is read to the end.
    generator = iter_source(str(source))
    assert next(generator) == ("row-0", {"i": 0})
    generator.close()


def test_json_mapping_file_source(tmp_path: Path, tealium_connection: TealiumEmulator) -> None:
    source = tmp_path / "catalog.json"
    source.write_text(json.dumps(products(5)))
    result = TealiumUploadDataLayerOperator(task_id="u", datalayers=source, **FAST).execute({"ti": FakeTI()})
    assert sorted(result["landed"]) == sorted(products(5))


def test_single_upload_sets_the_published_link(tealium_connection: TealiumEmulator) -> None:
    op = TealiumUploadDataLayerOperator(
        task_id="one", datalayer_id="home", data={"page": "home"}, file_type="json", mode="upsert", **FAST
    )
    ti = FakeTI()
    result = op.execute({"ti": ti})
    assert result["landed"] == ["home"] and result["mode"] == "upsert"
    # Stored in the link's XCom while the task ran: that is what Airflow shows (and get_link reads).
    assert ti.xcom[TealiumDataLayerLink().xcom_key] == "https://tags.tiqcdn.com/dle/demo/main/home.json"
    # Nothing landed (the one upload is refused): no link is stored.
    tealium_connection.faults.add(method="PUT", path="/v2/dle/*", status=400, times=10)
    tealium_connection.faults.add(method="POST", path="/v2/dle/*", status=400, times=10)
    none_landed = FakeTI()
    with pytest.raises(TealiumError):
        TealiumUploadDataLayerOperator(
            task_id="x", datalayer_id="gone", data={"a": 1}, mode="upsert", **FAST
        ).execute({"ti": none_landed})
    assert TealiumDataLayerLink().xcom_key not in none_landed.xcom


def test_one_or_many_not_both() -> None:
    op = TealiumUploadDataLayerOperator(
        task_id="u", datalayer_id="a", data={"x": 1}, datalayers={"b": {"x": 1}}
    )
    with pytest.raises(TealiumValidationError, match="pass either datalayer_id and data"):
        op.execute({"ti": FakeTI()})


def test_delete_one_or_many(tealium_connection: TealiumEmulator) -> None:
    store(tealium_connection.state).seed_files("demo", "main", ["a", "b"])
    ti = FakeTI()
    result = TealiumDeleteDataLayerOperator(task_id="d", datalayer_ids=["a", "b", "c"], **FAST).execute(
        {"ti": ti}
    )
    assert result == {"deleted": ["a", "b"], "missing": ["c"], "failed": {}}
    strict = TealiumDeleteDataLayerOperator(task_id="d", datalayer_ids="c", missing_ok=False, **FAST)
    with pytest.raises(TealiumError, match="c: not found"):
        strict.execute({"ti": ti})
    with pytest.raises(TealiumValidationError, match="whitespace"):
        TealiumDeleteDataLayerOperator(task_id="d", datalayer_ids=["ok", "b c"]).execute({"ti": ti})


def test_secrets_never_reach_logs_errors_or_xcom(
    tealium_connection: TealiumEmulator, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    ti = FakeTI()
    seen: list[str] = []
    ok = TealiumUploadDataLayerOperator(task_id="u", datalayers=products(10), **FAST)
    seen.append(json.dumps(ok.execute({"ti": ti})))
    tealium_connection.faults.add(method="POST", path=ITEM.format("sku-3"), status=500)
    tealium_connection.faults.add(method="POST", path=ITEM.format("sku-4"), status=401)
    failing = TealiumUploadDataLayerOperator(task_id="u", datalayers=products(6), max_retries=1, **FAST)
    with pytest.raises(TealiumError) as info:
        failing.execute({"ti": ti})
    seen.append(str(info.value))
    seen.append(json.dumps(ti.xcom))
    for op in (ok, failing):
        seen.extend(repr(getattr(op, name)) for name in op.template_fields)
    secrets = [tealium_connection.api_key, *tealium_connection.state.issued_tokens]
    assert len(secrets) >= 2
    logged = capsys.readouterr()
    assert "Minting a v2 token" in logged.out + caplog.text  # the logs were captured
    haystack = caplog.text + logged.out + logged.err + "\n".join(seen)
    for secret in secrets:
        assert secret not in haystack
    assert "sku-4" in ti.xcom["return_value"]["failed"]
