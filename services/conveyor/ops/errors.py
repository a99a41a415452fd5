"""Errors of the operations commands (status, replay, dead letters, tail); a broker that does
not answer is the clients' `BrokerUnreachableError`.

Each message says what to do next: the reader is an operator at a terminal on a bad day.
"""

from __future__ import annotations

from collections.abc import Sequence

from confluent_kafka import KafkaError

from conveyor.clients import is_transient
from conveyor.errors import ConveyorError


class OpsError(ConveyorError):
    """An operations command could not do what it was asked."""


class TopicNotFoundError(OpsError):
    """A topic named on the command line does not exist on the broker."""

    def __init__(self, topic: str) -> None:
        super().__init__(
            f"topic {topic!r} does not exist on the broker (see `conveyor topics list`)"
        )
        self.topic = topic


class UnknownServiceError(OpsError):
    """Neither the topology nor the broker knows a service of that name."""

    def __init__(self, service: str, known: Sequence[str]) -> None:
        shown = sorted(known)[:10]
        more = f" and {len(known) - len(shown)} more" if len(known) > len(shown) else ""
        hint = (", ".join(shown) or "none") + more
        super().__init__(
            f"unknown service {service!r}: no declared service, consumer group or "
            f"{service}.* topic has that name (known services: {hint})"
        )
        self.service = service


class GroupActiveError(OpsError):
    """The service's consumer group has live members, so its offsets must not move."""

    def __init__(self, group: str, members: Sequence[str]) -> None:
        super().__init__(
            f"service {group!r} is running ({len(members)} live member(s): {', '.join(members)}); "
            f"stop every instance first (SIGTERM the `conveyor run {group}` processes, or "
            f"`kubectl scale deployment/{group} --replicas=0`), then run this again"
        )
        self.group = group
        self.members = tuple(members)


class ReplayTargetError(OpsError):
    """A replay target that cannot be applied (bad partition, no committed offset to shift)."""


class DeadLetterNotFoundError(OpsError):
    """No dead letter at the given position."""


class RedrivePathError(OpsError):
    """The service has no topic a redrive could write into."""


class KafkaOperationError(OpsError):
    """The broker refused or failed an operation; keeps the client's error."""

    def __init__(self, what: str, cause: object) -> None:
        super().__init__(f"{what} failed: {cause}")
        self.cause = cause

    @property
    def transient(self) -> bool:
        """Whether the same operation may succeed if asked again shortly."""
        cause = self.cause
        return isinstance(cause, (KafkaError, BaseException)) and is_transient(cause)
