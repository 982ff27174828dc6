"""A daily IQM campaign performance report for yesterday, written to a CSV file.

Run it against the local emulator with ``make demo DAG=example_iqm_campaign_report`` or in your own
Airflow after creating the ``iqm_default`` connection. The output folder defaults to the system's
temporary folder; set the ``IQM_REPORT_DIR`` environment variable (or use an ``ObjectStoragePath``
such as ``s3://bucket/reports/``) to keep the files elsewhere.
"""

from __future__ import annotations

import os
import tempfile

import pendulum
from airflow.sdk import dag

from airflow_provider_tealium.operators.iqm import IQMRunReportOperator

OUTPUT_DIR = os.environ.get("IQM_REPORT_DIR", os.path.join(tempfile.gettempdir(), "iqm-reports"))


@dag(
    dag_id="example_iqm_campaign_report",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["iqm", "example"],
)
def example_iqm_campaign_report() -> None:
    IQMRunReportOperator(
        task_id="campaign_performance",
        report={
            "reportName": "Campaign performance {{ macros.ds_add(ds, -1) }}",
            "dimensions": [{"filter": "campaign"}],
            "columns": ["impressions", "clicks", "CTR", "spent", "eCPM"],
            # Yesterday, whole day: a date without a time is the day's start, or its end for endDate.
            "startDate": "{{ macros.ds_add(ds, -1) }}",
            "endDate": "{{ macros.ds_add(ds, -1) }}",
            "requestType": "daily",
            "timezoneName": "UTC",
        },
        output_path=OUTPUT_DIR + "/campaign_performance_{{ macros.ds_add(ds, -1) }}.csv",
        output_format="csv",
    )


dag = example_iqm_campaign_report()

if __name__ == "__main__":
    dag.test()
