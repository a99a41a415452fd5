"""Errors of the processed-event store."""

from __future__ import annotations

from conveyor.errors import ConveyorError


class IdempotencyError(ConveyorError):
    """The processed-event store failed."""


class UnknownStoreError(IdempotencyError):
    """The store URL names no backend conveyor has."""
