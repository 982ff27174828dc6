"""Benchmark 4: DAG-parse cost.

Imports every operator and sensor module the provider declares on top of ``airflow.sdk``
(each in a fresh interpreter, median of several runs), against importing the HTTP provider's operators and
sensors the same way. Target: at most 50 ms more than ``airflow.sdk`` alone.

``import airflow.sdk`` by itself is lazy: Airflow loads for real on the first ``from airflow.sdk import
BaseOperator``, which every DAG file does anyway. So "airflow.sdk alone" here means importing it *and*
resolving the names a DAG file uses (``DAG``, ``dag``, ``task``, ``BaseOperator``, ``BaseSensorOperator``);
only what comes after that is charged to the provider.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys

from benchmarks._result import Result

RUNS = 5
TARGET_MS = 50.0

_SNIPPET = """
import time, importlib, json, sys
t0 = time.perf_counter()
from airflow.sdk import DAG, BaseOperator, BaseSensorOperator, dag, task
t1 = time.perf_counter()
for name in sys.argv[1:]:
    importlib.import_module(name)
t2 = time.perf_counter()
print(json.dumps({"sdk": t1 - t0, "extra": t2 - t1}))
"""


def _extra_ms(modules: list[str]) -> float:
    samples = []
    for _ in range(RUNS):
        out = subprocess.run(
            [sys.executable, "-c", _SNIPPET, *modules], capture_output=True, text=True, check=True
        )
        samples.append(json.loads(out.stdout.strip().splitlines()[-1])["extra"] * 1000)
    return statistics.median(samples)


def provider_modules() -> list[str]:
    """The operator and sensor modules ``get_provider_info()`` declares: what DAG files import."""
    from airflow_provider_tealium.get_provider_info import get_provider_info

    info = get_provider_info()
    modules: list[str] = []
    for section in ("operators", "sensors"):
        for entry in info.get(section, []):
            modules.extend(entry["python-modules"])
    return sorted(set(modules))


def run() -> list[Result]:
    """Run the benchmark; returns its results."""
    ours = provider_modules()
    http = ["airflow.providers.http.operators.http", "airflow.providers.http.sensors.http"]
    ours_ms = _extra_ms(ours)
    http_ms = _extra_ms(http)
    return [
        Result(
            "DAG-parse cost",
            f"import cost on top of airflow.sdk ({len(ours)} modules)",
            round(ours_ms, 1),
            "ms",
            round(http_ms, 1),
            f"<= {TARGET_MS:.0f} ms (baseline: HTTP provider operators + sensors)",
            ours_ms <= TARGET_MS,
        )
    ]
