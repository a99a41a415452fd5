"""Outbox errors."""

from __future__ import annotations

from conveyor.errors import ConveyorError


class OutboxError(ConveyorError):
    """Root of the outbox errors."""


class RelayLockedError(OutboxError):
    """Another relay holds this outbox table; only one may publish it, or order per key breaks."""
