"""The deployment suite's session: one emulator and one real Airflow deployment for every test in it.

The emulator runs in this process (its state is read directly); Airflow's processes reach it over
127.0.0.1 like they would reach Tealium. Connections carry distinctive fake secrets, so the leak checks
can search everything Airflow kept for them. Both are stopped when the session ends, pass or fail.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_tealium.testing.emulator import TealiumEmulator
from tests.deployment.airflow_deployment import AirflowDeployment

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_DAGS = ROOT / "example_dags"
SUITE_DAGS = Path(__file__).resolve().parent / "dags"

EMAIL = "deploy-check@example.com"
API_KEY = "tealium-api-key-DEPLOYCHECK-2f81c0"
V1_PASSWORD = "v1-password-DEPLOYCHECK-9a3e71"
IQM_PASSWORD = "iqm-password-DEPLOYCHECK-4d0b6e"
CLIENT_SECRET = "iqm-client-secret-DEPLOYCHECK-77c1f5"

EXAMPLE_DAG_IDS = (
    "example_tealium_connection",
    "example_tealium_release",
    "example_tealium_datalayer_nightly",
    "example_tealium_revision_audit",
    "example_iqm_campaign_report",
)


FIGURES: list[str] = []
"""Measurements the suite's tests report; printed at the end of the run (``make test`` output)."""


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """Print what the deployment suite measured."""
    if FIGURES:
        terminalreporter.section("deployment figures")
        for line in FIGURES:
            terminalreporter.write_line(line)


@dataclass
class Observations:
    """What the suite saw while runs were going: kept for the checks that come after them.

    :param trigger_rows: decrypted ``trigger.kwargs`` of every provider trigger row seen.
    :param most_triggers: the most provider triggers in the ``trigger`` table at one time.
    :param health: triggerer health states seen while sampling.
    """

    trigger_rows: dict[int, str] = field(default_factory=dict)
    most_triggers: int = 0
    health: list[str] = field(default_factory=list)


@dataclass
class Deployed:
    """The session's deployment, its emulator and what was observed."""

    airflow: AirflowDeployment
    emulator: TealiumEmulator
    seen: Observations
    artifact_dir: Path

    def sample(self) -> None:
        """Record the provider trigger rows now in the database and the triggerer's health."""
        from cryptography.fernet import Fernet

        fernet = Fernet(self.airflow.environment()["AIRFLOW__CORE__FERNET_KEY"].encode())
        rows = self.airflow.postgres.query(
            "SELECT id, kwargs FROM trigger WHERE classpath LIKE 'airflow_provider_tealium.%'"
        )
        self.seen.most_triggers = max(self.seen.most_triggers, len(rows))
        for trigger_id, kwargs in rows:
            text = str(kwargs)
            if not text.startswith("{"):
                text = fernet.decrypt(text.encode()).decode()
            self.seen.trigger_rows[int(trigger_id)] = text  # type: ignore[call-overload]
        self.seen.health.append(str(self.airflow.health().get("triggerer", {}).get("status")))

    def wait_for_runs(self, runs: dict[str, str], timeout: float = 420) -> dict[str, str]:
        """Wait until every run ends, sampling meanwhile; ``{dag_id: state}``.

        :param runs: ``{dag_id: run_id}``.
        :param timeout: seconds for all of them.
        """
        deadline = time.monotonic() + timeout
        states: dict[str, str] = {}
        while len(states) < len(runs):
            self.sample()
            for dag_id, run_id in runs.items():
                if dag_id not in states:
                    state = self.airflow.run_state(dag_id, run_id)
                    if state in ("success", "failed"):
                        states[dag_id] = state
            if time.monotonic() > deadline:
                pending = {d: self.airflow.run_state(d, r) for d, r in runs.items() if d not in states}
                raise TimeoutError(
                    f"runs not finished after {timeout:.0f} s: {pending}; logs in {self.airflow.home}"
                )
            time.sleep(0.5)
        return states

    def secrets(self) -> list[str]:
        """Every secret the emulator knows or handed out."""
        from airflow_provider_tealium.testing.emulator.auth.backend import v1_sessions

        found = [API_KEY, V1_PASSWORD, IQM_PASSWORD, CLIENT_SECRET, *self.emulator.state.issued_tokens]
        for session_id, (_email, utk, _expires) in v1_sessions(self.emulator.state).sessions.items():
            found += [session_id, utk]
        return found


def connections(emulator: TealiumEmulator) -> list[dict[str, Any]]:
    """The suite's ``tealium_default`` and ``iqm_default``, as the REST API takes them."""
    tealium = json.loads(emulator.connection_json())
    tealium["extra"]["v1_password"] = V1_PASSWORD
    iqm = json.loads(emulator.iqm_connection_json())
    iqm["extra"]["client_secret"] = CLIENT_SECRET
    return [
        {
            "connection_id": "tealium_default",
            "conn_type": "tealium",
            "login": EMAIL,
            "password": API_KEY,
            "extra": json.dumps(tealium["extra"]),
        },
        {
            "connection_id": "iqm_default",
            "conn_type": "iqm",
            "login": EMAIL,
            "password": IQM_PASSWORD,
            "extra": json.dumps(iqm["extra"]),
        },
    ]


def _stage(emulator: TealiumEmulator) -> None:
    from airflow_provider_tealium.testing.emulator.iqm.backend import DEFAULT_CLIENT_ID, iqm_state

    state = emulator.state
    state.add_user(EMAIL, API_KEY, V1_PASSWORD)
    knobs = iqm_state(state)
    knobs.clients[DEFAULT_CLIENT_ID] = CLIENT_SECRET
    knobs.users[EMAIL] = IQM_PASSWORD


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@pytest.fixture(scope="session")
def deployed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    """The emulator and a started deployment with the example DAGs (unpaused) and the suite's own DAGs."""
    artifact_dir = tmp_path_factory.mktemp("artifacts")
    emulator = TealiumEmulator().start()
    airflow = AirflowDeployment(
        [EXAMPLE_DAGS, SUITE_DAGS],
        env={"IQM_REPORT_DIR": str(artifact_dir), "TEALIUM_ARTIFACT_DIR": str(artifact_dir)},
    )
    # A SIGTERM (CI's timeout, a killed make) must still stop every process by PID: turned into the
    # exception a Ctrl-C raises, it unwinds through the finally below.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        _stage(emulator)
        airflow.start()
        for connection in connections(emulator):
            airflow.api("POST", "/api/v2/connections", json=connection)
        yield Deployed(airflow, emulator, Observations(), artifact_dir)
    finally:
        airflow.stop()
        emulator.stop()
        signal.signal(signal.SIGTERM, previous)
        # The logs (task logs, each process's output) stay for a failed run, or when asked to.
        if os.environ.get("KEEP_DEPLOYMENT_LOGS") or request.session.testsfailed:
            FIGURES.append(f"deployment logs kept in {airflow.home}")
        else:
            shutil.rmtree(airflow.home, ignore_errors=True)
