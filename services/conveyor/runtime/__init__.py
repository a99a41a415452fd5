"""The consumer-service runtime: handlers per event type, key-ordered concurrency,
at-least-once commits, rebalances and graceful shutdown."""

from conveyor.runtime.context import BatchContext, Context, EventMeta, Publisher
from conveyor.runtime.failures import (
    Failure,
    FailureHandler,
    Fatal,
    Forwarded,
    Outcome,
    RetryAfter,
    RetryInPlace,
)
from conveyor.runtime.policy import BatchPolicy, HandlerPolicy, Ordering
from conveyor.runtime.runner import run_service
from conveyor.runtime.service import Registration, Service
from conveyor.runtime.settings import GroupProtocol, ServiceSettings

__all__ = [
    "BatchContext",
    "BatchPolicy",
    "Context",
    "EventMeta",
    "Failure",
    "FailureHandler",
    "Fatal",
    "Forwarded",
    "GroupProtocol",
    "HandlerPolicy",
    "Ordering",
    "Outcome",
    "Publisher",
    "Registration",
    "RetryAfter",
    "RetryInPlace",
    "Service",
    "ServiceSettings",
    "run_service",
]
