"""The `<service>.parked` record key of a dead letter's key, so a redrive can find and release it.

The format is the runtime's own (`conveyor.naming.parked_record_key`); a tombstone with that key
releases the key.
"""

from __future__ import annotations

from conveyor.naming import parked_record_key, split_parked_record_key
from conveyor.ops.deadletters import DeadLetter


def of_letter(letter: DeadLetter) -> bytes:
    """The parked-topic key under which `letter`'s key would be parked."""
    return parked_record_key(letter.original_topic or "", letter.record.key)


def readable(parked_key: bytes) -> str:
    """`topic/key` for people."""
    topic, key = split_parked_record_key(parked_key)
    return f"{topic}/{key.decode(errors='replace')}"
