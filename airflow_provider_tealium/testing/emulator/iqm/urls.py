"""The IQM URL table (paths from API-NOTES, "IQM (programmatic advertising) API")."""

from __future__ import annotations

from collections.abc import Callable

from starlette.routing import BaseRoute

from airflow_provider_tealium.testing.emulator.http import build_routes
from airflow_provider_tealium.testing.emulator.iqm.responses import IQMResponses
from airflow_provider_tealium.testing.emulator.state import EmulatorState

LOGIN_PATH = "/api/v3/ua/login"
TOKEN_PATH = "/api/v3/ua/oauth/token"
REPORT_ADD_PATH = "/api/v3/ra/report/add"
REPORT_PATH = "/api/v3/ra/report/{report_id}"
REPORT_EXECUTE_PATH = "/api/v3/ra/report/execute"
REPORT_DOWNLOAD_PATH = "/api/v3/ra/report/download"
SCHEDULE_PATH = "/api/v3/ra/report/email/schedule"
SCHEDULE_UPDATE_PATH = "/api/v3/ra/report/email/schedule/{report_id}"
REPORTS_LIST_PATH = "/api/v3/ra/reports/list"
FILES_PATH = "/iqm-files/{name}"
"""Where the download URLs point (the emulator's stand-in for IQM's signed storage)."""

URLS = (
    ("POST", LOGIN_PATH, "login"),
    ("POST", TOKEN_PATH, "oauth_token"),
    # Before REPORT_PATH, whose ``{report_id}`` would match ``add``, ``execute`` and ``download``.
    ("POST", REPORT_ADD_PATH, "add_report"),
    ("POST", REPORT_EXECUTE_PATH, "execute"),
    ("POST", REPORT_DOWNLOAD_PATH, "download"),
    ("GET", REPORTS_LIST_PATH, "list_reports"),
    ("POST", SCHEDULE_PATH, "schedule"),
    ("PATCH", SCHEDULE_UPDATE_PATH, "update_schedule"),
    ("GET", REPORT_PATH, "get_report"),
    ("GET", FILES_PATH, "serve_file"),
)


def routes(state: EmulatorState, region_host_provider: Callable[[], str]) -> list[BaseRoute]:
    """The IQM routes (served on the platform port).

    :param state: the emulator state.
    :param region_host_provider: unused; part of every URL module's signature.
    """
    return build_routes(IQMResponses(state), URLS)
