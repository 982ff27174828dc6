"""A throwaway PostgreSQL server on 127.0.0.1 for the deployment suite: the metadata database Airflow runs
on in production (LocalExecutor needs a real database; sqlite serialises every writer).

It is Debian's ``postgresql`` package, the distribution's build of the server users deploy; on a machine
without it, ``tests/deployment/install-postgres.sh`` (run by ``make test``) installs it with apt. The server
runs as an unprivileged user (PostgreSQL refuses root), keeps its data and socket in a temporary folder,
trusts local connections (nothing but this test user reaches 127.0.0.1 on a random port), and trades
durability for speed (no fsync).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

START_TIMEOUT = 60.0
USER = "airflow"
DATABASE = "airflow"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def find_binary(name: str) -> str:
    """The path of a PostgreSQL server program (``initdb``, ``postgres``).

    :param name: the program.
    :raises RuntimeError: when PostgreSQL is not installed.
    """
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None
    )
    if not found:
        raise RuntimeError(
            f"PostgreSQL's {name} was not found: run tests/deployment/install-postgres.sh (make test does)"
        )
    return found


class PostgresServer:
    """One PostgreSQL server process, started by :meth:`start` and stopped by PID in :meth:`stop`.

    :param log_dir: where its log goes.
    """

    def __init__(self, log_dir: Path) -> None:
        self.log_path = log_dir / "postgres.log"
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self._dir = Path(tempfile.mkdtemp(prefix="tealium-pg-"))
        self._run_as = self._unprivileged_user()

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of the Airflow database."""
        return f"postgresql+psycopg2://{USER}@127.0.0.1:{self.port}/{DATABASE}"

    @staticmethod
    def _unprivileged_user() -> str | None:
        """Who runs the server: ``postgres`` when we are root (it refuses root), else ourselves."""
        if os.geteuid() != 0:
            return None
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            subprocess.run(["useradd", "--system", "--no-create-home", "postgres"], check=True)
        return "postgres"

    def _as_user(self) -> dict[str, object]:
        """``Popen`` arguments that run a program as :attr:`_run_as` (the server's own PID, no wrapper)."""
        if not self._run_as:
            return {}
        entry = pwd.getpwnam(self._run_as)
        return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}

    def start(self) -> PostgresServer:
        """initdb, start, create the Airflow database; returns once it accepts connections."""
        data, sockets = self._dir / "data", self._dir / "run"
        sockets.mkdir()
        if self._run_as:
            entry = pwd.getpwnam(self._run_as)
            for path in (self._dir, sockets):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        with self.log_path.open("ab") as log:
            subprocess.run(
                [
                    find_binary("initdb"),
                    "-D",
                    str(data),
                    "-U",
                    USER,
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                    "--no-sync",
                ],
                check=True,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self._dir,
                **self._as_user(),  # type: ignore[arg-type]
            )
        log = self.log_path.open("ab")
        settings = {
            "listen_addresses": "127.0.0.1",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "200",
        }
        self.process = subprocess.Popen(  # type: ignore[call-overload]
            [
                find_binary("postgres"),
                *("-D", str(data), "-p", str(self.port), "-k", str(sockets)),
                *(arg for name, value in settings.items() for arg in ("-c", f"{name}={value}")),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=self._dir,
            **self._as_user(),
        )
        log.close()
        self._wait_until_ready()
        self._create_database()
        return self

    def _connect(self, database: str = "postgres"):  # type: ignore[no-untyped-def]
        import psycopg2

        return psycopg2.connect(
            host="127.0.0.1", port=self.port, user=USER, dbname=database, connect_timeout=2
        )

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"PostgreSQL exited; see {self.log_path}")
            try:
                self._connect().close()
                return
            except Exception as exc:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"PostgreSQL did not start in {START_TIMEOUT:.0f} s; see {self.log_path}"
                    ) from exc
                time.sleep(0.2)

    def _create_database(self) -> None:
        conn = self._connect()
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE {DATABASE}")
        conn.close()

    def query(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        """Rows of one read-only query against the Airflow database.

        :param sql: the query (``%s`` placeholders).
        :param params: its parameters.
        """
        conn = self._connect(DATABASE)
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params or None)
                return list(cur.fetchall())
        finally:
            conn.close()

    def stop(self) -> None:
        """Stop the server by its PID (fast shutdown, then kill) and delete its data; safe to call twice."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGINT)  # PostgreSQL's "fast" shutdown
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)
        shutil.rmtree(self._dir, ignore_errors=True)
