"""Errors of talking to Kafka."""

from __future__ import annotations

from conveyor.clients.transient import describe
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
