"""The control and diagnostic URL tables."""

from __future__ import annotations

from collections.abc import Callable

from starlette.routing import BaseRoute

from airflow_provider_tealium.testing.emulator.control.responses import ControlResponses, DiagnosticsResponses
from airflow_provider_tealium.testing.emulator.http import build_routes
from airflow_provider_tealium.testing.emulator.state import EmulatorState

CONTROL_URLS = (
    ("POST", "/_emulator/reset", "reset"),
    ("GET", "/_emulator/stats", "stats"),
    ("POST", "/_emulator/faults", "add_fault"),
    ("GET", "/_emulator/faults", "list_faults"),
    ("DELETE", "/_emulator/faults", "clear_faults"),
    ("POST", "/_emulator/config", "configure"),
    ("POST", "/_emulator/users", "add_user"),
)

V3_WHOAMI_PATH = "/v3/emulator/accounts/{account}/profiles/{profile}/whoami"
V2_WHOAMI_PATH = "/v2/emulator/whoami"
V2_COUNTER_PATH = "/v2/emulator/counter"

DIAGNOSTIC_URLS = (
    ("GET", V3_WHOAMI_PATH, "v3_whoami"),
    ("GET", V2_WHOAMI_PATH, "v2_whoami"),
    ("POST", V2_COUNTER_PATH, "v2_counter"),
)


def routes(state: EmulatorState, region_host_provider: Callable[[], str]) -> list[BaseRoute]:
    """The control and diagnostic routes.

    :param state: the emulator state.
    :param region_host_provider: unused; part of every URL module's signature.
    """
    return [
        *build_routes(ControlResponses(state), CONTROL_URLS),
        *build_routes(DiagnosticsResponses(state), DIAGNOSTIC_URLS),
    ]
