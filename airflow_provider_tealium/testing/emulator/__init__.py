"""A local HTTP emulator of Tealium's APIs, for tests and demos.

Start one in-process with :class:`TealiumEmulator` (or the pytest fixtures of
:mod:`airflow_provider_tealium.testing.pytest_plugin`), or as a process with
``python -m airflow_provider_tealium.testing.emulator`` and drive it with :class:`EmulatorClient`.

The emulator is written from the API documents alone and imports nothing of the client
(:mod:`airflow_provider_tealium.api`, hooks, operators), so a rule the client gets wrong cannot pass on
both sides. The names below are imported on first use, so importing this package stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_tealium.testing.emulator.client import EmulatorClient
    from airflow_provider_tealium.testing.emulator.errors import EmulatorHTTPError, tealium_error
    from airflow_provider_tealium.testing.emulator.faults import FaultInjector, FaultRule
    from airflow_provider_tealium.testing.emulator.server import TealiumEmulator
    from airflow_provider_tealium.testing.emulator.state import (
        DEFAULT_API_KEY,
        DEFAULT_EMAIL,
        DEFAULT_V1_PASSWORD,
        EmulatorState,
        User,
    )

_HOMES = {
    "DEFAULT_API_KEY": "state",
    "DEFAULT_EMAIL": "state",
    "DEFAULT_V1_PASSWORD": "state",
    "EmulatorClient": "client",
    "EmulatorHTTPError": "errors",
    "EmulatorState": "state",
    "FaultInjector": "faults",
    "FaultRule": "faults",
    "TealiumEmulator": "server",
    "User": "state",
    "tealium_error": "errors",
}

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_EMAIL",
    "DEFAULT_V1_PASSWORD",
    "EmulatorClient",
    "EmulatorHTTPError",
    "EmulatorState",
    "FaultInjector",
    "FaultRule",
    "TealiumEmulator",
    "User",
    "tealium_error",
]


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use.

    :param name: the attribute asked for.
    """
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
