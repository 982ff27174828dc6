"""Kept import path: IQM lives in :mod:`.iqm` (rules, backend, reports, responses, urls)."""

from __future__ import annotations

from airflow_provider_tealium.testing.emulator.iqm.backend import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_IQM_PASSWORD,
    DEFAULT_IQM_TOKEN_LIFETIME,
    DEFAULT_OW_ID,
    DEFAULT_REPORT_ROWS,
    DEFAULT_WORKSPACE_HOST,
    IQMEmulatorState,
    iqm_state,
)
from airflow_provider_tealium.testing.emulator.iqm.reports import report_rows, totals

__all__ = [
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "DEFAULT_IQM_PASSWORD",
    "DEFAULT_IQM_TOKEN_LIFETIME",
    "DEFAULT_OW_ID",
    "DEFAULT_REPORT_ROWS",
    "DEFAULT_WORKSPACE_HOST",
    "IQMEmulatorState",
    "iqm_state",
    "report_rows",
    "totals",
]
