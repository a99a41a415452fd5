"""Names of the topics and groups the operations commands own (beside `conveyor.naming`)."""

from __future__ import annotations

from typing import Final

from conveyor import naming

OPS_GROUP_PREFIX: Final = "conveyor-ops"
REPLAYS_TOPIC: Final = naming.REPLAYS_TOPIC  # compacted: group -> its latest replay window


def redriven_topic(service: str) -> str:
    """Compacted ledger of the service's dead letters already redriven (`<partition>:<offset>`
    of the dead letter -> when), so an interrupted redrive resumes without duplicates."""
    return f"{service}.dlq.redriven"


def redrive_topic(service: str) -> str:
    """Where a service without retry tiers (an ordered one) receives redriven events."""
    return naming.redrive_topic(service)


def redrive_transactional_id(service: str) -> str:
    """One per service: a second redrive of the same service fences the first."""
    return f"{OPS_GROUP_PREFIX}-redrive.{service}"
