"""Many deferred data-layer waits at once, for the triggerer-density measurements in a real deployment.

One mapped :class:`~airflow_provider_tealium.sensors.datalayers.TealiumDataLayerSensor` per id (``params.count``
of them, each awaiting one data layer that does not exist yet), so the triggerer runs one trigger per task,
as it would for as many DAGs waiting at once. The measuring side makes the files land when it is done.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import dag, task

from airflow_provider_tealium.sensors.datalayers import TealiumDataLayerSensor


@dag(
    dag_id="deployment_triggerer_density",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    params={"count": 100, "prefix": "density"},
    max_active_tasks=1000,
    tags=["tealium", "deployment-suite"],
)
def deployment_triggerer_density() -> None:
    @task
    def ids(params: dict[str, Any] | None = None) -> list[str]:
        params = params or {}
        return [f"{params.get('prefix', 'density')}-{i:04d}" for i in range(int(params.get("count", 100)))]

    TealiumDataLayerSensor.partial(
        task_id="wait",
        # Only files that land after the run was asked for count (an older one never would).
        since="{{ dag_run.run_after }}",
        deferrable=True,
        poke_interval=10,
        timeout=1800,
    ).expand(datalayer_ids=ids())


deployment_triggerer_density()
