"""``python -m airflow_provider_tealium.testing.emulator``: run the emulator until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from types import FrameType

from airflow_provider_tealium.testing.emulator.state import (
    DEFAULT_API_KEY,
    DEFAULT_EMAIL,
    DEFAULT_TOKEN_LIFETIME,
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line.

    :param argv: the arguments, ``None`` for ``sys.argv``.
    """
    parser = argparse.ArgumentParser(prog="python -m airflow_provider_tealium.testing.emulator")
    parser.add_argument("--port", type=int, required=True, help="platform port (0 for a free one)")
    parser.add_argument("--region-port", type=int, default=0, help="region port (default: a free one)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--token-lifetime", type=int, default=DEFAULT_TOKEN_LIFETIME)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Start the emulator, print one JSON line describing it, serve until a stop signal.

    :param argv: the arguments, ``None`` for ``sys.argv``.
    """
    args = parse_args(argv)
    # stdout carries only our JSON line: a parent parses it. Anything else that prints (a library's
    # import-time logging, a warning) goes to stderr, for the whole run.
    out = sys.stdout
    sys.stdout = sys.stderr
    from airflow_provider_tealium.testing.emulator.server import TealiumEmulator

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    emulator = TealiumEmulator(
        host=args.host, port=args.port, region_port=args.region_port, token_lifetime=args.token_lifetime
    )
    emulator.start()
    try:
        # One line, flushed: a parent process reads it to learn the ports and credentials.
        line = {
            "base_url": emulator.base_url,
            "region_host": emulator.region_host,
            "email": DEFAULT_EMAIL,
            "api_key": DEFAULT_API_KEY,
            "connection": emulator.connection_json(),
        }
        out.write(json.dumps(line) + "\n")
        out.flush()
        # A timed wait keeps the main thread responsive to signals on every platform.
        while not stop.wait(0.5):
            pass
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
