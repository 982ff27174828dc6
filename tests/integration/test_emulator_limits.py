"""The emulator caps request bodies before reading them and warns loudly on a non-loopback bind
(issue 11, item 10)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
import requests

from airflow_provider_tealium.testing.emulator import TealiumEmulator
from airflow_provider_tealium.testing.emulator.middleware import MAX_BODY_BYTES
from airflow_provider_tealium.testing.emulator.server import EmulatorExposedWarning, is_loopback

TOO_BIG = MAX_BODY_BYTES + 1


def test_a_declared_oversized_body_is_refused_unread(tealium_emulator: TealiumEmulator) -> None:
    answer = requests.post(f"{tealium_emulator.base_url}/v2/auth", data=b"x" * TOO_BIG, timeout=30)
    assert answer.status_code == 413 and answer.json()["returnCode"] == 413
    assert "refused unread" in answer.json()["message"]
    assert tealium_emulator.state.stats()["total_calls"] == 0  # no route ran


def test_a_chunked_oversized_body_is_refused_at_the_cap(tealium_emulator: TealiumEmulator) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(TOO_BIG // (1 << 20) + 1):
            yield b"y" * (1 << 20)

    try:
        answer = requests.post(f"{tealium_emulator.base_url}/_emulator/faults", data=chunks(), timeout=30)
    except requests.ConnectionError:
        pytest.skip("the server closed the connection while the body was still being sent")
    assert answer.status_code == 413
    assert tealium_emulator.faults.rules == []  # the control route did not run


def test_bodies_under_the_cap_still_reach_the_routes(tealium_connection: TealiumEmulator) -> None:
    from airflow_provider_tealium.api.request import TokenFamily
    from airflow_provider_tealium.hooks.tealium import TealiumHook

    token = TealiumHook().get_token(TokenFamily.V2)
    big = b'{"k":"' + b"z" * 1_500_000 + b'"}'  # over Tealium's 1 MB, under the emulator's cap
    answer = requests.post(
        f"{tealium_connection.base_url}/v2/dle/accounts/demo/profiles/main/datalayers/big",
        data=big,
        headers={"Authorization": f"Bearer {token.token}", "Content-Type": "application/json"},
        timeout=30,
    )
    assert answer.status_code == 400 and answer.json()["returnCode"] == 1400  # Tealium's own rule answered


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("", False),
        ("192.168.1.5", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_a_non_loopback_bind_warns_loudly(caplog: pytest.LogCaptureFixture) -> None:
    with pytest.warns(EmulatorExposedWarning, match="not a loopback address.*no authentication"):
        emulator = TealiumEmulator(host="0.0.0.0").start()
    emulator.stop()
    assert any(r.levelname == "ERROR" and "not a loopback address" in r.getMessage() for r in caplog.records)


def test_a_loopback_bind_is_quiet() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", EmulatorExposedWarning)
        TealiumEmulator().start().stop()
