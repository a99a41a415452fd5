"""The base of every domain event: identity, time, and where it travels (topic and key)."""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar, Self, TypeVar
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field, field_validator


def utc_now() -> datetime:
    """Now, to the millisecond: Avro's timestamp-millis keeps no finer precision."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


_E = TypeVar("_E", bound="Event")
# id -> weak reference of each live instance that skipped validation. A plain dict rather than a
# WeakValueDictionary: `is_validated` runs on every encode and a dict lookup is the cheapest.
_UNVALIDATED: dict[int, weakref.ref[Event]] = {}


def _unvalidated(event: _E) -> _E:
    key = id(event)

    def forget(_: weakref.ref[Event]) -> None:
        _UNVALIDATED.pop(key, None)

    _UNVALIDATED[key] = weakref.ref(event, forget)
    return event


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

    @field_validator("occurred_at")
    @classmethod
    def _to_utc_millis(cls, value: datetime) -> datetime:
        """UTC to the millisecond, what Avro's timestamp-millis keeps; naive times count as UTC."""
        if value.tzinfo is UTC and not value.microsecond % 1000:
            return value  # already so, as every decoded timestamp-millis is: skip two copies
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.replace(microsecond=value.microsecond // 1000 * 1000)

    # Instances that skipped validation are remembered (weakly, by identity) where they are made,
    # so that validation itself stays free of Python hooks: it runs for every decoded event.
    # The pydantic mypy plugin gives each model a synthesised `model_construct` signature; this
    # override keeps pydantic's behaviour and only records the instance.
    @classmethod  # type: ignore[no-redef]
    def model_construct(  # type: ignore[override]
        cls, _fields_set: set[str] | None = None, **values: Any
    ) -> Self:
        """An unvalidated instance, as pydantic makes it; codecs validate it before encoding."""
        return _unvalidated(super().model_construct(_fields_set, **values))

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy; pydantic does not validate `update`, so the copy then counts as unvalidated."""
        copy = super().model_copy(update=update, deep=deep)
        return _unvalidated(copy) if update else copy

    def __copy__(self) -> Self:
        copy = super().__copy__()
        return copy if self.is_validated else _unvalidated(copy)

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> Self:
        copy = super().__deepcopy__(memo)
        return copy if self.is_validated else _unvalidated(copy)

    def __getstate__(self) -> dict[Any, Any]:
        return {**super().__getstate__(), "conveyor_unvalidated": not self.is_validated}

    def __setstate__(self, state: dict[Any, Any]) -> None:
        state = dict(state)
        unvalidated = state.pop("conveyor_unvalidated", False)
        super().__setstate__(state)
        if unvalidated:
            _unvalidated(self)

    @property
    def is_validated(self) -> bool:
        """Whether every field passed validation (false after `model_construct`, or after
        `model_copy(update=...)`, which pydantic does not validate)."""
        ref = _UNVALIDATED.get(id(self))
        return ref is None or ref() is not self

    def validated(self) -> Self:
        """This event when it passed validation, else a validated copy (raises
        `pydantic.ValidationError` when a field is missing or wrong)."""
        # Runs on every encode: while no unvalidated event is alive, one truth test says so.
        if not _UNVALIDATED or self.is_validated:
            return self
        return type(self).model_validate(self)

    @property
    def key(self) -> str:
        return str(getattr(self, self.KEY_FIELD))
