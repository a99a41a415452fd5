"""Errors of encoding and decoding event values.

Decode errors keep the raw bytes and, once the consumer runtime attaches it, where the message
came from (topic, partition, offset), so a dead letter or a log line can say exactly what failed.
"""

from __future__ import annotations

from typing import Self

from pydantic import ValidationError

from conveyor.errors import ConveyorError


class CodecError(ConveyorError):
    """Root of the codec's errors."""


class SchemaLoadError(CodecError):
    """The schema directory holds a file that is not a valid, well-named Avro schema."""


class EncodeError(CodecError):
    """An event could not be encoded; nothing was produced."""


class InvalidEventError(EncodeError):
    """The event does not satisfy its model (missing or wrong fields) or holds a value Avro
    cannot carry (a lone surrogate in a string): nothing was produced."""


class UnknownEventSchemaError(EncodeError):
    """No schema in `schemas/` has the event's Avro name (or the version asked for)."""


class DecodeError(CodecError):
    """Bytes that do not decode to an event. Keeps the bytes and, when known, their origin."""

    def __init__(
        self,
        message: str,
        data: bytes,
        *,
        topic: str | None = None,
        partition: int | None = None,
        offset: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.data = data
        self.topic = topic
        self.partition = partition
        self.offset = offset

    def at(self, topic: str, partition: int, offset: int) -> Self:
        """Attach where the bytes were read (the consumer runtime knows, the codec does not)."""
        self.topic, self.partition, self.offset = topic, partition, offset
        return self

    def __str__(self) -> str:
        if self.topic is None:
            return self.message
        return f"{self.message} (at {self.topic}[{self.partition}]@{self.offset})"


class NotSingleObjectError(DecodeError):
    """The bytes do not start with the Avro single-object marker `C3 01` and a fingerprint."""


class UnknownFingerprintError(DecodeError):
    """The writer schema's fingerprint matches no schema version in `schemas/`."""


class CorruptBodyError(DecodeError):
    """The Avro body is truncated, has trailing bytes or holds values its schema forbids."""


class UnresolvableSchemaError(DecodeError):
    """The writer's schema cannot be resolved against the reader's (Avro resolution rules)."""


class InvalidPayloadError(DecodeError):
    """The body decoded, but its values break the event model's rules (e.g. quantity 0)."""


def validation_summary(exc: ValidationError) -> str:
    """Field paths and what is wrong, without the input values (they may be personal data)."""
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or '(event)'}: {err['msg']}"
        for err in exc.errors(include_url=False, include_input=False)
    )
