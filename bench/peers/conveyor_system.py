"""conveyor itself: `Publisher` for publishing, `Service` + `run_service` for consuming.

Handlers are what a conveyor user writes: typed functions of one `UserSignedUp` and a context;
the codec validates and decodes into the pydantic model before the handler runs. Runs in the
project's virtualenv, on the same broker and data as the peers.
"""

from __future__ import annotations

import asyncio
import importlib.util
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bench.peers.common import (
    LatencyProbe,
    OrderCheck,
    Progress,
    Record,
    event_index,
    load_records,
    new_tally,
    wait_until,
)
from bench.peers.protocol import Result, Spec, measured, serve, unsupported
from conveyor.codec import default_codec
from conveyor.events import UserSignedUp
from conveyor.runtime import (
    Context,
    HandlerPolicy,
    Ordering,
    Service,
    ServiceSettings,
    run_service,
)
from conveyor.runtime.logs import configure_json_logs
from conveyor.settings import Settings

HAS_PUBLISHER = importlib.util.find_spec("conveyor.publish") is not None


def to_event(record: Record) -> UserSignedUp:
    fields = {**record, "occurred_at": datetime.fromtimestamp(record["occurred_at"] / 1000, UTC)}
    return UserSignedUp.model_validate(fields)


def settings(spec: Spec) -> Settings:
    return Settings.from_env({"KAFKA_BOOTSTRAP_SERVERS": spec["bootstrap"]})


def service_settings(spec: Spec, **extra: Any) -> ServiceSettings:
    return ServiceSettings(http_port=None, topic_map={UserSignedUp.TOPIC: spec["topic"]}, **extra)


def run_until(service: Service, spec: Spec, done: Callable[[], bool], **extra: Any) -> None:
    """Run `service` until `done` is reached or the time cap passes, then stop it cleanly
    (the runtime drains and commits on stop)."""
    stop = threading.Event()

    def watch() -> None:
        wait_until(done, spec["time_cap"])
        stop.set()

    threading.Thread(target=watch, daemon=True).start()
    run_service(
        service, settings(spec), service_settings(spec, **extra), default_codec(), stop=stop
    )


def publisher(spec: Spec) -> Any:
    from conveyor.publish import Publisher, PublisherConfig

    config = PublisherConfig(
        bootstrap_servers=spec["bootstrap"], topics={UserSignedUp.TOPIC: spec["topic"]}
    )
    return Publisher(config, default_codec())


def publish(spec: Spec) -> Result:
    if not HAS_PUBLISHER:
        return unsupported("conveyor's Publisher is not on this branch yet")
    events = [to_event(r) for r in load_records(spec)]  # the application's typed events
    with publisher(spec) as p:
        started = time.perf_counter()
        handles = [p.publish(event) for event in events]
        p.flush(60)
        elapsed = time.perf_counter() - started
    delivered = sum(1 for h in handles if h.done())
    return measured(
        "Publisher.publish(event) per typed event (validate, encode, produce), flush",
        events_per_s=delivered / elapsed,
        delivered=delivered,
    )


def consume(spec: Spec) -> Result:
    progress = Progress(spec["events"])
    service = Service(spec["group"])

    @service.handler(UserSignedUp)
    async def handle(event: UserSignedUp, ctx: Context) -> None:
        progress.tick()

    run_until(service, spec, lambda: progress.finished)
    return measured(
        "async no-op handler (a sync one runs on the thread pool: about half the rate in a trial); "
        "events decoded to the model; completed offsets committed",
        events_per_s=progress.rate(),
        handled=progress.done,
    )


def io_bound(spec: Spec) -> Result:
    progress = Progress(spec["events"])
    order = OrderCheck()
    delay = spec["io_delay"]
    service = Service(spec["group"])

    @service.handler(UserSignedUp)
    async def handle(event: UserSignedUp, ctx: Context) -> None:
        await asyncio.sleep(delay)
        order.see(event.user_id, event_index(event.event_id))
        progress.tick()

    run_until(service, spec, lambda: progress.finished)
    return measured(
        "async handler; keys run concurrently (max_in_flight 256), each key in order",
        events_per_s=progress.rate(),
        handled=progress.done,
        order_violations=order.violations,
    )


def latency(spec: Spec) -> Result:
    if not HAS_PUBLISHER:
        return unsupported("conveyor's Publisher is not on this branch yet")
    events = [to_event(r) for r in load_records(spec)]
    probe = LatencyProbe(len(events), spec["rate"])
    service = Service(spec["group"])

    @service.handler(UserSignedUp)
    async def handle(event: UserSignedUp, ctx: Context) -> None:
        probe.received(event_index(event.event_id))

    def produce() -> None:
        with publisher(spec) as p:
            while not probe.ready.wait(0.2):
                p.publish(events[0])
            for i in probe.stream():
                p.publish(events[i])

    threading.Thread(target=produce, daemon=True).start()
    run_until(service, spec, lambda: probe.done)
    return measured(
        "Publisher.publish paced on a thread; async handler on the runtime, same process",
        **probe.metrics(),
    )


def failure(spec: Spec) -> Result:
    tally = new_tally(spec)
    service = Service(spec["group"])

    @service.handler(UserSignedUp, policy=HandlerPolicy(ordering=Ordering.ORDERED))
    def handle(event: UserSignedUp, ctx: Context) -> None:
        tally.handle(event.model_dump(mode="json"), event.user_id)

    run_until(service, spec, tally.settled, retry_delay=0.05)
    return measured(
        "ordered handler with the runtime's default failure policy (part 1: retry in place, "
        "the failing key waits, other keys flow)",
        **tally.metrics(),
    )


if __name__ == "__main__":
    configure_json_logs("INFO")  # what a service's main does: JSON logs, INFO and up
    serve(
        {
            "publish": publish,
            "consume": consume,
            "io_bound": io_bound,
            "latency": latency,
            "failure": failure,
        }
    )
