"""The triggers on a triggerer-like event loop: several at once, Airflow 3.3's greenback channel, no stall.

The deployment suite (``tests/deployment``) proves the same in a real triggerer; this test is the quick,
deterministic version of its first defect: with a ``threading.Lock`` around the sync ``mask_secret``, the
second trigger to mask a secret blocked the loop's only thread while the first was parked inside
``greenback`` holding the lock, and the loop never ran again.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_tealium.testing.emulator import TealiumEmulator

ROOT = Path(__file__).resolve().parents[2]
# Generous for two seconds of polling: only a hung loop takes longer.
PROBE_TIMEOUT = 60
# Our own modules and the sync HTTP stack must already be loaded (or never needed) when a trigger runs.
FORBIDDEN_RUNTIME_IMPORTS = ("airflow_provider_tealium", "requests", "urllib3", "jwt")


def _probe(emulator: TealiumEmulator, users: int) -> dict[str, Any]:
    connections = []
    for i in range(users):
        email, key = f"probe-{i}@example.com", f"probe-api-key-{i:04d}"
        emulator.state.add_user(email, key)
        connections.append(
            json.dumps(
                {
                    "conn_type": "tealium",
                    "login": email,
                    "password": key,
                    "extra": {**emulator.connection_extra(), "revisions_api": "v2"},
                }
            )
        )
    env = {**os.environ, "PROBE_CONNECTIONS": json.dumps(connections)}
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "tests.integration.triggerer_probe"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"the triggers' event loop hung (deadlock) for {PROBE_TIMEOUT} s: {exc.stderr!r:.3000}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def test_triggers_starting_together_never_deadlock_the_loop(tealium_emulator: TealiumEmulator) -> None:
    result = _probe(tealium_emulator, users=3)
    events = result["events"]
    assert len(events) == 9
    # Each ends with its one event: the unknown publish is an error, the rest run out of time.
    assert all(event["status"] in {"error", "timeout", "success"} for event in events), events
    # Secrets reached the supervisor through the channel (so they are masked in the triggerer's logs).
    assert "MaskSecret" in result["sent"]


def test_nothing_is_imported_on_the_loop_and_it_never_stalls(tealium_emulator: TealiumEmulator) -> None:
    result = _probe(tealium_emulator, users=2)
    ours = [
        name
        for name in result["imported"]
        if any(name == top or name.startswith(top + ".") for top in FORBIDDEN_RUNTIME_IMPORTS)
    ]
    assert ours == [], f"imported while the triggers ran: {ours}"
    # Airflow's triggerer warns when the loop is held for 0.2 s or more. Work done on the loop (an import,
    # a computation) shows in the CPU its thread used between two ticks, whatever else the machine runs;
    # a blocking wait (a lock, a sleep, sync I/O) uses no CPU, and shows in wall time: a bound a busy CI
    # machine's scheduling never reaches, far below the hang the deadlock was.
    assert result["worst_cpu_stall"] < 0.2, result
    assert result["worst_stall"] < 2.0, result
