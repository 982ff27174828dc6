"""Both sides of every documented bad input: the client refuses it before sending, naming the field and the
rule, and the emulator, sent it raw over HTTP, answers what the API documents.

The documented answers are copied here from the documents (the seeds and API-NOTES), not imported from
either side, and the emulator's rules are its own (``tests/unit/testing/emulator/test_layout.py``): a client
rule that is wrong fails here whatever the emulator does. Where the documents draw a line, the input just
inside it is a case too, which both sides must accept, so a client rule stricter than the documents fails
as well.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

import pytest
import requests

from airflow_provider_tealium.exceptions import TealiumValidationError
from airflow_provider_tealium.testing.emulator import TealiumEmulator
from airflow_provider_tealium.testing.emulator.iqm.backend import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_IQM_PASSWORD,
    DEFAULT_WORKSPACE_HOST,
    iqm_state,
)
from airflow_provider_tealium.testing.emulator.profiles.backend import store as profiles_store
from tests.integration.documented_inputs import CASES, DLE_400, NOTES_400, PATCH_400, REPORT, Case


class Wire:
    """Raw HTTP to the emulator with the documented paths, headers and fake credentials.

    :param emulator: the emulator.
    """

    def __init__(self, emulator: TealiumEmulator) -> None:
        self.base = emulator.base_url
        form = {"username": emulator.email, "key": emulator.api_key}
        self.v2 = {
            "Authorization": "Bearer "
            + requests.post(f"{self.base}/v2/auth", data=form, timeout=10).json()["token"]
        }
        v3 = requests.post(f"{self.base}/v3/auth/accounts/demo/profiles/main", data=form, timeout=10).json()
        self.v3, self.region = {"Authorization": f"Bearer {v3['token']}"}, f"http://{v3['host']}"
        basic = base64.b64encode(f"{DEFAULT_CLIENT_ID}:{DEFAULT_CLIENT_SECRET}".encode()).decode()
        login = {"grant_type": "password", "username": emulator.email, "password": DEFAULT_IQM_PASSWORD}
        headers = {"Authorization": f"Basic {basic}", "X-IAA-HOST": DEFAULT_WORKSPACE_HOST}
        data = requests.post(
            f"{self.base}/api/v3/ua/oauth/token", data=login, headers=headers, timeout=10
        ).json()["data"]
        self.iqm = {"Authorization": f"Bearer {data['access_token']}", "X-IAA-OW-ID": str(data["owId"])}

    def send(self, family: str, payload: Any) -> requests.Response:
        if family == "dle":
            datalayer_id, file_type, raw = payload
            query = "" if file_type is None else f"?file-type={file_type}"
            url = f"{self.base}/v2/dle/accounts/demo/profiles/main/datalayers/{quote(datalayer_id, safe='')}{query}"
            return requests.post(
                url, data=raw, headers={**self.v2, "Content-Type": "application/json"}, timeout=30
            )
        if family == "patch":
            return requests.patch(
                f"{self.region}/v3/tiq/accounts/demo/profiles/main", json=payload, headers=self.v3, timeout=10
            )
        if family == "publish":
            url = f"{self.region}/v3/tiq/accounts/demo/profiles/main/publish"
            return requests.post(url, json=payload, headers=self.v3, timeout=10)
        if family == "schedule":
            report_id = self.send("report", REPORT).json()["data"]
            payload = {"reportId": report_id, **payload}
        path = {"report": "report/add", "execute": "report/execute", "schedule": "report/email/schedule"}[
            family
        ]
        return requests.post(f"{self.base}/api/v3/ra/{path}", json=payload, headers=self.iqm, timeout=10)


@pytest.fixture
def wire(tealium_emulator: TealiumEmulator) -> Wire:
    profiles_store(tealium_emulator.state).configure(lock_seconds=0)  # many PATCHes in a row
    iqm_state(tealium_emulator.state).rate_limit = 10_000
    return Wire(tealium_emulator)


def check_documented_answer(family: str, answer: requests.Response, wire_field: str) -> None:
    """The status, code and message the documents give for a refused input, naming the field."""
    body = answer.json()
    if family == "dle":
        assert answer.status_code == 400 and body["returnCode"] == 1400, body
        assert body["message"].startswith(DLE_400) and wire_field in body["message"], body
    elif family == "patch" and wire_field == "notes":
        assert (answer.status_code, body["message"]) == (400, NOTES_400), body
    elif family == "patch":
        assert answer.status_code == 400 and body["message"].startswith(PATCH_400), body
        assert wire_field in body["message"], body
    elif family == "publish":
        assert answer.status_code == 400 and wire_field in body["message"], body  # v3's general 400
    else:  # IQM: {"success": false, "errorObjects": [{"error", "reason", "field"}]}, one of its 4xx
        assert answer.status_code in (400, 422) and body["success"] is False, body
        assert any(wire_field in (obj.get("field") or "") for obj in body["errorObjects"]), body


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name, marks=c.marks) for c in CASES])
def test_client_and_emulator_agree_with_the_documents(case: Case, wire: Wire) -> None:
    family, payload = case.call
    if case.field is None:
        case.client()  # the client sends it...
        answer = wire.send(family, payload)
        assert answer.status_code == 200, answer.text[:300]  # ...and the API takes it
        assert family not in ("report", "execute", "schedule") or answer.json()["success"] is True
        return
    with pytest.raises(TealiumValidationError) as refused:
        case.client()
    errors = getattr(refused.value, "errors", None) or [refused.value]
    assert any(case.field in e.field and e.rule for e in errors), [str(e) for e in errors]
    assert case.rule in str(refused.value), str(refused.value)
    check_documented_answer(family, wire.send(family, payload), case.wire_field or case.field)


def test_every_documented_input_is_covered() -> None:
    names = {c.name for c in CASES}
    required = [
        "dle id with a period",
        "dle id with a space",
        "dle json key with a period",
        "dle empty body",
        "dle body over 1 MB",
        "patch with empty notes",
        "variable type invalid",
        "extension scope",
        "load rule status",
        "publish title of 129",
        "report without a dimension",
        "report range over a year",
        "report without timezoneId",
    ]
    assert not [name for name in required if name not in names]
    assert len(names) == len(CASES)
