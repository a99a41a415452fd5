"""Errors of the parked-keys store."""

from __future__ import annotations

from conveyor.errors import ConveyorError


class ParkedKeysLoadError(ConveyorError):
    """The parked keys could not be read; consuming without them could run a parked key's
    events out of order, so the partitions must not be consumed until a load succeeds."""
