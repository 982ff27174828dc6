"""Fault injection: the real operators (over real sockets) and example DAGs (``dag.test()``) against the
emulator's injected faults. Each run records its outcome and the invariants it checked in the table
printed at the end of the session (``tests/faults/conftest.py``); any broken invariant fails the test.

1. bursts of 429 (with and without ``Retry-After``)   6. the profile locked (409) for 20 seconds
2. 500/502/503 answers                                 7. a PATCH applied, then the connection dropped
3. connection resets                                   8. 5% of data layer uploads in failed-uploads
4. answers slower than the timeout                     9. IQM's limit of 20 requests a minute
5. tokens expiring mid-run (5-second lifetime)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_tealium._compat import AirflowFailException
from airflow_provider_tealium.api import profiles as p
from airflow_provider_tealium.exceptions import TealiumError
from airflow_provider_tealium.operators.datalayers import TealiumUploadDataLayerOperator
from airflow_provider_tealium.operators.iqm import IQMCreateReportOperator, IQMRunReportOperator
from airflow_provider_tealium.operators.profiles import TealiumGetProfileOperator, TealiumPatchProfileOperator
from airflow_provider_tealium.operators.publish import TealiumPublishOperator
from airflow_provider_tealium.sensors.datalayers import TealiumDataLayerSensor
from airflow_provider_tealium.testing.emulator import TealiumEmulator
from airflow_provider_tealium.testing.emulator.datalayers.backend import store as dle_store
from airflow_provider_tealium.testing.emulator.iqm.backend import iqm_state
from airflow_provider_tealium.testing.emulator.profiles.backend import store as profiles_store
from tests.e2e.conftest import DagResult
from tests.faults.conftest import set_tealium_extra
from tests.faults.invariants import (
    FakeTI,
    calls,
    check_datalayers,
    check_profile,
    check_publishes,
    check_report_file,
    failed_upload_ids,
    faults_applied,
    load_rules_named,
    patch_context,
    profile_versions,
    stored_ids,
)
from tests.faults.report import Row, record

pytestmark = pytest.mark.faults

DLE_ITEM = "/v2/dle/accounts/demo/profiles/main/datalayers/*"
PROFILE_PATH = "/v3/tiq/accounts/demo/profiles/main"
IQM_EXECUTE = "/api/v3/ra/report/execute"
RULE_NAME = "Fault campaign"
FAST_LOCK: dict[str, Any] = {"lock_backoff": 0.1, "lock_backoff_max": 1.0}
REPORT: dict[str, Any] = {
    "reportName": "Fault campaigns",
    "dimensions": [{"filter": "campaign", "value": [287846]}],
    "columns": ["impressions", "clicks", "spent"],
    "startDate": "2026-11-01",
    "endDate": "2026-11-07",
    "requestType": "daily",
}
NIGHTLY = "example_tealium_datalayer_nightly"
RELEASE = "example_tealium_release"
IQM_DAG = "example_iqm_campaign_report"


def products(n: int, prefix: str = "fault") -> dict[str, dict[str, Any]]:
    return {f"{prefix}-{i:04d}": {"sku": f"{prefix}-{i}", "price": i} for i in range(n)}


def add_rule() -> p.Operation:
    return p.Operation.add(
        p.LoadRule(RULE_NAME, conditions=[[p.Condition("qp.utm_campaign", "equals", "fault")]])
    )


def first_line(exc: BaseException, width: int = 100) -> str:
    text = str(exc).splitlines()[0]
    return text if len(text) <= width else text[: width - 3] + "..."


class Timer:
    def __enter__(self) -> Timer:
        self.start = time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.monotonic() - self.start


# --- runners shared by the scenarios --------------------------------------------------------------


def run_upload(
    emulator: TealiumEmulator, number: int, scenario: str, n: int = 60, expect_failed: int = 0, **kwargs: Any
) -> dict[str, Any]:
    """Bulk-upload ``n`` data layers under the active faults; checks nothing is lost; records the row."""
    items = products(n)
    ti = FakeTI()
    op = TealiumUploadDataLayerOperator(
        task_id="upload",
        datalayers=items,
        mode="upsert",
        max_workers=6,
        **{"requests_per_second": 100, **kwargs},
    )
    with Timer() as timer:
        if expect_failed:
            with pytest.raises(TealiumError) as info:
                op.execute({"ti": ti})
            outcome = f"failed after retries, by id: {first_line(info.value)}"
        else:
            ti.xcom["return_value"] = op.execute({"ti": ti})
            outcome = f"succeeded after {faults_applied(emulator)} retries"
    result = ti.xcom["return_value"]
    assert len(result["failed"]) == expect_failed, result["failed"]
    invariant = check_datalayers(emulator, items, result)
    record(Row(number, scenario, "TealiumUploadDataLayerOperator", outcome, [invariant], timer.seconds))
    return result


def run_patch(
    emulator: TealiumEmulator,
    number: int,
    scenario: str,
    *,
    error: str | None = None,
    retries: Callable[[], int] | None = None,
    **kwargs: Any,
) -> None:
    """PATCH one new load rule under the active faults; checks one version and one rule (or none on error)."""
    before = profile_versions(emulator)
    rules_before = load_rules_named(emulator, RULE_NAME)
    op = TealiumPatchProfileOperator(
        task_id="patch", operations=[add_rule()], notes="Fault run", **{**FAST_LOCK, **kwargs}
    )
    with Timer() as timer:
        if error is not None:
            with pytest.raises(TealiumError) as info:
                op.execute(patch_context())  # type: ignore[arg-type]
            assert error in str(info.value), str(info.value)
            outcome = f"failed fast: {first_line(info.value)}"
        else:
            result = op.execute(patch_context())  # type: ignore[arg-type]
            assert result["version_id"] == profile_versions(emulator)[-1]
            n = retries() if retries is not None else faults_applied(emulator)
            outcome = f"succeeded after {n} retries"
    saved = 0 if error is not None else 1
    labels = check_profile(emulator, before, saved, {RULE_NAME: rules_before + saved})
    record(Row(number, scenario, "TealiumPatchProfileOperator", outcome, labels, timer.seconds))


def run_report(
    emulator: TealiumEmulator,
    tmp_path: Path,
    number: int,
    scenario: str,
    rows: int = 25,
    page_size: int = 10,
    retries: Callable[[], int] | None = None,
    rate_window: float | None = None,
    **kwargs: Any,
) -> None:
    """Save a report, then run it page by page under the active faults; the file must hold every row once."""
    iqm_state(emulator.state).report_rows = rows
    create = IQMCreateReportOperator(task_id="create", report=REPORT)
    if rate_window is not None:
        # Every hook of the client must use the same window, or each setting gets its own limiter.
        create.hook.rate_window = rate_window
    report_id = create.execute({})  # type: ignore[arg-type]
    out = tmp_path / "report.csv"
    op = IQMRunReportOperator(
        task_id="run", report_id=report_id, output_path=str(out), page_size=page_size, **kwargs
    )
    if rate_window is not None:
        op.hook.rate_window = rate_window  # the client's limiter window, scaled down like the emulator's
    with Timer() as timer:
        result = op.execute({})  # type: ignore[arg-type]
    assert result["rows"] == rows
    n = retries() if retries is not None else faults_applied(emulator)
    invariant = check_report_file(emulator, report_id, out, rows)
    record(
        Row(
            number,
            scenario,
            "IQMRunReportOperator",
            f"succeeded after {n} retries",
            [invariant],
            timer.seconds,
        )
    )


def run_nightly(
    run_dag: Callable[..., DagResult],
    emulator: TealiumEmulator,
    number: int,
    scenario: str,
    products_: int = 60,
) -> tuple[DagResult, Row]:
    """The nightly data layer DAG (upload, resend failed, deferred wait) under the active faults."""
    dle_store(emulator.state).configure(landing_delay=0.2)
    with Timer() as timer:
        result = run_dag(NIGHTLY, run_conf={"products": products_})
    ids = [f"sku-{i:05d}" for i in range(products_)]
    upload = result.xcoms["upload_datalayers"]
    invariant = check_datalayers(emulator, ids, upload)
    if result.state == "success":
        assert result.task_states["upload_datalayers"] == "success"
        assert result.xcoms["wait_until_landed"]["landed"] == sorted(ids)
        outcome = f"succeeded after {faults_applied(emulator)} retries"
    else:
        outcome = f"failed: {result.task_states}"
    return result, record(Row(number, scenario, f"dag:{NIGHTLY}", outcome, [invariant], timer.seconds))


def run_release(
    run_dag: Callable[..., DagResult], emulator: TealiumEmulator, number: int, scenario: str, outcome: str
) -> tuple[DagResult, Row]:
    """The release DAG (sync, publish dev, wait, publish prod, wait) under the active faults."""
    before = profile_versions(emulator)
    with Timer() as timer:
        result = run_dag(RELEASE)
    assert result.state == "success", result.task_states
    labels = check_profile(emulator, before, 1, {"Holiday campaign": 1})
    assert profiles_store(emulator.state).patches_applied == 1
    labels.append(check_publishes(emulator, 2))
    row = Row(
        number,
        scenario,
        f"dag:{RELEASE}",
        outcome.format(retries=faults_applied(emulator)),
        labels,
        timer.seconds,
    )
    return result, record(row)


@pytest.fixture
def iqm(iqm_connection: TealiumEmulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[TealiumEmulator]:
    """``iqm_default`` with small backoffs and a limit high enough for the scenarios that do not test it."""
    iqm_state(iqm_connection.state).rate_limit = 100_000
    monkeypatch.setenv(
        "AIRFLOW_CONN_IQM_DEFAULT",
        iqm_connection.iqm_connection_json(requests_per_minute=100_000, backoff_base=0.01, backoff_max=0.05),
    )
    yield iqm_connection


# --- 1. bursts of 429 -----------------------------------------------------------------------------

S1 = "429 burst: 2 with Retry-After: 1, 3 without"
S1_BULK = "429 burst on 10 ids: 2 each, half with Retry-After: 1"


def burst_429(emulator: TealiumEmulator, method: str, path: str) -> None:
    """Five 429s in a row for a serial caller (within the default 5 retries)."""
    emulator.faults.add(method=method, path=path, status=429, times=2, headers={"Retry-After": "1"})
    emulator.faults.add(method=method, path=path, status=429, times=3)


def burst_429_bulk(emulator: TealiumEmulator, method: str) -> None:
    """Two 429s for each of ten data layers (twenty in all, across the concurrent workers)."""
    for i in range(10):
        headers = {"Retry-After": "1"} if i % 2 == 0 else None
        emulator.faults.add(
            method=method, path=DLE_ITEM.replace("*", f"*000{i}"), status=429, times=2, headers=headers
        )


def test_1_429_bursts_operators(tealium: TealiumEmulator, iqm: TealiumEmulator, tmp_path: Path) -> None:
    burst_429_bulk(tealium, "PUT")
    started = time.monotonic()
    run_upload(tealium, 1, S1_BULK)
    # Retry-After: 1 was honoured (the 0.05 s backoff alone would finish far sooner).
    assert time.monotonic() - started >= 1.0
    assert set(dle_store(tealium.state).uploads.values()) == {1}  # a 429 is never a second upload
    tealium.faults.clear()
    burst_429(tealium, "PATCH", PROFILE_PATH)
    run_patch(tealium, 1, S1)
    assert calls(tealium, "PATCH", PROFILE_PATH) == 6
    tealium.faults.clear()
    burst_429(tealium, "POST", IQM_EXECUTE)
    run_report(iqm, tmp_path, 1, S1)


def test_1_429_bursts_dag(run_dag: Callable[..., DagResult], tealium: TealiumEmulator) -> None:
    burst_429_bulk(tealium, "PUT")
    result, _ = run_nightly(run_dag, tealium, 1, S1_BULK)
    assert result.state == "success", result.task_states
    assert result.task_states["resend_failed"] == "skipped"


# --- 2. 500/502/503 -------------------------------------------------------------------------------

S2 = "500/502/503 answers (x3 each)"


def server_errors(emulator: TealiumEmulator, method: str, path: str, times: int = 3) -> None:
    for status in (500, 502, 503):
        emulator.faults.add(method=method, path=path, status=status, times=times)


def test_2_server_errors_operators(tealium: TealiumEmulator, iqm: TealiumEmulator, tmp_path: Path) -> None:
    server_errors(tealium, "PUT", DLE_ITEM)
    run_upload(tealium, 2, S2)
    tealium.faults.clear()
    # One id keeps failing: it is reported failed by id after the retries; the others land.
    tealium.faults.add(method="*", path=DLE_ITEM.replace("*", "fault-0007"), status=503)
    result = run_upload(tealium, 2, "503 forever on one id", expect_failed=1)
    assert "HTTP 503" in result["failed"]["fault-0007"]
    tealium.faults.clear()
    # A PATCH is not idempotent: 503 (not processed) is resent; a 502 (a gateway: maybe applied) is
    # resolved by looking for the task's marked version before resending.
    tealium.faults.add(method="PATCH", path=PROFILE_PATH, status=503, times=2)
    tealium.faults.add(method="PATCH", path=PROFILE_PATH, status=502, times=1)
    run_patch(tealium, 2, "PATCH: 503 x2, 502 x1")
    # A final 500 from Tealium fails at once, with its message, and sends the PATCH once.
    profiles_store(tealium.state).configure(inherits_library=True, lock_seconds=0)
    patches = calls(tealium, "PATCH", PROFILE_PATH)
    run_patch(tealium, 2, "PATCH: final 500", error="inherits from library profile")
    assert calls(tealium, "PATCH", PROFILE_PATH) == patches + 1
    server_errors(iqm, "POST", IQM_EXECUTE, times=1)
    run_report(iqm, tmp_path, 2, S2.replace("x3", "x1"))


def test_2_server_errors_dag(run_dag: Callable[..., DagResult], tealium: TealiumEmulator) -> None:
    server_errors(tealium, "PUT", DLE_ITEM)
    result, _ = run_nightly(run_dag, tealium, 2, S2)
    assert result.state == "success", result.task_states


# --- 3. connection resets -------------------------------------------------------------------------

S3 = "connection reset (x6)"


def test_3_resets_operators(tealium: TealiumEmulator, iqm: TealiumEmulator, tmp_path: Path) -> None:
    tealium.faults.add(method="PUT", path=DLE_ITEM, reset=True, times=6)
    run_upload(tealium, 3, S3)
    tealium.faults.clear()
    # Reset before the handler: nothing applied; the operator finds no marked version and resends once.
    tealium.faults.add(method="PATCH", path=PROFILE_PATH, reset=True, times=1)
    run_patch(tealium, 3, "connection reset on PATCH (x1)")
    tealium.faults.clear()
    tealium.faults.add(method="GET", path=PROFILE_PATH, reset=True, times=3)
    with Timer() as timer:
        profile = TealiumGetProfileOperator(task_id="get").execute(patch_context())  # type: ignore[arg-type]
    assert profile["loadRules"]
    record(
        Row(
            3,
            S3.replace("x6", "x3"),
            "TealiumGetProfileOperator",
            f"succeeded after {faults_applied(tealium)} retries",
            [],
            timer.seconds,
        )
    )
    iqm.faults.add(method="POST", path=IQM_EXECUTE, reset=True, times=3)
    run_report(iqm, tmp_path, 3, S3.replace("x6", "x3"))


def test_3_resets_dag(run_dag: Callable[..., DagResult], tealium: TealiumEmulator) -> None:
    tealium.faults.add(method="PUT", path=DLE_ITEM, reset=True, times=6)
    tealium.faults.add(method="GET", path="/v2/dle/*", reset=True, times=2)
    result, _ = run_nightly(run_dag, tealium, 3, S3 + " + 2 on the wait")
    assert result.state == "success", result.task_states


# --- 4. answers slower than the timeout -----------------------------------------------------------

S4 = "answer 1.5 s, timeout 1 s (x4)"


def test_4_slow_answers_operators(
    tealium: TealiumEmulator, iqm: TealiumEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_tealium_extra(tealium, monkeypatch, timeout=1)
    tealium.faults.add(method="PUT", path=DLE_ITEM, latency=1.5, times=4)
    run_upload(tealium, 4, S4)
    tealium.faults.clear()
    # The slow PATCH is applied after the client gave up; the operator must not save it twice.
    tealium.faults.add(method="PATCH", path=PROFILE_PATH, latency=1.5, times=1)
    run_patch(tealium, 4, S4.replace("x4", "x1, PATCH"))
    tealium.faults.clear()
    monkeypatch.setenv(
        "AIRFLOW_CONN_IQM_DEFAULT",
        iqm.iqm_connection_json(requests_per_minute=100_000, backoff_base=0.01, backoff_max=0.05, timeout=1),
    )
    iqm.faults.add(method="POST", path=IQM_EXECUTE, latency=1.5, times=2)
    run_report(iqm, tmp_path, 4, S4.replace("x4", "x2"))


def test_4_slow_answers_dag(
    run_dag: Callable[..., DagResult], tealium: TealiumEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_tealium_extra(tealium, monkeypatch, timeout=1)
    tealium.faults.add(method="PUT", path=DLE_ITEM, latency=1.5, times=4)
    result, _ = run_nightly(run_dag, tealium, 4, S4)
    assert result.state == "success", result.task_states


# --- 5. tokens expiring mid-run -------------------------------------------------------------------

S5 = "token lifetime 5 s"


def token_outcome(emulator: TealiumEmulator, family: str) -> str:
    stats = emulator.state.stats()
    mints = stats["mint_totals"].get(family, 0)
    return f"succeeded after {stats['token_rejections']} retries ({mints} {family} tokens minted)"


def test_5_tokens_expire_during_bulk_upload(tealium: TealiumEmulator) -> None:
    tealium.state.token_lifetime = 5
    items = products(65)
    ti = FakeTI()
    op = TealiumUploadDataLayerOperator(
        task_id="upload", datalayers=items, requests_per_second=10, max_workers=2
    )
    with Timer() as timer:
        result = op.execute({"ti": ti})
    assert timer.seconds > 6, "the upload must outlive a token"
    minted = tealium.state.stats()["mint_totals"]["v2"]
    assert minted >= 2, "the token was never renewed"
    assert minted <= 4, f"{minted} mints for a 7 s run: tokens are renewed too often"
    invariant = check_datalayers(tealium, items, result)
    record(
        Row(
            5,
            S5 + " (upload paced over 6.5 s)",
            "TealiumUploadDataLayerOperator",
            token_outcome(tealium, "v2"),
            [invariant],
            timer.seconds,
        )
    )


def test_5_tokens_expire_during_publish_wait(tealium: TealiumEmulator) -> None:
    tealium.state.token_lifetime = 5
    profiles_store(tealium.state).configure(publish_queued_seconds=1.0, publish_processing_seconds=5.5)
    op = TealiumPublishOperator(task_id="publish", targets=["dev"], wait_for_completion=True, poll_interval=1)
    with Timer() as timer:
        result = op.execute(patch_context())  # type: ignore[arg-type]
    assert result["state"] == "published"
    assert tealium.state.stats()["mint_totals"]["v3"] >= 2
    record(
        Row(
            5,
            S5 + " (publish wait 6.5 s)",
            "TealiumPublishOperator",
            token_outcome(tealium, "v3"),
            [check_publishes(tealium, 1)],
            timer.seconds,
        )
    )


def test_5_tokens_expire_during_release_dag(
    run_dag: Callable[..., DagResult], tealium: TealiumEmulator
) -> None:
    tealium.state.token_lifetime = 5
    # Two publishes of 2 s each: the run outlives the first token, in the worker and in the triggerer.
    profiles_store(tealium.state).configure(
        lock_seconds=0, publish_queued_seconds=0.5, publish_processing_seconds=1.5
    )
    result, row = run_release(run_dag, tealium, 5, S5, "succeeded")
    stats = tealium.state.stats()
    assert stats["mint_totals"]["v3"] >= 2, stats["mints"]
    row.outcome = token_outcome(tealium, "v3")
    assert result.xcoms["wait_prod"]["state"] == "published"


# --- 6. the profile locked for 20 seconds ---------------------------------------------------------

S6 = "409 'Users are currently viewing' for 20 s"


def test_6_profile_locked_for_20_seconds(run_dag: Callable[..., DagResult], tealium: TealiumEmulator) -> None:
    """The PATCH operator (in a thread) and the release DAG's sync (``dag.test()``) both wait out one 20 s lock."""
    profile_versions(tealium)  # create the profile before the lock starts
    # No post-update lock here, so both writers can save once the viewers leave.
    profiles_store(tealium.state).configure(users_viewing=20, lock_seconds=0)
    started = time.monotonic()
    errors: list[BaseException] = []
    results: list[dict[str, Any]] = []
    op = TealiumPatchProfileOperator(
        task_id="patch",
        operations=[add_rule()],
        notes="Fault run",
        lock_timeout=60,
        lock_backoff=1,
        lock_backoff_max=2,
    )

    def operator_run() -> None:
        try:
            results.append(op.execute(patch_context()))  # type: ignore[arg-type]
        except BaseException as exc:  # re-raised in the test thread
            errors.append(exc)
        results.append({"seconds": time.monotonic() - started})

    before = profile_versions(tealium)
    worker = threading.Thread(target=operator_run)
    worker.start()
    with Timer() as timer:
        result = run_dag(RELEASE)
    worker.join(timeout=60)
    assert not errors, errors
    assert result.state == "success", result.task_states
    assert results[-1]["seconds"] >= 20, "the operator saved before the 20 s lock ended"
    assert time.monotonic() - started >= 20
    # Both writers saved exactly once: two versions, each rule once.
    labels = check_profile(tealium, before, 2, {RULE_NAME: 1, "Holiday campaign": 1})
    assert profiles_store(tealium.state).patches_applied == 2
    assert results[0]["version_id"] in profile_versions(tealium)
    refused = calls(tealium, "PATCH", PROFILE_PATH) - 2
    outcome = f"succeeded after {refused} lock retries (409s, both writers)"
    record(Row(6, S6, "TealiumPatchProfileOperator", outcome, labels, results[-1]["seconds"]))
    record(Row(6, S6, f"dag:{RELEASE}", outcome, [*labels, check_publishes(tealium, 2)], timer.seconds))


def test_6_lock_longer_than_lock_timeout_fails_fast(tealium: TealiumEmulator) -> None:
    profile_versions(tealium)
    profiles_store(tealium.state).configure(users_viewing=20)
    run_patch(
        tealium, 6, S6 + ", lock_timeout=1", error="was still locked after 1 s (lock_timeout)", lock_timeout=1
    )
    profiles_store(tealium.state).configure(users_viewing=False)


# --- 7. a PATCH applied, then the connection dropped ----------------------------------------------

S7 = "applied, then connection dropped"


def test_7_drop_after_apply_operators(tealium: TealiumEmulator) -> None:
    tealium.faults.add(method="PATCH", path=PROFILE_PATH, drop_after_apply=True, times=1)
    run_patch(tealium, 7, S7 + " (PATCH)")
    assert calls(tealium, "PATCH", PROFILE_PATH) == 1  # found by its marker: never resent
    tealium.faults.clear()
    # A publish whose answer is lost is not resent (it could publish twice): it fails saying so.
    tealium.faults.add(method="POST", path=PROFILE_PATH + "/publish*", drop_after_apply=True, times=1)
    op = TealiumPublishOperator(task_id="publish", targets=["dev"])
    with Timer() as timer, pytest.raises(TealiumError) as info:
        op.execute(patch_context())  # type: ignore[arg-type]
    assert "not resent" in str(info.value) or "not idempotent" in str(info.value), str(info.value)
    record(
        Row(
            7,
            S7 + " (publish)",
            "TealiumPublishOperator",
            f"failed fast: ...{str(info.value)[str(info.value).index('no answer') :]}",
            [check_publishes(tealium, 1)],
            timer.seconds,
        )
    )
    tealium.faults.clear()
    tealium.faults.add(method="PUT", path=DLE_ITEM, drop_after_apply=True, times=5)
    run_upload(tealium, 7, S7 + " (data layers x5)")


def test_7_drop_after_apply_dag(run_dag: Callable[..., DagResult], tealium: TealiumEmulator) -> None:
    tealium.faults.add(method="PATCH", path=PROFILE_PATH, drop_after_apply=True, times=1)
    run_release(
        run_dag,
        tealium,
        7,
        S7 + " (sync PATCH)",
        "succeeded after {retries} retries (marker found, not resent)",
    )
    assert calls(tealium, "PATCH", PROFILE_PATH) == 1


# --- 8. 5% of uploads land in failed-uploads ------------------------------------------------------

S8 = "5% of uploads in failed-uploads"


def test_8_failed_uploads_reported_by_id(tealium: TealiumEmulator) -> None:
    dle_store(tealium.state).configure(fail_fraction=0.05, seed=8, landing_delay=0.2)
    since = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    result = run_upload(tealium, 8, S8 + " (upload)", n=200)
    time.sleep(0.3)
    failed = failed_upload_ids(tealium)
    assert 2 <= len(failed) <= 25, failed  # about 5% of 200
    sensor = TealiumDataLayerSensor(
        task_id="wait", datalayer_ids=list(result["landed"]), since=since, poke_interval=1
    )
    with Timer() as timer, pytest.raises(AirflowFailException) as info:
        for _ in range(20):
            if sensor.poke({}):  # type: ignore[arg-type]
                break
            time.sleep(0.2)
    message = str(info.value)
    named = {i for i in result["landed"] if f"{i} (" in message}
    assert named == failed, f"reported {sorted(named)}, failed-uploads holds {sorted(failed)}"
    assert stored_ids(tealium) | failed == set(result["landed"])
    record(
        Row(
            8,
            S8 + " (wait)",
            "TealiumDataLayerSensor",
            f"failed fast: {first_line(message)}",
            [f"no data layer lost=ok ({len(failed)} failed by id, rest landed)"],
            timer.seconds,
        )
    )


def test_8_failed_uploads_dag(
    run_dag: Callable[..., DagResult],
    tealium: TealiumEmulator,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    dle_store(tealium.state).configure(fail_fraction=0.05, seed=8)
    result, row = run_nightly(run_dag, tealium, 8, S8, products_=100)
    assert result.state == "failed"
    assert result.task_states["upload_datalayers"] == "success"
    assert result.task_states["wait_until_landed"] == "failed"
    failed = failed_upload_ids(tealium)
    assert failed and stored_ids(tealium) | failed == {f"sku-{i:05d}" for i in range(100)}
    row.outcome = (
        f"upload succeeded; wait failed fast: {len(failed)} data layer upload(s) failed ... (ids named)"
    )
    row.invariants = [f"no data layer lost=ok ({100 - len(failed)} landed, {len(failed)} failed by id)"]
    from airflow import __version__ as airflow_version

    if tuple(int(x) for x in airflow_version.split(".")[:2]) < (3, 1):
        # Airflow 3.0's dag.test() does not print a failed task's exception anywhere; that the message
        # names exactly these ids is asserted on every version by test_8_failed_uploads_reported_by_id.
        return
    # The wait task's log names exactly the ids in failed-uploads (dag.test() prints task logs).
    out = capfd.readouterr()
    printed = "\n".join([out.out, out.err, *(record.getMessage() for record in caplog.records)])
    lines = [line for line in printed.splitlines() if "failed according to Tealium's failed-uploads" in line]
    assert lines, "the wait task did not say which uploads failed"
    named = {f"sku-{i:05d}" for i in range(100) if f"sku-{i:05d} (" in lines[-1]}
    assert named == failed, f"named {sorted(named)}, failed-uploads holds {sorted(failed)}"


# --- 9. IQM's limit of 20 requests a minute -------------------------------------------------------

WINDOW = 1.5  # the minute, scaled down: 20 requests per 1.5 s on both sides
S9 = f"IQM 20 requests/window (window scaled 60 s -> {WINDOW} s)"


def test_9_iqm_limit_client_limiter_matched(
    iqm_connection: TealiumEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = iqm_state(iqm_connection.state)
    state.rate_limit, state.rate_window = 20, WINDOW
    monkeypatch.setenv(
        "AIRFLOW_CONN_IQM_DEFAULT",
        iqm_connection.iqm_connection_json(requests_per_minute=20, backoff_base=0.01),
    )
    started = time.monotonic()
    # 45 pages + login: 46 calls, more than twice the limit.
    run_report(
        iqm_connection,
        tmp_path,
        9,
        S9 + ", client limiter 20/window",
        rows=45,
        page_size=1,
        retries=lambda: state.counters["rate_limited"],
        rate_window=WINDOW,
    )
    assert state.counters["rate_limited"] == 0, "the client limiter let calls over the limit"
    assert time.monotonic() - started >= WINDOW


def test_9_iqm_limit_client_unlimited_waits_out_429(
    iqm_connection: TealiumEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = iqm_state(iqm_connection.state)
    state.rate_limit, state.rate_window = 20, WINDOW
    monkeypatch.setenv(
        "AIRFLOW_CONN_IQM_DEFAULT",
        iqm_connection.iqm_connection_json(requests_per_minute=100_000, backoff_base=0.01),
    )
    run_report(
        iqm_connection,
        tmp_path,
        9,
        S9 + ", no client limit",
        rows=45,
        page_size=1,
        retries=lambda: state.counters["rate_limited"],
    )
    assert state.counters["rate_limited"] >= 1


def test_9_iqm_limit_dag(
    run_dag: Callable[..., DagResult],
    iqm_connection: TealiumEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import pendulum

    state = iqm_state(iqm_connection.state)
    state.rate_limit, state.rate_window, state.report_rows = 1, 1.0, 30
    monkeypatch.setenv("IQM_REPORT_DIR", str(tmp_path))
    monkeypatch.setenv("AIRFLOW_CONN_IQM_DEFAULT", iqm_connection.iqm_connection_json(backoff_base=0.01))
    with Timer() as timer:
        result = run_dag(IQM_DAG, logical_date=pendulum.datetime(2026, 11, 22, tz="UTC"))
    assert result.state == "success", result.task_states
    value = result.xcoms["campaign_performance"]
    assert value["rows"] == 30
    assert state.counters["rate_limited"] >= 1
    with open(value["path"]) as f:
        written = f.read().splitlines()
    assert len(written) == 31 and len(set(written)) == 31
    record(
        Row(
            9,
            "IQM limit 1 request/1 s (client default 20/min)",
            f"dag:{IQM_DAG}",
            f"succeeded after {state.counters['rate_limited']} retries (429 Retry-After)",
            [f"no report row lost/duplicated=ok ({len(written) - 1} rows)"],
            timer.seconds,
        )
    )
