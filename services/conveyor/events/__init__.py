"""Typed domain events: the base of every model that mirrors one Avro record schema.

A model knows its topic (`TOPIC`), its key field (`KEY_FIELD`) and its Avro full name
(`AVRO_NAME`, also the `event-type` header), which binds it to the project's schema of that name
(`conveyor.project`). `conveyor schemas generate` writes models from a project's schemas; models
written by hand bind the same way. `fields` has constrained types that match Avro's ranges.
"""

from conveyor.events.base import Event, utc_now
from conveyor.events.errors import UnknownEventTypeError, UnknownTopicError

__all__ = [
    "Event",
    "UnknownEventTypeError",
    "UnknownTopicError",
    "utc_now",
]
