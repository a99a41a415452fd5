"""`AvroCodec`: events to Avro single-object encoded bytes and back, resolving schema versions."""

from __future__ import annotations

from collections.abc import Mapping
from io import BytesIO
from typing import Final

from fastavro import schemaless_reader, schemaless_writer
from fastavro.read import SchemaResolutionError
from pydantic import ValidationError

from conveyor.codec.errors import (
    CorruptBodyError,
    InvalidEventError,
    InvalidPayloadError,
    UnknownEventSchemaError,
    UnknownFingerprintError,
    UnresolvableSchemaError,
)
from conveyor.codec.framing import HEADER_SIZE, fingerprint_of
from conveyor.codec.records import to_record
from conveyor.codec.schema_set import SchemaSet, SchemaVersion
from conveyor.events import EVENT_TYPES, Event
from conveyor.naming import AVRO_CONTENT_TYPE

# What fastavro raises on bytes that do not match the writer schema: short reads, bad varints,
# enum or union indexes out of range, invalid UTF-8, negative lengths.
_CORRUPT_BODY: Final = (
    EOFError,
    StopIteration,
    IndexError,
    ValueError,
    UnicodeDecodeError,
    OverflowError,
)


def _validation_summary(exc: ValidationError) -> str:
    """Field paths and what is wrong, without the input values (they may be personal data)."""
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or '(event)'}: {err['msg']}"
        for err in exc.errors(include_url=False, include_input=False)
    )


class AvroCodec:
    """Avro single-object encoding against the schema versions of one `SchemaSet`.

    Writes with the newest schema version of each event (or the one pinned in `writer_versions`)
    and reads any known version, resolved to the newest (or the one pinned in `reader_versions`:
    a consumer built for v1 pins 1). Thread-safe: it holds no mutable state.
    """

    content_type: str = AVRO_CONTENT_TYPE

    def __init__(
        self,
        schemas: SchemaSet,
        *,
        event_types: Mapping[str, type[Event]] = EVENT_TYPES,
        writer_versions: Mapping[str, int] | None = None,
        reader_versions: Mapping[str, int] | None = None,
    ) -> None:
        self.schemas = schemas
        self._event_types = dict(event_types)
        self._writers = {name: self._pick(name, writer_versions) for name in self._event_types}
        self._readers = {name: self._pick(name, reader_versions) for name in self._event_types}

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
        schema = self.writer_schema(type(event))
        try:
            event = event.validated()
        except ValidationError as exc:
            raise InvalidEventError(
                f"invalid {type(event).__name__}, not encoded: {_validation_summary(exc)}"
            ) from exc
        buffer = BytesIO()
        buffer.write(schema.header)
        try:
            schemaless_writer(buffer, schema.parsed, to_record(event))
        except (ValueError, TypeError, OverflowError) as exc:  # e.g. a lone surrogate in a str
            raise InvalidEventError(
                f"{type(event).__name__} passed its model but not {schema.label}: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        return buffer.getvalue()

    def decode(self, data: bytes, reader: type[Event] | None = None) -> Event:
        """The event in `data`, resolved to `reader`'s schema (default: the writer's record)."""
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
        record = self._read(data, writer, target)
        try:
            return model.model_validate(record)
        except ValidationError as exc:
            raise InvalidPayloadError(
                f"{writer.label} decoded but breaks {model.__name__}'s rules: "
                f"{_validation_summary(exc)}",
                bytes(data),
            ) from exc

    def _read(self, data: bytes, writer: SchemaVersion, reader: SchemaVersion) -> object:
        stream = BytesIO(data)
        stream.seek(HEADER_SIZE)
        try:
            if writer is reader:
                record = schemaless_reader(stream, writer.parsed, None)
            else:
                record = schemaless_reader(stream, writer.parsed, reader.parsed)
        except SchemaResolutionError as exc:
            raise UnresolvableSchemaError(
                f"cannot read {writer.label} as {reader.label}: {exc}", bytes(data)
            ) from exc
        except _CORRUPT_BODY as exc:
            raise CorruptBodyError(
                f"corrupt or truncated {writer.label} body ({len(data) - HEADER_SIZE} bytes): "
                f"{type(exc).__name__}: {exc}",
                bytes(data),
            ) from exc
        if stream.tell() != len(data):
            raise CorruptBodyError(
                f"{writer.label} body has {len(data) - stream.tell()} trailing bytes", bytes(data)
            )
        return record
