"""Invariant checks shared by the fault scenarios; each returns the label it adds to the table row.

They compare what the operator reported with what the emulator actually stored, so a retry that loses,
duplicates or misreports something fails the test.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from airflow_provider_tealium.api import profiles as p
from airflow_provider_tealium.testing.emulator import TealiumEmulator
from airflow_provider_tealium.testing.emulator.datalayers.backend import store as dle_store
from airflow_provider_tealium.testing.emulator.iqm.backend import iqm_state
from airflow_provider_tealium.testing.emulator.iqm.reports import report_rows
from airflow_provider_tealium.testing.emulator.profiles.backend import store as profiles_store
from tests.fakes import FakeTI

ACCOUNT, PROFILE = "demo", "main"
NO_DL_LOST = "no data layer lost"
NO_DUP_VERSION = "no duplicate version"
NO_DUP_RULE = "no duplicate load rule"
NO_ROW_LOST = "no report row lost/duplicated"
NO_DUP_PUBLISH = "no duplicate publish"


def faults_applied(emulator: TealiumEmulator) -> int:
    """How many requests the injected fault rules answered (each one a failed attempt)."""
    return sum(rule.applied for rule in emulator.faults.rules)


def calls(emulator: TealiumEmulator, method: str, contains: str) -> int:
    """Requests the emulator received with this verb and a path containing ``contains``."""
    return sum(
        n
        for key, n in emulator.state.stats()["calls"].items()
        if key.startswith(f"{method} ") and contains in key
    )


def patch_context(dag_id: str = "faults", task_id: str = "patch", try_number: int = 1) -> dict[str, Any]:
    """The minimal context the profile writers read (the task instance names the version's marker)."""
    ti = FakeTI(dag_id=dag_id, task_id=task_id, run_id="manual__faults", try_number=try_number)
    return {"ti": ti, "dag": SimpleNamespace(fileloc=None)}


# --- data layers -------------------------------------------------------------------------------


def stored_ids(emulator: TealiumEmulator) -> set[str]:
    """Ids the emulator holds (accepted or landed) for the demo profile, settled to now."""
    current = dle_store(emulator.state)
    with current.lock:
        entries = current._settle((ACCOUNT, PROFILE), time.time())
        return {name.rsplit(".", 1)[0] for name in entries}


def failed_upload_ids(emulator: TealiumEmulator) -> set[str]:
    """Ids in the emulator's failed-uploads for the demo profile."""
    current = dle_store(emulator.state)
    with current.lock:
        current._settle((ACCOUNT, PROFILE), time.time())
        return {name.rsplit(".", 1)[0] for name, _ in current.failed.get((ACCOUNT, PROFILE), [])}


def check_datalayers(emulator: TealiumEmulator, ids: Iterable[str], result: Mapping[str, Any]) -> str:
    """Each id is reported exactly once, landed or failed, and every landed one is in the emulator."""
    expected = set(ids)
    landed, failed = list(result["landed"]), dict(result["failed"])
    assert len(landed) == len(set(landed)), "an id was reported landed twice"
    assert not set(landed) & set(failed), f"ids reported both landed and failed: {set(landed) & set(failed)}"
    lost = expected - set(landed) - set(failed)
    assert not lost, f"data layers neither landed nor reported failed: {sorted(lost)}"
    assert set(landed) | set(failed) == expected, "the result names ids that were never given"
    held = stored_ids(emulator) | failed_upload_ids(emulator)
    missing = set(landed) - held
    assert not missing, f"reported landed but not in the emulator: {sorted(missing)}"
    return f"{NO_DL_LOST}=ok ({len(landed)} landed, {len(failed)} failed by id)"


# --- profiles ------------------------------------------------------------------------------------


def profile_versions(emulator: TealiumEmulator) -> list[str]:
    """The demo profile's version ids (the profile is created with its seed on first use)."""
    with emulator.state.lock:
        return [v.version for v in profiles_store(emulator.state).get(ACCOUNT, PROFILE).versions]


def load_rules_named(emulator: TealiumEmulator, name: str) -> int:
    """How many load rules of the latest version carry ``name``."""
    with emulator.state.lock:
        latest = profiles_store(emulator.state).get(ACCOUNT, PROFILE).latest()
        return sum(1 for rule in latest.items[p.Kind.LOAD_RULE].values() if rule.get("name") == name)


def check_profile(
    emulator: TealiumEmulator, before: list[str], new_versions: int, rules: Mapping[str, int] | None = None
) -> list[str]:
    """Exactly ``new_versions`` versions were saved, ids unique; each named load rule exists that many times."""
    after = profile_versions(emulator)
    assert len(after) == len(set(after)), f"duplicate version ids: {after}"
    assert after[: len(before)] == before
    assert len(after) - len(before) == new_versions, (
        f"expected {new_versions} new version(s), got {after[len(before) :]}"
    )
    labels = [f"{NO_DUP_VERSION}=ok (+{new_versions})"]
    for name, count in (rules or {}).items():
        found = load_rules_named(emulator, name)
        assert found == count, f"load rule {name!r} exists {found} times, expected {count}"
    if rules:
        labels.append(f"{NO_DUP_RULE}=ok")
    return labels


def check_publishes(emulator: TealiumEmulator, expected: int) -> str:
    """The emulator started exactly ``expected`` publishes."""
    with emulator.state.lock:
        count = len(profiles_store(emulator.state).publishes)
    assert count == expected, f"{count} publishes started, expected {expected}"
    return f"{NO_DUP_PUBLISH}=ok ({count})"


# --- IQM -----------------------------------------------------------------------------------------


def check_report_file(emulator: TealiumEmulator, report_id: int, path: str | Path, rows: int) -> str:
    """The written CSV holds exactly the emulator's deterministic rows, in order, once each."""
    definition = iqm_state(emulator.state).reports[report_id]
    expected = [{k: str(v) for k, v in row.items()} for row in report_rows(definition, rows, 0, rows)]
    with open(path, newline="") as handle:
        written = list(csv.DictReader(handle))
    assert len(written) == len(expected), f"{len(written)} rows written, the report has {len(expected)}"
    keys = [tuple(sorted(r.items())) for r in written]
    assert len(set(keys)) == len(keys), "a report row was written twice"
    assert written == expected, "the written rows differ from the report's rows"
    return f"{NO_ROW_LOST}=ok ({len(written)} rows)"
