"""iQ Profiles operators against the emulator over real sockets: GET, PATCH, lock, lost answers, sync."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_tealium.api import profiles as p
from airflow_provider_tealium.exceptions import (
    TealiumApiError,
    TealiumError,
    TealiumValidationError,
    TealiumValidationErrors,
)
from airflow_provider_tealium.operators.profiles import (
    TealiumGetProfileOperator,
    TealiumPatchProfileOperator,
    TealiumProfileLink,
    TealiumSyncProfileOperator,
)
from airflow_provider_tealium.testing.emulator import TealiumEmulator
from airflow_provider_tealium.testing.emulator.profiles.backend import ProfilesStore, store
from tests.fakes import FakeTI

PROFILE_PATH = "/v3/tiq/accounts/demo/profiles/main"
FAST_LOCK = {"lock_backoff": 0.05, "lock_backoff_max": 0.2}


@pytest.fixture
def emulator(
    tealium_connection: TealiumEmulator, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TealiumEmulator]:
    """The emulator with a fast retry policy on the connection and no post-update lock by default."""
    conn = json.loads(tealium_connection.connection_json())
    conn["extra"].update({"backoff_base": 0.01, "backoff_max": 0.05})
    monkeypatch.setenv("AIRFLOW_CONN_TEALIUM_DEFAULT", json.dumps(conn))
    profiles(tealium_connection).configure(lock_seconds=0)
    yield tealium_connection


def logged(caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> str:
    """Everything logged: Airflow's task loggers print through structlog, which caplog does not see."""
    out = capsys.readouterr()
    return "\n".join([caplog.text, out.out, out.err])


def profiles(emulator: TealiumEmulator) -> ProfilesStore:
    return store(emulator.state)


def calls(emulator: TealiumEmulator, method: str, path: str = PROFILE_PATH) -> int:
    return int(emulator.state.stats()["calls"].get(f"{method} {path}", 0))


def context(try_number: int = 1, fileloc: str | None = None) -> dict[str, Any]:
    ti = FakeTI(dag_id="release", task_id="patch", run_id="manual__1", try_number=try_number)
    return {"ti": ti, "dag": SimpleNamespace(fileloc=fileloc)}


ADD_VARIABLE = p.Operation.add(p.Variable("order_id", "udo", alias="Order id"))
REPLACE_RULE = p.Operation.replace(
    1, p.LoadRule("Checkout pages", "inactive", [[p.Condition("udo.page_type", "equals", "checkout")]])
)


# -- GET ---------------------------------------------------------------------------------------------------


def test_get_profile_returns_components(emulator: TealiumEmulator) -> None:
    result = TealiumGetProfileOperator(task_id="get").execute(context())
    assert result["account"] == "demo" and result["version"] == "202601011200"
    assert [r["name"] for r in result["loadRules"]] == ["Checkout pages", "Product pages"]
    assert {"variables", "extensions", "versionIds"} <= set(result)
    assert "tags" not in result
    request = TealiumGetProfileOperator(task_id="get", includes=["tags"]).execute(context())
    assert request["tags"] and "loadRules" not in request


def test_get_profile_to_a_file_and_an_old_version(emulator: TealiumEmulator, tmp_path: Path) -> None:
    TealiumPatchProfileOperator(task_id="patch", operations=[ADD_VARIABLE], notes="n").execute(context())
    target = tmp_path / "out" / "profile.json"
    result = TealiumGetProfileOperator(
        task_id="get", output_path=str(target), publish_version="202601011200"
    ).execute(context())
    assert result["path"] == str(target) and result["version_id"] == "202601011200"
    saved = json.loads(target.read_text())
    assert result["bytes"] == target.stat().st_size
    assert "order_id" not in [v["name"] for v in saved["variables"]]  # the old version


def test_missing_profile_fails_with_the_api_message(emulator: TealiumEmulator) -> None:
    profiles(emulator).configure(missing_profiles=["demo/gone"])
    with pytest.raises(TealiumApiError, match=r"HTTP 404.*Account: demo, profile: gone not found"):
        TealiumGetProfileOperator(task_id="get", profile="gone").execute(context())


# -- PATCH -------------------------------------------------------------------------------------------------


def utc(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    assert moment.utcoffset() is not None and moment.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    return moment


def test_patch_saves_one_version_and_returns_it(emulator: TealiumEmulator) -> None:
    op = TealiumPatchProfileOperator(
        task_id="patch",
        operations=[ADD_VARIABLE, REPLACE_RULE.to_json()],
        notes="Nightly",
        version_title="Nightly",
    )
    started = datetime.now(timezone.utc)
    ctx = context()
    result = op.execute(ctx)
    stored = profiles(emulator).profiles[("demo", "main")]
    latest = stored.latest()
    assert len(stored.versions) == 2
    saved_at = result.pop("saved_at")
    assert result == {
        "account": "demo",
        "profile": "main",
        "version_id": latest.version,
        "version_title": "Nightly",
        "save_type": "saveAs",
        "operations": 2,
    }
    # Taken just before the PATCH: after the task started, before the version's own time.
    assert started <= utc(saved_at) <= datetime.now(timezone.utc)
    assert json.dumps(saved_at)
    assert latest.notes == "Nightly [airflow:release.patch/manual__1/try1]"
    assert latest.items[p.Kind.VARIABLE]["4"]["name"] == "order_id"
    assert latest.items[p.Kind.LOAD_RULE]["1"]["status"] == "inactive"
    assert calls(emulator, "PATCH") == 1
    # Stored in the link's XCom while the task ran: that is what Airflow shows (and get_link reads).
    assert (
        ctx["ti"].xcom[TealiumProfileLink().xcom_key]
        == "https://my.tealiumiq.com/tms?account=demo&profile=main"
    )


def test_save_changes_the_latest_version_and_default_title(emulator: TealiumEmulator) -> None:
    first = TealiumPatchProfileOperator(task_id="patch", operations=[ADD_VARIABLE], notes="a").execute(
        context()
    )
    assert first["version_title"].startswith("API | ")
    second = TealiumPatchProfileOperator(
        task_id="patch",
        operations=[p.Operation.remove("variable", 4)],
        notes="b",
        save_type="save",
    ).execute(context(try_number=2))
    assert second["version_id"] == first["version_id"]
    assert len(profiles(emulator).profiles[("demo", "main")].versions) == 2


@pytest.mark.parametrize("notes", ["", "   "])
def test_blank_notes_fail_before_any_request(emulator: TealiumEmulator, notes: str) -> None:
    # The task's marker is appended to the notes; it must not make blank notes pass.
    with pytest.raises(TealiumValidationErrors) as info:
        TealiumPatchProfileOperator(task_id="patch", operations=[ADD_VARIABLE], notes=notes).execute(
            context()
        )
    assert [(e.field, e.rule) for e in info.value.errors] == [("notes", "must not be empty")]
    assert "notes: must not be empty" in str(info.value)
    assert emulator.state.stats()["total_calls"] == 0


def test_invalid_operations_fail_before_any_request(emulator: TealiumEmulator) -> None:
    bad = {
        "op": "replace",
        "path": "/loadRules",
        "value": {"object": "loadRule", "name": "x", "status": "on"},
    }
    with pytest.raises(TealiumValidationErrors) as info:
        TealiumPatchProfileOperator(task_id="patch", operations=[ADD_VARIABLE, bad], notes="n").execute(
            context()
        )
    assert {e.field for e in info.value.errors} == {
        "operationList[1].path",
        "operationList[1].value.status",
        "operationList[1].value.loadRuleCondition",
    }
    assert emulator.state.stats()["total_calls"] == 0


def test_emulator_applies_the_same_rules(emulator: TealiumEmulator) -> None:
    from airflow_provider_tealium.api.request import ApiRequest, Host, TokenFamily
    from airflow_provider_tealium.hooks.tealium import TealiumHook

    hook = TealiumHook()
    raw = ApiRequest(
        "PATCH",
        PROFILE_PATH,
        TokenFamily.V3,
        Host.REGION,
        idempotent=False,
        json_body={"notes": "", "operationList": []},
    )
    with pytest.raises(TealiumApiError, match=r"HTTP 400.*patchProfile\.arg2\.notes: must not be empty"):
        hook.run(raw)
    raw = ApiRequest(
        "PATCH",
        PROFILE_PATH,
        TokenFamily.V3,
        Host.REGION,
        idempotent=False,
        json_body={
            "notes": "n",
            "operationList": [
                {
                    "op": "add",
                    "path": "/variables/3",
                    "value": {"object": "variable", "name": "v", "type": "va"},
                }
            ],
        },
    )
    with pytest.raises(TealiumApiError) as info:
        hook.run(raw)
    assert info.value.api_message.startswith("Validate patch request failed due to 2 invalid item(s)")
    assert (
        "operationList[0].value.type: 'va' (visitor attribute) variables are read-only"
        in info.value.api_message
    )
    # An id that does not exist changes nothing.
    with pytest.raises(TealiumApiError, match="variable id 99 does not exist"):
        hook.patch_profile(
            {"notes": "n", "operationList": [ADD_VARIABLE, p.Operation.remove("variable", 99)]}
        )
    assert len(profiles(emulator).profiles[("demo", "main")].versions) == 1


EXTENSION_WITHOUT_CONDITIONS = {
    "op": "replace",
    "path": "/extensions/1",
    "value": p.Extension("Lower-case page type", "b.x = 1;").to_json(),
}
CONDITIONS_WARNING = "absent: replace removes the extension's existing conditions"


def test_hook_logs_the_patch_warnings(
    emulator: TealiumEmulator, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    from airflow_provider_tealium.hooks.tealium import TealiumHook

    with caplog.at_level(logging.WARNING):
        TealiumHook().patch_profile({"notes": "n", "operationList": [EXTENSION_WITHOUT_CONDITIONS]})
    text = logged(caplog, capsys)
    assert f"PATCH demo/main: operationList[0].value.conditions: {CONDITIONS_WARNING}" in text
    assert profiles(emulator).patches_applied == 1


def test_operator_logs_the_patch_warnings_once(
    emulator: TealiumEmulator, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    # Two lock answers: the body is sent three times, its warnings still logged once.
    message = p.LOCK_MESSAGE.format(account="demo", profile="main")
    emulator.faults.add(
        method="PATCH", path="/v3/tiq/*", status=409, times=2, body={"returnCode": 409, "message": message}
    )
    with caplog.at_level(logging.WARNING):
        TealiumPatchProfileOperator(
            task_id="patch", operations=[EXTENSION_WITHOUT_CONDITIONS], notes="n", **FAST_LOCK
        ).execute(context())
    assert calls(emulator, "PATCH") == 3
    # Each sink once: Airflow 3.0 sends a task's log line to both caplog and stdout, 3.3 to stdout only.
    out = capsys.readouterr()
    assert max(text.count(CONDITIONS_WARNING) for text in (caplog.text, out.out, out.err)) == 1


# -- templated arguments -----------------------------------------------------------------------------------


def test_every_operator_templates_its_connection_and_scalars() -> None:
    assert "tealium_conn_id" in TealiumGetProfileOperator.template_fields
    assert {"tealium_conn_id", "lock_timeout", "lock_backoff", "lock_backoff_max"} <= set(
        TealiumPatchProfileOperator.template_fields
    )
    assert {
        "tealium_conn_id",
        "prune",
        "plan_only",
        "lock_timeout",
        "lock_backoff",
        "lock_backoff_max",
    } <= set(TealiumSyncProfileOperator.template_fields)


def test_rendered_arguments_are_converted(emulator: TealiumEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    monkeypatch.setenv("AIRFLOW_CONN_TEALIUM_RENDERED", os.environ["AIRFLOW_CONN_TEALIUM_DEFAULT"])
    params = {"conn": "tealium_rendered", "prune": "True", "dry": "false", "timeout": "10", "backoff": "0.05"}
    op = TealiumSyncProfileOperator(
        task_id="sync",
        desired_state=SPEC,
        tealium_conn_id="{{ params.conn }}",
        prune="{{ params.prune }}",
        dry_run="{{ params.dry }}",
        lock_timeout="{{ params.timeout }}",
        lock_backoff="{{ params.backoff }}",
        lock_backoff_max="{{ params.backoff }}",
    )
    op.render_template_fields({"params": params})  # type: ignore[arg-type]
    assert (op.tealium_conn_id, op.prune, op.plan_only, op.lock_timeout) == (
        "tealium_rendered",
        "True",
        "false",
        "10",
    )
    result = op.execute(context())
    assert (op.prune, op.plan_only, op.lock_timeout, op.lock_backoff) == (True, False, 10.0, 0.05)
    # "false" is a non-empty string: taken as is it would have been a dry run; "True" pruned.
    assert result["changed"] is True and result["dry_run"] is False
    assert ("remove", "Product pages") in [(c["op"], c["name"]) for c in result["plan"]]
    assert utc(result["saved_at"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"prune": "{{ params.x }}"}, "prune: must be true or false (got 'sometimes')"),
        ({"dry_run": "{{ params.x }}"}, "dry_run: must be true or false (got 'sometimes')"),
        (
            {"lock_timeout": "{{ params.x }}"},
            "lock_timeout: must be a number (0 or more) of seconds (got 'sometimes')",
        ),
        (
            {"lock_backoff": "{{ params.x }}"},
            "lock_backoff: must be a positive number of seconds (got 'sometimes')",
        ),
    ],
)
def test_bad_rendered_arguments_fail_before_any_request(
    emulator: TealiumEmulator, kwargs: dict[str, Any], message: str
) -> None:
    op = TealiumSyncProfileOperator(task_id="sync", desired_state=SPEC, **kwargs)
    op.render_template_fields({"params": {"x": "sometimes"}})  # type: ignore[arg-type]
    with pytest.raises(TealiumValidationError) as info:
        op.execute(context())
    assert str(info.value) == message
    assert emulator.state.stats()["total_calls"] == 0


def test_bad_literal_arguments_fail_at_dag_parse() -> None:
    with pytest.raises(
        TealiumValidationError, match=r"lock_timeout: must be a number \(0 or more\) of seconds"
    ):
        TealiumPatchProfileOperator(task_id="patch", operations=[ADD_VARIABLE], notes="n", lock_timeout=-1)
    with pytest.raises(TealiumValidationError, match="prune: must be true or false"):
        TealiumSyncProfileOperator(task_id="sync", desired_state=SPEC, prune=None)  # type: ignore[arg-type]


# -- the profile lock --------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [409, 404])
def test_users_viewing_lock_is_waited_out(emulator: TealiumEmulator, status: int) -> None:
    # Exactly two lock answers, whatever the machine's speed (a timed lock could expire before the first
    # PATCH arrives); the emulator's own timed lock is exercised by the lock-timeout test and tests/faults.
    message = p.LOCK_MESSAGE.format(account="demo", profile="main")
    emulator.faults.add(
        method="PATCH",
        path="/v3/tiq/*",
        status=status,
        times=2,
        body={"returnCode": status, "message": message},
    )
    result = TealiumPatchProfileOperator(
        task_id="patch", operations=[ADD_VARIABLE], notes="n", lock_timeout=10, **FAST_LOCK
    ).execute(context())
    assert result["version_id"]
    assert calls(emulator, "PATCH") == 3
    assert profiles(emulator).patches_applied == 1


def test_post_update_lock_is_waited_out(emulator: TealiumEmulator) -> None:
    # Long enough that the second PATCH, sent right after the first, always meets the lock.
    profiles(emulator).configure(lock_seconds=3.0)
    TealiumPatchProfileOperator(task_id="patch", operations=[ADD_VARIABLE], notes="a").execute(context())
    second = TealiumPatchProfileOperator(
        task_id="patch",
        operations=[p.Operation.remove("variable", 4)],
        notes="b",
        lock_timeout=10,
        **FAST_LOCK,
    )
    second.execute(context(try_number=2))
    assert profiles(emulator).patches_applied == 2
    assert calls(emulator, "PATCH") >= 3  # the second waited at least once


def test_lock_timeout_gives_up_with_a_clear_message(emulator: TealiumEmulator) -> None:
    profiles(emulator).configure(users_viewing=True)
    op = TealiumPatchProfileOperator(
        task_id="patch", operations=[ADD_VARIABLE], notes="n", lock_timeout=0.3, **FAST_LOCK
    )
    with pytest.raises(
        TealiumError,
        match=r"demo/main was still locked after 0.3 s \(lock_timeout\): Users are currently viewing",
    ):
        op.execute(context())
    assert profiles(emulator).patches_applied == 0


@pytest.mark.parametrize(
    ("knob", "message"),
    [
        ("libraries_out_of_date", "HTTP 400.*Profile libraries are out of date"),
        ("inherits_library", "HTTP 500.*Profile: main inherits from library profile"),
    ],
)
def test_final_errors_fail_at_once(emulator: TealiumEmulator, knob: str, message: str) -> None:
    profiles(emulator).configure(**{knob: True})
    with pytest.raises(TealiumApiError, match=message):
        TealiumPatchProfileOperator(
            task_id="patch", operations=[ADD_VARIABLE], notes="n", **FAST_LOCK
        ).execute(context())
    assert calls(emulator, "PATCH") == 1


# -- lost answers ------------------------------------------------------------------------------------------


def test_applied_patch_whose_answer_was_lost_is_not_resent(
    emulator: TealiumEmulator, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator.faults.add(method="PATCH", path=PROFILE_PATH, drop_after_apply=True, times=1)
    with caplog.at_level(logging.WARNING):
        result = TealiumPatchProfileOperator(task_id="patch", operations=[ADD_VARIABLE], notes="n").execute(
            context()
        )
    stored = profiles(emulator).profiles[("demo", "main")]
    assert profiles(emulator).patches_applied == 1
    assert calls(emulator, "PATCH") == 1
    assert len(stored.versions) == 2
    assert result["version_id"] == stored.latest().version
    assert utc(result["saved_at"])  # the time of the send whose answer was lost
    assert "it was applied; not resending" in logged(caplog, capsys)


def test_lost_patch_that_did_not_land_is_resent_once(emulator: TealiumEmulator) -> None:
    # Cut before the handler runs: nothing applied, yet the client cannot know that.
    emulator.faults.add(method="PATCH", path=PROFILE_PATH, reset=True, times=1)
    TealiumPatchProfileOperator(task_id="patch", operations=[ADD_VARIABLE], notes="n").execute(context())
    assert calls(emulator, "PATCH") == 2
    assert profiles(emulator).patches_applied == 1


def test_marker_of_another_try_is_not_mistaken_for_this_one(emulator: TealiumEmulator) -> None:
    TealiumPatchProfileOperator(task_id="patch", operations=[ADD_VARIABLE], notes="n").execute(
        context(try_number=1)
    )
    emulator.faults.add(method="PATCH", path=PROFILE_PATH, reset=True, times=1)
    TealiumPatchProfileOperator(
        task_id="patch", operations=[p.Operation.remove("variable", 4)], notes="n"
    ).execute(context(try_number=2))
    assert profiles(emulator).patches_applied == 2


# -- sync --------------------------------------------------------------------------------------------------

SPEC = {
    "loadRules": [
        {
            "name": "Checkout pages",
            "status": "active",
            "notes": "Every step of checkout",
            "loadRuleCondition": [[{"variable": "udo.page_type", "operator": "equals", "value": "checkout"}]],
        },
        {
            "name": "Search pages",
            "status": "active",
            "loadRuleCondition": [[{"variable": "udo.page_type", "operator": "equals", "value": "search"}]],
        },
    ],
    "variables": [{"name": "page_type", "type": "udo", "alias": "Type of page"}],
}


def test_sync_twice_sends_one_patch(
    emulator: TealiumEmulator, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    first = TealiumSyncProfileOperator(task_id="sync", desired_state=SPEC).execute(context())
    assert first["changed"] is True
    assert [(c["op"], c["name"]) for c in first["plan"]] == [
        ("add", "Search pages"),
        ("replace", "page_type"),
    ]
    assert first["plan"][1]["changes"] == {"alias": {"from": "Page type", "to": "Type of page"}}
    with caplog.at_level(logging.INFO):
        second = TealiumSyncProfileOperator(task_id="sync", desired_state=SPEC).execute(context(try_number=2))
    assert second["changed"] is False and second["plan"] == []
    assert second["version_id"] == first["version_id"]
    assert "no changes" in logged(caplog, capsys)
    assert calls(emulator, "PATCH") == 1


def test_sync_dry_run_and_prune(
    emulator: TealiumEmulator, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    with caplog.at_level(logging.INFO):
        plan = TealiumSyncProfileOperator(
            task_id="sync", desired_state=SPEC, prune=True, dry_run=True
        ).execute(context())
    assert plan["changed"] is False and plan["dry_run"] is True
    assert [(c["op"], c["name"]) for c in plan["plan"]] == [
        ("add", "Search pages"),
        ("remove", "Product pages"),
        ("replace", "page_type"),
        ("remove", "page_name"),
        ("remove", "utm_source"),
    ]
    assert "alias: 'Page type' -> 'Type of page'" in logged(caplog, capsys)
    assert calls(emulator, "PATCH") == 0
    TealiumSyncProfileOperator(task_id="sync", desired_state=SPEC, prune=True).execute(context())
    latest = profiles(emulator).profiles[("demo", "main")].latest()
    assert sorted(v["name"] for v in latest.items[p.Kind.VARIABLE].values()) == ["page_type"]
    assert len(latest.items[p.Kind.EXTENSION]) == 1  # extensions are not in the spec: not managed


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_sync_reads_a_file_next_to_the_dag(emulator: TealiumEmulator, tmp_path: Path, suffix: str) -> None:
    import yaml

    spec_file = tmp_path / f"spec{suffix}"
    spec_file.write_text(json.dumps(SPEC) if suffix == ".json" else yaml.safe_dump(SPEC))
    result = TealiumSyncProfileOperator(task_id="sync", desired_state=spec_file.name).execute(
        context(fileloc=str(tmp_path / "dag.py"))
    )
    assert result["changed"] is True and len(result["plan"]) == 2


def test_sync_rejects_a_bad_file_before_any_request(emulator: TealiumEmulator, tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("variables:\n  - {name: v, type: visitor}\n")
    with pytest.raises(TealiumValidationErrors, match=r"bad.yaml.variables\[0\].type: must be one of"):
        TealiumSyncProfileOperator(task_id="sync", desired_state="bad.yaml").execute(
            context(fileloc=str(tmp_path / "d.py"))
        )
    with pytest.raises(TealiumValidationError, match="desired_state: file not found"):
        TealiumSyncProfileOperator(task_id="sync", desired_state=str(tmp_path / "none.yaml")).execute(
            context()
        )
    assert emulator.state.stats()["total_calls"] == 0


# -- secrets -----------------------------------------------------------------------------------------------


def test_no_secret_reaches_logs_errors_or_results(
    emulator: TealiumEmulator, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs: list[str] = []
    with caplog.at_level(logging.DEBUG):
        ok = TealiumPatchProfileOperator(task_id="patch", operations=[ADD_VARIABLE], notes="n")
        outputs.append(json.dumps(ok.execute(context())))
        outputs.append(
            json.dumps(TealiumSyncProfileOperator(task_id="sync", desired_state=SPEC).execute(context(2)))
        )
        outputs.append(json.dumps(TealiumGetProfileOperator(task_id="get").execute(context())))
        profiles(emulator).configure(libraries_out_of_date=True)
        with pytest.raises(TealiumApiError) as info:
            TealiumPatchProfileOperator(task_id="patch", operations=[ADD_VARIABLE], notes="n").execute(
                context(3)
            )
        outputs.append(str(info.value))
        emulator.faults.add(method="PATCH", path=PROFILE_PATH, drop_after_apply=True, times=1)
        profiles(emulator).configure(libraries_out_of_date=False)
        outputs.append(
            json.dumps(
                TealiumPatchProfileOperator(task_id="patch", operations=[ADD_VARIABLE], notes="n").execute(
                    context(4)
                )
            )
        )
    rendered = [str(getattr(ok, field)) for field in ok.template_fields]
    text = logged(caplog, capsys)
    assert "Minting a v3 token" in text and "it was applied; not resending" in text  # the logs were seen
    haystack = "\n".join([text, *outputs, *rendered, *(repr(r.__dict__) for r in caplog.records)])
    secrets = [emulator.api_key, *emulator.state.issued_tokens]
    assert len(secrets) >= 2
    for secret in secrets:
        assert secret not in haystack
