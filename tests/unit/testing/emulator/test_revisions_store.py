"""The emulator's revision store: ids, details, bundles whose checksums match, corruption faults."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime, timezone

import pytest

from airflow_provider_tealium.api import revisions as rev
from airflow_provider_tealium.testing.emulator import revisions_store as rs
from airflow_provider_tealium.testing.emulator.state import EmulatorState

NOW = datetime(2026, 3, 1, 12, 0, 5, tzinfo=timezone.utc)


def publish(state: EmulatorState, **kwargs: object) -> str:
    fields: dict[str, object] = {
        "account": "acme",
        "profile": "web",
        "name": "Release 7",
        "comment": "spring sale tags",
        "created_by": "dev@acme.test",
        "targets": ["dev", "prod"],
    }
    fields.update(kwargs)
    return rs.record_publish(state, **fields)  # type: ignore[arg-type]


def test_ids_are_timestamps_unique_and_increasing_within_a_second() -> None:
    state = EmulatorState()
    ids = [publish(state, now=NOW) for _ in range(3)]
    assert ids == ["20260301120005", "20260301120006", "20260301120007"]
    assert publish(state) > ids[-1]  # the real clock is later than 2026-03-01
    assert rs.revision_ids(state, "acme", "web")[0] > ids[-1]
    assert rs.revision_ids(state, "acme", "other") == []


def test_details_have_the_seed_shape_and_bundles_match_their_checksums() -> None:
    state = EmulatorState()
    revision_id = publish(state, now=NOW)
    details = rs.details(state, "acme", "web", revision_id)
    assert details is not None
    assert set(details) == {
        "account",
        "profile",
        "name",
        "time_created",
        "checksums",
        "revision_id",
        "comment",
        "created_by",
        "targets_published",
    }
    assert details["time_created"] == "Sun 2026.03.01 12:00 GMT"
    assert details["targets_published"] == ["dev", "prod"]
    for target in ("dev", "prod"):
        data = rs.bundle(state, "acme", "web", revision_id, target)
        assert data is not None
        assert set(details["checksums"][target]) == {
            "bundle.zip",
            "manifest.json",
            "utag.js",
            "utag.1.js",
            "utag.2.js",
            "utag.sync.js",
        }
        result = rev.verify_bundle(data, details["checksums"][target])
        assert result.ok(), result.problems()
    # Parsed by the provider's own parser: the emulator answers what the provider expects.
    parsed = rev.parse_revision_details(rev.list_revisions_request(rev.RevisionsApi.V1, "a", "p"), details)
    assert parsed.revision_id == revision_id


def test_manifest_is_the_details_minus_the_bundle_checksum() -> None:
    state = EmulatorState()
    revision_id = publish(state, now=NOW, targets=["prod"])
    data = rs.bundle(state, "acme", "web", revision_id, "prod")
    assert data is not None
    import json

    manifest = json.loads(zipfile.ZipFile(io.BytesIO(data)).read("manifest.json"))
    assert manifest["revision_id"] == revision_id
    assert "bundle.zip" not in manifest["checksums"]["prod"]
    assert (
        manifest["checksums"]["prod"]["utag.js"]
        == rs.details(state, "acme", "web", revision_id)["checksums"]["prod"]["utag.js"]
    )  # type: ignore[index]


def test_bundles_are_deterministic() -> None:
    one, two = EmulatorState(), EmulatorState()
    a = publish(one, now=NOW)
    b = publish(two, now=NOW)
    assert a == b
    assert rs.bundle(one, "acme", "web", a, "prod") == rs.bundle(two, "acme", "web", b, "prod")
    assert rs.bundle(one, "acme", "web", a, "prod") != rs.bundle(one, "acme", "web", a, "dev")


@pytest.mark.parametrize(
    ("mode", "mismatched", "missing"),
    [
        ("checksum", ["bundle.zip", "utag.js"], []),
        ("missing", ["bundle.zip"], ["utag.1.js"]),
        ("zip", ["bundle.zip"], []),
    ],
)
def test_corruption_faults(mode: str, mismatched: list[str], missing: list[str]) -> None:
    state = EmulatorState()
    revision_id = publish(state, now=NOW)
    rs.corrupt_bundle(state, revision_id=revision_id, target="prod", mode=mode)
    details = rs.details(state, "acme", "web", revision_id)
    assert details is not None
    bad = rs.bundle(state, "acme", "web", revision_id, "prod")
    assert bad is not None
    result = rev.verify_bundle(bad, details["checksums"]["prod"])
    assert (result.mismatched, result.missing) == (mismatched, missing)
    good = rs.bundle(state, "acme", "web", revision_id, "dev")
    assert good is not None and rev.verify_bundle(good, details["checksums"]["dev"]).ok()


def test_unknown_corruption_mode_and_reset() -> None:
    state = EmulatorState()
    with pytest.raises(ValueError, match="unknown corruption mode"):
        rs.corrupt_bundle(state, mode="flip")
    publish(state)
    state.reset()
    assert rs.revision_ids(state, "acme", "web") == []
