"""Airflow as a platform team runs it, for the deployment suite: PostgreSQL, ``airflow api-server``,
``scheduler``, ``dag-processor`` and ``triggerer`` as separate processes, LocalExecutor, on 127.0.0.1.

Everything is started by :meth:`AirflowDeployment.start` and stopped by PID (each process's whole group)
in :meth:`AirflowDeployment.stop`, pass or fail. Users reach it as they would: through the REST API.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from tests.deployment.postgres import PostgresServer, free_port

PROCESSES = ("api-server", "scheduler", "dag-processor", "triggerer")
STOP_TIMEOUT = 20.0


class AirflowDeployment:
    """One deployment in a temporary ``AIRFLOW_HOME``.

    :param dag_folders: folders whose files make up the DAG bundle (copied into it).
    :param env: more environment for every Airflow process (connections' settings, knobs).
    """

    def __init__(self, dag_folders: list[Path], env: Mapping[str, str] | None = None) -> None:
        self.home = Path(tempfile.mkdtemp(prefix="tealium-deployment-"))
        self.logs = self.home / "process-logs"
        self.logs.mkdir()
        self.dags = self.home / "dags"
        self.dags.mkdir()
        for folder in dag_folders:
            shutil.copytree(
                folder, self.dags, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__")
            )
        self.port = free_port()
        self._log_ports = (free_port(), free_port())
        self.postgres = PostgresServer(self.logs)
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.started: dict[str, float] = {}
        self._extra_env = dict(env or {})
        self._token: str | None = None
        self.client = httpx.Client(base_url=self.base_url, timeout=30)

    @property
    def base_url(self) -> str:
        """The api-server's URL."""
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        """The environment every Airflow process of this deployment gets."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_", "AIRFLOW__", "PYTEST_"))}
        env.update(
            {
                "AIRFLOW_HOME": str(self.home),
                "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags),
                "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
                "AIRFLOW__CORE__PARALLELISM": "8",
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
                "AIRFLOW__CORE__FERNET_KEY": self._fernet_key,
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.base_url}/execution/",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
                "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.postgres.url,
                "AIRFLOW__API__BASE_URL": self.base_url,
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__PORT": str(self.port),
                # Own log-server ports, so two deployments (two checkouts, one machine) never collide.
                "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(self._log_ports[0]),
                "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(self._log_ports[1]),
                "AIRFLOW__API_AUTH__JWT_SECRET": self._jwt_secret,
                # Airflow 3.0 leaves the issuer unset, which newer pyjwt releases refuse to encode.
                "AIRFLOW__API_AUTH__JWT_ISSUER": "airflow-deployment-suite",
                # Quick turns: the suite waits on the scheduler and the dag-processor, not on the clock.
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
                "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "5",
                "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.5",
                "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "2",
                "AIRFLOW__SCHEDULER__TRIGGERER_HEALTH_CHECK_THRESHOLD": "15",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self._extra_env)
        return env

    @property
    def _fernet_key(self) -> str:
        if not hasattr(self, "_fernet"):
            from cryptography.fernet import Fernet

            self._fernet = Fernet.generate_key().decode()
        return self._fernet

    @property
    def _jwt_secret(self) -> str:
        if not hasattr(self, "_jwt"):
            self._jwt = secrets.token_urlsafe(32)
        return self._jwt

    def airflow(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run an ``airflow`` CLI command to completion (its output in the process logs).

        :param args: the command's arguments.
        :param check: raise when it fails.
        """
        with (self.logs / "cli.log").open("a") as log:
            log.write(f"\n$ airflow {' '.join(args)}\n")
            log.flush()
            proc = subprocess.run(
                [sys.executable, "-m", "airflow", *args],
                env=self.environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
                text=True,
                check=False,
                timeout=600,
            )
        if check and proc.returncode != 0:
            raise RuntimeError(
                f"airflow {' '.join(args)} failed ({proc.returncode}); see {self.logs / 'cli.log'}"
            )
        return proc

    def start(self) -> AirflowDeployment:
        """PostgreSQL, the schema, then the four Airflow processes; returns once the API answers."""
        self.postgres.start()
        self.airflow("db", "migrate")
        for name in PROCESSES:
            self.start_process(name)
        self.wait_for(lambda: self._api_up(), 120, "the api-server to answer")
        return self

    def start_process(self, name: str) -> None:
        """Start one Airflow process (``scheduler``, ``triggerer``...), output to ``process-logs/<name>.log``.

        :param name: the ``airflow`` sub-command.
        """
        args = [name]
        if name == "api-server":
            args += ["--host", "127.0.0.1", "--port", str(self.port), "--workers", "1"]
        log = (self.logs / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", "airflow", *args],
            env=self.environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own process group, so stopping it stops its children (executor workers, runners) too.
            start_new_session=True,
        )
        self.started[name] = time.time()
        log.close()

    def stop_process(self, name: str, sig: int = signal.SIGTERM) -> None:
        """Stop one process and its children by PID; SIGKILL if it does not end in time.

        :param name: the process.
        :param sig: the first signal (``SIGKILL`` for a crash).
        """
        process = self.processes.pop(name, None)
        if process is None:
            return
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(STOP_TIMEOUT)
        # Whatever is left of its group (a worker that ignored SIGTERM) goes too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)

    def stop(self) -> None:
        """Stop every process by PID, then PostgreSQL; safe to call twice. Logs stay in :attr:`home`."""
        self.client.close()
        for name in reversed(list(self.processes)):
            self.stop_process(name)
        self.postgres.stop()

    # -- waiting ------------------------------------------------------------------------------------

    @staticmethod
    def wait_for(predicate: Any, timeout: float, what: str, interval: float = 0.5) -> Any:
        """Poll ``predicate`` until it returns something truthy; that value.

        :param predicate: the check.
        :param timeout: seconds.
        :param what: for the error.
        :param interval: seconds between checks.
        """
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
            time.sleep(interval)

    def _api_up(self) -> bool:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise RuntimeError(
                    f"airflow {name} exited with {process.returncode}; see {self.logs}/{name}.log"
                )
        try:
            return self.client.get("/api/v2/monitor/health").status_code == 200
        except httpx.TransportError:
            return False

    # -- the REST API, as a user calls it -----------------------------------------------------------

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        """Call the REST API (``/api/v2/...``) and return the JSON answer; raises on an error status.

        :param method: the HTTP method.
        :param path: the path.
        :param kwargs: passed to httpx (``json=``, ``params=``).
        """
        response = self.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:2000]}")
        return response.json() if response.content else None

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Call the REST API and return the raw answer.

        :param method: the HTTP method.
        :param path: the path.
        :param kwargs: passed to httpx.
        """
        if self._token is None:
            # The simple auth manager in "all admins" mode hands out a token without credentials.
            self._token = self.client.get("/auth/token").json()["access_token"]
        headers = {"Authorization": f"Bearer {self._token}", **kwargs.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kwargs)

    def health(self) -> dict[str, Any]:
        """``/api/v2/monitor/health``."""
        result: dict[str, Any] = self.client.get("/api/v2/monitor/health").json()
        return result

    def wait_for_dags(self, dag_ids: list[str], timeout: float = 180) -> None:
        """Wait until the dag-processor has parsed every DAG, then unpause them.

        :param dag_ids: the DAGs.
        :param timeout: seconds.
        """

        def parsed() -> bool:
            found = self.api("GET", "/api/v2/dags", params={"limit": 100})["dags"]
            return set(dag_ids) <= {d["dag_id"] for d in found}

        self.wait_for(parsed, timeout, f"the DAGs {dag_ids} to be parsed", interval=1)
        errors = self.api("GET", "/api/v2/importErrors")
        assert errors["total_entries"] == 0, errors
        for dag_id in dag_ids:
            self.api("PATCH", f"/api/v2/dags/{dag_id}", json={"is_paused": False})

    def trigger(self, dag_id: str, conf: Mapping[str, Any] | None = None) -> str:
        """Trigger a run the way a user does (no logical date); its run id.

        :param dag_id: the DAG.
        :param conf: the run's configuration.
        """
        body = {"logical_date": None, "conf": dict(conf or {})}
        return str(self.api("POST", f"/api/v2/dags/{dag_id}/dagRuns", json=body)["dag_run_id"])

    def run_state(self, dag_id: str, run_id: str) -> str:
        """A run's state.

        :param dag_id: the DAG.
        :param run_id: the run.
        """
        return str(self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")["state"])

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        """A run's task instances.

        :param dag_id: the DAG.
        :param run_id: the run.
        """
        path = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances"
        result: list[dict[str, Any]] = self.api("GET", path, params={"limit": 1000})["task_instances"]
        return result

    def links(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> dict[str, Any]:
        """A task instance's extra links, as the UI shows them.

        :param dag_id: the DAG.
        :param run_id: the run.
        :param task_id: the task.
        :param map_index: the mapped index.
        """
        path = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/links"
        result: dict[str, Any] = self.api("GET", path, params={"map_index": map_index})["extra_links"]
        return result

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value") -> Any:
        """A task's XCom value, read from the metadata database (Airflow 3.0's REST API refuses to
        deserialize XComs by default).

        :param dag_id: the DAG.
        :param run_id: the run.
        :param task_id: the task.
        :param key: the key.
        """
        rows = self.postgres.query(
            "SELECT value FROM xcom WHERE dag_id = %s AND run_id = %s AND task_id = %s AND key = %s "
            "AND map_index = -1",
            (dag_id, run_id, task_id, key),
        )
        if not rows:
            raise KeyError(f"no XCom {key!r} for {dag_id}/{run_id}/{task_id}")
        value = rows[0][0]
        return json.loads(value) if isinstance(value, str) else value

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 300) -> str:
        """Wait until a run ends; its final state.

        :param dag_id: the DAG.
        :param run_id: the run.
        :param timeout: seconds.
        """

        def ended() -> str | None:
            state = self.run_state(dag_id, run_id)
            return state if state in ("success", "failed") else None

        result: str = self.wait_for(ended, timeout, f"{dag_id} {run_id} to end", interval=1)
        return result
