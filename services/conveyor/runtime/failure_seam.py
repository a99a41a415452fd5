"""The failure seam: what the runtime does with an event whose handler raised.

The dispatcher calls one `FailureHandler` with a `Failure` and obeys the `Outcome` it returns:

- `RetryAfter(delay)`: run the event again after `delay` seconds; its key waits meanwhile and
  its offset stays uncommitted.
- `Forwarded(delivery)`: the event was handed on (a retry tier, the dead letters); once
  `delivery` resolves the offset counts as completed. A failed delivery is retried in place;
  one the cluster refused for good (`conveyor.clients.transient.is_refused`: a permission,
  credentials) stops the service as `Fatal` does, since no retry could succeed.
- `Fatal(reason)`: the service stops without committing the event.

The runtime's own handler is `RetryInPlace`; `conveyor.policies` plugs in retries, dead letters
and parking here.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Protocol

import structlog

from conveyor import logs
from conveyor.clients.transient import is_refused
from conveyor.events.base import Event
from conveyor.runtime.context import EventMeta
from conveyor.runtime.policy import HandlerPolicy


@dataclass(frozen=True)
class Failure:
    """One failed attempt. `event` is None when the message could not be decoded. The raw key
    and value are the message's own bytes, for writing it on unchanged (retry tier, dead letter);
    `meta` carries its topic, partition, offset, timestamp, headers and attempt number."""

    service: str
    meta: EventMeta
    raw_value: bytes | None
    event: Event | None
    error: BaseException
    policy: HandlerPolicy
    raw_key: bytes | None = None
    batch_size: int = 1  # a batch handler's failure stands for this many events (meta: the first)

    @property
    def undecodable(self) -> bool:
        return self.event is None


@dataclass(frozen=True)
class RetryAfter:
    delay: float


@dataclass(frozen=True)
class Forwarded:
    """`delivery` is awaited on the runtime's loop; a producer's `concurrent.futures.Future`
    (resolved from a delivery callback) is accepted as is."""

    delivery: Awaitable[object] | concurrent.futures.Future[object]


@dataclass(frozen=True)
class Fatal:
    reason: str


Outcome = RetryAfter | Forwarded | Fatal


def refusal(error: BaseException) -> Fatal | None:
    """The `Fatal` a failed delivery amounts to when the cluster refused it for good, else None
    (the event is tried again)."""
    return (
        Fatal(f"the cluster refused to take the event on: {error}") if is_refused(error) else None
    )


class FailureHandler(Protocol):
    """Decides what happens to a failed event. Called on the runtime's event loop thread;
    implementations must not block (return an awaitable in `Forwarded` for slow work)."""

    def on_failure(self, failure: Failure) -> Outcome: ...


class RetryInPlace:
    """The runtime's default: log the failure and retry the same event after a fixed delay,
    forever.

    The key waits and its offset is never committed while it fails, so nothing is lost; a poison
    event blocks its key for good. `conveyor.policies` replaces it with bounded retries, dead
    letters and parking.
    """

    def __init__(self, delay: float = 1.0) -> None:
        self._delay = delay
        self._log = structlog.get_logger("conveyor.runtime")

    def on_failure(self, failure: Failure) -> Outcome:
        self._log.warning(
            logs.EVENT_UNDECODABLE if failure.undecodable else logs.EVENT_FAILED,
            service=failure.service,
            **failure.meta.log_fields(),
            error_type=type(failure.error).__name__,
            retry_in=self._delay,
        )
        return RetryAfter(self._delay)
