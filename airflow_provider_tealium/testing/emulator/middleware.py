"""The layer every request crosses first: the body-size cap, counting, the region-port rule, and
injected faults."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import Callable

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from airflow_provider_tealium.testing.emulator.faults import FaultRule
from airflow_provider_tealium.testing.emulator.state import EmulatorState

CONTROL_PREFIX = "/_emulator/"
# Set by EmulatorApp before Starlette's own middleware wraps ``send``: only the server's original
# ``send`` leads to the connection, which the reset faults need.
RAW_SEND_SCOPE_KEY = "tealium_emulator.raw_send"
WRONG_HOST_MESSAGE = "v3 API calls must use the region host returned by /v3/auth"
MAX_BODY_BYTES = 8 * 1024 * 1024
"""The largest request body the emulator reads (Tealium's largest documented one, a data layer, is
1 MB). A larger one is answered 413 before it is read: by its ``Content-Length`` when it has one, else
once the streamed body passes the cap, so no body costs more memory than this."""
TOO_LARGE_MESSAGE = "Request body larger than {limit} bytes: refused unread"


class ConnectionAbortUnsupported(RuntimeError):
    """Raised when the server gives no way to cut the connection; the server then answers 500."""


def is_v3_resource(path: str) -> bool:
    """Whether the path is a v3 call that Tealium serves only on the region host.

    :param path: the request path.
    """
    return path.startswith("/v3/") and not path.startswith("/v3/auth/")


def port_of(host: str) -> int | None:
    """The port of a ``host:port`` string.

    :param host: ``127.0.0.1:8081``.
    """
    _, _, port = host.rpartition(":")
    return int(port) if port.isdigit() else None


async def abort_connection(scope: Scope, send: Send) -> None:
    """Cut the TCP connection without answering, so the client sees a connection error.

    Under uvicorn, ``send`` is a bound method of its ``RequestResponseCycle``, whose ``transport`` can
    be aborted (a RST, not a graceful close). Servers without that hook cannot drop a connection from
    inside ASGI; raising then makes them answer 500, which at least fails the request visibly.

    :param scope: the request scope (holds the server's own ``send``).
    :param send: the ``send`` this layer was given, used when the scope has none.
    """
    raw_send = scope.get(RAW_SEND_SCOPE_KEY, send)
    transport = getattr(getattr(raw_send, "__self__", None), "transport", None)
    if transport is None or not hasattr(transport, "abort"):
        raise ConnectionAbortUnsupported("this ASGI server offers no transport to abort")
    sock = transport.get_extra_info("socket")
    if sock is not None:
        # Linger 0 turns the close into a RST, as a real reset is, rather than an orderly FIN.
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
    # Let connection_lost run now, so the server knows the peer is gone and does not try a 500 answer.
    await asyncio.sleep(0)


async def discard(message: Message) -> None:
    """A ``send`` that throws the handler's answer away (``drop_after_apply``).

    :param message: the ASGI message.
    """


class EmulatorMiddleware:
    """Counts requests, refuses v3 resource calls on the platform port, and applies fault rules.

    :param app: the wrapped application.
    :param state: the emulator state.
    :param region_host_provider: returns the region ``host:port``; called per request because the
        port is known only once the server has bound its sockets.
    :param max_body_bytes: the body-size cap (:data:`MAX_BODY_BYTES`), control routes included.
    """

    def __init__(
        self,
        app: ASGIApp,
        state: EmulatorState,
        region_host_provider: Callable[[], str],
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self.app = app
        self.state = state
        self.region_host_provider = region_host_provider
        self.max_body_bytes = max_body_bytes

    async def _refuse_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = TOO_LARGE_MESSAGE.format(limit=self.max_body_bytes)
        response = JSONResponse({"returnCode": 413, "message": message}, status_code=413)
        await response(scope, receive, send)

    async def _capped_receive(self, scope: Scope, receive: Receive, send: Send) -> Receive | None:
        """A ``receive`` that replays the body, read up to the cap; ``None`` once 413 was answered."""
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None:
            if not declared.isdigit() or int(declared) > self.max_body_bytes:
                await self._refuse_large(scope, receive, send)
                return None
            return receive  # the server stops reading at the declared length
        # No Content-Length (chunked): read it here, never past the cap, and hand it on.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                chunks = []
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_body_bytes:
                await self._refuse_large(scope, receive, send)
                return None
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        return replay

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        capped = await self._capped_receive(scope, receive, send)
        if capped is None:
            return
        receive = capped
        method: str = scope["method"]
        path: str = scope["path"]
        # Control calls are neither counted nor faulted: tests assert exact API call counts, and a
        # catch-all fault must not lock the test out of clearing it.
        if path.startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        self.state.count_call(method, path)
        if is_v3_resource(path) and not self._on_region_port(scope):
            await JSONResponse({"returnCode": 404, "message": WRONG_HOST_MESSAGE}, status_code=404)(
                scope, receive, send
            )
            return
        rule = self.state.faults.match(method, path)
        if rule is None:
            await self.app(scope, receive, send)
        else:
            await self._apply(rule, scope, receive, send)

    def _on_region_port(self, scope: Scope) -> bool:
        server = scope.get("server")
        region_port = port_of(self.region_host_provider())
        return server is not None and region_port is not None and server[1] == region_port

    async def _apply(self, rule: FaultRule, scope: Scope, receive: Receive, send: Send) -> None:
        if rule.latency:
            await asyncio.sleep(rule.latency)
        if rule.reset:
            await abort_connection(scope, send)
        elif rule.status is not None:
            response = JSONResponse(rule.response_body(), status_code=rule.status, headers=rule.headers)
            await response(scope, receive, send)
        elif rule.drop_after_apply:
            await self.app(scope, receive, discard)
            await abort_connection(scope, send)
        else:
            await self.app(scope, receive, send)
