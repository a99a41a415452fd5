"""Delayed and scheduled events: `publish(event, delay=...)` or `deliver_at=...` writes the event
to the delay topic (`conveyor.delayed`); `conveyor run scheduler` delivers it to its topic when
due; `Publisher.cancel_delayed(event_id)` (or `conveyor delayed cancel`) cancels it before."""

from conveyor.delay.envelope import DEFAULT_MAX_DELAY, DelayRouter, Envelope, delayed, due_millis
from conveyor.delay.errors import DelayError, DelayTooLongError, InvalidDelayError, SchedulerError

__all__ = [
    "DEFAULT_MAX_DELAY",
    "DelayError",
    "DelayRouter",
    "DelayTooLongError",
    "Envelope",
    "InvalidDelayError",
    "SchedulerError",
    "delayed",
    "due_millis",
]
