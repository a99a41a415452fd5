"""Quix Streams: an `Application` with a StreamingDataFrame over the topic, as its docs show.

Quix processes synchronously, one message at a time (no async handlers), and commits its
checkpoint every `commit_interval` (5 s) and on stop: at-least-once. Values are read as bytes and
decoded with fastavro (Quix's Avro serializer writes plain Avro bodies, not single-object frames).
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

from quixstreams import Application

from bench.peers import common
from bench.peers.protocol import Result, Spec, measured, serve_all

PRODUCER = {
    "enable.idempotence": True,
    "acks": "all",
    "compression.type": "lz4",
    "linger.ms": 5,
    "partitioner": "murmur2_random",
}


def application(spec: Spec, state_dir: str, **extra: Any) -> Application:
    return Application(
        broker_address=spec["bootstrap"],
        consumer_group=spec["group"],
        auto_offset_reset="earliest",
        producer_extra_config=PRODUCER,
        state_dir=state_dir,
        use_changelog_topics=False,
        loglevel="WARNING",
        **extra,
    )


def run_until(
    app: Application, spec: Spec, handler: Callable[..., Any], done: Callable[[], bool]
) -> None:
    """Run `handler(value, key, timestamp, headers)` on every message until `done` or the cap."""
    sdf = app.dataframe(app.topic(spec["topic"], value_deserializer="bytes"))
    sdf.update(handler, metadata=True)
    cap = threading.Timer(spec["time_cap"], app.stop)
    cap.start()
    watcher = threading.Thread(target=lambda: (common.wait_until(done, 1e9), app.stop()))
    watcher.daemon = True
    watcher.start()
    app.run()
    cap.cancel()


def publish(spec: Spec) -> Result:
    frame, records = common.encoding(spec)
    with tempfile.TemporaryDirectory() as state:
        app = application(spec, state)
        delivered = [0]

        def on_delivery(err: Any, _msg: Any) -> None:
            if err is None:
                delivered[0] += 1

        with app.get_producer() as producer:
            topic = spec["topic"]
            started = common.start_clock()
            for r in records:
                producer.produce(
                    topic,
                    frame.encode(r),
                    common.key_of(r),
                    headers=common.headers_for(r),
                    on_delivery=on_delivery,
                )
            producer.flush()
            elapsed = time.perf_counter() - started
    return measured(
        "encode with fastavro, app.get_producer().produce, flush",
        events_per_s=delivered[0] / elapsed,
        delivered=delivered[0],
    )


def consume(spec: Spec) -> Result:
    frame, progress = common.decoding(spec)

    def handle(value: bytes, *_meta: Any) -> None:
        frame.decode(value)
        progress.tick()

    with tempfile.TemporaryDirectory() as state:
        run_until(application(spec, state), spec, handle, lambda: progress.finished)
    return measured(
        "StreamingDataFrame.update, decode, no-op; checkpoint commits (5 s and on stop)",
        **progress.metrics(),
    )


def io_bound(spec: Spec) -> Result:
    frame, work = common.io_bound_run(spec)

    def handle(value: bytes, key: bytes, *_meta: Any) -> None:
        record = frame.decode(value)
        time.sleep(work.delay)  # Quix has no async handlers: the 10 ms of I/O blocks the consumer
        work.handled(key.decode(), record)

    with tempfile.TemporaryDirectory() as state:
        run_until(application(spec, state), spec, handle, lambda: work.progress.finished)
    return measured(
        "sync handler (no async in Quix): one message at a time, time.sleep(10 ms)",
        **work.metrics(),
    )


def latency(spec: Spec) -> Result:
    frame, records, probe = common.latency_run(spec)

    def handle(value: bytes, *_meta: Any) -> None:
        probe.received(common.event_index(frame.decode(value)["event_id"]))

    with tempfile.TemporaryDirectory() as state:
        app = application(spec, state)

        def produce() -> None:
            with app.get_producer() as producer:

                def send(i: int) -> None:
                    r = records[i]
                    key, value = common.key_of(r), frame.encode(r)
                    producer.produce(spec["topic"], value, key, headers=common.headers_for(r))
                    producer.poll(0)

                while not probe.ready.is_set():
                    send(0)
                    producer.flush(0.2)
                for i in probe.stream():
                    send(i)

        threading.Thread(target=produce, daemon=True).start()
        run_until(app, spec, handle, lambda: probe.done)
    return measured(
        "paced producer thread (app.get_producer), Application.run in the main thread",
        **probe.metrics(),
    )


def failure(spec: Spec) -> Result:
    frame, tally = common.failing(spec)

    def handle(value: bytes, key: bytes, *_meta: Any) -> None:
        tally.handle(frame.decode(value), key.decode())

    def skip(_exc: Exception, _row: Any, _logger: Any) -> bool:
        return True  # without this callback the first failure stops the application

    with tempfile.TemporaryDirectory() as state:
        app = application(spec, state, on_processing_error=skip)
        run_until(app, spec, handle, tally.settled)
    return measured(
        "default: the first error stops the app; measured with on_processing_error "
        "returning True (logged and skipped)",
        **tally.metrics(),
    )


if __name__ == "__main__":
    serve_all(publish, consume, io_bound, latency, failure)
