"""BullMQ's limiter: at most `max` events per `duration` seconds, per handler.

The first event opens a window of `duration` seconds; later windows follow on the same grid
(so a steady backlog runs at exactly `max / duration`); once `max` events were let through,
`acquire` says how long until the next window. The runtime pauses the partition for that long and
keeps polling, so a limited handler never sleeps the loop past `max.poll.interval.ms`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RateLimit:
    """At most `max` events per `duration` seconds."""

    max: int
    duration: float

    def __post_init__(self) -> None:
        if self.max < 1 or self.duration <= 0:
            raise ValueError(f"a rate limit needs max >= 1 and duration > 0, not {self}")


class RateLimiter:
    """A fixed window counter; `now` is passed in (monotonic seconds), so it is testable."""

    def __init__(self, limit: RateLimit) -> None:
        self.limit = limit
        self._window_start: float | None = None
        self._used = 0
        self.limited = 0  # how many times `acquire` said wait (a metric)

    def acquire(self, now: float) -> float:
        """Count one event and return 0.0 when it may run now, else the seconds to wait (the
        event is not counted then; ask again after the wait)."""
        if self._window_start is None:
            self._window_start = now
        elif now - self._window_start >= self.limit.duration:
            elapsed_windows = (now - self._window_start) // self.limit.duration
            self._window_start += elapsed_windows * self.limit.duration
            self._used = 0
        if self._used < self.limit.max:
            self._used += 1
            return 0.0
        self.limited += 1
        return self._window_start + self.limit.duration - now
