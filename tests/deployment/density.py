"""Triggerer density in a real deployment: many deferred data-layer waits on one triggerer.

Used by the deployment suite (a few dozen triggers) and by ``make bench`` (a few hundred,
``benchmarks/bench_triggerer_deployment.py``). It triggers ``deployment_triggerer_density`` (one mapped
sensor per id), waits until every sensor is deferred and every trigger has polled, measures the triggerer's
memory (its whole process tree) against the moment before, then makes every file land at once and waits
for the run to succeed. Airflow's blocked-loop warnings logged meanwhile are collected.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

import psutil

from airflow_provider_tealium.testing.emulator import TealiumEmulator
from tests.deployment.airflow_deployment import AirflowDeployment

DAG_ID = "deployment_triggerer_density"
CLASSPATH = "airflow_provider_tealium.triggers.datalayers.TealiumDataLayerTrigger"
POLL_INTERVAL = 10.0
_BLOCKED = re.compile(r"async thread was blocked for ([0-9.]+) seconds")


@dataclass
class Density:
    """What one density run measured.

    :param triggers: triggers that ran at once.
    :param rss_before: the triggerer's memory before (bytes, process tree).
    :param rss_loaded: its memory with every trigger running and polled once.
    :param seconds_to_defer: from the trigger of the run to every sensor deferred.
    :param landed_to_success: from the files landing to the run's success.
    :param blocked: Airflow's blocked-loop warnings meanwhile (seconds each).
    :param deadlocked: whether Airflow reported the loop deadlocked.
    :param state: the run's final state.
    """

    triggers: int
    rss_before: int
    rss_loaded: int
    seconds_to_defer: float
    landed_to_success: float
    blocked: list[float] = field(default_factory=list)
    deadlocked: bool = False
    state: str = ""

    @property
    def kb_per_trigger(self) -> float:
        """Memory per trigger (KB)."""
        return (self.rss_loaded - self.rss_before) / 1024 / max(self.triggers, 1)


def triggerer_rss(airflow: AirflowDeployment) -> int:
    """Resident memory of the triggerer and all its children (the trigger runner), in bytes.

    :param airflow: the deployment.
    """
    root = psutil.Process(airflow.processes["triggerer"].pid)
    total = 0
    for proc in [root, *root.children(recursive=True)]:
        try:
            total += proc.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total


def _running_triggers(airflow: AirflowDeployment, run_id: str) -> int:
    """Waits of the run that are deferred with their trigger picked up by a triggerer."""
    rows = airflow.postgres.query(
        "SELECT count(*) FROM task_instance ti JOIN trigger t ON ti.trigger_id = t.id "
        f"WHERE ti.dag_id = '{DAG_ID}' AND ti.run_id = '{run_id}' AND ti.state = 'deferred' "
        f"AND t.classpath = '{CLASSPATH}' AND t.triggerer_id IS NOT NULL"
    )
    return int(rows[0][0])  # type: ignore[call-overload]


def measure(airflow: AirflowDeployment, emulator: TealiumEmulator, count: int, prefix: str) -> Density:
    """Run the density DAG with ``count`` waits and measure; the run has ended when this returns.

    :param airflow: a started deployment with the suite's DAGs unpaused.
    :param emulator: its emulator (the files are made to land through its state).
    :param count: how many waits (triggers).
    :param prefix: the ids' prefix (distinct per measurement, so files of an earlier one never count).
    """
    from airflow_provider_tealium.testing.emulator.datalayers.backend import store

    log_path = airflow.logs / "triggerer.log"
    log_offset = log_path.stat().st_size
    rss_before = triggerer_rss(airflow)
    started = time.monotonic()
    run_id = airflow.trigger(DAG_ID, {"count": count, "prefix": prefix})
    airflow.wait_for(
        lambda: _running_triggers(airflow, run_id) >= count, 60 + count * 3, f"{count} deferred waits", 1
    )
    seconds_to_defer = time.monotonic() - started
    # One full poll interval, so every trigger has polled (and holds what it keeps between polls).
    time.sleep(POLL_INTERVAL + 2)
    rss_loaded = triggerer_rss(airflow)
    store(emulator.state).seed_files("demo", "main", [f"{prefix}-{i:04d}" for i in range(count)])
    landed = time.monotonic()
    state = airflow.wait_for_run(DAG_ID, run_id, timeout=120 + count)
    landed_to_success = time.monotonic() - landed
    with log_path.open(errors="replace") as log:
        log.seek(log_offset)
        text = log.read()
    return Density(
        triggers=count,
        rss_before=rss_before,
        rss_loaded=rss_loaded,
        seconds_to_defer=round(seconds_to_defer, 1),
        landed_to_success=round(landed_to_success, 1),
        blocked=[float(s) for s in _BLOCKED.findall(text)],
        deadlocked="appears deadlocked" in text,
        state=state,
    )


def summary(result: Density) -> dict[str, Any]:
    """The figures, for printing.

    :param result: a measurement.
    """
    return {
        "triggers": result.triggers,
        "kb_per_trigger": round(result.kb_per_trigger, 1),
        "seconds_to_defer": result.seconds_to_defer,
        "landed_to_success": result.landed_to_success,
        "blocked_loop_warnings": result.blocked,
        "deadlocked": result.deadlocked,
        "state": result.state,
    }
