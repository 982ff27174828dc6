"""The control and diagnostic operations, as plain functions on the emulator's state (no HTTP).

Control calls change the emulator itself, so their checks are the emulator's own (a typo in a setting
must not silently do nothing); they answer 400 ``1400`` like Tealium's invalid requests.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from airflow_provider_tealium.testing.emulator.errors import tealium_error
from airflow_provider_tealium.testing.emulator.faults import FaultRule
from airflow_provider_tealium.testing.emulator.state import EmulatorState

COUNTER_COMPONENT = "diagnostics.counter"
SETTINGS = ("token_lifetime",)


def add_fault(state: EmulatorState, fields: dict[str, Any]) -> FaultRule:
    """Add a fault rule from its JSON fields.

    :param state: the emulator state.
    :param fields: :class:`FaultRule` fields.
    """
    try:
        return state.faults.add(FaultRule.from_dict(fields))
    except (TypeError, ValueError) as exc:
        raise tealium_error(400, 1400, str(exc)) from exc


def configure(state: EmulatorState, settings: dict[str, Any]) -> dict[str, Any]:
    """Change the emulator-wide settings; returns them.

    :param state: the emulator state.
    :param settings: ``token_lifetime`` (seconds, a positive integer).
    """
    unknown = set(settings) - set(SETTINGS)
    if unknown:
        raise tealium_error(400, 1400, f"unknown settings: {sorted(unknown)}")
    if "token_lifetime" in settings:
        lifetime = settings["token_lifetime"]
        if not isinstance(lifetime, int) or isinstance(lifetime, bool) or lifetime < 1:
            raise tealium_error(400, 1400, "token_lifetime must be a positive integer of seconds")
        state.token_lifetime = lifetime
    return {"token_lifetime": state.token_lifetime}


def add_user(state: EmulatorState, body: dict[str, Any]) -> str:
    """Add or replace a user from ``{email, api_key, v1_password}``; returns the email.

    :param state: the emulator state.
    :param body: the user's fields.
    """
    email, api_key, password = body.get("email"), body.get("api_key"), body.get("v1_password")
    if not isinstance(email, str) or not email or not isinstance(api_key, str) or not api_key:
        raise tealium_error(400, 1400, "email and api_key are required strings")
    if password is not None and not isinstance(password, str):
        raise tealium_error(400, 1400, "v1_password must be a string")
    state.add_user(email, api_key, password)
    return email


def count(state: EmulatorState, email: str) -> int:
    """Add one to the user's diagnostic counter; returns the new count.

    :param state: the emulator state.
    :param email: the token's user.
    """
    counts = state.component(COUNTER_COMPONENT, Counter[str])
    with state.lock:
        counts[email] += 1
        return counts[email]
