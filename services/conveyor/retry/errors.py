"""What a handler raises to steer its own retries."""

from __future__ import annotations

from conveyor.errors import ConveyorError


class RetryControlError(ConveyorError):
    """Raised by a handler to tell the runtime what to do with the event it failed on."""


class PermanentError(RetryControlError):
    """This event can never succeed: dead-letter it now, without spending further attempts."""


class Retry(RetryControlError):  # noqa: N818 -- the name handlers raise: `raise Retry(after=5)`
    """Try this event again after `after` seconds (instead of the policy's backoff).

    It still counts as an attempt, so a handler that always raises it ends in the dead letters.
    """

    def __init__(self, after: float, reason: str = "") -> None:
        if after < 0:
            raise ValueError(f"Retry(after=...) must be >= 0 seconds, not {after}")
        super().__init__(reason or f"retry requested in {after:g}s")
        self.after = after
