"""A member stranded by a lost heartbeat answer rejoins, on a real 3-node cluster.

With the consumer group protocol, a group coordinator that answers later than the heartbeat
interval (here: paused while a member joins, or just after one left, then answering in bursts)
makes librdkafka drop the answer that carried a member's new assignment
(`conveyor.runtime.membership`). Without the watch (`CONVEYOR_MEMBERSHIP_CHECK_S=0`) a process
then holds partitions the coordinator gave the other, which reads nothing, for good: the first
round fails so. The test asserts the group's end state after each round: every partition is read
again, and each process reads some."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient

from conveyor import naming
from conveyor.localkafka import LocalKafka
from conveyor.localkafka.cluster import NodeHandle
from conveyor.runtime import Context, Service
from conveyor.runtime.settings import GroupProtocol
from tests.conftest import create_topic
from tests.runtime.support import Ping, PingCodec, fast_settings, running, wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.cluster]

PARTITIONS = 6
# Past the heartbeat interval (1 s here); with the stutter, short of the group's session (6 s),
# so that no member is fenced meanwhile (a fenced member rejoins afresh: no test of the watch).
PAUSE_SECONDS = 2.5
STUTTERS = 1


class Traffic:
    """Events on every partition, about 100 a second, so that the members commit while the
    coordinator is paused (their heartbeats queue behind those commits)."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self._stop = threading.Event()
        self._producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, "log_level": 0})
        self._topic = topic
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        codec = PingCodec()
        n = 0
        while not self._stop.wait(0.01):
            partition = n % PARTITIONS
            ping = Ping(entity=f"k{partition}", seq=n)
            self._producer.produce(
                self._topic,
                value=codec.encode(ping),
                partition=partition,
                headers=[(naming.EVENT_TYPE, Ping.AVRO_NAME.encode())],
            )
            self._producer.poll(0)
            n += 1
        self._producer.flush(30)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(60)


@pytest.fixture
def topic(cluster: LocalKafka) -> str:
    return create_topic(
        cluster.bootstrap_servers,
        f"stranded-{uuid.uuid4().hex[:8]}",
        PARTITIONS,
        3,
        {"min.insync.replicas": "2"},
    )


def _stutter(node: NodeHandle) -> None:
    """The node paused for `PAUSE_SECONDS`, then answering in short bursts between pauses
    longer than the heartbeat interval: requests it takes up in a burst are answered after the
    next pause, when their senders have given up on them."""
    node.pause()
    try:
        time.sleep(PAUSE_SECONDS)
        for _ in range(STUTTERS):
            node.resume()
            time.sleep(0.1)
            node.pause()
            time.sleep(1.5)
    finally:
        node.resume()


def _described(bootstrap: str, group: str) -> Any:
    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0})
    return admin.describe_consumer_groups([group], request_timeout=20)[group].result(timeout=30)


def _coordinator(bootstrap: str, group: str) -> int:
    return int(_described(bootstrap, group).coordinator.id)


def _counts(bootstrap: str, group: str, members: int) -> Callable[[], bool]:
    """Whether the coordinator counts `members` members in `group`."""
    return lambda: len(_described(bootstrap, group).members) == members


def _member(group: str, read: set[int]) -> Service:
    """A process of the service: notes the partitions it reads events of."""
    service = Service(group)

    @service.handler(Ping)
    def note(event: Ping, ctx: Context) -> None:
        read.add(ctx.meta.partition)

    return service


def test_the_group_reads_every_partition_after_rebalances_under_a_slow_coordinator(
    cluster: LocalKafka, topic: str
) -> None:
    """Two processes of a service; the second joins and leaves while the coordinator stutters.
    After each round every partition is read, and each process reads some."""
    bootstrap = cluster.bootstrap_servers
    group = f"stranded-{uuid.uuid4().hex[:8]}"
    settings = fast_settings(
        topic_map={Ping.TOPIC: topic},
        group_protocol=GroupProtocol.CONSUMER,
        membership_check_interval=1.0,
    )
    reads: list[set[int]] = [set(), set()]

    def every_partition_is_read(members: int) -> Callable[[], bool]:
        # a member keeping partitions the coordinator gave to another leaves that one with
        # nothing to read; one missing some it was given leaves them to no one
        def check() -> bool:
            read = reads[:members]
            return set().union(*read) >= set(range(PARTITIONS)) and all(read)

        return check

    traffic = Traffic(bootstrap, topic)
    second = ExitStack()
    try:
        with running(_member(group, reads[0]), bootstrap, settings):
            wait_until(every_partition_is_read(1), 60, "the first process to read everything")
            for round_ in range(4):
                joining = round_ % 2 == 0
                if joining:  # the first must give partitions up
                    second.enter_context(running(_member(group, reads[1]), bootstrap, settings))
                else:  # it leaves; the first must take its partitions over
                    second.close()
                # The coordinator has the new assignment once it counts the members; the first
                # process hears of it in its next heartbeat (within 1 s), which the stutter holds.
                wait_until(_counts(bootstrap, group, 2 if joining else 1), 60, "the group")
                _stutter(cluster.node(_coordinator(bootstrap, group)))
                time.sleep(PAUSE_SECONDS)  # what was fetched before the round is read by then
                for read in reads:
                    read.clear()
                wait_until(
                    every_partition_is_read(2 if joining else 1),
                    90,
                    f"every partition to be read again after round {round_}",
                )
    finally:
        second.close()
        traffic.stop()
