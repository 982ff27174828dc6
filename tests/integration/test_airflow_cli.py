"""The installed provider as Airflow itself sees it: `airflow providers list` / `hooks`, the connection form."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def _airflow(*args: str) -> str:
    env = {**os.environ}
    out = subprocess.run(
        [sys.executable, "-m", "airflow", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return out.stdout


@pytest.fixture(scope="module")
def providers_list() -> str:
    return _airflow("providers", "list", "-o", "plain")


def test_airflow_lists_the_provider(providers_list: str) -> None:
    line = next(line for line in providers_list.splitlines() if "airflow-provider-tealium" in line)
    assert "0.1.0" in line


def test_airflow_lists_the_hook() -> None:
    hooks = _airflow("providers", "hooks", "-o", "plain")
    line = next(line for line in hooks.splitlines() if line.split() and line.split()[0] == "tealium")
    assert "airflow_provider_tealium.hooks.tealium.TealiumHook" in line
    assert "tealium_conn_id" in line


def _airflow_version() -> tuple[int, int]:
    from airflow import __version__

    major, minor = __version__.split(".")[:2]
    return int(major), int(minor)


@pytest.mark.skipif(
    _airflow_version() < (3, 2), reason="declarative conn-fields forms arrived in Airflow 3.2"
)
def test_providers_manager_builds_the_connection_form() -> None:
    from airflow.providers_manager import ProvidersManager

    pm = ProvidersManager()
    widgets = pm.connection_form_widgets
    assert widgets["extra__tealium__v1_password"].is_sensitive
    assert not widgets["extra__tealium__account"].is_sensitive
    behaviour = pm.field_behaviours["tealium"]
    assert behaviour["relabeling"] == {"login": "Email", "password": "API key"}
