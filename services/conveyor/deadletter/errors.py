"""Errors of the dead-letter and retry-tier writes."""

from __future__ import annotations

from conveyor.errors import ConveyorError


class FailureWriteError(ConveyorError):
    """A retry-tier or dead-letter record was not confirmed by the broker; its offset must not
    be committed, so the event is redelivered rather than lost. `refused`: the cluster refused
    the write for good (a permission, credentials), so trying again is in vain."""

    def __init__(self, topic: str, reason: str, *, refused: bool = False) -> None:
        super().__init__(f"could not write to {topic}: {reason}")
        self.topic = topic
        self.reason = reason
        self.refused = refused


class DeadLettersLoadError(ConveyorError):
    """The service's recent dead letters could not be read back; until a later assignment
    reads them, a redelivered event may be dead-lettered a second time."""
