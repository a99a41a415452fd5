"""Hand-written confluent-kafka code, the baseline every figure is divided by.

What a careful engineer writes without a framework: one producer with conveyor's producer
settings, a consumer that commits after the events it handled, and for the concurrent benchmark
per-key chains of coroutines over each polled batch.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import defaultdict
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer

from bench.peers import common
from bench.peers.protocol import Result, Spec, measured, serve_all

BATCH = 500


def producer_config(spec: Spec) -> dict[str, Any]:
    """conveyor's producer settings, so both publish under the same guarantees."""
    return {
        "bootstrap.servers": spec["bootstrap"],
        "enable.idempotence": True,
        "acks": "all",
        "compression.type": "lz4",
        "linger.ms": 5,
        "partitioner": "murmur2_random",
    }


def consumer(spec: Spec, **extra: Any) -> Consumer:
    config = {
        "bootstrap.servers": spec["bootstrap"],
        "group.id": spec["group"],
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        **extra,
    }
    c = Consumer(config)
    c.subscribe([spec["topic"]])
    return c


def final_commit(c: Consumer) -> None:
    """Commit what is stored synchronously, then leave; nothing new to commit is fine."""
    try:
        c.commit(asynchronous=False)
    except KafkaException as exc:
        if exc.args[0].code() != KafkaError._NO_OFFSET:
            raise
    c.close()


def produce(
    producer: Producer, topic: str, key: bytes | None, value: bytes | None, headers: Any
) -> None:
    while True:
        try:
            producer.produce(topic, value, key, headers=headers)
        except BufferError:
            producer.poll(0.01)
        else:
            producer.poll(0)
            return


def publish(spec: Spec) -> Result:
    frame, records = common.encoding(spec)
    producer = Producer(producer_config(spec))
    delivered = [0]

    def on_delivery(err: Any, _msg: Any) -> None:
        if err is None:
            delivered[0] += 1

    topic = spec["topic"]
    started = common.start_clock()
    for record in records:
        value = frame.encode(record)
        while True:
            try:
                producer.produce(
                    topic,
                    value,
                    common.key_of(record),
                    headers=common.headers_for(record),
                    on_delivery=on_delivery,
                )
                break
            except BufferError:
                producer.poll(0.01)
        producer.poll(0)
    producer.flush(60)
    elapsed = time.perf_counter() - started
    return measured(
        "encode with fastavro, produce, flush; every delivery confirmed by callback",
        events_per_s=delivered[0] / elapsed,
        delivered=delivered[0],
    )


def consume(spec: Spec) -> Result:
    frame, progress = common.decoding(spec)
    c = consumer(spec)
    deadline = time.perf_counter() + spec["time_cap"]
    while not progress.finished and time.perf_counter() < deadline:
        batch = c.consume(BATCH, 0.5)
        for msg in batch:
            if msg.error():
                continue
            frame.decode(msg.value())
            progress.tick()
        if batch:
            c.commit(asynchronous=True)
    final_commit(c)
    return measured(
        "poll batches of 500, decode, no-op, commit after each batch",
        **progress.metrics(),
    )


def io_bound(spec: Spec) -> Result:
    return asyncio.run(_io_bound(spec))


async def _io_bound(spec: Spec) -> Result:
    frame, work = common.io_bound_run(spec)
    c = consumer(spec)

    deadline = time.perf_counter() + spec["time_cap"]
    while not work.progress.finished and time.perf_counter() < deadline:
        batch = c.consume(BATCH, 0.2)
        by_key: dict[str, list[common.Record]] = defaultdict(list)
        for msg in batch:
            if msg.error():
                continue
            record = frame.decode(msg.value())
            by_key[(msg.key() or b"").decode()].append(record)
        await work.chains(by_key)
        if batch:
            c.commit(asynchronous=True)
    final_commit(c)
    return measured(
        "per polled batch (500), one coroutine chain per key, batches one after another",
        **work.metrics(),
    )


def latency(spec: Spec) -> Result:
    frame, records, probe = common.latency_run(spec)
    stop = threading.Event()

    def consume_loop() -> None:
        c = consumer(spec, **{"enable.auto.commit": True})
        while not stop.is_set():
            msg = c.poll(0.1)
            if msg is None or msg.error():
                continue
            probe.received(common.event_index(frame.decode(msg.value())["event_id"]))
        c.close()

    thread = threading.Thread(target=consume_loop)
    thread.start()
    producer = Producer(producer_config(spec))
    topic = spec["topic"]

    def send(i: int) -> None:
        record = records[i]
        key, value = common.key_of(record), frame.encode(record)
        produce(producer, topic, key, value, common.headers_for(record))

    while not probe.ready.is_set():
        send(0)
        producer.poll(0.2)
    for i in probe.stream():
        send(i)
    producer.flush(30)
    common.wait_until(lambda: probe.done, 30)
    stop.set()
    thread.join()
    return measured("producer paced on the main thread, consumer thread", **probe.metrics())


def failure(spec: Spec) -> Result:
    frame, tally = common.failing(spec)
    c = consumer(spec)
    producer = Producer(producer_config(spec))
    deadline = time.perf_counter() + spec["time_cap"]
    while not tally.settled() and time.perf_counter() < deadline:
        batch = c.consume(BATCH, 0.5)
        for msg in batch:
            if msg.error():
                continue
            key = (msg.key() or b"").decode()
            try:
                tally.handle(frame.decode(msg.value()), key)
            except common.PermanentFailureError as exc:
                headers = [*(msg.headers() or []), ("x-error-type", type(exc).__name__.encode())]
                produce(producer, spec["dlq_topic"], msg.key(), msg.value(), headers)
        if batch:
            producer.flush(30)
            c.commit(asynchronous=True)
    final_commit(c)
    producer.flush(30)
    return measured(
        "hand-written: catch the error, produce the message to a DLQ topic, go on",
        **tally.metrics(),
    )


if __name__ == "__main__":
    serve_all(publish, consume, io_bound, latency, failure)
