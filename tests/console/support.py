"""The console's tests: real services in threads (the runtime with conveyor's failure
policies and codec), events published as the gateway does, and `conveyor console` as its own
process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from confluent_kafka import Producer

from conveyor import naming
from conveyor.events import Event
from conveyor.lanes import Lanes
from conveyor.policies import Policies, PolicySettings
from conveyor.runtime import Service, run_service
from conveyor.settings import Settings
from tests.conftest import free_base_port
from tests.project import repo_codec
from tests.runtime.support import fast_settings

CONVEYOR = Path(sys.executable).with_name("conveyor")
TOKEN = "console-test-token-4b1d"


def publish(bootstrap: str, topic: str, events: Iterable[Event]) -> None:
    """Each event keyed by its entity, murmur2-partitioned, with its type header."""
    codec = repo_codec()
    producer = Producer({"bootstrap.servers": bootstrap, "partitioner": "murmur2_random"})
    for event in events:
        producer.produce(
            topic,
            key=event.key.encode(),
            value=codec.encode(event),
            headers=[(naming.EVENT_TYPE, event.AVRO_NAME.encode())],
        )
    assert producer.flush(30) == 0


class Running:
    """A service running in a thread of the test process until `stop`."""

    def __init__(
        self,
        service: Service,
        bootstrap: str,
        topic_map: dict[str, str],
        lanes: dict[str, Lanes] | None = None,
    ) -> None:
        self._stop = threading.Event()
        self._result: list[int] = []
        policies = Policies(bootstrap, PolicySettings(group=service.name))
        settings = fast_settings(topic_map=topic_map)

        def run() -> None:
            base = Settings.from_env({"KAFKA_BOOTSTRAP_SERVERS": bootstrap})
            self._result.append(
                run_service(
                    service,
                    base,
                    settings,
                    repo_codec(),
                    stop=self._stop,
                    extension=policies,
                    lanes=lanes,
                )
            )

        self._thread = threading.Thread(target=run, name=service.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)
        assert self._result == [0], "the service did not stop cleanly"


@contextmanager
def running(
    service: Service,
    bootstrap: str,
    topic_map: dict[str, str],
    lanes: dict[str, Lanes] | None = None,
) -> Iterator[Running]:
    """`service` running until the block ends; `lanes`: its topics' lanes, by declared topic."""
    handle = Running(service, bootstrap, topic_map, lanes)
    try:
        yield handle
    finally:
        handle._stop.set()
        handle._thread.join(30)


class ConsoleProcess:
    """`conveyor console SERVICES --allow-actions` on a free loopback port, with the token set;
    `topology`: a topology file declaring the services, instead of the repository's."""

    def __init__(
        self, bootstrap: str, services: list[str], workdir: Path, topology: Path | None = None
    ) -> None:
        self.port = free_base_port(1)
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / "console.log"
        env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "CONVEYOR_CONSOLE_TOKEN": TOKEN,
        }
        if topology is not None:
            env["CONVEYOR_TOPOLOGY"] = str(topology)
        command = [str(CONVEYOR), "console", *services, "--port", str(self.port)]
        command += ["--allow-actions", "--interval", "1"]
        with self.log.open("wb") as out:
            self._process = subprocess.Popen(command, env=env, stdout=out, stderr=out)
        self._wait_ready()

    def _wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise AssertionError(f"the console exited: {self.log.read_text()}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/config", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise AssertionError("the console did not answer")

    def log_events(self) -> list[str]:
        return self.log.read_text().splitlines()

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(f"{self.url}{path}", timeout=30) as answer:
            return json.load(answer)

    def stop(self) -> None:
        self._process.send_signal(signal.SIGTERM)
        try:
            self._process.wait(15)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(5)


@contextmanager
def console(
    bootstrap: str, services: list[str], workdir: Path, topology: Path | None = None
) -> Iterator[ConsoleProcess]:
    process = ConsoleProcess(bootstrap, services, workdir, topology)
    try:
        yield process
    finally:
        process.stop()
