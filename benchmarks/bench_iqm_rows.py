"""Benchmark 5: an IQM report run of 100,000 rows.

``IQMRunReportOperator`` writes every row to CSV in a child process (so its peak RSS is the operator's
alone) against the emulator in this process, with the emulator's and the client's 20-requests-a-minute
limits raised. Peak RSS at 100,000 rows is compared with 10,000 rows (target: flat, less than 20 MB
growth), and rows per second are reported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

from benchmarks._result import Result

SMALL, LARGE = 10_000, 100_000
FLAT_MB = 20.0

_CHILD = """
import json, os, resource, sys, time
from airflow_provider_tealium.operators.iqm import IQMRunReportOperator
op = IQMRunReportOperator(task_id="bench", report_id=int(sys.argv[1]), output_path=sys.argv[2])
start = time.perf_counter()
result = op.execute({})
seconds = time.perf_counter() - start
print(json.dumps({"rows": result["rows"], "seconds": seconds,
                  "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def _run_child(rows: int, report_id: int, env: dict[str, str], out_dir: str) -> dict[str, float]:
    path = os.path.join(out_dir, f"report-{rows}.csv")
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(report_id), path], env=env, capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run() -> list[Result]:
    """Run the benchmark; returns its results."""
    import pendulum

    from airflow_provider_tealium.hooks.iqm import IQMHook
    from airflow_provider_tealium.testing.emulator import TealiumEmulator
    from airflow_provider_tealium.testing.emulator.iqm.backend import iqm_state

    with TealiumEmulator() as emulator, tempfile.TemporaryDirectory() as out_dir:
        knobs = iqm_state(emulator.state)
        knobs.rate_limit = 10**9
        env = {
            **os.environ,
            "AIRFLOW_CONN_IQM_DEFAULT": emulator.iqm_connection_json(requests_per_minute=10**6),
        }
        os.environ["AIRFLOW_CONN_IQM_DEFAULT"] = env["AIRFLOW_CONN_IQM_DEFAULT"]
        yesterday = pendulum.yesterday("UTC")
        report_id = IQMHook().create_report(
            {
                "reportName": "bench",
                "startDate": yesterday,
                "endDate": yesterday.end_of("day"),
                "dimensions": [{"filter": "campaign", "value": [1]}],
                "columns": ["impressions", "clicks", "spent"],
                "requestType": "daily",
                "timezoneId": 29,
                "timezoneName": "UTC",
            }
        )
        figures = {}
        for rows in (SMALL, LARGE):
            knobs.report_rows = rows
            figures[rows] = _run_child(rows, report_id, env, out_dir)
    assert figures[LARGE]["rows"] == LARGE and figures[SMALL]["rows"] == SMALL
    growth_mb = (figures[LARGE]["maxrss_kb"] - figures[SMALL]["maxrss_kb"]) / 1024
    rate = LARGE / figures[LARGE]["seconds"]
    return [
        Result(
            "IQM 100k rows",
            f"peak RSS growth, {SMALL:,} -> {LARGE:,} rows",
            round(growth_mb, 1),
            "MB",
            None,
            f"< {FLAT_MB:.0f} MB (flat; peak at {LARGE:,}: {figures[LARGE]['maxrss_kb'] / 1024:.0f} MB)",
            growth_mb < FLAT_MB,
        ),
        Result(
            "IQM 100k rows",
            f"rows per second ({LARGE:,} rows)",
            round(rate),
            "rows/s",
            None,
            "informational",
            True,
        ),
    ]
