"""The base of every domain event: identity, time, and where it travels (topic and key)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar, Self
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator


def utc_now() -> datetime:
    """Now, to the millisecond: Avro's timestamp-millis keeps no finer precision."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


class Event(BaseModel):
    """A typed domain event. Subclasses mirror one Avro record schema in `schemas/`.

    `TOPIC` names the topic the event travels on and `KEY_FIELD` the field whose value (the entity
    id, as UTF-8) is the Kafka key, so all events of one entity stay in order on one partition.
    """

    # "always": `Model.model_validate(instance)` checks the instance's fields again rather than
    # trusting it, so an instance made with `model_construct` cannot pass as validated.
    model_config = ConfigDict(
        frozen=True, extra="forbid", strict=False, revalidate_instances="always"
    )

    TOPIC: ClassVar[str]
    KEY_FIELD: ClassVar[str]
    AVRO_NAME: ClassVar[str]  # the Avro full name, also the `event-type` header

    event_id: UUID = Field(default_factory=uuid4, description="Unique id of this event.")
    occurred_at: datetime = Field(default_factory=utc_now, description="When it happened (UTC).")

    # True only on instances that went through validation: `model_construct` skips it and
    # `model_copy(update=...)` clears it, so codecs know when they must validate again.
    _validated: bool = PrivateAttr(default=False)

    @field_validator("occurred_at")
    @classmethod
    def _to_utc_millis(cls, value: datetime) -> datetime:
        """UTC to the millisecond, what Avro's timestamp-millis keeps; naive times count as UTC."""
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.replace(microsecond=value.microsecond // 1000 * 1000)

    @model_validator(mode="after")
    def _mark_validated(self) -> Self:
        self._validated = True
        return self

    @property
    def is_validated(self) -> bool:
        """Whether every field passed validation (false after `model_construct`)."""
        return self._validated

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy; pydantic does not validate `update`, so the copy then counts as unvalidated."""
        copy = super().model_copy(update=update, deep=deep)
        if update:
            copy._validated = False
        return copy

    def validated(self) -> Self:
        """This event when it passed validation, else a validated copy (raises
        `pydantic.ValidationError` when a field is missing or wrong)."""
        return self if self._validated else type(self).model_validate(self)

    @property
    def key(self) -> str:
        return str(getattr(self, self.KEY_FIELD))
