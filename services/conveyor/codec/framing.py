"""Avro single-object encoding's frame: `C3 01`, the 8-byte little-endian CRC-64-AVRO
fingerprint of the writer schema's Parsing Canonical Form, then the Avro binary body."""

from __future__ import annotations

from typing import Any, Final

from fastavro.schema import fingerprint as _fingerprint
from fastavro.schema import to_parsing_canonical_form

from conveyor.codec.errors import NotSingleObjectError

MARKER: Final = b"\xc3\x01"
FINGERPRINT_SIZE: Final = 8
HEADER_SIZE: Final = len(MARKER) + FINGERPRINT_SIZE


def canonical_form(schema: dict[str, Any]) -> str:
    """The schema's Parsing Canonical Form (docs, defaults and logical types stripped)."""
    return str(to_parsing_canonical_form(schema))


def fingerprint(canonical: str) -> bytes:
    """CRC-64-AVRO of a canonical form, as the 8 little-endian bytes that go on the wire."""
    return bytes.fromhex(_fingerprint(canonical, "CRC-64-AVRO"))


def header(schema_fingerprint: bytes) -> bytes:
    return MARKER + schema_fingerprint


def fingerprint_of(data: bytes) -> bytes:
    """The writer schema's fingerprint in a single-object encoded value (its body follows it,
    from `HEADER_SIZE` on)."""
    if len(data) < HEADER_SIZE or data[:2] != MARKER:
        raise NotSingleObjectError(
            f"not Avro single-object encoded: expected C3 01 and an 8-byte fingerprint, "
            f"got {len(data)} bytes starting {bytes(data[:HEADER_SIZE]).hex(' ') or '(empty)'}",
            bytes(data),
        )
    return bytes(data[2:HEADER_SIZE])
