"""The control and diagnostic operations by plain calls: settings, users, faults, the counter."""

from __future__ import annotations

import pytest

from airflow_provider_tealium.testing.emulator.control import backend
from airflow_provider_tealium.testing.emulator.errors import EmulatorHTTPError
from airflow_provider_tealium.testing.emulator.state import EmulatorState


@pytest.mark.parametrize(
    "settings", [{"token_lifetime": 0}, {"token_lifetime": True}, {"token_lifetime": "5"}, {"typo": 1}]
)
def test_bad_settings_are_refused_and_change_nothing(settings: dict[str, object]) -> None:
    state = EmulatorState()
    with pytest.raises(EmulatorHTTPError) as info:
        backend.configure(state, settings)
    assert info.value.status == 400 and info.value.body["returnCode"] == 1400
    assert state.token_lifetime == 1800


def test_settings_users_faults_and_the_counter() -> None:
    state = EmulatorState()

    assert backend.configure(state, {"token_lifetime": 7}) == {"token_lifetime": 7}
    assert backend.add_user(state, {"email": "a@example.com", "api_key": "k"}) == "a@example.com"
    assert state.user("a@example.com") is not None
    rule = backend.add_fault(state, {"path": "/v2/*", "status": 503, "times": 1})
    assert state.faults.rules == [rule]
    assert [backend.count(state, "a@example.com") for _ in range(3)] == [1, 2, 3]
    for bad_user in (
        {"email": "a@example.com"},
        {"email": "a@example.com", "api_key": "k", "v1_password": 1},
    ):
        with pytest.raises(EmulatorHTTPError):
            backend.add_user(state, bad_user)
    with pytest.raises(EmulatorHTTPError):
        backend.add_fault(state, {"path": "*"})  # no effect
