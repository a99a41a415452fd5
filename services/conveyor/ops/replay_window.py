"""Replay windows: which offsets a group is processing again because of a replay.

`conveyor replay` records, before it moves a group's offsets, per partition the window
`[new offset, old committed offset)` in the compacted topic `conveyor.replays` (key: the group).
Events inside the window were handled before; a handler that must not repeat a side effect
during a replay can ask. The runtime loads the windows once when the service starts (a replay
only happens while the service is stopped) and answers `ctx.in_replay` from them, e.g.:

    def send_welcome(event: UserSignedUp, ctx: Context) -> None:
        if ctx.in_replay:  # replaying signups after a bug fix: they got their e-mail already
            return
        mailer.send_welcome(event.email, event.name)

The runtime makes one call at start, `windows = for_service(settings.bootstrap_servers,
service.name)`, then answers `ctx.in_replay` with `windows.contains(topic, partition, offset)`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from confluent_kafka import Producer

from conveyor.clients import KafkaUnavailableError, Outage, wait_out
from conveyor.ops.broker import TP, Broker
from conveyor.ops.compacted import read_table
from conveyor.ops.errors import KafkaOperationError
from conveyor.ops.names import REPLAYS_TOPIC


@dataclass(frozen=True)
class ReplayWindows:
    """A group's replay windows: per partition, `[start, until)` offsets being replayed."""

    group: str
    windows: Mapping[TP, tuple[int, int]] = field(default_factory=dict)
    recorded_at_ms: int | None = None

    def contains(self, topic: str, partition: int, offset: int) -> bool:
        """Whether the event at this position was handled before a replay brought it back."""
        start, until = self.windows.get((topic, partition), (0, 0))
        return start <= offset < until

    def merged(self, moves: Mapping[TP, tuple[int, int | None]]) -> ReplayWindows:
        """The windows after moving offsets `(new, old committed)`: a window still open keeps
        its end, so replaying during a replay does not forget what was handled before."""
        windows = dict(self.windows)
        for tp, (new, old) in moves.items():
            until = windows.get(tp, (0, 0))[1]
            still_open = old is not None and old < until
            end = max(until if still_open else 0, old if old is not None else 0)
            if new < end:
                windows[tp] = (new, end)
            else:
                windows.pop(tp, None)
        return ReplayWindows(self.group, windows, int(time.time() * 1000))

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "group": self.group,
                "recorded_at": self.recorded_at_ms,
                "windows": [
                    {"topic": t, "partition": p, "start": s, "until": u}
                    for (t, p), (s, u) in sorted(self.windows.items())
                ],
            }
        ).encode()

    @classmethod
    def from_json(cls, data: bytes) -> ReplayWindows:
        doc = json.loads(data)
        return cls(
            group=doc["group"],
            windows={
                (w["topic"], w["partition"]): (w["start"], w["until"]) for w in doc["windows"]
            },
            recorded_at_ms=doc.get("recorded_at"),
        )


def load(broker: Broker, group: str) -> ReplayWindows:
    """The group's windows (none when it was never replayed)."""
    record = read_table(broker, REPLAYS_TOPIC).get(group.encode())
    if record is None or record.value is None:
        return ReplayWindows(group)
    return ReplayWindows.from_json(record.value)


def for_service(
    bootstrap_servers: str,
    service: str,
    timeout: float = 10.0,
    *,
    outage: Outage | None = None,
    settle: float | None = None,
) -> ReplayWindows:
    """The windows of `service`'s group, for the runtime to load once when it starts.

    A broker must answer within `timeout` (else `BrokerUnreachableError`: a wrong address, or no
    cluster at all). A service often starts beside a broker that is still settling, or while a
    node restarts: transient errors are then waited out for up to `settle` seconds (None: as
    long as they last), through `outage` (its log lines and the process's readiness)."""
    broker = Broker.connect(bootstrap_servers, timeout)
    outage = outage or Outage("replay windows", service=service)
    try:
        return wait_out(lambda: load(broker, service), outage, timeout=settle)
    except KafkaUnavailableError as error:
        raise KafkaOperationError("loading the replay windows", error.last) from error


def save(broker: Broker, windows: ReplayWindows) -> None:
    broker.ensure_compacted_topic(REPLAYS_TOPIC)
    producer = Producer(broker.client_config(**{"acks": "all", "enable.idempotence": True}))
    failures: list[object] = []

    def delivered(error: object, _message: object) -> None:
        if error is not None:
            failures.append(error)

    producer.produce(
        REPLAYS_TOPIC, key=windows.group.encode(), value=windows.to_json(), on_delivery=delivered
    )
    if producer.flush(broker.timeout) > 0 or failures:
        cause = failures[0] if failures else "not confirmed in time"
        raise KafkaOperationError("recording the replay window", cause)
