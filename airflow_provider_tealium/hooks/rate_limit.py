"""Client-side rate limits: a token bucket for threads and its twin for coroutines.

Tealium asks for at most 100 requests per second on the Hosted Data Layer and answers 429 beyond its
limit; pacing on our side keeps bulk jobs under it instead of spending retries on 429s. The bucket
starts full with ``burst`` tokens and refills at ``rate`` per second, so over any window of ``t``
seconds at most ``burst + rate * t`` requests pass.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable


class _Bucket:
    """The arithmetic shared by both flavours (not thread-safe by itself).

    :param rate: tokens added per second.
    :param burst: bucket size (default: one second's worth, at least 1).
    :param clock: a monotonic clock in seconds (injectable for tests).
    """

    def __init__(
        self, rate: float, burst: float | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0:
            raise ValueError(f"rate: must be > 0 (got {rate})")
        self.rate = float(rate)
        self.burst = float(burst) if burst is not None else max(1.0, self.rate)
        if self.burst < 1:
            raise ValueError(f"burst: must be >= 1 (got {burst})")
        self._clock = clock
        self._tokens = self.burst
        self._updated = clock()

    def _take(self) -> float:
        """Take a token if one is there and return 0, else return the seconds until one will be."""
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        # The epsilon absorbs float rounding: without it a refill of 0.9999999999 could ask for a sleep
        # too short to move the clock, forever.
        if self._tokens >= 1 - 1e-9:
            self._tokens = max(self._tokens - 1, 0.0)
            return 0.0
        return (1 - self._tokens) / self.rate


class TokenBucket(_Bucket):
    """A thread-safe token bucket; :meth:`acquire` blocks the calling thread until a token is free.

    Share one instance between all worker threads of a job: the limit is for the job, not per thread.

    :param rate: requests per second.
    :param burst: how many may go at once after an idle spell (default: one second's worth).
    :param clock: a monotonic clock (tests).
    :param sleep: the sleep function (tests).
    """

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(rate, burst, clock)
        self._sleep = sleep
        self._lock = threading.Lock()

    def try_acquire(self) -> bool:
        """Take a token without waiting; ``False`` when none is free."""
        with self._lock:
            return self._take() == 0.0

    def acquire(self) -> float:
        """Wait for a token and take it; returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                delay = self._take()
            if delay == 0.0:
                return waited
            # Sleep outside the lock so other threads can compute their own wait meanwhile.
            self._sleep(delay)
            waited += delay


class AsyncTokenBucket(_Bucket):
    """The coroutine twin of :class:`TokenBucket`; :meth:`acquire` never blocks the event loop.

    :param rate: requests per second.
    :param burst: bucket size (default: one second's worth).
    :param clock: a monotonic clock (tests).
    """

    def __init__(
        self, rate: float, burst: float | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__(rate, burst, clock)

    def try_acquire(self) -> bool:
        """Take a token without waiting. (No lock needed: there is no ``await`` between read and write.)"""
        return self._take() == 0.0

    async def acquire(self) -> float:
        """Wait for a token and take it; returns the seconds waited."""
        waited = 0.0
        while True:
            delay = self._take()
            if delay == 0.0:
                return waited
            await asyncio.sleep(delay)
            waited += delay
