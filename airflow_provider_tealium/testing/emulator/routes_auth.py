"""Kept import path: the auth family lives in :mod:`.auth` (backend, responses, urls)."""

from __future__ import annotations

from airflow_provider_tealium.testing.emulator.auth.backend import AuthBackend, v1_sessions
from airflow_provider_tealium.testing.emulator.auth.responses import verify_v1_session

V1Sessions = AuthBackend

__all__ = ["AuthBackend", "V1Sessions", "v1_sessions", "verify_v1_session"]
