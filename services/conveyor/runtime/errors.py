"""Errors of the consumer-service runtime; all derive from `ConveyorError`."""

from __future__ import annotations

from conveyor.errors import ConveyorError


class RuntimeConfigError(ConveyorError):
    """A service or its settings are not usable as declared (found at start, not mid-stream)."""


class DuplicateHandlerError(RuntimeConfigError):
    """A service registered two handlers for the same event type."""


class ServiceNotFoundError(ConveyorError):
    """`conveyor run <service>` found no importable service package of that name."""


class ConsumerFailedError(ConveyorError):
    """The Kafka consumer reported an error it cannot recover from."""


class FatalHandlerError(ConveyorError):
    """A failure handler declared a failure fatal: the service stops without committing it."""

    def __init__(self, message: str, *, topic: str, partition: int, offset: int) -> None:
        super().__init__(message)
        self.topic = topic
        self.partition = partition
        self.offset = offset


class PublisherMissingError(ConveyorError):
    """A handler called `ctx.publish` in a service started without a publisher."""
