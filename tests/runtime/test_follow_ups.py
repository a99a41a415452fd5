"""The follow-up buffers of transactional services: what a commit's transaction produces."""

from __future__ import annotations

from conveyor import naming
from conveyor.publish.message import OutgoingMessage
from conveyor.runtime.context import EventMeta
from conveyor.runtime.followups import FollowUps
from conveyor.runtime.work import PartitionState, WorkItem
from tests.runtime.support import Ping, PingCodec


def item(state: PartitionState, offset: int) -> WorkItem:
    meta = EventMeta(state.topic, state.partition, offset, None, "k", [])
    return WorkItem(state, offset, "k", Ping(entity="k", seq=offset), None, None, meta=meta)


def follow_ups() -> FollowUps:
    return FollowUps(PingCodec(), lambda declared: f"renamed.{declared}")


def handle(buffers: FollowUps, work: WorkItem, *seqs: int) -> None:
    publisher = buffers.publisher_for(work)
    for seq in seqs:
        publisher.publish(Ping(entity="out", seq=seq))
    buffers.succeeded([work])


def seqs(messages: list[OutgoingMessage]) -> list[int]:
    decoded = [PingCodec().decode(message.value) for message in messages]
    return [event.seq for event in decoded if isinstance(event, Ping)]


def test_a_commit_takes_the_follow_ups_of_its_prefix_in_offset_order() -> None:
    """Events completed out of order still yield their follow-ups in offset order, and only those
    before the committed position; later ones wait for a later transaction."""
    state = PartitionState("orders", 0)
    buffers = follow_ups()
    handle(buffers, item(state, 2), 20)
    handle(buffers, item(state, 0), 0, 1)
    handle(buffers, item(state, 5), 50)
    assert seqs(buffers.take(state, 3)) == [0, 1, 20]
    assert seqs(buffers.take(state, 6)) == [50]
    assert buffers.take(state, 6) == []


def test_follow_ups_are_encoded_as_the_publisher_encodes_them() -> None:
    """Topic (renamed like the publisher's), key and the standard headers come from
    `build_message`."""
    state = PartitionState("orders", 0)
    buffers = follow_ups()
    handle(buffers, item(state, 0), 7)
    [message] = buffers.take(state, 1)
    headers = dict(message.headers)
    assert (message.topic, message.key) == ("renamed.runtime.ping", b"out")
    assert headers[naming.EVENT_TYPE] == Ping.AVRO_NAME
    assert headers[naming.EVENT_ID] == message.event_id


def test_only_the_successful_attempt_counts() -> None:
    """A failed attempt's follow-ups are dropped when the event is attempted again; an event that
    never succeeds (dead-lettered) contributes nothing."""
    state = PartitionState("orders", 0)
    buffers = follow_ups()
    retried, dead = item(state, 0), item(state, 1)
    buffers.publisher_for(retried).publish(Ping(entity="out", seq=1))
    handle(buffers, retried, 2)
    buffers.publisher_for(dead).publish(Ping(entity="out", seq=3))
    assert seqs(buffers.take(state, 2)) == [2]


def test_a_partition_that_goes_away_drops_its_follow_ups() -> None:
    """Revoked or rewound partitions are handled again (here or elsewhere): nothing is kept."""
    state, other = PartitionState("orders", 0), PartitionState("orders", 1)
    buffers = follow_ups()
    handle(buffers, item(state, 0), 1)
    handle(buffers, item(other, 0), 2)
    buffers.forget([state])
    assert buffers.take(state, 1) == []
    assert len(buffers.take(other, 1)) == 1
