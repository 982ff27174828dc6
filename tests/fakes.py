"""A stand-in for the task instance in tests that call ``execute`` directly (no Airflow run)."""

from __future__ import annotations

import json
from typing import Any


class FakeTI:
    """The task instance attributes and XCom calls the operators use.

    :param dag_id: the DAG id.
    :param task_id: the task id.
    :param run_id: the run id.
    :param try_number: the try.
    """

    def __init__(
        self, dag_id: str = "dag", task_id: str = "task", run_id: str = "manual__1", try_number: int = 1
    ) -> None:
        self.dag_id = dag_id
        self.task_id = task_id
        self.run_id = run_id
        self.try_number = try_number
        self.map_index = -1
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        json.dumps(value)  # XCom values must be JSON-serialisable
        self.xcom[key] = value

    def xcom_pull(self, task_ids: str | None = None, key: str = "return_value") -> Any:
        return self.xcom.get(key)
