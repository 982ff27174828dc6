"""Audit what went live: publish to prod, wait for the revision it creates, download its bundle, prove it.

Publishing the profile to prod makes Tealium record a revision with the SHA-256 of every published
JavaScript file. This DAG publishes the profile's latest version to prod, waits for that revision
(deferred, so no worker slot is held; the publish's ``requested_at`` is the baseline, so an older
revision never counts), downloads the prod bundle, verifies every checksum and keeps the zip as an
audit artifact. Set ``artifact_dir`` to durable storage, e.g. ``s3://my-bucket/tealium/revisions/``
(any ObjectStoragePath URL) or a local directory.

Run it against the local emulator with ``make demo DAG=example_tealium_revision_audit``, or in your own
Airflow with the ``tealium_default`` connection (with an account and profile, and its ``v1_password``
extra set, or ``revisions_api`` set to ``v2``).
"""

from __future__ import annotations

import os
import tempfile
from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag

from airflow_provider_tealium.operators.publish import TealiumPublishOperator
from airflow_provider_tealium.operators.revisions import TealiumDownloadRevisionBundleOperator
from airflow_provider_tealium.sensors.revisions import TealiumRevisionSensor

DEFAULT_ARTIFACT_DIR = os.path.join(tempfile.gettempdir(), "tealium-revision-audit") + os.sep
TARGET = "prod"


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
    },
)
def example_tealium_revision_audit() -> None:
    # No version_id: the profile's latest version is published.
    publish = TealiumPublishOperator(
        task_id="publish_prod",
        targets=[TARGET],
        title="Audited release {{ run_id }}",
        notes="Published by {{ dag.dag_id }}; its prod bundle is verified afterwards",
    )
    # The publish's result carries requested_at: only a revision created from then on counts.
    wait = TealiumRevisionSensor(
        task_id="wait_for_revision",
        baseline_task_id="publish_prod",
        target=TARGET,
        deferrable=True,
        poke_interval=3,
        timeout=timedelta(minutes=30),
    )
    download = TealiumDownloadRevisionBundleOperator(
        task_id="download_and_verify_bundle",
        revision_id="{{ ti.xcom_pull(task_ids='wait_for_revision')['revision_id'] }}",
        target=TARGET,
        path="{{ params.artifact_dir }}",
    )
    publish >> wait >> download


dag = example_tealium_revision_audit()

if __name__ == "__main__":
    dag.test()
