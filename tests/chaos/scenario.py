"""One chaos run from start to verdict: topics, services, traffic, faults, catching up, the
checks, and the figures worth reporting."""

from __future__ import annotations

import random
import sqlite3
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from confluent_kafka import TopicPartition

# confluent-kafka re-exports these from private modules without listing them in __all__.
from confluent_kafka.admin import (  # type: ignore[attr-defined]
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    ResourceType,
)

from conveyor import naming
from conveyor.localkafka import LocalKafka
from conveyor.policies import side_topics
from shop_events import UserSignedUp
from tests.chaos import observe
from tests.chaos.checks import Check, RunView, ServiceView, judge
from tests.chaos.faults import Faults
from tests.chaos.fleet import Fleet, service_environment
from tests.chaos.plan import ChaosPlan, Traffic
from tests.chaos.publisher import PacedPublisher, messages
from tests.chaos.worker import EFFECTS_DDL, ORDERED_RETRY, UNORDERED_RETRY, build
from tests.conftest import create_topic
from tests.project import PROJECT

MODES = ("ordered", "unordered")
SIDE_PARTITIONS = 3
MIN_ISR = {"min.insync.replicas": "2"}
# The unordered group (consumer protocol) heartbeats at Kafka's default interval, not the local
# cluster's 1 s: librdkafka 2.16 loses an assignment whose heartbeat answer comes later than
# the interval, which a busy 2-core machine made common at 1 s (see conveyor.runtime.membership;
# README, "When a broker node goes away"). The session is 20 s: four heartbeats.
UNORDERED_GROUP_CONFIG = {
    "consumer.heartbeat.interval.ms": "5000",
    "consumer.session.timeout.ms": "20000",
}


@dataclass
class ChaosReport:
    plan: ChaosPlan
    checks: list[Check]
    figures: dict[str, str] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    def check(self, name: str) -> Check:
        return next(c for c in self.checks if c.name == name)

    def render(self) -> str:
        lines = [f"{name}: {value}" for name, value in self.figures.items()]
        for check in self.checks:
            lines.append(f"[{'PASS' if check.passed else 'FAIL'}] {check.name}: {check.detail}")
        return "\n".join(lines)


@dataclass(frozen=True)
class Setup:
    """Names and files of one run."""

    topic: str
    groups: dict[str, str]  # mode -> the service's name (its consumer group)
    files: dict[str, observe.ServiceFiles]


def run_chaos(
    cluster: LocalKafka, plan: ChaosPlan, workdir: Path, say: Callable[[str], None]
) -> ChaosReport:
    """Run `plan` against `cluster`; every node is up again and every process gone at the end."""
    started = time.monotonic()
    bootstrap = cluster.bootstrap_servers
    traffic = Traffic.of(plan)
    setup = _prepare(bootstrap, plan, traffic, workdir)
    fleet = Fleet(workdir, _environments(bootstrap, setup, traffic))
    faults = Faults(cluster, fleet, setup.topic, plan.broker_down_seconds, plan.pause_seconds)
    faults.sinks = {mode: setup.files[mode].sink for mode in MODES}
    try:
        for mode in MODES:
            for _ in range(plan.processes[mode]):
                fleet.start(mode)
        for member in fleet.members:
            fleet.wait_started(member)
        say(f"{len(fleet.members)} service processes started; publishing {plan.events} events")
        publisher = PacedPublisher(bootstrap, setup.topic, messages(traffic), plan.publish_seconds)
        publisher.start()
        _inflict(faults, plan, say)
        publisher.join(timeout=600)
        # lag can only reach 0 once the traffic is sent too; the faults end about then
        say("last fault over, traffic sent; waiting for both groups to catch up")
        lags = _group_lags(bootstrap, setup, plan)
        try:
            caught_up, final_lag = observe.wait_for_zero_lag(
                lags, plan.lag_deadline + plan.settle_seconds
            )
        finally:
            for lag in lags:
                lag.close()
        if caught_up is None:
            described = observe.describe_groups(bootstrap, list(setup.groups.values()))
            (workdir / "groups.txt").write_text(described + "\n")
            say(f"lag did not reach 0; the groups as their coordinator sees them:\n{described}")
        fleet.watch()
        fleet.stop_all()
        view = _view(bootstrap, setup, traffic, publisher.acks.acked, fleet)
        view.seconds_to_zero_lag, view.final_lag = caught_up, final_lag
    finally:
        fleet.kill_all()
        cluster.up(timeout=120)
    report = ChaosReport(plan, judge(view))
    report.figures = _figures(view, faults, plan, time.monotonic() - started)
    return report


def _prepare(bootstrap: str, plan: ChaosPlan, traffic: Traffic, workdir: Path) -> Setup:
    run = uuid.uuid4().hex[:8]
    topic = create_topic(bootstrap, f"chaos-{run}", plan.partitions, 3, MIN_ISR)
    for lane_topic in _lane_topics(topic):
        create_topic(bootstrap, lane_topic, plan.partitions, 3, MIN_ISR)
    groups = {mode: f"chaos-{mode}-{run}" for mode in MODES}
    _configure_group(bootstrap, groups["unordered"], UNORDERED_GROUP_CONFIG)
    files = {
        mode: observe.ServiceFiles(
            groups[mode], workdir / f"{mode}-handled.jsonl", workdir / f"{mode}-store.db"
        )
        for mode in MODES
    }
    for mode in MODES:
        conn = sqlite3.connect(files[mode].store)
        conn.execute(EFFECTS_DDL)
        conn.close()
        service = build(mode, _chaos_env(groups[mode], files[mode], traffic))
        for name, config in side_topics(service).items():
            partitions = 1 if name == naming.parked_topic(service.name) else SIDE_PARTITIONS
            create_topic(bootstrap, name, partitions, 3, {**MIN_ISR, **config})
    return Setup(topic, groups, files)


def _configure_group(bootstrap: str, group: str, config: dict[str, str]) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0})
    entries = [
        ConfigEntry(k, v, incremental_operation=AlterConfigOpType.SET) for k, v in config.items()
    ]
    resource = ConfigResource(ResourceType.GROUP, group, incremental_configs=entries)
    for future in admin.incremental_alter_configs([resource]).values():
        future.result(timeout=30)


def _lane_topics(topic: str) -> list[str]:
    """The lane topics the services read beside `topic` (the topology gives user.signup lanes),
    created as `topics apply` creates them in a deployment."""
    lanes = PROJECT.topology().lanes.get(UserSignedUp.TOPIC)
    return [name for name in lanes.topics(topic) if name != topic] if lanes else []


def _chaos_env(group: str, files: observe.ServiceFiles, traffic: Traffic) -> dict[str, str]:
    return {
        "CHAOS_SERVICE": group,
        "CHAOS_SINK": str(files.sink),
        "CHAOS_STORE": str(files.store),
        "CHAOS_FAILING": traffic.failing_env(),
    }


def _environments(bootstrap: str, setup: Setup, traffic: Traffic) -> dict[str, dict[str, str]]:
    """The ordered service on the classic protocol (where the issue's redelivery finding showed),
    the unordered one on KIP-848's; both commit every second and log at INFO."""
    common = {
        "CONVEYOR_TOPIC_MAP": f"{UserSignedUp.TOPIC}={setup.topic}",
        "CONVEYOR_HTTP_PORT": "off",
        "CONVEYOR_COMMIT_INTERVAL_MS": "1000",
        "CONVEYOR_SHUTDOWN_DEADLINE_S": "15",
        "CONVEYOR_LOG_LEVEL": "INFO",
    }
    protocol = {
        "ordered": {"CONVEYOR_GROUP_PROTOCOL": "classic", "CONVEYOR_SESSION_TIMEOUT_MS": "6000"},
        "unordered": {"CONVEYOR_GROUP_PROTOCOL": "consumer"},
    }
    return {
        mode: service_environment(
            bootstrap,
            **common,
            **protocol[mode],
            **_chaos_env(setup.groups[mode], setup.files[mode], traffic),
        )
        for mode in MODES
    }


def _inflict(faults: Faults, plan: ChaosPlan, say: Callable[[str], None]) -> None:
    """The plan's faults in two lanes at once, each spread over the publishing time: service
    processes (kills, terminations, the storm) and broker nodes (kills, pauses), so processes
    also restart and rebalance while a node is away."""
    processes: list[Callable[[], None]] = [
        *(partial(faults.kill_process, MODES[n % 2]) for n in range(plan.process_kills)),
        *(partial(faults.terminate_process, MODES[n % 2]) for n in range(plan.process_terms)),
    ]
    if plan.storm_members:
        processes.append(partial(faults.rebalance_storm, plan.storm_members))
    brokers: list[Callable[[], None]] = [
        *(partial(faults.kill_broker, n % 2 == 0) for n in range(plan.broker_kills)),
        *(partial(faults.pause_broker, n % 2 == 1) for n in range(plan.broker_pauses)),
    ]
    rng = random.Random(plan.events)
    rng.shuffle(processes)
    rng.shuffle(brokers)
    total = len(processes) + len(brokers)
    errors: list[BaseException] = []

    def lane(actions: list[Callable[[], None]]) -> None:
        spacing = plan.publish_seconds / (len(actions) + 1)
        begin = time.monotonic()
        try:
            for n, action in enumerate(actions, start=1):
                time.sleep(max(0.0, begin + n * spacing - time.monotonic()))
                action()
                fault = faults.done[-1]
                say(f"fault {len(faults.done)}/{total}: {fault.kind} of {fault.target}")
        except BaseException as error:  # re-raised on the main thread below
            errors.append(error)

    lanes = [threading.Thread(target=lane, args=(actions,)) for actions in (processes, brokers)]
    for thread in lanes:
        thread.start()
    for thread in lanes:
        thread.join()
    if errors:
        raise errors[0]


def _group_lags(bootstrap: str, setup: Setup, plan: ChaosPlan) -> list[observe.GroupLag]:
    """The main topic and the side topics each group consumes (the redrive topic, the tier)."""
    ordered, unordered = setup.groups["ordered"], setup.groups["unordered"]
    main = [TopicPartition(setup.topic, p) for p in range(plan.partitions)]
    tiers = [naming.retry_topic(unordered, n) for n in range(1, UNORDERED_RETRY.attempts)]
    return [
        observe.GroupLag(bootstrap, ordered, main + _side(naming.redrive_topic(ordered))),
        observe.GroupLag(bootstrap, unordered, main + [tp for t in tiers for tp in _side(t)]),
    ]


def _side(topic: str) -> list[TopicPartition]:
    return [TopicPartition(topic, p) for p in range(SIDE_PARTITIONS)]


def _view(
    bootstrap: str,
    setup: Setup,
    traffic: Traffic,
    acked: dict[str, tuple[int, int]],
    fleet: Fleet,
) -> RunView:
    services = []
    for mode in MODES:
        name, files, ordered = setup.groups[mode], setup.files[mode], mode == "ordered"
        view = ServiceView(
            name,
            ordered,
            (ORDERED_RETRY if ordered else UNORDERED_RETRY).attempts,
            observe.handlings(files),
            observe.side_effects(files),
            observe.dead_letters(bootstrap, name, _dead_expected(traffic, ordered)),
        )
        if ordered:
            view.parked = observe.parked_keys(bootstrap, name, len(traffic.failing))
        services.append(view)
    return RunView(
        topic=setup.topic,
        traffic=traffic,
        acked=dict(acked),
        services=services,
        exits=list(fleet.exits),
        log_files=fleet.log_files(),
        seconds_to_zero_lag=None,
        lag_deadline=traffic.plan.lag_deadline,
        final_lag={},
    )


def _dead_expected(traffic: Traffic, ordered: bool) -> int:
    parked = sum(1 for e in traffic.events if ordered and traffic.is_parked_behind(e))
    return traffic.plan.poison + len(traffic.failing) + parked


def _figures(view: RunView, faults: Faults, plan: ChaosPlan, seconds: float) -> dict[str, str]:
    kinds = Counter(f.kind for f in faults.done)
    redeliveries = {
        s.name.split("-")[1]: len(s.handled) - len({h.event_id for h in s.handled})
        for s in view.services
    }
    return {
        "events": f"{len(view.traffic.events)} over {plan.keys} keys, "
        f"{plan.partitions} partitions, plus {plan.poison} poison and "
        f"{plan.garbage} garbage messages, "
        f"{len(view.traffic.failing)} events failing for good",
        "faults": ", ".join(f"{count} x {kind}" for kind, count in sorted(kinds.items())),
        "redeliveries": ", ".join(f"{mode} {count}" for mode, count in redeliveries.items()),
        "time to lag 0 after the last fault": "not reached"
        if view.seconds_to_zero_lag is None
        else f"{view.seconds_to_zero_lag:.1f} s",
        "duration": f"{seconds:.0f} s",
    }
