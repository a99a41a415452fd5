"""Codecs: events to message values and back.

`default_codec()` is the Avro single-object codec over the repository's `schemas/` directory.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

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

# services/conveyor/codec/__init__.py -> the repository root holds schemas/.
DEFAULT_SCHEMA_DIR = Path(__file__).resolve().parents[3] / "schemas"


@cache
def default_codec(schema_dir: Path | None = None) -> AvroCodec:
    """The Avro codec over `schema_dir` (default: the repository's `schemas/`), built once."""
    return AvroCodec(SchemaSet.load(schema_dir or DEFAULT_SCHEMA_DIR))


__all__ = [
    "DEFAULT_SCHEMA_DIR",
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
    "default_codec",
]
