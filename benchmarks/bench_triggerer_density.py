"""Benchmark 3: triggerer density.

1,000 :class:`~airflow_provider_tealium.triggers.datalayers.TealiumDataLayerTrigger` instances, each
awaiting one data layer, run concurrently in ONE event loop (their real ``run()``, as the triggerer does),
against an emulator in a separate process (``python -m airflow_provider_tealium.testing.emulator``) so
the emulator's CPU is not counted. Their starts are spread over one poll interval, as triggers deferred
by different tasks would be. Two passes in the same run: the provider's default (the triggers of the loop
share their reads, ``batch_window=1``) and the baseline, each trigger polling alone (``batch_window=0``:
one metadata GET plus one failed-uploads GET per poll). Measured in this process:

- memory per trigger: Python allocations still held (tracemalloc) from before the triggers started until
  all of them have polled, / 1,000 (target at most 50 KB); the RSS growth is shown too, but the
  allocator reuses memory freed by the warm-up, so it under-reports;
- CPU per poll: this process's CPU time over a steady window of several poll intervals / the triggers'
  polls in it (counted as ``LandingPoller.absorb`` calls: one per trigger per poll; target at most 1 ms);
- requests per second the triggers sent to the emulator in that window;
- landing delay: every file is then made to land at once (the emulator's seed control route); the delay
  from that moment to each trigger's ``success`` event (target: the slowest within one poll interval;
  the poll that sees the file takes its own round trips, so half a second is allowed on top).

The poll interval is 10 s (1,000 triggers -> 100 polls a second; alone, 200 requests a second). At 5 s
the emulator (about 370 requests a second on a 2-vCPU machine) was the bottleneck for the baseline:
requests queued in the client's pool, which inflated the client's CPU per poll.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from typing import Any

from benchmarks._result import Result

TRIGGERS = 1000
POLL_INTERVAL = 10.0
STEADY_INTERVALS = 2
POLL_SLACK = 0.5
MEMORY_TARGET_KB = 50.0
CPU_TARGET_MS = 1.0
ACCOUNT, PROFILE = "demo", "main"


def _rss_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _start_emulator() -> tuple[subprocess.Popen[str], dict[str, Any]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_tealium.testing.emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        raise RuntimeError("the emulator did not start")
    return proc, json.loads(line)


def _dle_calls(stats: dict[str, Any]) -> int:
    """Hosted Data Layer reads the emulator has counted (metadata, listing, failed uploads)."""
    return sum(n for key, n in stats.get("calls", {}).items() if key.startswith("GET /v2/dle/"))


class _PollCounter:
    """Counts trigger polls: every poll, alone or shared, ends in one ``LandingPoller.absorb``."""

    def __init__(self) -> None:
        from airflow_provider_tealium.triggers.landing import LandingPoller

        self.polls = 0
        self._absorb = LandingPoller.absorb
        counter = self

        def absorb(poller: Any, reads: Any) -> Any:
            counter.polls += 1
            return counter._absorb(poller, reads)

        LandingPoller.absorb = absorb  # type: ignore[method-assign]

    def close(self) -> None:
        from airflow_provider_tealium.triggers.landing import LandingPoller

        LandingPoller.absorb = self._absorb  # type: ignore[method-assign]


async def _measure(client: Any, window: float, prefix: str, counter: _PollCounter) -> dict[str, Any]:
    from airflow_provider_tealium.triggers.datalayers import TealiumDataLayerTrigger

    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 1))
    deadline = time.time() + 3600

    def trigger(datalayer_id: str) -> TealiumDataLayerTrigger:
        return TealiumDataLayerTrigger(
            datalayer_ids=[datalayer_id],
            since=since,
            deadline=deadline,
            account=ACCOUNT,
            profile=PROFILE,
            poll_interval=POLL_INTERVAL,
            hook_params={"backoff_base": 0.1},
            batch_window=window,
        )

    async def consume(trig: TealiumDataLayerTrigger, delay: float, events: dict[str, Any]) -> None:
        await asyncio.sleep(delay)
        async for event in trig.run():
            events[trig.datalayer_ids[0]] = (time.time(), event.payload)

    # Warm-up: imports, the connection lookup path and the one v2 token, so none of it is charged below.
    client.seed_datalayers(ACCOUNT, PROFILE, [f"{prefix}-warmup"])
    warm: dict[str, Any] = {}
    await consume(trigger(f"{prefix}-warmup"), 0, warm)
    assert warm[f"{prefix}-warmup"][1]["status"] == "success", warm

    gc.collect()
    rss_before = _rss_bytes()
    # tracemalloc only while the triggers start and first poll: it would inflate the CPU window below.
    tracemalloc.start()
    events: dict[str, Any] = {}
    ids = [f"{prefix}-{i:04d}" for i in range(TRIGGERS)]
    tasks = [
        asyncio.create_task(consume(trigger(i), POLL_INTERVAL * n / TRIGGERS, events))
        for n, i in enumerate(ids)
    ]
    # Every trigger has started and polled at least once after one interval plus the slowest poll.
    await asyncio.sleep(POLL_INTERVAL * 1.5)
    gc.collect()
    rss_running = _rss_bytes()
    traced, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert not events, f"triggers ended early: {list(events.items())[:3]}"

    calls_start, polls_start = _dle_calls(client.stats()), counter.polls
    cpu_start = time.process_time()
    wall_start = time.perf_counter()
    await asyncio.sleep(POLL_INTERVAL * STEADY_INTERVALS)
    cpu_used = time.process_time() - cpu_start
    wall = time.perf_counter() - wall_start
    polls = counter.polls - polls_start
    requests = _dle_calls(client.stats()) - calls_start

    landed_at = time.time()
    client.seed_datalayers(ACCOUNT, PROFILE, ids)
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=POLL_INTERVAL * 4)
    delays = [events[i][0] - landed_at for i in ids]
    statuses = {events[i][1]["status"] for i in ids}
    assert statuses == {"success"}, statuses
    return {
        "kb_per_trigger": traced / 1024 / TRIGGERS,
        "rss_kb_per_trigger": (rss_running - rss_before) / 1024 / TRIGGERS,
        "ms_per_poll": cpu_used * 1000 / max(polls, 1),
        "polls": polls,
        "polls_per_s": polls / wall,
        "requests_per_s": requests / wall,
        "cpu_share": cpu_used / wall,
        "max_delay": max(delays),
        "median_delay": statistics.median(delays),
    }


def run() -> list[Result]:
    """Run the benchmark; returns its results."""
    from airflow_provider_tealium.api.defaults import DLE_BATCH_WINDOW
    from airflow_provider_tealium.hooks.token_cache import TOKEN_CACHE
    from airflow_provider_tealium.testing.emulator.client import EmulatorClient

    proc, info = _start_emulator()
    counter = _PollCounter()
    try:
        client = EmulatorClient(info["base_url"])
        # No server-side 429s and no landing delay: only the triggers' own cost is measured.
        client.configure_datalayers(rate_limit=None, landing_delay=0)
        os.environ["AIRFLOW_CONN_TEALIUM_DEFAULT"] = info["connection"]
        TOKEN_CACHE.clear()
        shared = asyncio.run(_measure(client, DLE_BATCH_WINDOW, "shared", counter))
        alone = asyncio.run(_measure(client, 0, "alone", counter))
        client.close()
    finally:
        counter.close()
        proc.terminate()
        proc.wait(timeout=10)
    bench = f"triggerer density ({TRIGGERS:,} triggers)"
    return [
        Result(
            bench,
            "memory per running trigger (tracemalloc / triggers; RSS growth "
            f"{shared['rss_kb_per_trigger']:.1f} KB)",
            round(shared["kb_per_trigger"], 1),
            "KB",
            round(alone["kb_per_trigger"], 1),
            f"<= {MEMORY_TARGET_KB:.0f} KB",
            shared["kb_per_trigger"] <= MEMORY_TARGET_KB,
        ),
        Result(
            bench,
            f"CPU per poll ({shared['polls']} polls, {shared['polls_per_s']:.0f}/s, "
            f"{shared['cpu_share']:.0%} of a core; baseline: each trigger polls alone)",
            round(shared["ms_per_poll"], 3),
            "ms",
            round(alone["ms_per_poll"], 3),
            f"<= {CPU_TARGET_MS:g} ms",
            shared["ms_per_poll"] <= CPU_TARGET_MS,
        ),
        Result(
            bench,
            f"requests per second to Tealium (polls/s: {shared['polls_per_s']:.0f} shared, "
            f"{alone['polls_per_s']:.0f} alone)",
            round(shared["requests_per_s"], 1),
            "req/s",
            round(alone["requests_per_s"], 1),
            "under Tealium's 100 req/s",
            shared["requests_per_s"] < 100,
        ),
        Result(
            bench,
            f"file landed -> event, slowest (median {shared['median_delay']:.2f} s)",
            round(shared["max_delay"], 2),
            "s",
            round(alone["max_delay"], 2),
            f"<= one poll interval ({POLL_INTERVAL:g} s) + {POLL_SLACK:g} s for the poll itself",
            shared["max_delay"] <= POLL_INTERVAL + POLL_SLACK,
        ),
    ]
