"""No secret reaches a log, an XCom, a rendered template field or an exception message.

Every example DAG runs end to end (``dag.test()``, real HTTP against the emulator) with distinctive
credentials, on its success path and on a failure path; then everything Airflow kept or printed is
searched for the API key, the v1 password, the IQM password and client secret, and every token, refresh
token, JSESSIONID and utk the emulator handed out.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import DagResult

pytestmark = pytest.mark.e2e

EMAIL = "leak-test@example.com"
API_KEY = "tealium-api-key-LEAKCHECK-7f3a9c"
V1_PASSWORD = "v1-password-LEAKCHECK-51be20"
IQM_PASSWORD = "iqm-password-LEAKCHECK-c09d44"
CLIENT_SECRET = "iqm-client-secret-LEAKCHECK-e2a7b1"

EXAMPLE_DAGS = (
    "example_tealium_connection",
    "example_tealium_release",
    "example_tealium_datalayer_nightly",
    "example_tealium_revision_audit",
    "example_iqm_campaign_report",
)


@pytest.fixture
def leak_connections(
    run_dag: Callable[..., DagResult], tealium_emulator: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Any]:
    """Connections with distinctive secrets (set after ``run_dag``'s default ones, so these win)."""
    from airflow_provider_tealium.testing.emulator.datalayers.backend import store
    from airflow_provider_tealium.testing.emulator.iqm.backend import DEFAULT_CLIENT_ID, iqm_state

    state = tealium_emulator.state
    state.add_user(EMAIL, API_KEY, V1_PASSWORD)
    knobs = iqm_state(state)
    knobs.clients[DEFAULT_CLIENT_ID] = CLIENT_SECRET
    knobs.users[EMAIL] = IQM_PASSWORD
    store(state).configure(landing_delay=0.2)
    tealium = json.loads(tealium_emulator.connection_json())
    tealium.update(login=EMAIL, password=API_KEY)
    tealium["extra"]["v1_password"] = V1_PASSWORD
    tealium["extra"].update(max_retries=1, backoff_base=0.01, backoff_max=0.02)
    iqm = json.loads(tealium_emulator.iqm_connection_json())
    iqm.update(login=EMAIL, password=IQM_PASSWORD)
    iqm["extra"].update(client_secret=CLIENT_SECRET, max_retries=1, backoff_base=0.01, backoff_max=0.02)
    monkeypatch.setenv("AIRFLOW_CONN_TEALIUM_DEFAULT", json.dumps(tealium))
    monkeypatch.setenv("AIRFLOW_CONN_IQM_DEFAULT", json.dumps(iqm))
    monkeypatch.setenv("IQM_REPORT_DIR", str(tmp_path))
    yield tealium_emulator


def _rendered_fields() -> list[Any]:
    from airflow.models.renderedtifields import RenderedTaskInstanceFields
    from airflow.utils.session import create_session

    with create_session() as session:
        return [row.rendered_fields for row in session.query(RenderedTaskInstanceFields).all()]


def _airflow_version() -> tuple[int, int]:
    from airflow import __version__

    major, minor = __version__.split(".")[:2]
    return int(major), int(minor)


def _without_upstream_harness_lines(output: str) -> str:
    """Drop the one line Airflow 3.0's own ``dag.test()`` harness prints with a secret in it.

    Airflow 3.0's in-process supervisor (used only by ``dag.test()``) logs every message the task sends
    it at DEBUG level, including the masker's ``MaskSecret(value=...)``: registering a secret prints it.
    Production supervisors log that message as "body omitted", and Airflow 3.1+ does so in ``dag.test()``
    too. Only that exact line is dropped, and only on Airflow 3.0; everything else is still searched.
    """
    if _airflow_version() >= (3, 1):
        return output
    return "\n".join(
        line for line in output.splitlines() if not ("Sending request" in line and "msg=MaskSecret(" in line)
    )


def _handed_out(state: Any) -> list[str]:
    from airflow_provider_tealium.testing.emulator.auth.backend import v1_sessions

    secrets = [API_KEY, V1_PASSWORD, IQM_PASSWORD, CLIENT_SECRET, *state.issued_tokens]
    for session_id, (_email, utk, _expires) in v1_sessions(state).sessions.items():
        secrets += [session_id, utk]
    return secrets


def test_no_secret_reaches_logs_xcom_rendered_fields_or_errors(
    leak_connections: Any, run_dag: Callable[..., DagResult], capfd: pytest.CaptureFixture[str]
) -> None:
    from airflow_provider_tealium.testing.emulator.revisions_store import stage_demo

    state = leak_connections.state
    results: dict[str, DagResult] = {}
    for dag_id in EXAMPLE_DAGS:
        stage_demo(state, dag_id)
        results[dag_id] = run_dag(dag_id)
    assert {d: r.state for d, r in results.items()} == dict.fromkeys(EXAMPLE_DAGS, "success")

    # Failure paths: Tealium and IQM refuse every call after authentication; the tasks fail with the
    # provider's exception, which Airflow logs with its traceback.
    leak_connections.faults.add(method="*", path="/v3/tiq/*", status=500, body={"message": "boom"})
    leak_connections.faults.add(method="*", path="/v2/dle/*", status=500, body={"message": "boom"})
    leak_connections.faults.add(method="*", path="/api/v3/ra/*", status=500, body={"message": "boom"})
    for dag_id in (
        "example_tealium_release",
        "example_tealium_datalayer_nightly",
        "example_iqm_campaign_report",
    ):
        assert run_dag(dag_id).state == "failed"

    captured = capfd.readouterr()
    home = Path(os.environ["AIRFLOW_HOME"])
    log_files = "\n".join(p.read_text(errors="replace") for p in home.rglob("*.log") if p.is_file())
    haystacks = {
        "task output": _without_upstream_harness_lines(captured.out + captured.err),
        "log files": log_files,
        "xcom": json.dumps([r.xcoms for r in results.values()], default=str),
        "rendered template fields": json.dumps(_rendered_fields(), default=str),
    }
    assert "Traceback" in haystacks["task output"], "the failure paths must have been logged"
    assert "LEAKCHECK" not in haystacks["xcom"]
    secrets = _handed_out(state)
    assert len(secrets) > 10, "the runs must have been handed real tokens"
    leaks = [
        f"{where}: {secret[:6]}..."
        for secret in secrets
        for where, text in haystacks.items()
        if secret in text
    ]
    assert leaks == []
