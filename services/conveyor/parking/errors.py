"""Errors of the parked-keys store."""

from __future__ import annotations

from conveyor.errors import ConveyorError


class KeyParkedError(ConveyorError):
    """Recorded on an event that followed its parked key into the dead letters (never raised
    by a handler: the event was not attempted)."""


class ParkedKeysLoadError(ConveyorError):
    """The parked keys could not be read; consuming without them could run a parked key's
    events out of order, so the partitions must not be consumed until a load succeeds."""
