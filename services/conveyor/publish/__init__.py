"""Publishing typed events: `Publisher` (threads) and `AsyncPublisher` (asyncio)."""

from conveyor.publish.aio import AsyncPublisher
from conveyor.publish.config import Compression, PublisherConfig
from conveyor.publish.delivery import AsyncDeliveryHandle, DeliveryHandle, DeliveryResult
from conveyor.publish.errors import (
    DeliveryError,
    DeliveryPendingError,
    DeliveryTimeoutError,
    PublisherClosedError,
    PublisherFatalError,
    PublishError,
    QueueFullError,
)
from conveyor.publish.message import MessageBuilder, OutgoingMessage, build_message
from conveyor.publish.publisher import Publisher

__all__ = [
    "AsyncDeliveryHandle",
    "AsyncPublisher",
    "Compression",
    "DeliveryError",
    "DeliveryHandle",
    "DeliveryPendingError",
    "DeliveryResult",
    "DeliveryTimeoutError",
    "MessageBuilder",
    "OutgoingMessage",
    "PublishError",
    "Publisher",
    "PublisherClosedError",
    "PublisherConfig",
    "PublisherFatalError",
    "QueueFullError",
    "build_message",
]
