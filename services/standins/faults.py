"""Injected faults: latency, a random failure rate, and an outage for the first calls or seconds."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class FaultPlan:
    """How badly a stand-in behaves. Failures answer 503, as an overloaded API would."""

    latency: float = 0.0  # seconds added to every call
    failure_rate: float = 0.0  # share of calls that fail, 0..1
    failures_for: float = 0.0  # random failures only this long after the first call (0: always)
    fail_first_seconds: float = 0.0  # every call fails until this long after the first call
    fail_first_calls: int = 0  # the first N calls fail
    seed: int | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.failure_rate <= 1.0:
            raise ValueError("failure_rate is a share between 0 and 1")
        if min(self.latency, self.fail_first_seconds, self.fail_first_calls, self.failures_for) < 0:
            raise ValueError("latency and the flaky start cannot be negative")


class FaultInjector:
    """Decides, call by call, whether a call fails, and waits out the latency."""

    def __init__(self, plan: FaultPlan, clock: Callable[[], float] = time.monotonic) -> None:
        self._plan = plan
        self._clock = clock
        self._started: float | None = None  # the first call starts the clock
        self._random = random.Random(plan.seed)
        self._calls = 0
        self._failed = 0
        self._lock = threading.Lock()

    def should_fail(self) -> bool:
        """Count one call and say whether it fails."""
        with self._lock:
            self._calls += 1
            if self._started is None:
                self._started = self._clock()
            elapsed = self._clock() - self._started
            flaky = not self._plan.failures_for or elapsed < self._plan.failures_for
            fail = (
                self._calls <= self._plan.fail_first_calls
                or elapsed < self._plan.fail_first_seconds
                or (flaky and self._random.random() < self._plan.failure_rate)
            )
            self._failed += fail
            return fail

    async def delay(self) -> None:
        if self._plan.latency:
            await asyncio.sleep(self._plan.latency)

    @property
    def calls(self) -> int:
        return self._calls

    @property
    def failed(self) -> int:
        return self._failed
