"""Priority lanes under a backlog: how long urgent events wait, with lanes and without.

One service (an async handler taking `--handler-ms`, at most `--max-in-flight` at once) reads a
topic with lanes `high`, `normal` and `low`. In the same run:

1. idle: nothing waits; urgent events go to the high lane at `--rate` per second for `--seconds`;
2. backlog: `--backlog` events wait in the low lane when the service starts; the same urgent
   events go to the high lane meanwhile;
3. no lanes: the same backlog and the same urgent events in one topic without lanes.

Each urgent event's time is taken by the client: from just before `publish` to its handler's
start and to its end (handled), on one clock (the publisher and the service share the process).
Results go to `bench/results/lanes.json`, with the load average before and after each phase;
the summary printed last gives each phase's p50/p99/p99.9/max to the handler's start and the
backlog's p99 over the idle one's (the target: 5 at most), to the start and to the end.

    KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092 .venv/bin/python bench/bench_lanes.py
    .venv/bin/python bench/bench_lanes.py --backlog 10000 --seconds 5   # small, for development
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from conveyor.lanes import Lanes
from conveyor.project import Project
from conveyor.publish import Publisher, PublisherConfig
from conveyor.runtime import Context, Service, ServiceSettings, run_service
from conveyor.settings import Settings
from shop_events import USER_TOPIC, UserSignedUp

RESULTS = Path(__file__).parent / "results" / "lanes.json"
LANES = Lanes(("high", "normal", "low"), default="normal")
URGENT = "urgent-"


@dataclass
class Clock:
    """Per urgent event id: published, handler started, handled (epoch seconds)."""

    published: dict[str, float] = field(default_factory=dict)
    started: dict[str, float] = field(default_factory=dict)
    handled: dict[str, float] = field(default_factory=dict)
    bulk_handled: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def service_for(name: str, clock: Clock, handler_ms: float) -> Service:
    service = Service(name)

    @service.handler(UserSignedUp)
    async def handle(event: UserSignedUp, ctx: Context) -> None:
        urgent = event.user_id.startswith(URGENT)
        if urgent:
            clock.started[str(event.event_id)] = time.time()
        await asyncio.sleep(handler_ms / 1000)
        if urgent:
            clock.handled[str(event.event_id)] = time.time()
        else:
            with clock.lock:
                clock.bulk_handled += 1

    return service


@contextmanager
def running(
    service: Service, bootstrap: str, topic: str, lanes: bool, max_in_flight: int
) -> Iterator[None]:
    stop = threading.Event()
    settings = Settings.from_env({"KAFKA_BOOTSTRAP_SERVERS": bootstrap})
    service_settings = ServiceSettings(
        http_port=None, max_in_flight=max_in_flight, topic_map={USER_TOPIC: topic}
    )
    codec = Project.discover(Path.cwd(), os.environ).codec
    thread = threading.Thread(
        target=run_service,
        args=(service, settings, service_settings, codec),
        kwargs={"stop": stop, "lanes": {USER_TOPIC: LANES} if lanes else None},
        daemon=True,
    )
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(60)


def create_topics(bootstrap: str, names: list[str], partitions: int) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    new = [NewTopic(n, num_partitions=partitions, replication_factor=1) for n in names]
    for future in admin.create_topics(new, operation_timeout=30).values():
        future.result(timeout=30)


def publisher(bootstrap: str, topic: str, lanes: bool, codec: Any) -> Publisher:
    config = PublisherConfig(
        bootstrap_servers=bootstrap,
        topics={USER_TOPIC: topic},
        lanes={USER_TOPIC: LANES} if lanes else {},
        linger_ms=1.0,
    )
    return Publisher(config, codec)


def fill_backlog(pub: Publisher, count: int, lane: str | None) -> None:
    for n in range(count):
        event = UserSignedUp(user_id=f"bulk-{n % 1000}", email="bulk@example.org", name="b")
        pub.publish(event, lane=lane)
    assert pub.flush(120) == 0, "the backlog was not all delivered"


def publish_urgent(
    pub: Publisher, clock: Clock, rate: float, seconds: float, lane: str | None
) -> None:
    """Urgent events at `rate` per second for `seconds`, paced by schedule (open loop)."""
    count = int(rate * seconds)
    start = time.monotonic()
    for n in range(count):
        due = start + n / rate
        pause = due - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        event = UserSignedUp(user_id=f"{URGENT}{n}", email="u@example.org", name="u")
        clock.published[str(event.event_id)] = time.time()
        pub.publish(event, lane=lane)
    pub.flush(30)


def wait_for(condition: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def quantiles(values: list[float]) -> dict[str, float | int]:
    if not values:
        return {"count": 0}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)

    return {
        "count": len(ordered),
        "p50_ms": at(0.50),
        "p99_ms": at(0.99),
        "p99.9_ms": at(0.999),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


def figures(clock: Clock) -> dict[str, Any]:
    handled = [clock.handled[i] - t for i, t in clock.published.items() if i in clock.handled]
    started = [clock.started[i] - t for i, t in clock.published.items() if i in clock.started]
    return {
        "publish_to_handled": quantiles(handled),
        "publish_to_handler_start": quantiles(started),
        "urgent_published": len(clock.published),
        "urgent_handled": len(handled),
    }


def phase(  # noqa: PLR0917 - one run's parameters
    args: argparse.Namespace, name: str, lanes: bool, backlog: int, topic: str, codec: Any
) -> dict[str, Any]:
    clock = Clock()
    load_before = os.getloadavg()
    pub = publisher(args.bootstrap, topic, lanes, codec)
    if backlog:
        fill_backlog(pub, backlog, "low" if lanes else None)
    service = service_for(f"bench-lanes-{name}-{uuid.uuid4().hex[:6]}", clock, args.handler_ms)
    urgent_lane = "high" if lanes else None
    with running(service, args.bootstrap, topic, lanes, args.max_in_flight):
        if backlog:
            wait_for(lambda: clock.bulk_handled > 0, 60)  # the service is under way
        else:
            time.sleep(5.0)  # joined and assigned
        gc.collect()  # no phase pays for collecting its set-up (the backlog's events)
        bulk_at_start = clock.bulk_handled
        window = time.monotonic()
        publish_urgent(pub, clock, args.rate, args.seconds, urgent_lane)
        bulk_at_end = clock.bulk_handled
        window = time.monotonic() - window
        complete = wait_for(lambda: len(clock.handled) >= len(clock.published), args.timeout)
    pub.close()
    result = {
        "phase": name,
        "lanes": lanes,
        "backlog": backlog,
        "backlog_waiting_at_window_start": backlog - bulk_at_start if backlog else 0,
        "backlog_waiting_at_window_end": backlog - bulk_at_end if backlog else 0,
        "window_s": round(window, 1),
        "all_urgent_handled": complete,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        **figures(clock),
    }
    print(json.dumps(result), flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    )
    parser.add_argument("--backlog", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=100.0, help="urgent events per second")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long they are sent")
    parser.add_argument("--handler-ms", type=float, default=5.0)
    parser.add_argument("--max-in-flight", type=int, default=16)
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--timeout", type=float, default=600.0, help="wait for urgent events")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    codec = Project.discover(Path.cwd(), os.environ).codec
    run = uuid.uuid4().hex[:8]
    idle, laned, plain = (f"bench-lanes-{run}-{kind}" for kind in ("idle", "laned", "plain"))
    create_topics(
        args.bootstrap, [*LANES.topics(idle), *LANES.topics(laned), plain], args.partitions
    )
    results = [
        phase(args, "idle", lanes=True, backlog=0, topic=idle, codec=codec),
        phase(args, "backlog", lanes=True, backlog=args.backlog, topic=laned, codec=codec),
        phase(args, "no-lanes", lanes=False, backlog=args.backlog, topic=plain, codec=codec),
    ]
    summary = {
        "benchmark": "lanes",
        "conditions": {
            "cpus": os.cpu_count(),
            "handler_ms": args.handler_ms,
            "max_in_flight": args.max_in_flight,
            "partitions_per_lane": args.partitions,
            "urgent_rate_per_s": args.rate,
            "urgent_seconds": args.seconds,
            "backlog": args.backlog,
            "compiled_hot_path": _compiled(),
        },
        "phases": results,
        # the measure: p99 to the handler's start with the backlog over that of the idle
        # service (target: 5 at most); to the handler's end alongside
        "high_lane_p99_over_idle_p99": _p99_ratio(results, "publish_to_handler_start"),
        "high_lane_p99_over_idle_p99_to_handled": _p99_ratio(results, "publish_to_handled"),
        "to_handler_start_ms": {
            r["phase"]: {k: v for k, v in r["publish_to_handler_start"].items() if k != "count"}
            for r in results
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps({k: v for k, v in summary.items() if k != "phases"}, indent=2))


def _p99_ratio(results: list[dict[str, Any]], measure: str) -> float | None:
    idle, laned = (results[n][measure].get("p99_ms") for n in (0, 1))
    return round(laned / idle, 2) if idle and laned else None


def _compiled() -> bool:
    from conveyor.runtime import key_scheduler

    return not str(key_scheduler.__file__).endswith(".py")


if __name__ == "__main__":
    main()
