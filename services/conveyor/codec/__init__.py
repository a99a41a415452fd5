"""Codecs: events to message values and back.

`AvroCodec(SchemaSet.load(directory), event_types=...)` is the Avro single-object codec; a
project's (`conveyor.project.Project.codec`) is built from its own schemas and models.
"""

from __future__ import annotations

from conveyor.codec.avro import AvroCodec
from conveyor.codec.errors import (
    CodecError,
    CorruptBodyError,
    DecodeError,
    EncodeError,
    InvalidEventError,
    InvalidPayloadError,
    NotSingleObjectError,
    SchemaLoadError,
    UnknownEventSchemaError,
    UnknownFingerprintError,
    UnresolvableSchemaError,
)
from conveyor.codec.schema_set import SchemaSet, SchemaVersion

__all__ = [
    "AvroCodec",
    "CodecError",
    "CorruptBodyError",
    "DecodeError",
    "EncodeError",
    "InvalidEventError",
    "InvalidPayloadError",
    "NotSingleObjectError",
    "SchemaLoadError",
    "SchemaSet",
    "SchemaVersion",
    "UnknownEventSchemaError",
    "UnknownFingerprintError",
    "UnresolvableSchemaError",
]
