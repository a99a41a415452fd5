"""`AvroCodec`: events to Avro single-object encoded bytes and back, resolving schema versions."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from io import BytesIO
from typing import Any, Final

from fastavro import schemaless_reader
from fastavro.read import SchemaResolutionError
from pydantic import ValidationError

from conveyor.codec.errors import (
    UnknownEventSchemaError,
    UnknownFingerprintError,
    UnresolvableSchemaError,
)
from conveyor.codec.framing import HEADER_SIZE, fingerprint_of
from conveyor.codec.records import RecordWriter
from conveyor.codec.routes import CORRUPT_BODY, Route, route_for, timestamp_millis
from conveyor.codec.schema_set import SchemaSet, SchemaVersion
from conveyor.events import Event
from conveyor.naming import AVRO_CONTENT_TYPE

# Routes remembered for decodes with an explicit reader: (header, reader) pairs come from
# producers' bytes, so past this many the rest are found on every call rather than remembered.
READER_ROUTES_MAX: Final = 256


class AvroCodec:
    """Avro single-object encoding against the schema versions of one `SchemaSet`.

    `event_types` binds models to schemas by Avro full name (a project's catalogue).
    Writes with the newest schema version of each event (or the one pinned in `writer_versions`)
    and reads any known version, resolved to the newest (or the one pinned in `reader_versions`:
    a consumer built for v1 pins 1). Thread-safe: its only mutable state is a bounded cache of
    routes, filled with whole entries (a race at worst builds one route twice).
    """

    content_type: str = AVRO_CONTENT_TYPE

    def __init__(
        self,
        schemas: SchemaSet,
        *,
        event_types: Mapping[str, type[Event]] | None = None,
        writer_versions: Mapping[str, int] | None = None,
        reader_versions: Mapping[str, int] | None = None,
        reader_routes_max: int = READER_ROUTES_MAX,
    ) -> None:
        self.schemas = schemas
        self._reader_routes_max = reader_routes_max
        self._event_types = dict(event_types or {})
        self._writers = {name: self._pick(name, writer_versions) for name in self._event_types}
        self._readers = {name: self._pick(name, reader_versions) for name in self._event_types}
        # Routes by the value's first bytes (marker and fingerprint: a hit proves both), for
        # every writer version that has a model and a reader version: `decode` without an
        # explicit reader then costs one lookup.
        self._routes = {
            schema.header: route_for(schema, target, model)
            for schema in schemas
            if (model := self._event_types.get(schema.full_name)) is not None
            and (target := self._readers.get(model.AVRO_NAME)) is not None
        }
        # (header, reader) -> route, for `decode` with an explicit reader (what the consumer
        # runtime passes): filled on first use, at most `READER_ROUTES_MAX` entries.
        self._reader_routes: dict[tuple[bytes, type[Event]], Route] = {}
        # Model -> how its events are written, filled on each model's first encode.
        self._record_writers: dict[type[Event], RecordWriter] = {}

    def _pick(self, name: str, pinned: Mapping[str, int] | None) -> SchemaVersion | None:
        version = (pinned or {}).get(name)
        schema = self.schemas.get(name, version)
        if schema is None and version is not None:
            raise UnknownEventSchemaError(
                f"no schema version {version} of {name} in the schema set"
            )
        return schema

    def writer_schema(self, event_type: type[Event]) -> SchemaVersion:
        schema = self._writers.get(event_type.AVRO_NAME)
        if schema is None:
            raise UnknownEventSchemaError(
                f"no schema for {event_type.__name__} ({event_type.AVRO_NAME}) in the schema set"
            )
        return schema

    def encode(self, event: Event) -> bytes:
        """Validate the event (again, when it was built without validation) and encode it."""
        return self.encode_with_id(event)[0]

    def encode_with_id(self, event: Event) -> tuple[bytes, str]:
        """`encode`, and the event id as the value holds it: the `event-id` header's value,
        made once for both."""
        return self._record_writer(type(event)).encode(event)

    def encoder_for(self, event_type: type[Event]) -> Callable[[Event], tuple[bytes, str]]:
        """`encode_with_id` for events of `event_type`, for callers that keep one per type
        (`MessageBuilder`); `UnknownEventSchemaError` when the schema set lacks the type."""
        return self._record_writer(event_type).encode

    def _record_writer(self, event_type: type[Event]) -> RecordWriter:
        """The writer of `event_type`, made on its first encode (a race at worst makes two)."""
        writer = self._record_writers.get(event_type)
        if writer is None:
            writer = RecordWriter(event_type, self.writer_schema(event_type))
            self._record_writers[event_type] = writer
        return writer

    def event_type_of(self, data: bytes) -> type[Event] | None:
        """The event type `data` decodes into, told by its single-object header alone (nothing
        else is read); None when the header names no schema version this codec reads."""
        route = self._routes.get(data[:HEADER_SIZE])
        return None if route is None else route.model

    def decode(self, data: bytes, reader: type[Event] | None = None) -> Event:
        """The event in `data`, resolved to `reader`'s schema (default: the writer's record).

        The hot path of every consumer, so its steps are inline: find the route, read the body,
        make its timestamps datetimes, validate.
        """
        if reader is None:
            route = self._routes.get(data[:HEADER_SIZE])
        else:
            route = self._reader_routes.get((data[:HEADER_SIZE], reader))
        if route is None:
            route = self._find_route(data, reader)
        stream = BytesIO(data)
        stream.seek(HEADER_SIZE)
        try:
            # Without a reader schema when it is the writer's: fastavro then resolves nothing.
            record: Any = schemaless_reader(stream, route.read_as, route.resolve_to)
            for name in route.millis_fields:
                record[name] = timestamp_millis(record[name])
        except SchemaResolutionError as exc:
            raise route.unresolvable(data, exc) from exc
        except CORRUPT_BODY as exc:
            raise route.corrupt(data, exc) from exc
        if stream.tell() != len(data):
            raise route.trailing(data, stream.tell())
        try:
            # Every field is checked; unknown keys are not looked for, as fastavro's record has
            # exactly the reader schema's fields (the contract test keeps them the model's).
            return route.validate(record, extra="ignore")  # type: ignore[no-any-return]
        except ValidationError as exc:
            raise route.invalid(data, exc) from exc

    def _find_route(self, data: bytes, reader: type[Event] | None) -> Route:
        """How to read `data` as `reader` (remembered when `reader` is given and the cache has
        room), or why it cannot be."""
        fingerprint = fingerprint_of(data)
        writer = self.schemas.by_fingerprint(fingerprint)
        if writer is None:
            raise UnknownFingerprintError(
                f"unknown writer schema: fingerprint {fingerprint.hex()} is in no schema version",
                bytes(data),
            )
        model = reader or self._event_types.get(writer.full_name)
        if model is None:
            raise UnknownFingerprintError(
                f"{writer.label} has no event model to read it into", bytes(data)
            )
        target = self._readers.get(model.AVRO_NAME)
        if target is None:
            raise UnresolvableSchemaError(
                f"no schema for reader {model.__name__} to read {writer.label} as", bytes(data)
            )
        route = self._routes.get(writer.header)
        if route is None or route.model is not model:
            route = route_for(writer, target, model)
        if reader is not None and len(self._reader_routes) < self._reader_routes_max:
            self._reader_routes[writer.header, reader] = route
        return route
