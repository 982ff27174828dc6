"""Kept import path: revisions live in :mod:`.revisions` (backend, bundles, responses, urls); the
in-process helpers in :mod:`.revisions_store`."""

from __future__ import annotations

from airflow_provider_tealium.testing.emulator.revisions_store import configure_revisions

__all__ = ["configure_revisions"]
