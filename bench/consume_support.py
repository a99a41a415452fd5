"""What `bench_consume`'s runs share: a fresh topic filled with the same events, a clock from
the first handled event to the last, a service run until done, and CPU time per event."""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import sys
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from conveyor import naming
from conveyor.log_output import configure_json_logs
from conveyor.publish.message import Headers
from conveyor.runtime import Service, ServiceSettings, run_service
from conveyor.settings import Settings
from shop_events import UserSignedUp
from tests.project import repo_codec

EVENT_TYPE_HEADER: Headers = [(naming.EVENT_TYPE, UserSignedUp.AVRO_NAME.encode())]


def create_topic(bootstrap: str, partitions: int, config: dict[str, str] | None = None) -> str:
    name = f"bench-consume-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(name, partitions, 1, config=config or {})])[name].result(30)
    return name


def fill(bootstrap: str, topic: str, count: int, keys: int) -> None:
    codec = repo_codec()
    producer = Producer(
        {"bootstrap.servers": bootstrap, "linger.ms": 20, "partitioner": "murmur2_random"}
    )
    for i in range(count):
        event = UserSignedUp(user_id=f"user-{i % keys}", email="b@example.org", name="bench")
        producer.produce(topic, codec.encode(event), event.key.encode(), headers=EVENT_TYPE_HEADER)
        if i % 1000 == 0:
            producer.poll(0)
    producer.flush(60)


class Clock:
    """First-to-last handled: excludes group join time, which both sides pay alike."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.count = 0
        self.first = 0.0
        self.last = 0.0
        self.done = threading.Event()

    def tick(self, n: int = 1) -> None:
        if self.count == 0:
            self.first = time.perf_counter()
        self.count += n
        if self.count >= self.target:
            self.last = time.perf_counter()
            self.done.set()

    @property
    def rate(self) -> float:
        return self.count / max(self.last - self.first, 1e-9)


def run_until(
    service: Service,
    bootstrap: str,
    topic: str,
    done: threading.Event,
    max_in_flight: int,
    **settings_overrides: Any,
) -> None:
    settings = ServiceSettings(
        http_port=None,
        max_in_flight=max_in_flight,
        topic_map={UserSignedUp.TOPIC: topic},
        log_level="WARNING",
        **settings_overrides,
    )
    stop = threading.Event()
    base = Settings.from_env({"KAFKA_BOOTSTRAP_SERVERS": bootstrap})
    thread = threading.Thread(
        target=run_service, args=(service, base, settings, repo_codec()), kwargs={"stop": stop}
    )
    switch_interval = sys.getswitchinterval()  # a service may set it: the next run starts alike
    thread.start()
    done.wait(600)
    stop.set()
    thread.join(60)
    sys.setswitchinterval(switch_interval)


def with_cpu(count: int, run: Callable[[], float]) -> tuple[float, float]:
    """The run's rate, and process CPU microseconds per event (steadier on a shared machine)."""
    before = time.process_time()
    rate = run()
    return rate, (time.process_time() - before) / count * 1e6


def in_fresh_process(run: Callable[..., float], count: int, *args: Any) -> tuple[float, float]:
    """`with_cpu` of `run(*args)` in a process of its own, as a service runs: nothing one run
    sets in the interpreter (the collector's tuning, the switch interval) or leaves in its heap
    reaches the next. `run` is a module-level function."""
    spawn = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=spawn) as pool:
        return pool.submit(_measured, run, count, *args).result()


def _measured(run: Callable[..., float], count: int, *args: Any) -> tuple[float, float]:
    configure_json_logs("WARNING")
    return with_cpu(count, lambda: run(*args))
