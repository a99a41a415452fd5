"""After a redelivery (the group re-reads work its previous run had done), an ordered service's
parking stays exact and every dead letter stays written once: events a key handled before it
parked run again as usual, and none of the key's dead letters is written a second time."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from confluent_kafka import Producer

from conveyor import naming
from conveyor.deadletter import SourceRecord
from conveyor.ops import redrive
from conveyor.ops.broker import Broker
from conveyor.ops.deadletters import DeadLetterFilter
from conveyor.ops.topology import resolve
from conveyor.policies import Policies
from conveyor.retry import Backoff, PermanentError, RetryPolicy
from conveyor.runtime import Context, HandlerPolicy, Ordering, Service, ServiceSettings
from tests.conftest import TopicFactory
from tests.failures.support import (
    POISON,
    create_side_topics,
    poison_then_ping,
    read_all,
    rewind_group,
    running_with,
)
from tests.runtime.support import (
    Ping,
    PingCodec,
    committed_offsets,
    fast_settings,
    produce_pings,
    wait_until,
)

pytestmark = pytest.mark.kafka

REPO = Path(__file__).resolve().parents[2]
FAILS_AT = 3  # key A's event with this seq fails for good and parks A
EVENTS = 6  # of key A, seq 0..5


class Payments:
    """An ordered service recording the seqs it handled (and from which topic); A's event
    `FAILS_AT` fails for good until `fixed`."""

    def __init__(self, name: str) -> None:
        self.handled: list[int] = []
        self.topics: list[str] = []
        self.fixed = False
        self._lock = threading.Lock()
        self.service = Service(name)
        retry = RetryPolicy(attempts=2, backoff=Backoff(delay=0.1, max_delay=0.5))

        @self.service.handler(Ping, policy=HandlerPolicy(ordering=Ordering.ORDERED, retry=retry))
        def charge(event: Ping, ctx: Context) -> None:
            if event.seq == FAILS_AT and not self.fixed:
                raise PermanentError("card declined")
            with self._lock:
                self.handled.append(event.seq)
                self.topics.append(ctx.meta.topic)

    def park_then_reread(self, bootstrap: str, topic: str) -> ServiceSettings:
        """A handles 0..2, parks at 3, 4..5 follow into the dead letters; then the group is
        rewound to 0 and runs again until it is back at the end (the records are cleared)."""
        name = self.service.name
        settings = fast_settings(topic_map={Ping.TOPIC: topic})
        produce_pings(bootstrap, topic, ["A"], per_key=EVENTS)
        for run in (1, 2):
            if run == 2:
                rewind_group(bootstrap, name, topic)
            with running_with(self.service, bootstrap, settings, Policies(bootstrap)):
                wait_until(
                    lambda: committed_offsets(bootstrap, name, topic, 1) == {0: EVENTS},
                    what="every offset committed",
                )
            assert self.handled == [0, 1, 2]
            self.handled.clear()
            self.topics.clear()
        return settings


def _produce_a(bootstrap: str, topic: str, seq: int) -> None:
    producer = Producer({"bootstrap.servers": bootstrap})
    value = PingCodec().encode(Ping(entity="A", seq=seq))
    producer.produce(topic, value, b"A", headers=[(naming.EVENT_TYPE, Ping.AVRO_NAME.encode())])
    assert producer.flush(10) == 0


def _dead_lettered(policies: Policies, reason: str) -> float:
    """`conveyor_events_dead_lettered_total` of this run, for `reason`."""
    [family] = policies.metrics.dead_lettered.collect()
    return sum(
        sample.value
        for sample in family.samples
        if sample.name.endswith("_total") and sample.labels["reason"] == reason
    )


def _original_offsets(records: list[SourceRecord]) -> list[int]:
    return [int(dict(r.headers)[naming.ORIGINAL_OFFSET]) for r in records]


def test_a_redelivery_below_a_parked_event_handles_the_earlier_events_and_adds_no_dead_letter(
    kafka_bootstrap: str, new_topic: TopicFactory
) -> None:
    """A handles 0..2, parks at 3, and 4..5 follow it into the dead letters; the group is then
    rewound to 0 and runs again: 0..2 are handled again (they came before the parking), 3..5
    are not dead-lettered a second time, and A's next event still follows in order."""
    topic = new_topic(partitions=1)
    payments = Payments(f"pay-{topic}")
    name = payments.service.name
    create_side_topics(kafka_bootstrap, name)
    dlq = naming.dead_letter_topic(name)
    settings = payments.park_then_reread(kafka_bootstrap, topic)
    assert _original_offsets(read_all(kafka_bootstrap, dlq, 3)) == [3, 4, 5]

    with running_with(payments.service, kafka_bootstrap, settings, Policies(kafka_bootstrap)):
        produce_pings(kafka_bootstrap, topic, ["A"], per_key=1)
        wait_until(
            lambda: committed_offsets(kafka_bootstrap, name, topic, 1) == {0: EVENTS + 1},
            what="A's next event committed",
        )
    assert payments.handled == []
    dead = read_all(kafka_bootstrap, dlq, 4)
    assert _original_offsets(dead) == [3, 4, 5, 6], "A's dead letters: once each, in A's order"
    behind = [dict(letter.headers).get(naming.PARKED_BEHIND) for letter in dead]
    assert behind[0] is None
    assert behind[1] is not None
    assert behind[1:] == [behind[1]] * 3, "all follow the same parking"


def test_a_redrive_after_a_redelivery_runs_the_parked_events_once_in_order(
    kafka_bootstrap: str, new_topic: TopicFactory
) -> None:
    """After the redelivery above, the bug is fixed and A's dead letters redriven: A's events
    3..5 run once each, in order, A is released, and its next event runs after them."""
    topic = new_topic(partitions=1)
    payments = Payments(f"pay-{topic}")
    name = payments.service.name
    create_side_topics(kafka_bootstrap, name, redrive=True)
    settings = payments.park_then_reread(kafka_bootstrap, topic)
    payments.fixed = True
    broker = Broker.connect(kafka_bootstrap)
    plan = redrive.plan(broker, resolve(broker, name), DeadLetterFilter(key="A"))
    policies = Policies(kafka_bootstrap)
    with running_with(payments.service, kafka_bootstrap, settings, policies):
        redrive.execute(broker, plan)
        wait_until(lambda: len(payments.handled) == 3, what="A's redriven events")
        wait_until(lambda: not policies.parking.keys.all(), what="A released")
        _produce_a(kafka_bootstrap, topic, seq=EVENTS)
        wait_until(lambda: len(payments.handled) == 4, what="A's next event")
    assert len(plan.letters) == 3
    assert payments.handled == [3, 4, 5, 6]
    assert payments.topics == [naming.redrive_topic(name)] * 3 + [topic]
    assert _original_offsets(read_all(kafka_bootstrap, naming.dead_letter_topic(name), 3)) == [
        3,
        4,
        5,
    ]


def test_a_redelivered_poison_event_is_dead_lettered_once(
    kafka_bootstrap: str, new_topic: TopicFactory
) -> None:
    """Undecodable bytes are dead-lettered; read again after a rewind (a new run, with nothing
    of the first in memory), they are not written to the dead letters a second time."""
    topic = new_topic(partitions=1)
    handled: list[int] = []
    service = poison_then_ping(kafka_bootstrap, topic, handled)
    settings = fast_settings(topic_map={Ping.TOPIC: topic})
    counted = []
    for run in (1, 2):
        if run == 2:
            rewind_group(kafka_bootstrap, service.name, topic)
        policies = Policies(kafka_bootstrap)
        with running_with(service, kafka_bootstrap, settings, policies):
            wait_until(
                lambda: committed_offsets(kafka_bootstrap, service.name, topic, 1) == {0: 2},
                what="both offsets committed",
            )
        counted.append(_dead_lettered(policies, "poison"))
    assert handled == [0, 0], "the good event is redelivered and handled again"
    assert counted == [1, 0], "the redelivery is not counted (nor judged by the breaker) again"
    [dead] = read_all(kafka_bootstrap, naming.dead_letter_topic(service.name), 1)
    assert dead.value == POISON


def _start_worker(bootstrap: str, topic: str, log: Path, mode: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.failures.parking_worker", bootstrap, topic, str(log), mode],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _lines(log: Path) -> list[str]:
    return log.read_text().split() if log.exists() else []


def test_a_process_killed_while_a_slow_event_held_the_commit_parks_exactly_after_restart(
    kafka_bootstrap: str, new_topic: TopicFactory, tmp_path: Path
) -> None:
    """The issue's case with the defaults: B's first event is slow and holds the partition's
    commit position while A handles 0..2, parks at 3 and sends 4..5 after it; the process is
    SIGKILLed. The restarted one reads again from B's event: A's 0..2 are handled again, and A's
    dead letters stay 3, 4, 5, once each."""
    topic = new_topic(partitions=1)
    name = f"pay-{topic}"
    create_side_topics(kafka_bootstrap, name)
    produce_pings(kafka_bootstrap, topic, ["B"], per_key=1)  # offset 0
    produce_pings(kafka_bootstrap, topic, ["A"], per_key=EVENTS)  # offsets 1..6
    dlq = naming.dead_letter_topic(name)
    log = tmp_path / "handled.log"
    slow = _start_worker(kafka_bootstrap, topic, log, "slow")
    try:
        wait_until(lambda: _lines(log) == ["A0", "A1", "A2"], what="A's events before 3")
        wait_until(lambda: len(read_all(kafka_bootstrap, dlq, 3, timeout=1)) == 3, what="A parked")
        assert committed_offsets(kafka_bootstrap, name, topic, 1)[0] <= 0, "B holds the commit"
    finally:
        slow.send_signal(signal.SIGKILL)
        slow.wait(30)
    fast = _start_worker(kafka_bootstrap, topic, log, "fast")
    try:
        wait_until(
            lambda: committed_offsets(kafka_bootstrap, name, topic, 1) == {0: EVENTS + 1},
            timeout=45,
            what="the restarted process to commit everything",
        )
    finally:
        fast.send_signal(signal.SIGKILL)
        fast.wait(30)
    assert sorted(_lines(log)) == ["A0", "A0", "A1", "A1", "A2", "A2", "B0"]
    assert _original_offsets(read_all(kafka_bootstrap, dlq, 3)) == [4, 5, 6]
