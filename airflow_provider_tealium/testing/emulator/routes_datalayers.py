"""Kept import path: the Hosted Data Layer lives in :mod:`.datalayers` (rules, backend, responses, urls)."""

from __future__ import annotations

from airflow_provider_tealium.testing.emulator.datalayers.backend import DataLayerStore, store

__all__ = ["DataLayerStore", "store"]
