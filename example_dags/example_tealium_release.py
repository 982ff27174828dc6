"""A tag release pipeline: sync the profile to the spec in git, publish to dev, wait, publish to prod, wait.

The desired load rules and variables live in ``tealium_release_spec.yaml`` next to this file. The sync
sends one PATCH (one saved version) with only what differs, and nothing at all when the profile
already matches. The waits are deferrable: the triggerer polls the publish, not a worker slot.

Run it against the local emulator with ``make demo DAG=example_tealium_release``, or in your own
Airflow after creating the ``tealium_default`` connection (with an account and profile).
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag

from airflow_provider_tealium.operators.profiles import TealiumSyncProfileOperator
from airflow_provider_tealium.operators.publish import TealiumPublishOperator
from airflow_provider_tealium.sensors.publish import TealiumPublishSensor

SPEC = "tealium_release_spec.yaml"
# The run's date, for titles. Not ``{{ ds }}``: Airflow 3 runs triggered from the UI, CLI or REST API
# without a logical date have no ``ds`` (nor a data interval), while ``dag_run.run_after`` is set for
# every run: scheduled, manual with or without a logical date, and backfills.
RUN_DAY = "{{ dag_run.run_after | ds }}"


@dag(
    dag_id="example_tealium_release",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["tealium", "example"],
)
def example_tealium_release() -> None:
    sync = TealiumSyncProfileOperator(
        task_id="sync_profile",
        desired_state=SPEC,
        notes="Release {{ run_id }}: load rules and variables from " + SPEC,
        version_title="Release " + RUN_DAY,
    )
    version = "{{ ti.xcom_pull(task_ids='sync_profile')['version_id'] }}"
    publish_dev = TealiumPublishOperator(
        task_id="publish_dev",
        targets=["dev"],
        version_id=version,
        title="Release " + RUN_DAY + " to dev",
        notes="{{ run_id }}",
    )
    wait_dev = TealiumPublishSensor(
        task_id="wait_dev",
        publish_id="{{ ti.xcom_pull(task_ids='publish_dev')['publish_id'] }}",
        deferrable=True,
        poke_interval=1,
        timeout=600,
    )
    publish_prod = TealiumPublishOperator(
        task_id="publish_prod",
        targets=["prod"],
        version_id=version,
        title="Release " + RUN_DAY + " to prod",
        notes="{{ run_id }}",
    )
    wait_prod = TealiumPublishSensor(
        task_id="wait_prod",
        publish_id="{{ ti.xcom_pull(task_ids='publish_prod')['publish_id'] }}",
        deferrable=True,
        poke_interval=1,
        timeout=600,
    )
    sync >> publish_dev >> wait_dev >> publish_prod >> wait_prod


dag = example_tealium_release()

if __name__ == "__main__":
    dag.test()
