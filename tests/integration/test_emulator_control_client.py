"""The emulator's feature control routes, driven over HTTP with ``EmulatorClient`` (as a test in another
process would), each checked by its effect on the provider's own calls."""

from __future__ import annotations

import pytest

from airflow_provider_tealium.api import revisions as rev
from airflow_provider_tealium.exceptions import TealiumApiError, TealiumAuthError
from airflow_provider_tealium.hooks.tealium import TealiumHook
from airflow_provider_tealium.testing.emulator import TealiumEmulator
from airflow_provider_tealium.testing.emulator.client import EmulatorClient


@pytest.fixture
def client(tealium_connection: TealiumEmulator) -> EmulatorClient:
    return EmulatorClient(tealium_connection.base_url)


def test_publish_and_corrupt_revisions_over_http(client: EmulatorClient) -> None:
    revision_id = client.publish_revision(name="Over HTTP", targets=["prod"])["revision_id"]
    hook = TealiumHook()
    assert hook.list_revision_ids() == [revision_id]
    details = hook.get_revision(revision_id)
    assert details.name == "Over HTTP"
    bundle = hook.download_revision_bundle(revision_id, "prod")
    assert rev.verify_bundle(bundle, details.checksums["prod"]).ok()

    client.corrupt_revision_bundle(revision_id, "prod", mode="checksum")
    damaged = hook.download_revision_bundle(revision_id, "prod")
    assert not rev.verify_bundle(damaged, details.checksums["prod"]).ok()


def test_configure_revisions_over_http(client: EmulatorClient) -> None:
    client.publish_revision(name="Any")
    client.configure_revisions(unknown_accounts=["demo"])
    with pytest.raises(TealiumApiError) as err:
        TealiumHook(max_retries=0).list_revision_ids()
    assert err.value.return_code == 1240


def test_configure_profiles_over_http(client: EmulatorClient) -> None:
    knobs = client.configure_profiles(libraries_out_of_date=True)
    assert knobs["libraries_out_of_date"] is True
    from airflow_provider_tealium.api import profiles as p

    op = p.Operation.add(p.Variable(name="over_http", type="udo", alias="", notes=""))
    with pytest.raises(TealiumApiError, match="libraries are out of date") as err:
        TealiumHook(max_retries=0).patch_profile(p.PatchRequest(notes="n", operations=[op]))
    assert err.value.status == 400 and not isinstance(err.value, TealiumAuthError)
