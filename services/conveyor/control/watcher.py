"""A service process's view of its operators' pauses: a thread tailing the control topic.

It reads the whole (compacted, small) topic before the service subscribes, so a paused service
starts paused, and then follows it; the poll loop asks `covers(topic)` at every step, so a pause
takes effect within the watcher's poll interval plus one loop step.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from conveyor import naming
from conveyor.clients import Outage, wait_out, with_logs
from conveyor.control.pauses import Paused

_POLL = 0.2
_START_TIMEOUT = 30.0


class PauseWatcher:
    """The current `Paused` of one service, kept by a daemon thread."""

    def __init__(
        self,
        bootstrap_servers: str,
        service: str,
        topic_map: Mapping[str, str],
        on_change: Callable[[Paused], None] | None = None,
    ) -> None:
        self.service = service
        self.paused = Paused()
        self._topic_map = dict(topic_map)
        self._topic = self._topic_map.get(naming.CONTROL_TOPIC, naming.CONTROL_TOPIC)
        self._on_change = on_change
        self._keys: set[bytes] = set()
        self._stop = threading.Event()
        self._consumer = Consumer(
            with_logs(
                {
                    "bootstrap.servers": bootstrap_servers,
                    "group.id": f"{service}-control",  # assign only: never joined nor committed
                    "enable.auto.commit": False,
                    "enable.auto.offset.store": False,
                    "enable.partition.eof": False,
                }
            )
        )
        self._thread = threading.Thread(target=self._follow, name="conveyor-pauses", daemon=True)

    def covers(self, topic: str) -> bool:
        return self.paused.covers(topic)

    def start(self) -> bool:
        """Read the pauses so far, then follow them; False (and no thread) when the control
        topic does not exist: nothing can be paused then."""
        outage = Outage("operator pauses", service=self.service)
        found = wait_out(
            lambda: self._consumer.list_topics(self._topic, timeout=_START_TIMEOUT), outage
        ).topics
        described = found.get(self._topic)
        if described is None or described.error is not None:
            self._consumer.close()
            return False
        parts = [TopicPartition(self._topic, p, OFFSET_BEGINNING) for p in described.partitions]
        self._consumer.assign(parts)
        ends = {tp.partition: wait_out(self._end_of(tp), outage) for tp in parts}
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline and not self._caught_up(parts, ends):
            self._read(_POLL)
        self._thread.start()
        return True

    def _end_of(self, tp: TopicPartition) -> Callable[[], int]:
        return lambda: int(self._consumer.get_watermark_offsets(tp, _START_TIMEOUT)[1])

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
            self._consumer.close()

    def _caught_up(self, parts: list[TopicPartition], ends: dict[int, int]) -> bool:
        positions = self._consumer.position(parts)
        return all(ends[tp.partition] <= 0 or tp.offset >= ends[tp.partition] for tp in positions)

    def _follow(self) -> None:
        while not self._stop.is_set():
            self._read(_POLL)

    def _read(self, timeout: float) -> None:
        changed = False
        for message in self._consumer.consume(100, timeout):
            key = message.key()
            if message.error() is not None or key is None:
                continue
            if message.value() is None:
                self._keys.discard(key)
            else:
                self._keys.add(key)
            changed = True
        if changed:
            self._update(Paused.of(self.service, self._keys, self._topic_map))

    def _update(self, paused: Paused) -> None:
        if paused == self.paused:
            return
        self.paused = paused
        if self._on_change is not None:
            self._on_change(paused)
