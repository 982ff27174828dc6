"""Benchmark 6: triggerer density in a real deployment.

Benchmark 3 runs triggers in this process's event loop; this one runs them where users do: PostgreSQL,
``airflow scheduler``, ``dag-processor``, ``triggerer`` and ``api-server`` as separate processes
(``tests/deployment``), with :data:`WAITS` mapped deferrable data-layer sensors of one DAG run, each
awaiting one file, so the triggerer runs :data:`WAITS` provider triggers at once. Measured: the
triggerer's memory per trigger (its process tree's RSS with every trigger running and polled once,
against just before, after a warm-up run has loaded the provider's modules), whether Airflow logged a
blocked-loop warning or a deadlock (target: none), the time until every sensor was deferred, and the
delay from every file landing at once to the run's success (one poll interval, 10 s, plus resuming
:data:`WAITS` tasks in workers).
"""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks._result import Result

WAITS = 300
MEMORY_TARGET_KB = 50.0
SUITE_DAGS = Path(__file__).resolve().parents[1] / "tests" / "deployment" / "dags"


def run() -> list[Result]:
    """Start a deployment, warm it up, measure, stop it; returns the results."""
    from airflow_provider_tealium.testing.emulator import TealiumEmulator
    from tests.deployment.airflow_deployment import AirflowDeployment
    from tests.deployment.density import DAG_ID, measure, summary

    with TealiumEmulator() as emulator:
        airflow = AirflowDeployment([SUITE_DAGS])
        try:
            airflow.start()
            conn = json.loads(emulator.connection_json())
            airflow.api(
                "POST",
                "/api/v2/connections",
                json={
                    "connection_id": "tealium_default",
                    "conn_type": "tealium",
                    "login": conn["login"],
                    "password": conn["password"],
                    "extra": json.dumps(conn["extra"]),
                },
            )
            airflow.wait_for_dags([DAG_ID])
            measure(airflow, emulator, count=2, prefix="warmup")
            result = measure(airflow, emulator, count=WAITS, prefix="bench")
        finally:
            airflow.stop()
    print(f"triggerer density (deployment): {summary(result)}")
    clean = not result.blocked and not result.deadlocked and result.state == "success"
    return [
        Result(
            "triggerer (deployment)",
            f"memory per trigger ({WAITS} deferred sensors, triggerer process tree RSS)",
            round(result.kb_per_trigger, 1),
            "KB",
            None,
            f"<= {MEMORY_TARGET_KB:.0f} KB",
            result.kb_per_trigger <= MEMORY_TARGET_KB,
        ),
        Result(
            "triggerer (deployment)",
            "blocked-loop warnings / deadlocks logged by Airflow",
            float(len(result.blocked) + int(result.deadlocked)),
            "warnings",
            None,
            "none (run succeeds)",
            clean,
        ),
        Result(
            "triggerer (deployment)",
            f"time until all {WAITS} sensors were deferred",
            result.seconds_to_defer,
            "s",
            None,
            "reported",
            True,
        ),
        Result(
            "triggerer (deployment)",
            "every file landed -> run succeeded",
            result.landed_to_success,
            "s",
            None,
            "reported (one 10 s poll plus resuming the tasks)",
            True,
        ),
    ]
