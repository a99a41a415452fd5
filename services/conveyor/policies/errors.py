"""Errors of the policies around a service's handlers."""

from __future__ import annotations

from conveyor.errors import ConveyorError


class PolicyConfigError(ConveyorError):
    """A handler's policy value is of the wrong kind (found at start, not mid-stream)."""


class EventInFlightError(ConveyorError):
    """Another worker holds a fresh reservation for this event; it is retried later."""
