"""Nightly product data layers: export the catalog, build one data layer per product, bulk upload them at
Tealium's rate limit, resend only the ones that failed (if any), then wait (deferred, in the triggerer)
until every one has landed.

Run it against the local emulator with ``make demo DAG=example_tealium_datalayer_nightly`` or in your own
Airflow after creating the ``tealium_default`` connection (with a default account and profile).
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import dag, task

from airflow_provider_tealium.operators.datalayers import TealiumUploadDataLayerOperator
from airflow_provider_tealium.sensors.datalayers import TealiumDataLayerSensor

PRODUCTS = 500


@dag(
    dag_id="example_tealium_datalayer_nightly",
    schedule="0 2 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    params={"products": PRODUCTS},
    tags=["tealium", "example", "datalayer"],
)
def example_tealium_datalayer_nightly() -> None:
    @task
    def export_catalog(params: dict[str, Any] | None = None) -> str:
        """Stand-in for the nightly catalog export: ``params.products`` (500) products as CSV."""
        import csv
        import tempfile
        from pathlib import Path

        folder = Path(tempfile.mkdtemp(prefix="tealium-catalog-"))
        path = folder / "catalog.csv"
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["sku", "name", "category", "price", "in_stock"])
            for i in range(int((params or {}).get("products", PRODUCTS))):
                category = ("shoes", "shirts", "bags", "hats")[i % 4]
                writer.writerow([f"SKU-{i:05d}", f"Product {i}", category, f"{9.99 + i:.2f}", i % 7 != 0])
        return str(path)

    @task
    def build_datalayers(catalog: str) -> str:
        """One data layer per product, written as JSON Lines so the upload streams it."""
        import csv
        import json
        from pathlib import Path

        out = Path(catalog).with_name("datalayers.jsonl")
        with open(catalog, newline="") as source, out.open("w") as target:
            for row in csv.DictReader(source):
                datalayer = {
                    "product_id": row["sku"],
                    "product_name": row["name"],
                    "product_category": row["category"],
                    "product_price": float(row["price"]),
                    "product_in_stock": row["in_stock"] == "True",
                }
                # Data layer ids may not contain periods or spaces; SKUs here are safe.
                target.write(json.dumps({"datalayer_id": row["sku"].lower(), "data": datalayer}) + "\n")
        return str(out)

    datalayers_file = build_datalayers(export_catalog())

    upload = TealiumUploadDataLayerOperator(
        task_id="upload_datalayers",
        datalayers="{{ ti.xcom_pull(task_ids='build_datalayers') }}",
        mode="upsert",
        requests_per_second=50,
        max_workers=8,
    )

    # Runs only if the upload failed for some ids after its retries: sends just those, from the
    # failed upload's result, instead of the whole catalog again.
    resend_failed = TealiumUploadDataLayerOperator(
        task_id="resend_failed",
        datalayers="{{ ti.xcom_pull(task_ids='build_datalayers') }}",
        retry_failed_from="{{ ti.xcom_pull(task_ids='upload_datalayers') }}",
        mode="upsert",
        trigger_rule="all_failed",
    )

    wait = TealiumDataLayerSensor(
        task_id="wait_until_landed",
        # Everything either upload landed, compared with the first upload's start time.
        upload_task_id=["upload_datalayers", "resend_failed"],
        deferrable=True,
        poke_interval=5,
        timeout=60 * 60,
        trigger_rule="one_success",
    )

    datalayers_file >> upload >> resend_failed >> wait
    upload >> wait


dag = example_tealium_datalayer_nightly()

if __name__ == "__main__":
    dag.test()
