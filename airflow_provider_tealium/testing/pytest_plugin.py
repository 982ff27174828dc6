"""Pytest fixtures running the Tealium emulator.

Loaded as a ``pytest11`` entry point in every pytest run where the provider is installed, so it
imports the emulator (Starlette, uvicorn) only inside fixtures.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from airflow_provider_tealium.testing.emulator.server import TealiumEmulator


@pytest.fixture(scope="session")
def tealium_emulator_server() -> Iterator[TealiumEmulator]:
    """One emulator for the whole session, on free ports."""
    from airflow_provider_tealium.testing.emulator.server import TealiumEmulator

    with TealiumEmulator() as emulator:
        yield emulator


@pytest.fixture
def tealium_emulator(tealium_emulator_server: TealiumEmulator) -> Iterator[TealiumEmulator]:
    """The session's emulator, reset before the test.

    :param tealium_emulator_server: the session's emulator.
    """
    tealium_emulator_server.reset()
    yield tealium_emulator_server


@pytest.fixture
def tealium_connection(
    tealium_emulator: TealiumEmulator, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TealiumEmulator]:
    """The reset emulator, with ``AIRFLOW_CONN_TEALIUM_DEFAULT`` pointing at it.

    :param tealium_emulator: the reset emulator.
    :param monkeypatch: restores the environment afterwards.
    """
    monkeypatch.setenv("AIRFLOW_CONN_TEALIUM_DEFAULT", tealium_emulator.connection_json())
    yield tealium_emulator


@pytest.fixture
def iqm_connection(
    tealium_emulator: TealiumEmulator, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TealiumEmulator]:
    """The reset emulator, with ``AIRFLOW_CONN_IQM_DEFAULT`` pointing at its IQM API (fake credentials).

    The process-wide IQM rate limiters start empty, so earlier tests' calls do not slow this one.

    :param tealium_emulator: the reset emulator.
    :param monkeypatch: restores the environment afterwards.
    """
    from airflow_provider_tealium.hooks.iqm import reset_limiters

    reset_limiters()
    monkeypatch.setenv("AIRFLOW_CONN_IQM_DEFAULT", tealium_emulator.iqm_connection_json())
    yield tealium_emulator
