"""What publishing can go wrong with, each error carrying the event it concerns."""

from __future__ import annotations

from conveyor.errors import ConveyorError


class PublishError(ConveyorError):
    """Root of the publishing errors."""


class QueueFullError(PublishError):
    """The producer's local queue stayed full for the whole backpressure timeout.

    Nothing was handed to the producer: the caller may retry or shed load.
    """

    def __init__(self, topic: str, waited: float) -> None:
        super().__init__(
            f"the producer queue for {topic!r} stayed full for {waited:.1f} s: the broker is "
            "slower than the publishing rate or unreachable"
        )
        self.topic = topic
        self.waited = waited


class PublisherClosedError(PublishError):
    """`publish` was called after `close`."""


class PublisherFatalError(PublishError):
    """The producer hit a fatal error (for example a gap it may not skip) and must be replaced."""


class DeliveryError(PublishError):
    """The broker did not confirm an event; `kafka_error` keeps librdkafka's own error."""

    def __init__(self, topic: str, key: bytes | None, event_id: str, kafka_error: object) -> None:
        super().__init__(
            f"event {event_id} to {topic!r} was not delivered: {kafka_error}",
        )
        self.topic = topic
        self.key = key
        self.event_id = event_id
        self.kafka_error = kafka_error


class DeliveryTimeoutError(DeliveryError):
    """No acknowledgement within the delivery timeout.

    The broker may still have written the event (the request was in flight): a retry that keeps
    the same `event_id` lets consumers drop the duplicate.
    """


class DeliveryPendingError(PublishError):
    """`wait(timeout)` returned before the delivery result was known; the delivery goes on."""
