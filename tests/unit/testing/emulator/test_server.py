"""The emulator's core over real sockets: auth, tokens, counters, faults, the region port, control, CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import jwt
import pytest
import requests
from starlette.requests import Request

from airflow_provider_tealium.api.auth import V2_AUTH_PATH, V3_AUTH_PATH
from airflow_provider_tealium.testing.emulator import (
    DEFAULT_API_KEY,
    DEFAULT_EMAIL,
    EmulatorClient,
    EmulatorHTTPError,
    EmulatorState,
    FaultRule,
    TealiumEmulator,
)
from airflow_provider_tealium.testing.emulator.tokens import issue_token, verify_bearer

V3_PATH = V3_AUTH_PATH.format(account="demo", profile="main")
GOOD_FORM = {"username": DEFAULT_EMAIL, "key": DEFAULT_API_KEY}
REPO_ROOT = Path(__file__).resolve().parents[4]


def v3_auth(
    emulator: TealiumEmulator, form: dict[str, str] = GOOD_FORM, timeout: float = 5
) -> requests.Response:
    return requests.post(emulator.base_url + V3_PATH, data=form, timeout=timeout)


def v2_auth(emulator: TealiumEmulator, form: dict[str, str] = GOOD_FORM) -> requests.Response:
    return requests.post(emulator.base_url + V2_AUTH_PATH, data=form, timeout=5)


def bearer_request(token: str | None) -> Request:
    headers = [] if token is None else [(b"authorization", f"Bearer {token}".encode())]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers})


def test_v3_auth_answers_a_jwt_and_the_region_host(tealium_emulator: TealiumEmulator) -> None:
    response = v3_auth(tealium_emulator)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "host"}
    assert body["host"] == tealium_emulator.region_host
    claims = jwt.decode(body["token"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 1800
    assert (claims["sub"], claims["fam"], claims["acct"], claims["prof"]) == (
        DEFAULT_EMAIL,
        "v3",
        "demo",
        "main",
    )


def test_two_tokens_always_differ(tealium_emulator: TealiumEmulator) -> None:
    assert v3_auth(tealium_emulator).json()["token"] != v3_auth(tealium_emulator).json()["token"]


@pytest.mark.parametrize(
    "form",
    [
        {"username": DEFAULT_EMAIL, "key": "wrong"},
        {"username": "nobody@example.com", "key": DEFAULT_API_KEY},
    ],
)
def test_wrong_credentials_answer_401(tealium_emulator: TealiumEmulator, form: dict[str, str]) -> None:
    for response in (v3_auth(tealium_emulator, form), v2_auth(tealium_emulator, form)):
        assert response.status_code == 401
        assert response.json() == {"returnCode": 1401, "message": "Authentication Failed"}
    assert tealium_emulator.state.auth_failures == 2
    assert tealium_emulator.state.stats()["mints"] == {}


def test_missing_fields_answer_400(tealium_emulator: TealiumEmulator) -> None:
    response = v3_auth(tealium_emulator, {"username": DEFAULT_EMAIL})

    assert response.status_code == 400
    assert response.json()["returnCode"] == 1400


def test_v2_auth_answers_a_token_without_host(tealium_emulator: TealiumEmulator) -> None:
    response = v2_auth(tealium_emulator)

    assert response.status_code == 200
    assert set(response.json()) == {"token"}
    assert jwt.decode(response.json()["token"], options={"verify_signature": False})["fam"] == "v2"


def test_mint_and_call_counters(tealium_emulator: TealiumEmulator) -> None:
    v3_auth(tealium_emulator)
    v3_auth(tealium_emulator)
    v2_auth(tealium_emulator)

    stats = tealium_emulator.state.stats()
    assert stats["mints"] == {"v3:demo/main:user@example.com": 2, "v2:user@example.com": 1}
    assert stats["mint_totals"] == {"v3": 2, "v2": 1}
    assert stats["calls"] == {f"POST {V3_PATH}": 2, f"POST {V2_AUTH_PATH}": 1}


def test_status_fault_applies_n_times_then_normal(tealium_emulator: TealiumEmulator) -> None:
    rule = tealium_emulator.faults.add(path="/v3/auth/*", status=503, times=2, headers={"Retry-After": "1"})

    first, second, third = (v3_auth(tealium_emulator) for _ in range(3))

    assert first.status_code == second.status_code == 503
    assert first.json() == {"returnCode": 503, "message": "Injected fault"}
    assert first.headers["retry-after"] == "1"
    assert third.status_code == 200
    assert tealium_emulator.faults.applied == {rule.id: 2}
    assert tealium_emulator.state.mints.total() == 1


def test_fault_matches_method(tealium_emulator: TealiumEmulator) -> None:
    tealium_emulator.faults.add(method="GET", path="*", status=500)

    assert v2_auth(tealium_emulator).status_code == 200


def test_latency_fault_times_a_short_timeout_out(tealium_emulator: TealiumEmulator) -> None:
    tealium_emulator.faults.add(path=V2_AUTH_PATH, latency=0.6, times=1)

    with pytest.raises(httpx.ReadTimeout):
        httpx.post(tealium_emulator.base_url + V2_AUTH_PATH, data=GOOD_FORM, timeout=0.2)


def test_reset_fault_gives_a_connection_error(tealium_emulator: TealiumEmulator) -> None:
    tealium_emulator.faults.add(path=V2_AUTH_PATH, reset=True, times=2)

    with pytest.raises(requests.ConnectionError):
        v2_auth(tealium_emulator)
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        httpx.post(tealium_emulator.base_url + V2_AUTH_PATH, data=GOOD_FORM, timeout=5)
    assert tealium_emulator.state.mints.total() == 0
    assert v2_auth(tealium_emulator).status_code == 200


def test_drop_after_apply_runs_the_handler_but_cuts_the_answer(tealium_emulator: TealiumEmulator) -> None:
    tealium_emulator.faults.add(method="POST", path=V2_AUTH_PATH, drop_after_apply=True, times=1)

    with pytest.raises(requests.ConnectionError):
        v2_auth(tealium_emulator)

    assert tealium_emulator.state.mints == {"v2:user@example.com": 1}


def test_fault_rule_needs_exactly_one_effect() -> None:
    with pytest.raises(ValueError):
        FaultRule(path="*")
    with pytest.raises(ValueError):
        FaultRule(path="*", status=500, reset=True)
    with pytest.raises(ValueError):
        FaultRule.from_dict({"path": "*", "status": 500, "typo": 1})


def test_v3_resource_call_on_the_platform_port_is_refused(tealium_emulator: TealiumEmulator) -> None:
    on_platform = requests.get(tealium_emulator.base_url + "/v3/tiq/accounts/demo/profiles/main", timeout=5)
    on_region = requests.get(
        f"http://{tealium_emulator.region_host}/v3/tiq/accounts/demo/profiles/main", timeout=5
    )

    assert on_platform.status_code == 404
    assert on_platform.json() == {
        "returnCode": 404,
        "message": "v3 API calls must use the region host returned by /v3/auth",
    }
    # The region port serves the route: without a token it asks for one.
    assert on_region.status_code == 401


def test_token_lifetime_is_configurable_and_reset(tealium_emulator: TealiumEmulator) -> None:
    tealium_emulator.state.token_lifetime = 5
    claims = jwt.decode(v3_auth(tealium_emulator).json()["token"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 5

    tealium_emulator.reset()
    assert tealium_emulator.state.token_lifetime == 1800


def test_verify_bearer_checks_signature_expiry_family_and_scope() -> None:
    state = EmulatorState()
    v3_token = issue_token(state, "v3", DEFAULT_EMAIL, "demo", "main")

    assert verify_bearer(state, bearer_request(v3_token), "v3", "demo", "main")["sub"] == DEFAULT_EMAIL
    expired = jwt.encode(
        {"iat": 1, "exp": 2, "fam": "v3", "acct": "demo", "prof": "main"}, state.signing_secret
    )
    forged = issue_token(EmulatorState(), "v3", DEFAULT_EMAIL, "demo", "main")
    refused = [
        (None, "v3", "demo", "main"),
        (v3_token, "v2", None, None),
        (v3_token, "v3", "other", "main"),
        (v3_token, "v3", "demo", "other"),
        (expired, "v3", "demo", "main"),
        (forged, "v3", "demo", "main"),
    ]
    for token, family, account, profile in refused:
        with pytest.raises(EmulatorHTTPError) as info:
            verify_bearer(state, bearer_request(token), family, account, profile)
        assert info.value.status == 401
        assert info.value.body == {"returnCode": 1401, "message": "Invalid or expired token"}
    assert state.token_rejections == len(refused)


def test_components_are_created_once_and_dropped_by_reset() -> None:
    state = EmulatorState()
    profiles = state.component("profiles", dict)
    profiles["x"] = 1

    assert state.component("profiles", dict) is profiles
    state.reset()
    assert state.component("profiles", dict) == {}


def test_control_api_through_the_client(tealium_emulator: TealiumEmulator) -> None:
    client = EmulatorClient(tealium_emulator.base_url)
    try:
        rule = client.add_fault(path=V2_AUTH_PATH, status=429, times=1)
        assert rule["id"] >= 1
        assert v2_auth(tealium_emulator).status_code == 429
        client.add_fault(path="*", status=500)
        client.clear_faults()
        assert v2_auth(tealium_emulator).status_code == 200

        assert client.configure(token_lifetime=7) == {"token_lifetime": 7}
        client.add_user("other@example.com", "other-key", "other-password")
        token = v2_auth(tealium_emulator, {"username": "other@example.com", "key": "other-key"}).json()[
            "token"
        ]
        claims = jwt.decode(token, options={"verify_signature": False})
        assert claims["exp"] - claims["iat"] == 7

        stats = client.stats()
        assert stats["mints"] == {"v2:user@example.com": 1, "v2:other@example.com": 1}
        assert all(not call.split(" ", 1)[1].startswith("/_emulator/") for call in stats["calls"])

        client.reset()
        assert client.stats()["mints"] == {}
        assert (
            v2_auth(tealium_emulator, {"username": "other@example.com", "key": "other-key"}).status_code
            == 401
        )
        with pytest.raises(requests.HTTPError):
            client.add_fault(path="*")
    finally:
        client.close()


def test_connection_json_points_both_base_urls_at_the_emulator(tealium_connection: TealiumEmulator) -> None:
    connection = json.loads(os.environ["AIRFLOW_CONN_TEALIUM_DEFAULT"])

    assert connection["conn_type"] == "tealium"
    assert (connection["login"], connection["password"]) == (DEFAULT_EMAIL, DEFAULT_API_KEY)
    assert connection["extra"]["platform_base_url"] == tealium_connection.base_url
    assert connection["extra"]["api_base_url"] == tealium_connection.base_url
    assert (connection["extra"]["account"], connection["extra"]["profile"]) == ("demo", "main")


def test_cli_prints_its_json_line_serves_and_exits_on_sigterm() -> None:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_tealium.testing.emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = json.loads(process.stdout.readline())
        assert json.loads(line["connection"])["extra"]["api_base_url"] == line["base_url"]
        response = requests.post(line["base_url"] + V3_PATH, data=GOOD_FORM, timeout=5)
        assert response.status_code == 200
        assert response.json()["host"] == line["region_host"]

        process.send_signal(signal.SIGTERM)
        started = time.monotonic()
        assert process.wait(timeout=10) == 0
        assert time.monotonic() - started < 5
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
