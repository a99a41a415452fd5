"""conveyor itself: `Publisher` for publishing, `Service` + `run_service` for consuming.

Handlers are what a conveyor user writes: typed functions of one `UserSignedUp` and a context;
the codec validates and decodes into the pydantic model before the handler runs. Runs in the
project's virtualenv, on the same broker and data as the peers.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from bench.peers.common import (
    LatencyProbe,
    OrderCheck,
    Progress,
    Record,
    event_index,
    load_records,
    new_tally,
    start_clock,
    wait_until,
)
from bench.peers.protocol import Result, Spec, measured, serve_all
from conveyor import naming
from conveyor.log_output import configure_json_logs
from conveyor.parking import PARKED_TOPIC_CONFIG
from conveyor.policies import Policies, PolicySettings
from conveyor.publish import Publisher, PublisherConfig
from conveyor.runtime import (
    Context,
    HandlerPolicy,
    Ordering,
    Service,
    ServiceSettings,
    run_service,
)
from conveyor.settings import Settings
from shop_events import UserSignedUp
from tests.project import repo_codec


def to_event(record: Record) -> UserSignedUp:
    fields = {**record, "occurred_at": datetime.fromtimestamp(record["occurred_at"] / 1000, UTC)}
    return UserSignedUp.model_validate(fields)


def settings(spec: Spec) -> Settings:
    return Settings.from_env({"KAFKA_BOOTSTRAP_SERVERS": spec["bootstrap"]})


def service_settings(spec: Spec) -> ServiceSettings:
    return ServiceSettings(http_port=None, topic_map={UserSignedUp.TOPIC: spec["topic"]})


def run_until(
    service: Service, spec: Spec, done: Callable[[], bool], extension: Any = None
) -> None:
    """Run `service` until `done` is reached or the time cap passes, then stop it cleanly
    (the runtime drains and commits on stop)."""
    stop = threading.Event()

    def watch() -> None:
        wait_until(done, spec["time_cap"])
        stop.set()

    threading.Thread(target=watch, daemon=True).start()
    options = {"extension": extension} if extension is not None else {}
    run_service(service, settings(spec), service_settings(spec), repo_codec(), stop=stop, **options)


def publisher(spec: Spec) -> Publisher:
    config = PublisherConfig(
        bootstrap_servers=spec["bootstrap"], topics={UserSignedUp.TOPIC: spec["topic"]}
    )
    return Publisher(config, repo_codec())


def publish(spec: Spec) -> Result:
    events = [to_event(r) for r in load_records(spec)]  # the application's typed events
    with publisher(spec) as p:
        started = start_clock()
        handles = [p.publish(event) for event in events]
        p.flush(60)
        elapsed = time.perf_counter() - started
    delivered = sum(1 for h in handles if h.succeeded())
    return measured(
        "Publisher.publish(event) per typed event (encode, produce; models built before the "
        "clock starts, as the peers' dicts are), flush; every delivery handle succeeded",
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
        "async no-op handler, one event per call (a sync one runs on the thread pool, at about "
        "half this rate in bench_consume.py); events decoded to the model; completed offsets "
        "committed",
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
    """Benchmark 5 with the retry, dead-letter and parking policies (`conveyor.policies`)."""
    tally = new_tally(spec)
    service = Service(spec["group"])

    @service.handler(UserSignedUp, policy=HandlerPolicy(ordering=Ordering.ORDERED))
    async def handle(event: UserSignedUp, ctx: Context) -> None:
        # the two fields the tally reads, straight from the typed event (no model_dump)
        tally.handle({"name": event.name, "event_id": event.event_id}, event.user_id)

    side = create_side_topics(spec)
    policies = Policies(spec["bootstrap"], PolicySettings(group=spec["group"]))
    try:
        run_until(service, spec, tally.settled, extension=policies)
    finally:
        AdminClient({"bootstrap.servers": spec["bootstrap"]}).delete_topics(side)
    breaker = (
        "; the dead-letter breaker opened (default BreakerPolicy) and held the rest"
        if policies.breaker.is_open
        else ""
    )
    return measured(
        "ordered handler, default RetryPolicy (3 attempts, 1 s exponential backoff), then the "
        "dead-letter topic; the key is parked and its later events follow it there" + breaker,
        **tally.metrics(),
        breaker_opened=float(policies.breaker.is_open),
    )


def create_side_topics(spec: Spec) -> list[str]:
    """What an ordered service declares besides its dead letters (which the harness creates):
    `<service>.parked` (compacted) and `<service>.redrive`. Returns their names."""
    parked, redrive = naming.parked_topic(spec["group"]), naming.redrive_topic(spec["group"])
    topics = [
        NewTopic(parked, num_partitions=1, replication_factor=1, config=PARKED_TOPIC_CONFIG),
        NewTopic(redrive, num_partitions=spec["partitions"], replication_factor=1),
    ]
    admin = AdminClient({"bootstrap.servers": spec["bootstrap"]})
    for future in admin.create_topics(topics).values():
        future.result(timeout=30)
    return [parked, redrive]


if __name__ == "__main__":
    configure_json_logs("INFO")  # what a service's main does: JSON logs, INFO and up
    serve_all(publish, consume, io_bound, latency, failure)
