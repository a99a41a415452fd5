"""Errors of talking to Kafka."""

from __future__ import annotations

from confluent_kafka import KafkaError, KafkaException

from conveyor.clients.transient import describe, is_transient
from conveyor.errors import ConveyorError


class KafkaUnavailableError(ConveyorError):
    """Kafka kept failing with transient errors until the caller's deadline; keeps the last one
    (as `last` and as the cause), so a caller without a deadline of its own may wait on."""

    def __init__(self, what: str, waited: float, last: BaseException) -> None:
        code, reason = describe(last)
        super().__init__(
            f"{what}: Kafka still unavailable after {waited:.1f}s ({code}: {reason}); "
            "are the brokers up and reachable?"
        )
        self.what = what
        self.waited = waited
        self.last = last


class TopicReadError(ConveyorError):
    """Reading a topic back failed or stalled; keeps the client's error (as `error` and as the
    cause), so `is_transient` tells whether reading again may succeed."""

    def __init__(self, topic: str, error: KafkaError) -> None:
        super().__init__(f"reading {topic}: {error.str()}")
        self.topic = topic
        self.error = error
        self.__cause__ = KafkaException(error)

    @property
    def transient(self) -> bool:
        return is_transient(self.error)


class BrokerUnreachableError(ConveyorError):
    """No broker answered within the timeout."""

    def __init__(self, bootstrap: str, timeout: float) -> None:
        super().__init__(
            f"no Kafka broker answered at {bootstrap} within {timeout:g}s; start one with "
            "`conveyor kafka up` or point KAFKA_BOOTSTRAP_SERVERS at a running cluster"
        )
        self.bootstrap = bootstrap


class BrokerRefusedError(ConveyorError):
    """A broker refused the connection (credentials, certificate, a client set up wrongly)."""

    def __init__(self, bootstrap: str, refusal: KafkaError) -> None:
        super().__init__(f"connecting to {bootstrap} failed: {refusal}")
        self.bootstrap = bootstrap
        self.refusal = refusal
