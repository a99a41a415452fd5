"""Times on the command line and in headers: ISO-8601 or epoch millis, always to epoch millis."""

from __future__ import annotations

from datetime import UTC, datetime

from conveyor.ops.errors import OpsError


class BadTimeError(OpsError):
    """A time that is neither ISO-8601 nor epoch millis."""


def to_epoch_ms(text: str) -> int:
    """`2026-11-28T10:00:00Z`, `2026-11-28T10:00+01:00`, `2026-11-28` (UTC midnight) or epoch
    millis. A time without an offset is UTC."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadTimeError(
            f"{text!r} is not a time: use ISO-8601 (2026-11-28T10:00:00Z) or epoch millis"
        ) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp() * 1000)


def header_ms(text: str | None) -> int | None:
    """A time header's value in epoch millis, or None when absent or unreadable."""
    if not text:
        return None
    try:
        return to_epoch_ms(text)
    except BadTimeError:
        return None


def iso(epoch_ms: int | None) -> str | None:
    if epoch_ms is None or epoch_ms < 0:
        return None
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).isoformat(timespec="milliseconds")
