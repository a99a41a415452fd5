"""FastStream's Kafka broker (aiokafka underneath), used the way its documentation shows.

Subscribers get the raw bytes and decode them with fastavro (FastStream has no Avro codec of its
own); per-message access logs are off (`logger=None`), as a service under load would run.
At-least-once commits (`AckPolicy.ACK`) are synchronous, one per delivery: per message they cap a
subscriber near a hundred events/s here, so benchmark 2 uses a batch subscriber (one commit per
batch of up to 500), benchmark 3 the per-partition workers FastStream offers for ordered
concurrency, and benchmarks 4 and 5 FastStream's default policy (`ACK_FIRST`, auto-commit).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from bench.peers import common
from bench.peers.protocol import Result, Spec, measured, run_async, serve_all


def make_broker(spec: Spec) -> KafkaBroker:
    return KafkaBroker(
        spec["bootstrap"],
        acks="all",
        enable_idempotence=True,
        compression_type="lz4",
        linger_ms=5,
        logger=None,
    )


def str_headers(record: common.Record) -> dict[str, str]:
    return {name: _text(value) for name, value in common.headers_for(record)}


def _text(value: str | bytes | None) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def subscribe(broker: KafkaBroker, spec: Spec, handler: Callable[..., Any], **extra: Any) -> None:
    broker.subscriber(spec["topic"], group_id=spec["group"], auto_offset_reset="earliest", **extra)(
        handler
    )


async def wait_done(done: Callable[[], bool], cap: float) -> None:
    deadline = time.perf_counter() + cap
    while not done() and time.perf_counter() < deadline:
        await asyncio.sleep(0.02)


async def _publish(spec: Spec) -> Result:
    frame, records = common.encoding(spec)
    broker = make_broker(spec)
    await broker.connect()
    topic = spec["topic"]
    started = common.start_clock()
    pending = [
        await broker.publish(
            frame.encode(r),
            topic,
            key=common.key_of(r),
            headers=str_headers(r),
            no_confirm=True,
        )
        for r in records
    ]
    delivered = len([m for m in await asyncio.gather(*pending) if m is not None])
    elapsed = time.perf_counter() - started
    await broker.stop()
    return measured(
        "encode with fastavro, broker.publish(no_confirm=True), gather the delivery futures",
        events_per_s=delivered / elapsed,
        delivered=delivered,
    )


async def _consume(spec: Spec) -> Result:
    frame, progress = common.decoding(spec)
    broker = make_broker(spec)

    async def handle(bodies: list[bytes]) -> None:
        for body in bodies:
            frame.decode(body)
        progress.tick(len(bodies))

    subscribe(broker, spec, handle, batch=True, max_records=500, ack_policy=AckPolicy.ACK)
    await broker.start()
    await wait_done(lambda: progress.finished, spec["time_cap"])
    await broker.stop()
    return measured(
        "batch subscriber (up to 500), decode, no-op; AckPolicy.ACK commits after each batch",
        **progress.metrics(),
    )


async def _io_bound(spec: Spec) -> Result:
    frame, work = common.io_bound_run(spec)
    broker = make_broker(spec)

    async def handle(body: bytes, message: KafkaMessage) -> None:
        record = frame.decode(body)
        await asyncio.sleep(work.delay)
        work.handled(message.raw_message.key.decode(), record)

    # max_workers with manual acks: one worker per partition, in order within each partition.
    workers = spec["partitions"]
    subscribe(broker, spec, handle, max_workers=workers, ack_policy=AckPolicy.ACK)
    await broker.start()
    await wait_done(lambda: work.progress.finished, spec["time_cap"])
    await broker.stop()
    return measured(
        f"max_workers={workers}, AckPolicy.ACK: partitions concurrent, each in order, "
        "a commit per message",
        **work.metrics(),
    )


async def _latency(spec: Spec) -> Result:
    frame, records, probe = common.latency_run(spec)
    broker = make_broker(spec)

    async def handle(body: bytes) -> None:
        probe.received(common.event_index(frame.decode(body)["event_id"]))

    async def send(i: int) -> None:
        r = records[i]
        key, headers = common.key_of(r), str_headers(r)
        await broker.publish(
            frame.encode(r), spec["topic"], key=key, headers=headers, no_confirm=True
        )

    subscribe(broker, spec, handle)
    await broker.start()
    await probe.paced(send)
    await wait_done(lambda: probe.done, 30)
    await broker.stop()
    return measured(
        "publish(no_confirm=True) paced; default subscriber (auto-commit) on the same loop",
        **probe.metrics(),
    )


async def _failure(spec: Spec) -> Result:
    frame, tally = common.failing(spec)
    broker = make_broker(spec)

    async def handle(body: bytes, message: KafkaMessage) -> None:
        tally.handle(frame.decode(body), message.raw_message.key.decode())

    subscribe(broker, spec, handle)
    await broker.start()
    await wait_done(tally.settled, spec["time_cap"])
    await broker.stop()
    return measured(
        "handler raises; default AckPolicy.ACK_FIRST (auto-commit): logged, consumer moves on",
        **tally.metrics(),
    )


if __name__ == "__main__":
    serve_all(*map(run_async, (_publish, _consume, _io_bound, _latency, _failure)))
