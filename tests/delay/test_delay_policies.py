"""The pure parts of delayed delivery: due times, the per-partition queue, the commit metadata."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from conveyor import naming
from conveyor.delay import DelayTooLongError, Envelope, InvalidDelayError, delayed, due_millis
from conveyor.delay.pending import Held, PartitionQueue
from conveyor.delay.progress import MAX_RANGES, DeliveredAhead
from conveyor.publish.message import OutgoingMessage

NOW = 1_800_000_000.0
MAX = timedelta(days=30)


def _held(offset: int, due_ms: int, event_id: str | None = None) -> Held:
    envelope = Envelope("dest", due_ms, event_id or f"e{offset}", [])
    return Held(due_ms, offset, envelope, b"k", b"v")


def test_a_delay_in_the_past_is_due_at_once() -> None:
    """A deliver_at before now gives a due time before now: the scheduler delivers it at once."""
    past = datetime.fromtimestamp(NOW, UTC) - timedelta(hours=1)
    assert due_millis(None, past, MAX, NOW) <= NOW * 1000


def test_a_delay_beyond_the_maximum_is_refused() -> None:
    """A delay past the configured maximum raises a typed error naming the maximum."""
    with pytest.raises(DelayTooLongError) as caught:
        due_millis(timedelta(days=31), None, MAX, NOW)
    assert caught.value.max_delay == MAX


def test_delay_and_deliver_at_together_or_a_naive_time_are_refused() -> None:
    """Ambiguous input is refused rather than guessed."""
    with pytest.raises(InvalidDelayError):
        due_millis(timedelta(seconds=1), datetime.now(UTC), MAX, NOW)
    with pytest.raises(InvalidDelayError):
        due_millis(None, datetime(2030, 1, 1), MAX, NOW)


def test_envelope_keeps_the_original_message_and_names_destination_and_due_time() -> None:
    """The delayed message keeps key, value and headers; reading it back restores them."""
    original = OutgoingMessage("user.signup", b"u-1", b"body", [("event-id", "e-1")], "e-1", "T")
    wrapped = delayed(original, naming.DELAY_TOPIC, 1234)
    assert (wrapped.topic, wrapped.key, wrapped.value) == (naming.DELAY_TOPIC, b"u-1", b"body")
    raw = [
        (name, value.encode() if isinstance(value, str) else value)
        for name, value in wrapped.headers
    ]
    envelope = Envelope.read(raw)
    assert envelope is not None
    assert (envelope.destination, envelope.due_ms, envelope.event_id) == (
        "user.signup",
        1234,
        "e-1",
    )
    assert envelope.headers == [("event-id", b"e-1")]


def test_events_due_sooner_leave_before_older_ones_due_later() -> None:
    """The heap releases by due time; the commit position stays at the oldest one waiting."""
    queue = PartitionQueue()
    queue.add(0, _held(0, 5_000))
    queue.add(1, _held(1, 1_000))
    queue.add(2, _held(2, 1_000))
    taken = queue.take_due(2_000)
    assert [h.offset for h in taken] == [1, 2]
    for held in taken:
        queue.settle(held.offset)
    assert queue.commit_point() is None  # offset 0 still waits: nothing committable yet
    queue.add(3, _held(3, 1_500))
    assert [h.offset for h in queue.take_due(6_000)] == [3, 0]


def test_commit_metadata_lists_offsets_delivered_beyond_the_position() -> None:
    """What was delivered ahead of a waiting event survives a takeover through the metadata."""
    queue = PartitionQueue()
    for offset, due in [(0, 1_000), (1, 9_000), (2, 1_000), (3, 1_000), (4, 9_000), (5, 1_000)]:
        queue.add(offset, _held(offset, due))
    for held in queue.take_due(2_000):
        queue.settle(held.offset)
    point = queue.commit_point()
    assert point is not None
    position, metadata = point
    assert position == 1
    restored = DeliveredAhead.decode(metadata, position)
    assert [o for o in range(1, 6) if o in restored] == [2, 3, 5]
    successor = PartitionQueue(restored)
    for offset in range(1, 6):
        successor.add(offset, _held(offset, 1_000 if offset in (2, 3, 5) else 9_000))
    assert successor.take_due(2_000) == []  # already delivered ones are not delivered again


def test_a_full_metadata_holds_events_ahead_until_the_oldest_is_due() -> None:
    """Past MAX_RANGES separate ranges delivered ahead, further ones wait for the oldest."""
    queue = PartitionQueue()
    queue.add(0, _held(0, 9_000))
    for offset in range(1, 2 * MAX_RANGES + 3):
        queue.add(offset, _held(offset, 1_000 if offset % 2 else 9_000))
    taken = queue.take_due(2_000)
    assert len(taken) == MAX_RANGES
    assert len(queue.ahead) == MAX_RANGES


def test_cancelled_events_are_dropped_and_settled() -> None:
    """Dropping a held event by id leaves the others waiting."""
    queue = PartitionQueue()
    queue.add(0, _held(0, 1_000, "a"))
    queue.add(1, _held(1, 1_000, "b"))
    dropped = queue.drop({"a"})
    assert [h.offset for h in dropped] == [0]
    assert [h.envelope.event_id for h in queue.take_due(2_000)] == ["b"]
