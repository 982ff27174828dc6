"""End-to-end harness: run ``example_dags/`` with ``dag.test()`` in real Airflow against the emulator.

The metadata database is sqlite in the session's temporary ``AIRFLOW_HOME`` (see ``tests/conftest.py``);
the DAGs reach the emulator over real sockets through ``AIRFLOW_CONN_*`` connections.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

EXAMPLE_DAGS = Path(__file__).resolve().parents[2] / "example_dags"


@dataclass
class DagResult:
    """The outcome of one ``dag.test()`` run.

    :param state: the DAG run's final state.
    :param task_states: task id -> final state (``map_index`` suffixed for mapped tasks).
    :param xcoms: task id -> its ``return_value`` XCom.
    :param run_id: the run id.
    """

    state: str
    task_states: dict[str, str | None]
    xcoms: dict[str, Any]
    run_id: str


def load_dag(dag_id: str) -> Any:
    """Import ``example_dags/{dag_id}.py`` and return its DAG (one file per example DAG, named after it).

    :param dag_id: the DAG id.
    """
    path = EXAMPLE_DAGS / f"{dag_id}.py"
    spec = importlib.util.spec_from_file_location(f"example_dags_{dag_id}", path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    from airflow.sdk import DAG

    dags = [v for v in vars(module).values() if isinstance(v, DAG) and v.dag_id == dag_id]
    assert dags, f"{path} defines no DAG with id {dag_id!r}"
    return dags[0]


def _xcoms(dag_id: str, run_id: str) -> dict[str, Any]:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.query(XComModel).filter_by(dag_id=dag_id, run_id=run_id, key="return_value").all()
        values: dict[str, Any] = {}
        for row in rows:
            name = row.task_id if row.map_index < 0 else f"{row.task_id}[{row.map_index}]"
            values[name] = XComModel.deserialize_value(row)
        return values


@pytest.fixture(scope="session")
def airflow_db() -> Iterator[None]:
    """A migrated sqlite metadata database for the whole session."""
    from airflow.utils import db

    db.initdb()
    yield


@pytest.fixture
def run_dag(airflow_db: None, tealium_connection: Any) -> Callable[..., DagResult]:
    """Run an example DAG with ``dag.test()`` against the emulator; returns its :class:`DagResult`."""

    def run(dag_id: str, **test_kwargs: Any) -> DagResult:
        dag = load_dag(dag_id)
        dagrun = dag.test(**test_kwargs)
        tis = dagrun.get_task_instances()
        states = {
            (ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"): ti.state for ti in tis
        }
        return DagResult(str(dagrun.state), states, _xcoms(dag_id, dagrun.run_id), dagrun.run_id)

    return run
