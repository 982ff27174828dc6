"""A daily IQM campaign performance report for the day before the run, written to a CSV file.

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
# The day before the run is due: for the daily schedule the day that has just ended (a run at midnight
# reports the day before it; a backfilled run, the day before its date), for a manual run yesterday.
# Built from ``dag_run.run_after``, which Airflow 3 sets for every run; ``ds`` and the data interval are
# undefined in a run triggered without a logical date.
REPORT_DAY = "{{ macros.ds_add(dag_run.run_after | ds, -1) }}"


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
            "reportName": "Campaign performance " + REPORT_DAY,
            "dimensions": [{"filter": "campaign"}],
            "columns": ["impressions", "clicks", "CTR", "spent", "eCPM"],
            # The whole day: a date without a time is the day's start, or its end for endDate.
            "startDate": REPORT_DAY,
            "endDate": REPORT_DAY,
            "requestType": "daily",
            "timezoneName": "UTC",
        },
        output_path=OUTPUT_DIR + "/campaign_performance_" + REPORT_DAY + ".csv",
        output_format="csv",
    )


dag = example_iqm_campaign_report()

if __name__ == "__main__":
    dag.test()
