"""Audit what went live: wait for the prod revision a publish creates, download its bundle, prove it.

After someone (or a pipeline) publishes the profile to prod, Tealium records a revision with the
SHA-256 of every published file. This DAG waits for that revision (deferred, so no worker slot is
held), downloads the prod bundle, verifies every checksum and keeps the zip as an audit artifact.

Trigger it when a publish starts (or just after); the sensor's baseline is the time the run was
triggered, so only a revision published after that counts. Set ``artifact_dir`` to durable storage,
e.g. ``s3://my-bucket/tealium/revisions/`` (any ObjectStoragePath URL) or a local directory.

Run it against the local emulator with ``make demo DAG=example_tealium_revision_audit`` (the demo
publishes a prod revision once the sensor starts waiting), or in your own Airflow with the
``tealium_default`` connection (set its ``v1_password`` extra, or ``revisions_api`` to ``v2``).
"""

from __future__ import annotations

import os
import tempfile
from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag

from airflow_provider_tealium.operators.revisions import TealiumDownloadRevisionBundleOperator
from airflow_provider_tealium.sensors.revisions import TealiumRevisionSensor

DEFAULT_ARTIFACT_DIR = os.path.join(tempfile.gettempdir(), "tealium-revision-audit") + os.sep


@dag(
    dag_id="example_tealium_revision_audit",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["tealium", "example", "revisions"],
    params={
        "artifact_dir": Param(
            DEFAULT_ARTIFACT_DIR, type="string", description="Where to keep verified bundles."
        ),
        "target": Param("prod", type="string", description="The publish target to audit."),
    },
)
def example_tealium_revision_audit() -> None:
    wait = TealiumRevisionSensor(
        task_id="wait_for_revision",
        target="{{ params.target }}",
        deferrable=True,
        poke_interval=3,
        timeout=timedelta(minutes=30),
    )
    TealiumDownloadRevisionBundleOperator(
        task_id="download_and_verify_bundle",
        revision_id="{{ ti.xcom_pull(task_ids='wait_for_revision')['revision_id'] }}",
        target="{{ params.target }}",
        path="{{ params.artifact_dir }}",
    ).set_upstream(wait)


dag = example_tealium_revision_audit()

if __name__ == "__main__":
    dag.test()
