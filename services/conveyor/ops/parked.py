"""How the runtime keys `<service>.parked` records, so a redrive can find and release them.

The record key is the source topic, a NUL byte, then the event's key (the runtime's
`conveyor.parking.codec.record_key`); a tombstone with that key releases the key.
"""

from __future__ import annotations

from conveyor.ops.deadletters import DeadLetter


def record_key(topic: str, key: bytes | None) -> bytes:
    return topic.encode() + b"\x00" + (key or b"")


def of_letter(letter: DeadLetter) -> bytes:
    """The parked-topic key under which `letter`'s key would be parked."""
    return record_key(letter.original_topic or "", letter.record.key)


def readable(parked_key: bytes) -> str:
    """`topic/key` for people."""
    topic, _, key = parked_key.partition(b"\x00")
    return f"{topic.decode(errors='replace')}/{key.decode(errors='replace')}"
