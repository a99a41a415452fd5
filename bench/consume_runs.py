"""The runs `bench_consume` measures: the hand-written confluent-kafka baselines and conveyor
services (async, sync, batch, traced, one key backing off), each timed from the first handled
event to the last, and the paced end-to-end latency run."""

from __future__ import annotations

import asyncio
import io
import multiprocessing
import queue
import threading
import time
import uuid
from collections import defaultdict
from typing import Any

from confluent_kafka import Consumer, Producer
from fastavro import schemaless_reader

from bench.consume_support import EVENT_TYPE_HEADER, Clock, create_topic, fill, run_until
from bench.peers.common import LATENCY_WARM_UP_S
from conveyor.codec.framing import HEADER_SIZE
from conveyor.publish.message import Headers
from conveyor.runtime import BatchContext, BatchPolicy, Context, Service
from shop_events import UserSignedUp
from tests.project import repo_codec

SENT_AT = "bench-sent-ns"
KEYS = 1000
BACKING_OFF_KEY = "user-7"  # its first event fails, then waits longer than the run lasts


def hand_loop(bootstrap: str, topic: str, count: int, typed: bool = False) -> float:
    """Baseline: consume, decode with fastavro (to a dict, or with `typed` to the pydantic event
    through conveyor's codec), store offsets; auto-commit of stored offsets."""
    codec = repo_codec()
    schema = codec.writer_schema(UserSignedUp).parsed
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"bench-hand-{uuid.uuid4().hex[:6]}",
            "group.protocol": "consumer",
            "auto.offset.reset": "earliest",
            "enable.auto.offset.store": False,
        }
    )
    consumer.subscribe([topic])
    clock = Clock(count)
    while not clock.done.is_set():
        messages = consumer.consume(500, 0.1)
        for message in messages:
            value = message.value()
            if message.error() or value is None:
                continue
            if typed:
                codec.decode(value, UserSignedUp)
            else:
                schemaless_reader(io.BytesIO(value[HEADER_SIZE:]), schema, None)
            consumer.store_offsets(message)
        if messages:
            clock.tick(len(messages))
    consumer.close()
    return clock.rate


def partition_workers(bootstrap: str, topic: str, count: int, io_seconds: float) -> float:
    """Baseline for I/O-bound handlers: one worker per partition, each handling its partition's
    events one at a time (the classic "a partition is the unit of concurrency" consumer)."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"bench-workers-{uuid.uuid4().hex[:6]}",
            "group.protocol": "consumer",
            "auto.offset.reset": "earliest",
            "enable.auto.offset.store": False,
        }
    )
    clock = Clock(count)
    lock = threading.Lock()
    queues: dict[int, queue.SimpleQueue[Any]] = defaultdict(queue.SimpleQueue)
    finished: queue.SimpleQueue[Any] = queue.SimpleQueue()  # offsets are stored by the poller

    def work(inbox: queue.SimpleQueue[Any]) -> None:
        while (message := inbox.get()) is not None and not clock.done.is_set():
            time.sleep(io_seconds)
            finished.put(message)
            with lock:
                clock.tick()

    workers: dict[int, threading.Thread] = {}
    consumer.subscribe([topic])
    while not clock.done.is_set():
        for message in consumer.consume(500, 0.1):
            partition = message.partition()
            if message.error() or partition is None:
                continue
            if partition not in workers:
                workers[partition] = threading.Thread(target=work, args=(queues[partition],))
                workers[partition].start()
            queues[partition].put(message)
        while not finished.empty():
            consumer.store_offsets(finished.get())
    for inbox in queues.values():
        inbox.put(None)
    for worker in workers.values():
        worker.join()
    consumer.close()
    return clock.rate


def runtime_run(
    bootstrap: str, topic: str, count: int, io_seconds: float = 0.0, max_in_flight: int = 256
) -> float:
    service = Service(f"bench-runtime-{uuid.uuid4().hex[:6]}")
    clock = Clock(count)

    @service.handler(UserSignedUp)
    async def handle(event: UserSignedUp, ctx: Context) -> None:
        if io_seconds:
            await asyncio.sleep(io_seconds)
        clock.tick()

    run_until(service, bootstrap, topic, clock.done, max_in_flight)
    return clock.rate


def runtime_traced_run(bootstrap: str, topic: str, count: int) -> float:
    """`runtime_run` with OpenTelemetry tracing on: a span per event, batched to an exporter
    that drops them (the cost of making spans, not of shipping them)."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

    from conveyor.tracing import install
    from conveyor.tracing.otel import OtelTracing

    class Dropped(SpanExporter):
        def export(self, spans: Any) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(Dropped()))
    install(OtelTracing(provider))
    try:
        return runtime_run(bootstrap, topic, count)
    finally:
        provider.shutdown()


def runtime_sync_run(bootstrap: str, topic: str, count: int) -> float:
    """The runtime with a no-op sync handler: each call goes to the thread pool and back."""
    service = Service(f"bench-sync-{uuid.uuid4().hex[:6]}")
    clock = Clock(count)
    lock = threading.Lock()  # the pool's threads tick the one clock

    @service.handler(UserSignedUp)
    def handle(event: UserSignedUp, ctx: Context) -> None:
        with lock:
            clock.tick()

    run_until(service, bootstrap, topic, clock.done, 256)
    return clock.rate


def runtime_batch_run(bootstrap: str, topic: str, count: int) -> float:
    """The runtime with a no-op batch handler (what a bulk sink such as analytics uses)."""
    service = Service(f"bench-batch-{uuid.uuid4().hex[:6]}")
    clock = Clock(count)

    @service.batch_handler(UserSignedUp, BatchPolicy(max_size=500, max_wait=0.05))
    async def load(events: list[UserSignedUp], ctx: BatchContext) -> None:
        clock.tick(len(events))

    run_until(service, bootstrap, topic, clock.done, 256)
    return clock.rate


def runtime_backoff_run(bootstrap: str, topic: str, count: int, fail: bool) -> float:
    """The async no-op service, timed over the events of every key but `BACKING_OFF_KEY`; with
    `fail`, that key's first event fails and backs off in place (its later events queue behind).
    Its partition's uncommitted bound is widened to the whole run so that bound (which does
    pause the partition, on purpose) stays out of the figure."""
    service = Service(f"bench-backoff-{uuid.uuid4().hex[:6]}")
    clock = Clock(count - count // KEYS)
    failed = False

    @service.handler(UserSignedUp)
    async def handle(event: UserSignedUp, ctx: Context) -> None:
        nonlocal failed
        if event.user_id != BACKING_OFF_KEY:
            clock.tick()
        elif fail and not failed:
            failed = True
            raise ConnectionError("the CRM is down")

    run_until(
        service,
        bootstrap,
        topic,
        clock.done,
        256,
        retry_delay=600.0,
        max_uncommitted_per_partition=count,
        shutdown_deadline=0.5,  # the key backing off is abandoned at the end, not waited for
    )
    return clock.rate


def paced_producer(bootstrap: str, topic: str, rate: int, seconds: float) -> None:
    """Publishes `rate` events/s for `seconds`, stamping each with its send time, after
    `LATENCY_WARM_UP_S` of unstamped events at the same rate (why: see `LatencyProbe`)."""
    codec = repo_codec()
    producer = Producer(
        {"bootstrap.servers": bootstrap, "linger.ms": 1, "partitioner": "murmur2_random"}
    )
    warm_up = int(rate * LATENCY_WARM_UP_S)
    tick = 0.005
    per_tick = max(1, int(rate * tick))
    start = time.perf_counter()
    sent = 0
    while sent < warm_up + rate * seconds:
        for _ in range(per_tick):
            event = UserSignedUp(user_id=f"user-{sent % 1000}", email="b@example.org", name="l")
            headers: Headers = list(EVENT_TYPE_HEADER)
            if sent >= warm_up:
                headers.append((SENT_AT, str(time.time_ns()).encode()))
            producer.produce(topic, codec.encode(event), event.key.encode(), headers=headers)
            sent += 1
        producer.poll(0)
        delay = start + (sent / rate) - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
    producer.flush(30)


def latency_run(bootstrap: str, rate: int, seconds: float) -> tuple[list[float], list[float]]:
    """Per event, milliseconds from `publish` to handler start, and from the broker's append to
    handler start (the topic stamps records with their append time): the part a consumer adds,
    fetching included."""
    topic = create_topic(bootstrap, 6, {"message.timestamp.type": "LogAppendTime"})
    service = Service(f"bench-latency-{uuid.uuid4().hex[:6]}")
    latencies: list[float] = []
    after_append: list[float] = []
    ready = threading.Event()
    total = int(rate * seconds)
    done = threading.Event()

    @service.handler(UserSignedUp)
    async def handle(event: UserSignedUp, ctx: Context) -> None:
        now = time.time_ns()
        sent = ctx.meta.header(SENT_AT)
        if sent is None:  # a warm-up event
            ready.set()
            return
        latencies.append((now - int(sent)) / 1e6)
        after_append.append(now / 1e6 - (ctx.meta.timestamp_ms or 0))
        if len(latencies) >= total:
            done.set()

    fill(bootstrap, topic, 1, 1)  # one warm-up event: its arrival says the group has joined
    runner = threading.Thread(target=run_until, args=(service, bootstrap, topic, done, 256))
    runner.start()
    ready.wait(60)
    time.sleep(1)
    producer = multiprocessing.get_context("spawn").Process(
        target=paced_producer, args=(bootstrap, topic, rate, seconds)
    )
    producer.start()
    producer.join()
    done.wait(30)
    done.set()
    runner.join()
    return latencies, after_append
