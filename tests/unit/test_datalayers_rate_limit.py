"""hooks/rate_limit.py: the token bucket's arithmetic (fake clock), thread safety, and the async twin."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from airflow_provider_tealium.hooks.rate_limit import AsyncTokenBucket, TokenBucket


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_burst_then_steady_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(10, burst=3, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        assert bucket.acquire() == 0.0
    assert not bucket.try_acquire()
    waited = bucket.acquire()
    assert waited == pytest.approx(0.1)
    # 20 more take 2 seconds of fake time at 10/s.
    start = clock.now
    for _ in range(20):
        bucket.acquire()
    assert clock.now - start == pytest.approx(2.0)


def test_idle_refill_capped_at_burst() -> None:
    clock = FakeClock()
    bucket = TokenBucket(5, burst=2, clock=clock, sleep=clock.sleep)
    bucket.acquire()
    bucket.acquire()
    clock.now += 100  # a long idle spell gives back only `burst` tokens
    assert bucket.try_acquire() and bucket.try_acquire()
    assert not bucket.try_acquire()


def test_default_burst_is_one_second_of_rate() -> None:
    bucket = TokenBucket(50, clock=FakeClock())
    assert bucket.burst == 50
    assert TokenBucket(0.5, clock=FakeClock()).burst == 1


@pytest.mark.parametrize("rate,burst", [(0, None), (-1, None), (5, 0.5)])
def test_invalid_settings(rate: float, burst: float | None) -> None:
    with pytest.raises(ValueError):
        TokenBucket(rate, burst)


def test_threads_share_the_limit() -> None:
    bucket = TokenBucket(200, burst=10)
    stamps: list[float] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(15):
            bucket.acquire()
            with lock:
                stamps.append(time.monotonic())

    threads = [threading.Thread(target=work) for _ in range(8)]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - start
    assert len(stamps) == 120
    # 120 tokens with a burst of 10 at 200/s need at least 110/200 = 0.55 s.
    assert elapsed >= 0.5
    # No one-second window... here: no 0.1 s window holds more than burst + rate * 0.1 (+1 for edges).
    stamps.sort()
    for i, t in enumerate(stamps):
        within = sum(1 for s in stamps[i:] if s - t < 0.1)
        assert within <= 10 + 20 + 1


async def test_async_bucket_paces_without_blocking() -> None:
    bucket = AsyncTokenBucket(100, burst=5)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    task = asyncio.create_task(ticker())
    start = time.monotonic()
    await asyncio.gather(*(bucket.acquire() for _ in range(25)))
    elapsed = time.monotonic() - start
    task.cancel()
    assert elapsed >= 0.18  # 20 beyond the burst at 100/s
    assert ticks >= 10  # the loop kept running while we waited
    assert not bucket.try_acquire() or bucket.try_acquire() in (True, False)
