"""Hand-written aiokafka code: what an asyncio shop writes without a framework.

Same shape as the confluent-kafka baseline: producer settings matching conveyor's, commits after
handled batches, per-key coroutine chains over each fetched batch for the concurrent benchmark.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from bench.peers.common import (
    AvroFrame,
    LatencyProbe,
    OrderCheck,
    PermanentFailureError,
    Progress,
    Record,
    event_index,
    headers_for,
    load_records,
    new_tally,
)
from bench.peers.protocol import Result, Spec, measured, serve

BATCH = 500


def producer(spec: Spec) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=spec["bootstrap"],
        acks="all",
        enable_idempotence=True,
        compression_type="lz4",
        linger_ms=5,
    )


def consumer(spec: Spec, **extra: Any) -> AIOKafkaConsumer:
    options: dict[str, Any] = {
        "bootstrap_servers": spec["bootstrap"],
        "group_id": spec["group"],
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        **extra,
    }
    return AIOKafkaConsumer(spec["topic"], **options)


async def _publish(spec: Spec) -> Result:
    records = load_records(spec)
    frame = AvroFrame(spec["schema"])
    p = producer(spec)
    await p.start()
    topic = spec["topic"]
    started = time.perf_counter()
    pending = [
        await p.send(topic, frame.encode(r), r["user_id"].encode(), headers=headers_for(r))
        for r in records
    ]
    delivered = sum(1 for result in await asyncio.gather(*pending) if result is not None)
    elapsed = time.perf_counter() - started
    await p.stop()
    return measured(
        "encode with fastavro, await send() per event, gather every delivery future",
        events_per_s=delivered / elapsed,
        delivered=delivered,
    )


async def _consume(spec: Spec) -> Result:
    frame = AvroFrame(spec["schema"])
    progress = Progress(spec["events"])
    c = consumer(spec)
    await c.start()
    deadline = time.perf_counter() + spec["time_cap"]
    while not progress.finished and time.perf_counter() < deadline:
        batches = await c.getmany(timeout_ms=500, max_records=BATCH)
        for messages in batches.values():
            for msg in messages:
                frame.decode(msg.value)
                progress.tick()
        if batches:
            await c.commit()
    await c.stop()
    return measured(
        "getmany batches of 500, decode, no-op, commit after each batch",
        events_per_s=progress.rate(),
        handled=progress.done,
    )


async def _io_bound(spec: Spec) -> Result:
    frame = AvroFrame(spec["schema"])
    progress = Progress(spec["events"])
    order = OrderCheck()
    delay = spec["io_delay"]
    c = consumer(spec)
    await c.start()

    async def run_key(key: str, records: list[Record]) -> None:
        for record in records:
            await asyncio.sleep(delay)
            order.see(key, event_index(record["event_id"]))
            progress.tick()

    deadline = time.perf_counter() + spec["time_cap"]
    while not progress.finished and time.perf_counter() < deadline:
        batches = await c.getmany(timeout_ms=200, max_records=BATCH)
        by_key: dict[str, list[Record]] = defaultdict(list)
        for messages in batches.values():
            for msg in messages:
                by_key[msg.key.decode()].append(frame.decode(msg.value))
        await asyncio.gather(*(run_key(k, rs) for k, rs in by_key.items()))
        if batches:
            await c.commit()
    await c.stop()
    return measured(
        "per fetched batch (500), one coroutine chain per key, batches one after another",
        events_per_s=progress.rate(),
        handled=progress.done,
        order_violations=order.violations,
    )


async def _latency(spec: Spec) -> Result:
    frame = AvroFrame(spec["schema"])
    records = load_records(spec)
    probe = LatencyProbe(len(records), spec["rate"])
    c = consumer(spec, enable_auto_commit=True)
    p = producer(spec)
    await c.start()
    await p.start()

    async def receive() -> None:
        while not probe.done:
            batches = await c.getmany(timeout_ms=100)
            for messages in batches.values():
                for msg in messages:
                    probe.received(event_index(frame.decode(msg.value)["event_id"]))

    async def send(i: int) -> None:
        r = records[i]
        await p.send(spec["topic"], frame.encode(r), r["user_id"].encode(), headers=headers_for(r))

    receiver = asyncio.create_task(receive())
    while not probe.ready.is_set():
        await send(0)
        await asyncio.sleep(0.2)
    probe.begin()
    for i in range(1, len(records)):
        await asyncio.sleep(probe.delay(i))
        probe.stamp(i)
        await send(i)
    await p.flush()
    try:
        await asyncio.wait_for(receiver, 30)
    except TimeoutError:
        receiver.cancel()
    await p.stop()
    await c.stop()
    return measured(
        "producer and consumer on one event loop, paced with asyncio.sleep", **probe.metrics()
    )


async def _failure(spec: Spec) -> Result:
    frame = AvroFrame(spec["schema"])
    tally = new_tally(spec)
    c = consumer(spec)
    p = producer(spec)
    await c.start()
    await p.start()
    deadline = time.perf_counter() + spec["time_cap"]
    while not tally.settled() and time.perf_counter() < deadline:
        batches = await c.getmany(timeout_ms=500, max_records=BATCH)
        dead = []
        for messages in batches.values():
            for msg in messages:
                try:
                    tally.handle(frame.decode(msg.value), msg.key.decode())
                except PermanentFailureError as exc:
                    headers = [*msg.headers, ("x-error-type", type(exc).__name__.encode())]
                    dead.append(
                        await p.send(spec["dlq_topic"], msg.value, msg.key, headers=headers)
                    )
        await asyncio.gather(*dead)
        if batches:
            await c.commit()
    await c.stop()
    await p.stop()
    return measured(
        "hand-written: catch the error, send the message to a DLQ topic, go on", **tally.metrics()
    )


def _sync(run: Any) -> Any:
    return lambda spec: asyncio.run(run(spec))


if __name__ == "__main__":
    serve(
        {
            "publish": _sync(_publish),
            "consume": _sync(_consume),
            "io_bound": _sync(_io_bound),
            "latency": _sync(_latency),
            "failure": _sync(_failure),
        }
    )
