"""Event values to JSON-ready dicts through the codec, never failing on bad bytes."""

from __future__ import annotations

import base64
from typing import Any

from conveyor.codec import DecodeError
from conveyor.typing import Codec


def describe_value(codec: Codec, value: bytes | None) -> dict[str, Any]:
    """`{"type", "event"}` when the value decodes; else the error and the bytes in base64."""
    if value is None:
        return {"type": None, "event": None}
    try:
        event = codec.decode(value)
    except DecodeError as exc:
        return {"type": None, "error": str(exc), "raw_base64": base64.b64encode(value).decode()}
    return {"type": event.AVRO_NAME, "event": event.model_dump(mode="json")}
