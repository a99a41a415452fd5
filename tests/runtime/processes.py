"""Run the example `echo-sink` service as real processes (`conveyor run echo-sink`) and read
back what it recorded."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
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


def signups(count: int, keys: int) -> list[UserSignedUp]:
    """`count` sign-ups spread round-robin over `keys` user ids (several events per key)."""
    return [
        UserSignedUp(user_id=f"user-{i % keys}", email="someone@example.org", name=f"n{i}")
        for i in range(count)
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
