"""Event values to JSON-ready dicts through the codec, never failing on bad bytes."""

from __future__ import annotations

import base64
from typing import Any

from conveyor.errors import ConveyorError
from conveyor.typing import Codec


def load_default_codec() -> Codec | None:
    """The project's codec, or None where `conveyor.codec` is not installed yet."""
    try:
        from conveyor import codec  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return None
    found: Codec = codec.default_codec()
    return found


def describe_value(codec: Codec | None, value: bytes | None) -> dict[str, Any]:
    """`{"type", "event"}` when the value decodes; else the error and the bytes in base64."""
    if value is None:
        return {"type": None, "event": None}
    if codec is None:
        return {"type": None, "error": "no codec available", "raw_base64": _b64(value)}
    try:
        event = codec.decode(value)
    except ConveyorError as exc:
        return {"type": None, "error": str(exc), "raw_base64": _b64(value)}
    return {"type": event.AVRO_NAME, "event": event.model_dump(mode="json")}


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")
