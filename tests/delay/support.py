"""Delay topics of one test, publishers bound to them, and a read_committed reader."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conveyor import naming
from conveyor.delay.scheduler import Scheduler, SchedulerSettings
from conveyor.publish import Publisher, PublisherConfig
from conveyor.runtime.settings import ServiceSettings
from shop_events import UserSignedUp
from tests.project import repo_codec
from tests.reading import read_until

CONVEYOR = Path(sys.executable).with_name("conveyor")


@dataclass(frozen=True)
class DelayTopics:
    bootstrap: str
    delay: str
    cancel: str
    destination: str
    group: str

    @property
    def topic_map(self) -> dict[str, str]:
        return {
            naming.DELAY_TOPIC: self.delay,
            naming.DELAY_CANCEL_TOPIC: self.cancel,
            UserSignedUp.TOPIC: self.destination,
        }

    def publisher(self) -> Publisher:
        config = PublisherConfig(bootstrap_servers=self.bootstrap, topics=self.topic_map)
        return Publisher(config, repo_codec())

    def settings(self, instance: str = "a") -> SchedulerSettings:
        return SchedulerSettings(
            bootstrap_servers=self.bootstrap,
            consumer=ServiceSettings(group_instance_id=f"{self.group}-{instance}", http_port=None),
            delay_topic=self.delay,
            cancel_topic=self.cancel,
            group=self.group,
        )

    def env(self, instance: str = "a") -> dict[str, str]:
        return {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "CONVEYOR_TOPIC_MAP": f"{naming.DELAY_TOPIC}={self.delay},"
            f"{naming.DELAY_CANCEL_TOPIC}={self.cancel}",
            "CONVEYOR_SCHEDULER_GROUP": self.group,
            "CONVEYOR_GROUP_INSTANCE_ID": f"{self.group}-{instance}",
        }


def signup(user: str) -> UserSignedUp:
    return UserSignedUp(user_id=user, email=f"{user}@example.org", name=user)


@contextmanager
def scheduler_thread(settings: SchedulerSettings) -> Iterator[None]:
    """A scheduler running in a thread; what killed the thread, if anything, is raised at exit."""
    stop = threading.Event()
    scheduler = Scheduler(settings)
    failures: list[BaseException] = []

    def run() -> None:
        try:
            scheduler.run(stop)
        except BaseException as exc:
            failures.append(exc)
            raise

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(30)
    if failures:
        raise AssertionError(f"the scheduler thread died: {failures[0]!r}") from failures[0]
    frame = sys._current_frames().get(thread.ident or 0)
    if thread.is_alive() and frame is not None:
        stack = "".join(traceback.format_stack(frame))
        raise AssertionError(f"the scheduler did not stop within 30 s; it was in:\n{stack}")


def start_scheduler(topics: DelayTopics, log: Path) -> subprocess.Popen[bytes]:
    out = log.open("ab")
    return subprocess.Popen(
        [str(CONVEYOR), "run", "scheduler"], env=topics.env(), stdout=out, stderr=out
    )


def kill(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(10)


@dataclass(frozen=True)
class Arrival:
    event_id: str
    key: str
    timestamp_ms: int  # the record's create time: when the scheduler delivered it


def read_arrivals(
    bootstrap: str, topic: str, expect: int, timeout: float, settle: float = 0.0
) -> list[Arrival]:
    """Committed records of `topic` from its start, until `expect` arrived (then `settle` more
    seconds, for duplicates to show) or `timeout` passed waiting."""
    messages = read_until(bootstrap, topic, expect, timeout=timeout, settle=settle)
    return [_arrival(message) for message in messages]


def _arrival(message: Any) -> Arrival:
    headers = dict(message.headers() or [])
    return Arrival(
        event_id=headers[naming.EVENT_ID].decode(),
        key=message.key().decode(),
        timestamp_ms=message.timestamp()[1],
    )
