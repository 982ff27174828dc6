"""The Hosted Data Layer URL table (paths from the seed "Hosted data layer API endpoints")."""

from __future__ import annotations

from collections.abc import Callable

from starlette.routing import BaseRoute

from airflow_provider_tealium.testing.emulator.datalayers.responses import DataLayerResponses
from airflow_provider_tealium.testing.emulator.http import build_routes
from airflow_provider_tealium.testing.emulator.state import EmulatorState

DATALAYERS_PATH = "/v2/dle/accounts/{account}/profiles/{profile}/datalayers"
# ``:path``, so an id holding a (restricted) slash reaches the rules and is refused as Tealium does.
DATALAYER_PATH = "/v2/dle/accounts/{account}/profiles/{profile}/datalayers/{datalayer_id:path}"
FAILED_UPLOADS_PATH = "/v2/dle/accounts/{account}/profiles/{profile}/failed-uploads"
CONTROL_PREFIX = "/_emulator/datalayers"

URLS = (
    ("GET", DATALAYERS_PATH, "listing"),
    ("GET", FAILED_UPLOADS_PATH, "failed_uploads"),
    ("POST", DATALAYER_PATH, "upload"),
    ("PUT", DATALAYER_PATH, "upload"),
    ("DELETE", DATALAYER_PATH, "delete"),
    ("GET", DATALAYER_PATH, "metadata"),
    ("POST", f"{CONTROL_PREFIX}/config", "control_config"),
    ("GET", f"{CONTROL_PREFIX}/stats", "control_stats"),
    ("POST", f"{CONTROL_PREFIX}/seed", "control_seed"),
)


def routes(state: EmulatorState, region_host_provider: Callable[[], str]) -> list[BaseRoute]:
    """The Hosted Data Layer routes and their control routes.

    :param state: the emulator state.
    :param region_host_provider: unused; part of every URL module's signature.
    """
    return build_routes(DataLayerResponses(state), URLS)
