"""Run the example `echo-sink` service as real processes (`conveyor run echo-sink`) and read
back what it recorded."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from confluent_kafka import Producer

from conveyor import naming
from shop_events import UserSignedUp
from tests.project import repo_codec

CONVEYOR = Path(sys.executable).with_name("conveyor")


class EchoSinks:
    """Starts and stops echo-sink processes of one group, all recording into one file."""

    def __init__(self, bootstrap: str, topic: str, group: str, workdir: Path, **env: str) -> None:
        self.output = workdir / "handled.jsonl"
        self.output.touch()
        self._workdir = workdir
        self._env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "ECHO_SINK_OUTPUT": str(self.output),
            "ECHO_SINK_GROUP": group,
            "CONVEYOR_TOPIC_MAP": f"{UserSignedUp.TOPIC}={topic}",
            "CONVEYOR_HTTP_PORT": "off",
            "CONVEYOR_COMMIT_INTERVAL_MS": "200",
            "CONVEYOR_LOG_LEVEL": "INFO",
            **env,
        }
        self._started: list[subprocess.Popen[bytes]] = []

    def start(self) -> subprocess.Popen[bytes]:
        log = (self._workdir / f"sink-{len(self._started)}.log").open("wb")
        process = subprocess.Popen(
            [str(CONVEYOR), "run", "echo-sink"], env=self._env, stdout=log, stderr=log
        )
        self._started.append(process)
        return process

    def terminate(self, process: subprocess.Popen[bytes], timeout: float = 30) -> int:
        process.send_signal(signal.SIGTERM)
        return process.wait(timeout)

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        process.send_signal(signal.SIGKILL)
        process.wait(10)

    def records(self) -> list[dict[str, Any]]:
        """Every complete line so far. A sink may be mid-`write` while this reads, and the read
        can see part of that line; a line without its newline is left for the next read."""
        text = self.output.read_text()
        complete = text[: text.rfind("\n") + 1]
        return [json.loads(line) for line in complete.splitlines() if line.strip()]

    def handled_ids(self) -> set[str]:
        return {record["event_id"] for record in self.records()}

    def close(self) -> None:
        for process in self._started:
            if process.poll() is None:
                process.kill()
                process.wait(10)


@contextmanager
def echo_sinks(
    bootstrap: str, topic: str, group: str, workdir: Path, **env: str
) -> Iterator[EchoSinks]:
    sinks = EchoSinks(bootstrap, topic, group, workdir, **env)
    try:
        yield sinks
    finally:
        sinks.close()


def signups(count: int, keys: int, first: int = 0) -> list[UserSignedUp]:
    """`count` sign-ups spread round-robin over `keys` user ids (several events per key),
    numbered from `first`."""
    return [
        UserSignedUp(user_id=f"user-{i % keys}", email="someone@example.org", name=f"n{i}")
        for i in range(first, first + count)
    ]


class SignupProducer:
    """Publishes sign-ups the way the gateway does: Avro value, user id key, event-type header."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self._producer = Producer(
            {"bootstrap.servers": bootstrap, "linger.ms": 5, "partitioner": "murmur2_random"}
        )
        self._topic = topic
        self._codec = repo_codec()

    def send(self, events: list[UserSignedUp]) -> None:
        for event in events:
            self._producer.produce(
                self._topic,
                key=event.key.encode(),
                value=self._codec.encode(event),
                headers=[(naming.EVENT_TYPE, event.AVRO_NAME.encode())],
            )
            self._producer.poll(0)
        assert self._producer.flush(30) == 0


class SteadySignups:
    """Publishes sign-ups on a thread of its own, `batch` at a time and `pause` seconds apart,
    until stopped: traffic that lasts as long as a scenario needs, however slow the machine."""

    def __init__(
        self, producer: SignupProducer, keys: int, batch: int = 50, pause: float = 0.15
    ) -> None:
        self._producer = producer
        self._keys = keys
        self._batch = batch
        self._pause = pause
        self._sent: list[UserSignedUp] = []
        self._failure: BaseException | None = None
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._publish, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def published(self) -> int:
        """How many events the broker has acknowledged so far."""
        return len(self._sent)

    def stop(self, timeout: float = 60) -> list[UserSignedUp]:
        """Ends the traffic; returns every event published, in order."""
        self._stopping.set()
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the publisher did not stop"
        if self._failure is not None:
            raise AssertionError("publishing failed") from self._failure
        return list(self._sent)

    def _publish(self) -> None:
        try:
            while not self._stopping.is_set():
                events = signups(self._batch, self._keys, first=len(self._sent))
                self._producer.send(events)
                self._sent.extend(events)
                self._stopping.wait(self._pause)
        except BaseException as failure:  # handed to the test by `stop`
            self._failure = failure
