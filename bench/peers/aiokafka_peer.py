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

from bench.peers import common
from bench.peers.protocol import Result, Spec, measured, run_async, serve_all

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
    frame, records = common.encoding(spec)
    p = producer(spec)
    await p.start()
    topic = spec["topic"]
    started = common.start_clock()
    pending = [
        await p.send(topic, frame.encode(r), common.key_of(r), headers=common.headers_for(r))
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
    frame, progress = common.decoding(spec)
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
        **progress.metrics(),
    )


async def _io_bound(spec: Spec) -> Result:
    frame, work = common.io_bound_run(spec)
    c = consumer(spec)
    await c.start()

    deadline = time.perf_counter() + spec["time_cap"]
    while not work.progress.finished and time.perf_counter() < deadline:
        batches = await c.getmany(timeout_ms=200, max_records=BATCH)
        by_key: dict[str, list[common.Record]] = defaultdict(list)
        for messages in batches.values():
            for msg in messages:
                by_key[msg.key.decode()].append(frame.decode(msg.value))
        await work.chains(by_key)
        if batches:
            await c.commit()
    await c.stop()
    return measured(
        "per fetched batch (500), one coroutine chain per key, batches one after another",
        **work.metrics(),
    )


async def _latency(spec: Spec) -> Result:
    frame, records, probe = common.latency_run(spec)
    c = consumer(spec, enable_auto_commit=True)
    p = producer(spec)
    await c.start()
    await p.start()

    async def receive() -> None:
        while not probe.done:
            batches = await c.getmany(timeout_ms=100)
            for messages in batches.values():
                for msg in messages:
                    probe.received(common.event_index(frame.decode(msg.value)["event_id"]))

    async def send(i: int) -> None:
        r = records[i]
        await p.send(
            spec["topic"], frame.encode(r), common.key_of(r), headers=common.headers_for(r)
        )

    receiver = asyncio.create_task(receive())
    await probe.paced(send)
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
    frame, tally = common.failing(spec)
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
                except common.PermanentFailureError as exc:
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


if __name__ == "__main__":
    serve_all(*map(run_async, (_publish, _consume, _io_bound, _latency, _failure)))
