"""A delayed event on the wire: the encoded event as it would be published, sent to the delay
topic instead, with two headers saying where it goes and when.

The key stays the entity key, so one entity's delayed events share a partition of the delay topic
and leave it in order among those due at the same time. The value and the original headers are
untouched: the scheduler strips the two delay headers and delivers the rest as it was.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from conveyor import naming
from conveyor.delay.errors import DelayTooLongError, InvalidDelayError

if TYPE_CHECKING:  # the publish package imports this module
    from conveyor.publish.message import OutgoingMessage

Headers = list[tuple[str, str | bytes | None]]

DEFAULT_MAX_DELAY = timedelta(days=30)
_DELAY_HEADERS = frozenset((naming.DELAY_DESTINATION, naming.DELAY_DUE_AT))


def due_millis(
    delay: timedelta | None,
    deliver_at: datetime | None,
    max_delay: timedelta,
    now: float,
) -> int:
    """The due time in epoch millis of a publish with `delay` or `deliver_at` at `now` (epoch
    seconds); a time in the past is due at once. Raises `InvalidDelayError`, `DelayTooLongError`."""
    if delay is not None and deliver_at is not None:
        raise InvalidDelayError("give either delay or deliver_at, not both")
    if deliver_at is not None:
        if deliver_at.tzinfo is None:
            raise InvalidDelayError(f"deliver_at {deliver_at.isoformat()} has no time zone")
        due = deliver_at.timestamp()
    else:
        due = now + (delay or timedelta()).total_seconds()
    if due - now > max_delay.total_seconds():
        due_at = datetime.fromtimestamp(due, UTC)
        raise DelayTooLongError(due_at, timedelta(seconds=due - now), max_delay)
    # rounded up: a millisecond early would be before the due time
    return max(math.ceil(due * 1000), 0)


def delayed(message: OutgoingMessage, delay_topic: str, due_ms: int) -> OutgoingMessage:
    """`message` bound for the delay topic, keeping its key, value and headers."""
    headers: Headers = [
        *message.headers,
        (naming.DELAY_DESTINATION, message.topic),
        (naming.DELAY_DUE_AT, str(due_ms)),
    ]
    return message._replace(topic=delay_topic, headers=headers)


class DelayRouter:
    """Routes a publisher's delayed events to its delay topic, refusing delays past the maximum."""

    __slots__ = ("_clock", "max_delay", "topic")

    def __init__(
        self, topic: str, max_delay: timedelta, clock: Callable[[], float] = time.time
    ) -> None:
        self.topic = topic
        self.max_delay = max_delay
        self._clock = clock

    def route(
        self, message: OutgoingMessage, delay: timedelta | None, deliver_at: datetime | None
    ) -> OutgoingMessage:
        due = due_millis(delay, deliver_at, self.max_delay, self._clock())
        return delayed(message, self.topic, due)


class Envelope:
    """What the scheduler reads off one delayed record's headers."""

    __slots__ = ("destination", "due_ms", "event_id", "headers")

    def __init__(
        self, destination: str, due_ms: int, event_id: str | None, headers: Headers
    ) -> None:
        self.destination = destination
        self.due_ms = due_ms
        self.event_id = event_id
        self.headers = headers  # the original ones, without the delay headers

    @classmethod
    def read(cls, raw: list[tuple[str, bytes | None]] | None) -> Envelope | None:
        """The envelope of a record's headers; None when they do not name a destination and a
        valid due time (such a record is not a delayed event)."""
        found: dict[str, str] = {}
        kept: Headers = []
        event_id = None
        for name, value in raw or ():
            if name in _DELAY_HEADERS:
                found[name] = (value or b"").decode(errors="replace")
                continue
            if name == naming.EVENT_ID and value is not None:
                event_id = value.decode(errors="replace")
            kept.append((name, value))
        destination = found.get(naming.DELAY_DESTINATION)
        due = found.get(naming.DELAY_DUE_AT, "")
        if not destination or not due.isdigit():
            return None
        return cls(destination, int(due), event_id, kept)
