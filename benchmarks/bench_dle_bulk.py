"""Benchmark 2: bulk Hosted Data Layer upload.

The emulator runs in this process (its own server thread; this process does nothing else meanwhile);
every client runs in a child process, so its time and peak RSS are its own. Data layers come from a
JSON Lines file (about 250 bytes each).

(a)+(b) The real :class:`~airflow_provider_tealium.operators.datalayers.TealiumUploadDataLayerOperator`
uploads 5,000 data layers with ``requests_per_second=100``: the highest the operator allows (Tealium's
documented maximum), so this is both "the limiter at 100/s" and "no client limit". The emulator's own
100/s limit is switched off so it cannot interfere (429s answered are reported), and every upload is
answered after 50 ms of injected latency: a conservative round trip to Tealium's API from a cloud
region. Without latency the comparison would be meaningless: against a local server a sequential loop
does several hundred requests a second, while the provider is capped at 100/s by design.

- (a) sustained rate while sending (target at least 95 requests/s, 95% of the limit);
- (b) against the baseline, a plain sequential loop of ``requests.post`` (a fresh call per item, a
  token minted once) over the same items, with the same latency (target at least 5x). The loop's rate
  is constant per item, so it is measured over the first 500 items and its 5,000-item time
  extrapolated, to keep the run short. The emulator is not the bottleneck: it serves several hundred
  requests a second here, and both sides wait mostly on the injected latency.
- (c) peak RSS of uploading 1,000 vs 10,000 data layers from a JSON Lines file through the
  :class:`~airflow_provider_tealium.hooks.datalayers_bulk.BulkUploader` engine (what the operator runs),
  with its rate limit lifted (raised after validation of the argument) and no latency, so 10,000 items
  take seconds: memory, not rate, is measured here (target: grows by less than 20 MB, i.e. streamed).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks._result import Result

ITEMS = 5000
BASELINE_SAMPLE = 500
SMALL, LARGE = 1000, 10_000
LIMIT = 100.0
LATENCY = 0.05
RATE_SHARE = 0.95
SPEEDUP = 5.0
FLAT_MB = 20.0
ACCOUNT, PROFILE = "demo", "main"

_OPERATOR_CHILD = """
import json, resource, sys, time
import pendulum
from airflow_provider_tealium.operators.datalayers import TealiumUploadDataLayerOperator
op = TealiumUploadDataLayerOperator(task_id="bench", datalayers=sys.argv[1], account="demo", profile="main",
                                    requests_per_second=float(sys.argv[2]), progress_interval=3600)
start = time.perf_counter()
result = op.execute({})
seconds = time.perf_counter() - start
sending = (pendulum.parse(result["finished_at"]) - pendulum.parse(result["started_at"])).total_seconds()
print(json.dumps({"landed": len(result["landed"]), "failed": len(result["failed"]), "seconds": seconds,
                  "sending": sending, "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""

_ENGINE_CHILD = """
import json, resource, sys, time
from airflow_provider_tealium.hooks.datalayers_bulk import BulkUploader, RateLimitedTealiumHook
uploader = BulkUploader(lambda limiter: RateLimitedTealiumHook(rate_limiter=limiter), account="demo",
                        profile="main", requests_per_second=100, max_workers=8, progress_interval=3600)
uploader.rate = 1e6  # memory, not pacing, is measured: lift the limit so 10,000 items take seconds
start = time.perf_counter()
result = uploader.upload(sys.argv[1])
print(json.dumps({"landed": len(result.landed), "failed": len(result.failed),
                  "seconds": time.perf_counter() - start,
                  "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""

_BASELINE_CHILD = """
import json, sys, time
import requests
api, email, key, path, count = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
token = requests.post(f"{api}/v2/auth", data={"username": email, "key": key}).json()["token"]
headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
items = []
with open(path) as handle:
    for line in handle:
        items.append(json.loads(line))
        if len(items) == count:
            break
start = time.perf_counter()
for item in items:
    url = f"{api}/v2/dle/accounts/demo/profiles/main/datalayers/{item['datalayer_id']}"
    requests.post(url, data=json.dumps(item["data"]), headers=headers, timeout=30).raise_for_status()
print(json.dumps({"sent": len(items), "seconds": time.perf_counter() - start}))
"""


def _write_items(path: Path, count: int, prefix: str) -> None:
    with path.open("w") as handle:
        for i in range(count):
            data = {
                "sku": f"{prefix}-{i:06d}",
                "name": f"Product {i}",
                "price": round(9.99 + i % 500, 2),
                "in_stock": i % 3 != 0,
                "categories": ["bench", f"group-{i % 50}"],
                "description": "x" * 120,
            }
            handle.write(json.dumps({"datalayer_id": f"{prefix}-{i:06d}", "data": data}) + "\n")


def _child(code: str, args: list[str], env: dict[str, str]) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def run() -> list[Result]:
    """Run the benchmark; returns its results."""
    from airflow_provider_tealium.testing.emulator import TealiumEmulator
    from airflow_provider_tealium.testing.emulator.datalayers.backend import store

    with TealiumEmulator() as emulator, tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "AIRFLOW_CONN_TEALIUM_DEFAULT": emulator.connection_json()}
        items = Path(tmp) / "items.jsonl"
        _write_items(items, ITEMS, "bulk")

        # (a) + (b): the operator at its highest rate, 50 ms answers, the emulator's limit off.
        store(emulator.state).configure(rate_limit=None, landing_delay=0)
        emulator.state.faults.add(method="*", path="/v2/dle/*", latency=LATENCY)
        provider = _child(_OPERATOR_CHILD, [str(items), str(LIMIT)], env)
        rejected = store(emulator.state).rate_limited
        assert provider["landed"] == ITEMS and provider["failed"] == 0, provider
        rate = ITEMS / provider["sending"]

        baseline = _child(
            _BASELINE_CHILD,
            [emulator.base_url, emulator.email, emulator.api_key, str(items), str(BASELINE_SAMPLE)],
            env,
        )
        baseline_5000 = baseline["seconds"] / baseline["sent"] * ITEMS

        # (c): memory at 1,000 vs 10,000 items, no latency, no limits.
        emulator.state.faults.clear()
        figures = {}
        for count in (SMALL, LARGE):
            path = Path(tmp) / f"items-{count}.jsonl"
            _write_items(path, count, f"rss{count}")
            figures[count] = _child(_ENGINE_CHILD, [str(path)], env)
            assert figures[count]["landed"] == count and figures[count]["failed"] == 0, figures[count]

    growth_mb = (figures[LARGE]["maxrss_kb"] - figures[SMALL]["maxrss_kb"]) / 1024
    bench = "DLE bulk upload"
    return [
        Result(
            bench,
            f"sustained rate, {ITEMS:,} items, limiter at {LIMIT:g}/s ({rejected} answered 429)",
            round(rate, 1),
            "req/s",
            None,
            f">= {RATE_SHARE * LIMIT:g} req/s ({RATE_SHARE:.0%} of the limit)",
            rate >= RATE_SHARE * LIMIT,
        ),
        Result(
            bench,
            f"time for {ITEMS:,} items, {LATENCY * 1000:.0f} ms latency "
            f"(baseline: sequential requests.post, rate over {BASELINE_SAMPLE} items)",
            round(provider["sending"], 1),
            "s",
            round(baseline_5000, 1),
            f">= {SPEEDUP:g}x faster than the baseline",
            baseline_5000 / provider["sending"] >= SPEEDUP,
        ),
        Result(
            bench,
            f"peak RSS growth, {SMALL:,} -> {LARGE:,} items (JSON Lines, engine, limit lifted)",
            round(growth_mb, 1),
            "MB",
            None,
            f"< {FLAT_MB:.0f} MB (streamed; peak at {LARGE:,}: {figures[LARGE]['maxrss_kb'] / 1024:.0f} MB)",
            growth_mb < FLAT_MB,
        ),
    ]
