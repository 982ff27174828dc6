"""Kept import path: iQ Profiles and Publish live in :mod:`.profiles` (rules, backend, responses, urls)."""

from __future__ import annotations

from airflow_provider_tealium.testing.emulator.profiles.backend import ProfilesStore, store
from airflow_provider_tealium.testing.emulator.profiles.models import Publish, StoredProfile, Version
from airflow_provider_tealium.testing.emulator.profiles.seed import INITIAL_VERSION

__all__ = ["INITIAL_VERSION", "ProfilesStore", "Publish", "StoredProfile", "Version", "store"]
