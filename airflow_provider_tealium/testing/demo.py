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

DEFAULT_DAG_ID = "example_tealium_release"
_RESULT_WIDTH = 160


def _airflow(args: list[str], env: dict[str, str], log_file: Path) -> int:
    # The CLI entry point of the running interpreter's environment: no PATH assumptions.
    cmd = [sys.executable, "-m", "airflow", *args]
    with log_file.open("ab") as out:
        return subprocess.run(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, check=False).returncode


def _task_results(dag_id: str) -> list[tuple[str, str, object]]:
    """Each task of the DAG's latest run: its state and return value, read from the demo's database.

    A task's XCom is the most honest account of what it did.

    :param dag_id: the DAG id.
    """
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        run = session.query(DagRun).filter_by(dag_id=dag_id).order_by(DagRun.id.desc()).first()
        if run is None:
            return []
        tis = session.query(TaskInstance).filter_by(dag_id=dag_id, run_id=run.run_id).all()
        values = {
            (row.task_id, row.map_index): XComModel.deserialize_value(row)
            for row in session.query(XComModel).filter_by(
                dag_id=dag_id, run_id=run.run_id, key="return_value"
            )
        }
        ordered = sorted(tis, key=lambda ti: (ti.start_date is None, ti.start_date, ti.task_id))
        return [
            (
                ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]",
                str(ti.state),
                values.get((ti.task_id, ti.map_index)),
            )
            for ti in ordered
        ]


def main(argv: list[str] | None = None) -> int:
    """Run the demo; returns the process exit code.

    :param argv: command-line arguments (``--dags-folder``, ``--dag-id``, ``--keep``).
    """
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dags-folder", default="example_dags", help="folder holding the example DAGs")
    parser.add_argument("--dag-id", default=DEFAULT_DAG_ID, help="the DAG to run")
    parser.add_argument("--keep", action="store_true", help="keep the temporary AIRFLOW_HOME")
    args = parser.parse_args(argv)

    dags_folder = Path(args.dags_folder).resolve()
    home = Path(tempfile.mkdtemp(prefix="tealium-demo-"))
    log_file = home / "airflow.log"
    # Before anything imports Airflow: this process reads the demo's database afterwards, and must not
    # create or touch the user's own AIRFLOW_HOME.
    os.environ.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        }
    )
    from airflow_provider_tealium.testing.emulator import TealiumEmulator

    with TealiumEmulator() as emulator:
        env = {
            **os.environ,
            "AIRFLOW_CONN_TEALIUM_DEFAULT": emulator.connection_json(),
            "AIRFLOW_CONN_IQM_DEFAULT": emulator.iqm_connection_json(),
        }
        print(f"Tealium emulator:    {emulator.base_url} (v3 region host {emulator.region_host})")
        print(f"AIRFLOW_HOME:        {home}")
        print("Preparing the metadata database (sqlite)...", flush=True)
        if _airflow(["db", "migrate"], env, log_file) != 0:
            print(f"airflow db migrate failed; see {log_file}")
            return 1
        from airflow_provider_tealium.testing.emulator.revisions_store import stage_demo

        if staged := stage_demo(emulator.state, args.dag_id):
            print(staged)
        print(f"Running `airflow dags test {args.dag_id}` ...", flush=True)
        code = _airflow(["dags", "test", args.dag_id], env, log_file)
        stats = emulator.state.stats()
    print()
    print("What the tasks returned (their XCom):")
    for task_id, state, value in _task_results(args.dag_id):
        text = json.dumps(value, default=str, sort_keys=True)
        text = text if len(text) <= _RESULT_WIDTH else text[: _RESULT_WIDTH - 3] + "..."
        print(f"  {task_id} [{state}]: {text}")
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
