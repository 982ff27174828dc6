"""The revisions URL table: the v1 API (paths from the seed "iQ Revisions (v1 API)"), the v2 manifest
API (API-NOTES, "Revisions") and the control calls."""

from __future__ import annotations

from collections.abc import Callable

from starlette.routing import BaseRoute

from airflow_provider_tealium.testing.emulator.http import build_routes
from airflow_provider_tealium.testing.emulator.revisions.responses import RevisionsResponses
from airflow_provider_tealium.testing.emulator.state import EmulatorState

V1_LIST_PATH = "/v1/accounts/{account}/{profile}/revisions"
V1_DETAILS_PATH = "/v1/accounts/{account}/{profile}/revisions/{revision_id}/details"
V1_BUNDLE_PATH = "/v1/accounts/{account}/{profile}/revisions/{revision_id}/{target}"
V2_LIST_PATH = "/v2/manifest/accounts/{account}/profiles/{profile}/revisions"
V2_DETAILS_PATH = "/v2/manifest/accounts/{account}/profiles/{profile}/revisions/{revision_id}/details"
V2_BUNDLE_PATH = (
    "/v2/manifest/accounts/{account}/profiles/{profile}/revisions/{revision_id}/environments/{target}"
)

URLS = (
    ("GET", V1_LIST_PATH, "v1_list"),
    # Before the bundle route: ``details`` would otherwise match ``{target}``.
    ("GET", V1_DETAILS_PATH, "v1_details"),
    ("GET", V1_BUNDLE_PATH, "v1_bundle"),
    ("GET", V2_LIST_PATH, "v2_list"),
    ("GET", V2_DETAILS_PATH, "v2_details"),
    ("GET", V2_BUNDLE_PATH, "v2_bundle"),
    ("POST", "/_emulator/revisions/publish", "publish"),
    ("POST", "/_emulator/revisions/corrupt", "corrupt"),
    ("POST", "/_emulator/revisions/config", "configure"),
)


def routes(state: EmulatorState, region_host_provider: Callable[[], str]) -> list[BaseRoute]:
    """The revision routes (v1, v2 and control).

    :param state: the emulator state.
    :param region_host_provider: unused; part of every URL module's signature.
    """
    return build_routes(RevisionsResponses(state), URLS)
