"""The chaos run's producer: the traffic, paced over a span of time in a background thread,
with every message's broker acknowledgement recorded."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import KafkaError, Message, Producer

from conveyor import naming
from shop_events import UserSignedUp
from tests.chaos.plan import Traffic, poison_value
from tests.project import repo_codec

UNHANDLED_TYPE = b"conveyor.chaos.NobodyHandlesThis"


@dataclass(frozen=True)
class Outgoing:
    """One message to send; `ident` names it in the acknowledgements (an event id, or
    `poison-<n>` / `garbage-<n>`)."""

    ident: str
    key: bytes
    value: bytes | None
    headers: list[tuple[str, str | bytes | None]]


@dataclass
class Acks:
    """What the broker acknowledged (ident -> (partition, offset)) and what it refused."""

    acked: dict[str, tuple[int, int]] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def messages(traffic: Traffic) -> list[Outgoing]:
    """The events in send order, poison and garbage spread evenly among them."""
    codec = repo_codec()
    event_type = UserSignedUp.AVRO_NAME.encode()
    out = [
        Outgoing(
            str(e.event_id),
            e.user_id.encode(),
            codec.encode(e),
            [(naming.EVENT_TYPE, event_type), (naming.EVENT_ID, str(e.event_id).encode())],
        )
        for e in traffic.events
    ]
    plan = traffic.plan
    extras = [
        Outgoing(
            f"poison-{n}",
            f"poison-{n}".encode(),
            poison_value(n),
            [(naming.EVENT_TYPE, event_type)],
        )
        for n in range(plan.poison)
    ] + [
        # a tombstone, or a type no handler is registered for: both are skipped
        Outgoing(
            f"garbage-{n}",
            f"garbage-{n}".encode(),
            None if n % 2 else b"\x01\x02 opaque",
            [] if n % 2 else [(naming.EVENT_TYPE, UNHANDLED_TYPE)],
        )
        for n in range(plan.garbage)
    ]
    step = max(1, len(out) // (len(extras) + 1))
    for n, extra in enumerate(extras, start=1):
        out.insert(min(len(out), n * step + n - 1), extra)
    return out


class PacedPublisher:
    """Sends `messages` over `seconds` from a thread (acks=all, idempotent, patient enough to
    ride out a broker restart), so the faults land while traffic flows."""

    def __init__(
        self, bootstrap: str, topic: str, outgoing: list[Outgoing], seconds: float
    ) -> None:
        self._producer = Producer(
            {
                "bootstrap.servers": bootstrap,
                "enable.idempotence": True,
                "acks": "all",
                "linger.ms": 5,
                "message.timeout.ms": 300_000,
                "partitioner": "murmur2_random",
                "log_level": 0,  # the harness reports outcomes; the services' logs are checked
            }
        )
        self._topic = topic
        self._outgoing = outgoing
        self._seconds = seconds
        self.acks = Acks()
        self._thread = threading.Thread(target=self._run, name="chaos-publisher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise TimeoutError(f"the publisher was still sending after {timeout:.0f} s")

    def _run(self) -> None:
        chunks = max(1, int(self._seconds / 0.1))
        size = -(-len(self._outgoing) // chunks)
        started = time.monotonic()
        for n, first in enumerate(range(0, len(self._outgoing), size)):
            for message in self._outgoing[first : first + size]:
                self._send(message)
            self._producer.poll(0)
            pause = started + (n + 1) * 0.1 - time.monotonic()
            if pause > 0:
                time.sleep(pause)
        remaining = self._producer.flush(300)
        if remaining:
            raise TimeoutError(f"{remaining} messages were neither acknowledged nor refused")

    def _send(self, message: Outgoing) -> None:
        acks = self.acks

        def delivered(error: KafkaError | None, sent: Message) -> None:
            with acks.lock:
                if error is None:
                    acks.acked[message.ident] = (sent.partition() or 0, sent.offset() or 0)
                else:
                    acks.refused[message.ident] = str(error)

        kwargs: dict[str, Any] = {"key": message.key, "value": message.value}
        while True:
            try:
                self._producer.produce(
                    self._topic, headers=message.headers, on_delivery=delivered, **kwargs
                )
                return
            except BufferError:  # the local queue is full while a broker is away: wait for room
                self._producer.poll(0.1)
