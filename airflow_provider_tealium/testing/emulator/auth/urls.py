"""The auth URL table (paths from API-NOTES, "Tealium authentication")."""

from __future__ import annotations

from collections.abc import Callable

from starlette.routing import BaseRoute

from airflow_provider_tealium.testing.emulator.auth.responses import AuthResponses
from airflow_provider_tealium.testing.emulator.http import build_routes
from airflow_provider_tealium.testing.emulator.state import EmulatorState

V3_AUTH_PATH = "/v3/auth/accounts/{account}/profiles/{profile}"
V2_AUTH_PATH = "/v2/auth"
V1_LOGIN_PATH = "/v1/login"

URLS = (
    ("POST", V3_AUTH_PATH, "v3_auth"),
    ("POST", V2_AUTH_PATH, "v2_auth"),
    ("POST", V1_LOGIN_PATH, "v1_login"),
)


def routes(state: EmulatorState, region_host_provider: Callable[[], str]) -> list[BaseRoute]:
    """The auth routes.

    :param state: the emulator state.
    :param region_host_provider: returns the region ``host:port`` named by v3 auth answers.
    """
    return build_routes(AuthResponses(state, region_host_provider), URLS)
