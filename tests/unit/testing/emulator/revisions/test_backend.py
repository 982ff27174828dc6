"""The revisions backend's API methods by plain calls: the seed's return codes and the latest-only rule."""

from __future__ import annotations

import pytest

from airflow_provider_tealium.testing.emulator.errors import EmulatorHTTPError
from airflow_provider_tealium.testing.emulator.revisions.backend import RevisionsStore, store
from airflow_provider_tealium.testing.emulator.state import EmulatorState


def answer(call: object, *args: object) -> tuple[int, object]:
    with pytest.raises(EmulatorHTTPError) as info:
        call(*args)  # type: ignore[operator]
    return info.value.status, info.value.body


@pytest.fixture
def revisions() -> RevisionsStore:
    current = store(EmulatorState())
    for targets in (["dev", "prod"], ["dev"]):
        current.record(
            account="acme", profile="web", name="R", comment="", created_by="a@example.com", targets=targets
        )
    return current


def test_unknown_accounts_and_profiles_answer_the_documented_codes(revisions: RevisionsStore) -> None:
    revisions.configure(unknown_accounts=["gone"], unknown_profiles=[["acme", "old"]])

    assert answer(revisions.list_revisions, "gone", "web") == (
        400,
        {"returnCode": 1240, "message": "Account was not found"},
    )
    assert answer(revisions.get_details, "acme", "old", "x") == (
        404,
        {"returnCode": 1250, "message": "Profile was not found"},
    )
    assert answer(revisions.get_details, "acme", "web", "19990101000000") == (
        404,
        {"returnCode": 1260, "message": "Revision details do not exist"},
    )


def test_only_the_latest_revision_of_a_target_serves_its_bundle(revisions: RevisionsStore) -> None:
    older, newer = sorted(revisions.list_revisions("acme", "web"))

    assert answer(revisions.get_bundle, "acme", "web", older, "dev") == (
        400,
        {"returnCode": 1270, "message": "The revision bundle requested is not the latest"},
    )
    assert revisions.get_bundle("acme", "web", older, "prod")[:2] == b"PK"  # still the newest for prod
    assert answer(revisions.get_bundle, "acme", "web", newer, "prod")[0] == 404  # not published there
    revisions.configure(latest_only=False)
    assert revisions.get_bundle("acme", "web", older, "dev")[:2] == b"PK"


def test_settings_are_checked_and_reach_the_v1_sessions(revisions: RevisionsStore) -> None:
    settings = revisions.configure(session_lifetime=60, max_failed_logins=2)
    assert settings["session_lifetime"] == 60.0 and settings["max_failed_logins"] == 2
    for bad in ({"latest_only": "yes"}, {"typo": 1}, {"unknown_profiles": [["only-one"]]}):
        with pytest.raises(ValueError):
            revisions.configure(**bad)
