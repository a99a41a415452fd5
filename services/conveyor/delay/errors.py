"""What a delayed publish can be refused for; nothing is sent when one is raised."""

from __future__ import annotations

from datetime import datetime, timedelta

from conveyor.errors import ConveyorError


class DelayError(ConveyorError):
    """Root of the refusals of a delayed publish (not a `PublishError`: the publish package
    imports this one)."""


class DelayTooLongError(DelayError):
    """The due time lies further ahead than the deployment's maximum delay."""

    def __init__(self, due_at: datetime, delay: timedelta, max_delay: timedelta) -> None:
        super().__init__(
            f"a delivery at {due_at.isoformat()} is {delay} away, beyond the maximum delay of "
            f"{max_delay} (CONVEYOR_MAX_DELAY; the delay topic keeps events only so long)"
        )
        self.due_at = due_at
        self.delay = delay
        self.max_delay = max_delay


class InvalidDelayError(DelayError):
    """Both `delay` and `deliver_at` given, or a `deliver_at` without a time zone."""


class SchedulerError(ConveyorError):
    """The scheduler cannot go on (its transactional producer was fenced or failed)."""
