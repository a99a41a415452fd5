"""The base of every domain event: identity, time, and where it travels (topic and key)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field


def utc_now() -> datetime:
    """Now, to the millisecond: Avro's timestamp-millis keeps no finer precision."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


class Event(BaseModel):
    """A typed domain event. Subclasses mirror one Avro record schema in `schemas/`.

    `TOPIC` names the topic the event travels on and `KEY_FIELD` the field whose value (the entity
    id, as UTF-8) is the Kafka key, so all events of one entity stay in order on one partition.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", strict=False)

    TOPIC: ClassVar[str]
    KEY_FIELD: ClassVar[str]
    AVRO_NAME: ClassVar[str]  # the Avro full name, also the `event-type` header

    event_id: UUID = Field(default_factory=uuid4, description="Unique id of this event.")
    occurred_at: datetime = Field(default_factory=utc_now, description="When it happened (UTC).")

    @property
    def key(self) -> str:
        return str(getattr(self, self.KEY_FIELD))
