"""DAG-parse cost guard: importing the operator and sensor modules must not pull in run-time machinery.

Deterministic (which modules are loaded), not a timing test; ``benchmarks/bench_dag_parse.py`` measures
the time. A fresh interpreter imports what a DAG file imports (``airflow.sdk`` and its names) and records
``sys.modules``; then it imports every operator and sensor module ``get_provider_info()`` declares and
records again. Heavy libraries count against us only when *we* bring them in: some (``httpx``,
``yaml``) are already loaded by ``airflow.sdk`` itself on some Airflow versions, and that is not ours to
save.
"""

from __future__ import annotations

import json
import subprocess
import sys
from functools import cache

from airflow_provider_tealium.get_provider_info import get_provider_info

HEAVY_LIBRARIES = ("requests", "httpx", "jwt", "starlette", "uvicorn", "yaml")
PROVIDER_RUNTIME_PACKAGES = ("airflow_provider_tealium.hooks", "airflow_provider_tealium.triggers")

_SNIPPET = """
import importlib, json, sys
from airflow.sdk import DAG, BaseOperator, BaseSensorOperator, dag, task
before = set(sys.modules)
for name in sys.argv[1:]:
    importlib.import_module(name)
print(json.dumps({"before": sorted(before), "after": sorted(sys.modules)}))
"""


def _dag_file_modules() -> list[str]:
    info = get_provider_info()
    return sorted(
        {
            module
            for section in ("operators", "sensors")
            for entry in info[section]
            for module in entry["python-modules"]
        }
    )


def _top(name: str) -> str:
    return name.split(".", 1)[0]


def _is_provider_runtime(name: str) -> bool:
    return any(name == pkg or name.startswith(pkg + ".") for pkg in PROVIDER_RUNTIME_PACKAGES)


@cache
def _load() -> tuple[set[str], set[str]]:
    proc = subprocess.run(
        [sys.executable, "-c", _SNIPPET, *_dag_file_modules()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    loaded = json.loads(proc.stdout.strip().splitlines()[-1])
    return set(loaded["before"]), set(loaded["after"])


def test_operator_and_sensor_modules_are_declared() -> None:
    modules = _dag_file_modules()
    assert any(".operators." in m for m in modules)
    assert any(".sensors." in m for m in modules)


def test_importing_operators_and_sensors_loads_no_heavy_library_or_runtime_module() -> None:
    before, after = _load()
    added = after - before
    assert set(_dag_file_modules()) <= after  # the imports really happened
    heavy = sorted(m for m in added if _top(m) in HEAVY_LIBRARIES)
    runtime = sorted(m for m in after if _is_provider_runtime(m))
    assert heavy == [], f"operator/sensor imports pulled in heavy libraries: {heavy}"
    assert runtime == [], f"operator/sensor imports pulled in the provider's hooks/triggers: {runtime}"


def test_airflow_triggers_base_is_not_imported_at_parse_time() -> None:
    before, after = _load()
    if "airflow.triggers.base" in before:  # pragma: no cover - depends on the Airflow version
        return
    assert "airflow.triggers.base" not in after
