"""Typed domain events: the Python mirror of the Avro contracts in `schemas/`."""

from conveyor.events.base import Event, utc_now

__all__ = ["Event", "utc_now"]
