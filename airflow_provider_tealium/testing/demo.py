"""``make demo``: run an example DAG in real Airflow against the local emulator, no credentials needed.

Starts the emulator, makes a throwaway ``AIRFLOW_HOME`` with a sqlite database, runs
``airflow dags test`` on the chosen DAG, prints what the DAG did and what the emulator saw, and stops.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

DEFAULT_DAG_ID = "example_tealium_connection"
_RESULT_MARK = "Returned value was:"
_RESULT_WIDTH = 160


def _airflow(args: list[str], env: dict[str, str], log_file: Path) -> int:
    # The CLI entry point of the running interpreter's environment: no PATH assumptions.
    cmd = [sys.executable, "-m", "airflow", *args]
    with log_file.open("ab") as out:
        return subprocess.run(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, check=False).returncode


def main(argv: list[str] | None = None) -> int:
    """Run the demo; returns the process exit code.

    :param argv: command-line arguments (``--dags-folder``, ``--dag-id``, ``--keep``).
    """
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dags-folder", default="example_dags", help="folder holding the example DAGs")
    parser.add_argument("--dag-id", default=DEFAULT_DAG_ID, help="the DAG to run")
    parser.add_argument("--keep", action="store_true", help="keep the temporary AIRFLOW_HOME")
    args = parser.parse_args(argv)

    from airflow_provider_tealium.testing.emulator import TealiumEmulator

    dags_folder = Path(args.dags_folder).resolve()
    home = Path(tempfile.mkdtemp(prefix="tealium-demo-"))
    log_file = home / "airflow.log"
    with TealiumEmulator() as emulator:
        env = {
            **os.environ,
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW_CONN_TEALIUM_DEFAULT": emulator.connection_json(),
        }
        print(f"Tealium emulator:    {emulator.base_url} (v3 region host {emulator.region_host})")
        print(f"AIRFLOW_HOME:        {home}")
        print("Preparing the metadata database (sqlite)...", flush=True)
        if _airflow(["db", "migrate"], env, log_file) != 0:
            print(f"airflow db migrate failed; see {log_file}")
            return 1
        print(f"Running `airflow dags test {args.dag_id}` ...", flush=True)
        code = _airflow(["dags", "test", args.dag_id], env, log_file)
        # Each task's return value (its XCom) is the most honest account of what it did.
        summary = [line for line in log_file.read_text(errors="replace").splitlines() if _RESULT_MARK in line]
        stats = emulator.state.stats()
    print()
    print("What the tasks returned:")
    for line in summary:
        value = line.split(_RESULT_MARK, 1)[1].strip().split(" [airflow.", 1)[0]
        print("  " + (value if len(value) <= _RESULT_WIDTH else value[: _RESULT_WIDTH - 3] + "..."))
    print()
    print("What the emulator saw:")
    print(json.dumps({"calls": stats["calls"], "token mints": stats["mints"]}, indent=2, sort_keys=True))
    print()
    result = "succeeded" if code == 0 else f"FAILED (exit {code}); full log: {log_file}"
    print(f"DAG {args.dag_id} {result}")
    if code == 0 and not args.keep:
        shutil.rmtree(home, ignore_errors=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
