"""How a parked key's records read back after a restart, and its in-memory redrive state."""

from __future__ import annotations

from functools import reduce

from conveyor import naming
from conveyor.parking import ParkedKey, ParkedKeys, codec
from conveyor.parking.codec import ParkedRecord

PARKED = ParkedKey("orders", 4, b"A", behind="e-1", parked_at_ms=1_000)
KEY = naming.parked_record_key("orders", b"A")


def park(parked: ParkedKey, at_ms: int) -> ParkedRecord:
    key, value = codec.encode(parked)
    return ParkedRecord(key, value, at_ms)


def redrive_tombstone(at_ms: int) -> ParkedRecord:
    return ParkedRecord(KEY, None, at_ms, ((naming.REDRIVE_RELEASES, b"4"),))


def release_tombstone(at_ms: int) -> ParkedRecord:
    return ParkedRecord(KEY, None, at_ms, tuple(codec.release_headers(17)))


def state(*records: ParkedRecord) -> ParkedKey | None:
    return reduce(codec.apply, records, None)


def test_a_key_whose_redrive_is_under_way_loads_parked_and_releasing() -> None:
    """After the redrive's tombstone and before the runtime's release, a restart keeps the key
    parked (its redriven events have still to run before its new ones)."""
    loaded = state(park(PARKED, 1_000), redrive_tombstone(5_000))
    assert loaded == ParkedKey("orders", 4, b"A", "e-1", 1_000, releasing=True)


def test_the_redrive_tombstone_alone_still_names_the_partition() -> None:
    """Compaction may have removed the park record; the tombstone's header keeps the key's
    partition, and every redriven event counts as written after the parking."""
    assert state(redrive_tombstone(5_000)) == ParkedKey(
        "orders", 4, b"A", "redrive", 0, releasing=True
    )


def test_the_runtimes_release_or_a_plain_tombstone_frees_the_key() -> None:
    """The runtime's tombstone after the last redriven event, or an operator's, releases."""
    assert state(park(PARKED, 1_000), redrive_tombstone(5_000), release_tombstone(6_000)) is None
    assert state(park(PARKED, 1_000), ParkedRecord(KEY, None, 2_000)) is None


def test_a_key_parked_again_during_its_redrive_stays_parked() -> None:
    """A redriven event failing for good parks the key anew, after the redrive's tombstone."""
    again = ParkedKey("orders", 4, b"A", behind="e-2", parked_at_ms=5_500)
    assert state(park(PARKED, 1_000), redrive_tombstone(5_000), park(again, 5_500)) == again


def test_releasing_and_diverted_offsets_change_only_the_entry_still_parked() -> None:
    """State updates and discards aimed at an earlier parking leave a newer one alone."""
    keys = ParkedKeys()
    keys.add(PARKED)
    keys.set_releasing(PARKED, True)
    keys.note_diverted(PARKED, 42)
    keys.note_diverted(PARKED, 40)
    current = keys.get("orders", 4, b"A")
    assert current is not None
    assert (current.releasing, current.diverted_through) == (True, 42)
    newer = ParkedKey("orders", 4, b"A", behind="e-3", parked_at_ms=9_000)
    keys.add(newer)
    keys.set_releasing(PARKED, False)
    assert keys.discard(PARKED) is False
    assert keys.get("orders", 4, b"A") == newer
    assert keys.discard(newer) is True
    assert keys.find("orders", b"A") == []
