"""The iQ Profiles and Publish URL table (paths from the seeds "iQ Load Rules API" and API-NOTES).

v3 resource calls are served on the region port only (the middleware refuses them elsewhere).
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.routing import BaseRoute

from airflow_provider_tealium.testing.emulator.http import build_routes
from airflow_provider_tealium.testing.emulator.profiles.responses import ProfilesResponses
from airflow_provider_tealium.testing.emulator.state import EmulatorState

PROFILE_PATH = "/v3/tiq/accounts/{account}/profiles/{profile}"
PUBLISH_PATH = "/v3/tiq/accounts/{account}/profiles/{profile}/publish"
PUBLISH_STATUS_PATH = "/v3/tiq/accounts/{account}/profiles/{profile}/publish/{publish_id}/status"
CONFIG_PATH = "/_emulator/profiles/config"

URLS = (
    ("GET", PROFILE_PATH, "get_profile"),
    ("PATCH", PROFILE_PATH, "patch_profile"),
    ("POST", PUBLISH_PATH, "start_publish"),
    ("GET", PUBLISH_STATUS_PATH, "publish_status"),
    ("GET", CONFIG_PATH, "get_config"),
    ("POST", CONFIG_PATH, "set_config"),
)


def routes(state: EmulatorState, region_host_provider: Callable[[], str]) -> list[BaseRoute]:
    """The iQ Profiles, publish and ``/_emulator/profiles`` control routes.

    :param state: the emulator state.
    :param region_host_provider: unused; part of every URL module's signature.
    """
    return build_routes(ProfilesResponses(state), URLS)
