"""The IQM token is taken after the limiter's wait and refreshed shortly before expires_in; a 401 after
a refresh says what happened (issue 11, item 13)."""

from __future__ import annotations

import pytest

from airflow_provider_tealium.api import iqm
from airflow_provider_tealium.exceptions import TealiumAuthError
from airflow_provider_tealium.hooks.iqm import IQMHook, reset_limiters
from airflow_provider_tealium.testing.emulator import TealiumEmulator
from airflow_provider_tealium.testing.emulator.iqm.backend import iqm_state
from tests.integration.test_iqm_hook import DEFINITION, FAST, use_connection


def test_a_token_shorter_lived_than_the_limiters_wait_still_serves_every_call(
    iqm_connection: TealiumEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = iqm_state(iqm_connection.state)
    state.token_lifetime = 1  # expires_in 1 s, shorter than each wait of the client's limiter
    use_connection(monkeypatch, iqm_connection, requests_per_minute=2)
    reset_limiters()
    hook = IQMHook(rate_window=1.2, **FAST)  # type: ignore[arg-type]  # 1 call per 1.2 s after the first
    body = iqm.report_body(DEFINITION)
    pages = [hook.execute_page(body, page, 5) for page in (1, 2, 3)]
    assert all(len(page.rows) == 5 for page in pages)
    # Refreshed before each call that found it due, never discovered expired by a 401.
    assert iqm_connection.state.token_rejections == 0
    assert state.counters["refreshes"] >= 2


def test_a_401_right_after_a_refresh_says_the_token_was_fresh(
    iqm_connection: TealiumEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    iqm_connection.faults.add(
        method="POST",
        path="/api/v3/ra/report/execute",
        status=401,
        body={"success": False, "errorObjects": [{"error": "Unauthorized"}]},
    )
    with pytest.raises(TealiumAuthError) as caught:
        IQMHook(**FAST).execute_page(iqm.report_body(DEFINITION), 1, 5)  # type: ignore[arg-type]
    message = str(caught.value)
    assert "refused the call again with an access token refreshed" in message
    assert "s before it was sent (expires_in 35999 s), so the token had not expired" in message
    assert "the key or password was reset" not in message
