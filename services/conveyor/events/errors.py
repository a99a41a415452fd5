"""Errors of looking up event types."""

from conveyor.errors import ConveyorError


class UnknownEventTypeError(ConveyorError):
    """No event model has the Avro full name asked for."""


class UnknownTopicError(ConveyorError):
    """No event type travels on the topic asked for."""
