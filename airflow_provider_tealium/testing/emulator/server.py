"""Running the emulator: two sockets (platform and region) served by uvicorn in a background thread."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import socket
import threading
import time
import warnings
from types import TracebackType
from typing import Any

import uvicorn

from airflow_provider_tealium.testing.emulator.app import build_app
from airflow_provider_tealium.testing.emulator.faults import FaultInjector
from airflow_provider_tealium.testing.emulator.state import (
    DEFAULT_API_KEY,
    DEFAULT_EMAIL,
    DEFAULT_TOKEN_LIFETIME,
    DEFAULT_V1_PASSWORD,
    EmulatorState,
)

START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0

log = logging.getLogger(__name__)

EXPOSED_MESSAGE = (
    "The Tealium emulator is listening on {host}, which is not a loopback address: anyone who can "
    "reach this machine can use its fake credentials, read what tests upload, and call its control "
    "routes (/_emulator/*: reset, faults, state), which have no authentication. Bind it to 127.0.0.1 "
    "unless this is a throwaway network."
)


class EmulatorExposedWarning(UserWarning):
    """The emulator was bound to an address other machines can reach."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only (``127.0.0.1``, ``::1``, ``localhost``).

    :param host: the interface the emulator binds (``""`` and ``0.0.0.0`` are every interface).
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def warn_if_exposed(host: str) -> None:
    """Warn loudly (a warning and an error-level log line) when ``host`` is not a loopback address.

    :param host: the interface the emulator binds.
    """
    if is_loopback(host):
        return
    message = EXPOSED_MESSAGE.format(host=host or "every interface")
    log.error(message)
    warnings.warn(message, EmulatorExposedWarning, stacklevel=3)


def bind_socket(host: str, port: int) -> socket.socket:
    """A bound TCP socket; binding here (not in uvicorn) lets port 0 pick a free port we can read back.

    :param host: the interface.
    :param port: the port, 0 for any free one.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


class TealiumEmulator:
    """A local Tealium: the platform port serves auth, v1, v2, IQM and control calls; the region port
    serves v3 resource calls, as the region host named by ``/v3/auth`` does.

    :param host: the interface to listen on.
    :param port: the platform port, 0 for a free one.
    :param region_port: the region port, 0 for a free one.
    :param token_lifetime: seconds between a token's ``iat`` and ``exp``.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        region_port: int = 0,
        token_lifetime: int = DEFAULT_TOKEN_LIFETIME,
    ) -> None:
        self.host = host
        self._requested_ports = (port, region_port)
        self._state = EmulatorState(token_lifetime=token_lifetime)
        self._ports: tuple[int, int] | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._sockets: list[socket.socket] = []

    @property
    def state(self) -> EmulatorState:
        """The emulator's state, shared with the server thread."""
        return self._state

    @property
    def faults(self) -> FaultInjector:
        """The fault rules."""
        return self._state.faults

    @property
    def port(self) -> int:
        """The bound platform port."""
        return self._bound_ports()[0]

    @property
    def region_port(self) -> int:
        """The bound region port."""
        return self._bound_ports()[1]

    @property
    def _client_host(self) -> str:
        # A wildcard bind is reachable at the loopback address; clients cannot connect to 0.0.0.0.
        return "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host

    @property
    def base_url(self) -> str:
        """The v3 platform base URL and the v1/v2 API base URL alike."""
        return f"http://{self._client_host}:{self.port}"

    @property
    def email(self) -> str:
        """The default user's email (fake)."""
        return DEFAULT_EMAIL

    @property
    def api_key(self) -> str:
        """The default user's API key (fake)."""
        return DEFAULT_API_KEY

    @property
    def v1_password(self) -> str:
        """The default user's v1 password (fake)."""
        return DEFAULT_V1_PASSWORD

    @property
    def region_host(self) -> str:
        """The ``host:port`` that ``/v3/auth`` names; v3 resource calls go there."""
        return f"{self._client_host}:{self.region_port}"

    def _bound_ports(self) -> tuple[int, int]:
        if self._ports is None:
            raise RuntimeError("the emulator is not started")
        return self._ports

    def start(self) -> TealiumEmulator:
        """Bind both sockets and serve them until :meth:`stop`; returns once the server accepts calls."""
        if self._thread is not None:
            raise RuntimeError("the emulator is already started")
        warn_if_exposed(self.host)
        platform = bind_socket(self.host, self._requested_ports[0])
        try:
            region = bind_socket(self.host, self._requested_ports[1])
        except OSError:
            platform.close()
            raise
        self._sockets = [platform, region]
        self._ports = (platform.getsockname()[1], region.getsockname()[1])
        config = uvicorn.Config(
            build_app(self._state, lambda: self.region_host),
            log_level="warning",
            access_log=False,
            lifespan="off",
            # h11 keeps the connection-cutting faults on a known code path (its cycle exposes ``transport``).
            http="h11",
            timeout_graceful_shutdown=1,
        )
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(target=self._serve, name="tealium-emulator", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the Tealium emulator did not start")
            time.sleep(0.01)
        return self

    def _serve(self) -> None:
        assert self._server is not None
        # Its own loop: the caller's thread may run a loop of its own (async tests).
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self._server.serve(sockets=self._sockets))
        finally:
            loop.close()

    def stop(self) -> None:
        """Stop serving and close the sockets; safe to call twice."""
        server, thread = self._server, self._thread
        if server is not None and thread is not None:
            server.should_exit = True
            thread.join(STOP_TIMEOUT)
            if thread.is_alive():
                server.force_exit = True
                thread.join(STOP_TIMEOUT)
        for sock in self._sockets:
            sock.close()
        self._sockets = []
        self._server = None
        self._thread = None

    def reset(self) -> None:
        """Back to a fresh emulator (users, lifetime, counters, faults, feature state); ports stay."""
        self._state.reset()

    def connection_extra(self, account: str = "demo", profile: str = "main") -> dict[str, str]:
        """The ``extra`` of an Airflow connection pointed at this emulator.

        :param account: the Tealium account.
        :param profile: the Tealium profile.
        """
        return {
            "account": account,
            "profile": profile,
            "v1_password": DEFAULT_V1_PASSWORD,
            "platform_base_url": self.base_url,
            "api_base_url": self.base_url,
        }

    def connection_json(self, account: str = "demo", profile: str = "main") -> str:
        """An Airflow connection as JSON, usable as ``AIRFLOW_CONN_TEALIUM_DEFAULT``.

        :param account: the Tealium account.
        :param profile: the Tealium profile.
        """
        connection: dict[str, Any] = {
            "conn_type": "tealium",
            "login": DEFAULT_EMAIL,
            "password": DEFAULT_API_KEY,
            "extra": self.connection_extra(account, profile),
        }
        return json.dumps(connection)

    def iqm_connection_json(self, login_flow: str = "oauth", **extra: Any) -> str:
        """An Airflow ``iqm`` connection as JSON, usable as ``AIRFLOW_CONN_IQM_DEFAULT`` (fake credentials).

        :param login_flow: ``"oauth"`` (the form-encoded token call) or ``"login"`` (the JSON login).
        :param extra: more extras (``requests_per_minute``, retry settings).
        """
        from airflow_provider_tealium.testing.emulator.iqm import backend as iqm

        connection: dict[str, Any] = {
            "conn_type": "iqm",
            "login": DEFAULT_EMAIL,
            "password": iqm.DEFAULT_IQM_PASSWORD,
            "extra": {
                "client_id": iqm.DEFAULT_CLIENT_ID,
                "client_secret": iqm.DEFAULT_CLIENT_SECRET,
                "workspace_host": iqm.DEFAULT_WORKSPACE_HOST,
                "base_url": self.base_url,
                "login_flow": login_flow,
                **extra,
            },
        }
        return json.dumps(connection)

    def __enter__(self) -> TealiumEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
