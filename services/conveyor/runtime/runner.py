"""Wires a service to Kafka and runs it until SIGTERM/SIGINT: what a service's `main` calls."""

from __future__ import annotations

import queue
import signal
import threading
from collections.abc import Callable, Mapping
from types import FrameType

import structlog
from confluent_kafka import Consumer

from conveyor import logs
from conveyor.clients import Outage, admin_client, connection, with_logs
from conveyor.control.pauses import Paused
from conveyor.control.watcher import PauseWatcher
from conveyor.errors import ConveyorError
from conveyor.lanes.model import Lanes
from conveyor.log_output import configure_logs_unless_configured
from conveyor.replay import loading as replay_windows
from conveyor.runtime.context import NO_PUBLISHER, FollowUpPublisher
from conveyor.runtime.dispatcher import Dispatcher
from conveyor.runtime.extension_seam import NO_EXTENSION, RuntimeExtension
from conveyor.runtime.failure_seam import FailureHandler, RetryInPlace
from conveyor.runtime.follow_lanes import LaneFollowing
from conveyor.runtime.gc_tuning import tune_for_streaming
from conveyor.runtime.health import Health, HealthServer
from conveyor.runtime.holds import Holds
from conveyor.runtime.lanes import LaneServing, lane_fetching, service_lanes
from conveyor.runtime.loop import ConsumerLoop, Membership, batch_for
from conveyor.runtime.membership import MembershipWatch, describer
from conveyor.runtime.metrics import RuntimeMetrics
from conveyor.runtime.partitions import Assignments
from conveyor.runtime.router import router_for
from conveyor.runtime.service import Service
from conveyor.runtime.settings import GroupProtocol, ServiceSettings, consumer_config
from conveyor.runtime.switching import interval_for, set_switch_interval
from conveyor.runtime.transactions import open_exactly_once
from conveyor.runtime.work import Completion, WorkItem
from conveyor.settings import Settings
from conveyor.tracing.seam import Tracing, installed
from conveyor.typing import Codec


def run_service(
    service: Service,
    settings: Settings,
    service_settings: ServiceSettings,
    codec: Codec,
    *,
    failures: FailureHandler | None = None,
    publisher: FollowUpPublisher = NO_PUBLISHER,
    stop: threading.Event | None = None,
    extension: RuntimeExtension = NO_EXTENSION,
    tracing: Tracing | None = None,
    lanes: Mapping[str, Lanes] | None = None,
) -> int:
    """Consume for `service` until `stop` is set (SIGTERM and SIGINT set it when this runs on
    the main thread); returns the process exit code: 1 after an error waiting cannot cure (no
    broker at the configured address, a refusal), logged as `service.failed`.
    `tracing`: the process's unless given. `lanes`: the topology's (`Topology.lanes`, by
    declared topic): the service reads every lane of its topics that have lanes, the higher
    lanes first."""
    configure_logs_unless_configured(service_settings.log_level)
    health = Health()
    metrics = RuntimeMetrics(service.name)
    server = None
    if service_settings.http_port is not None:
        # up before the first contact with Kafka: /livez answers while the start waits on it
        server = HealthServer(health, metrics.registry, service_settings.http_port)
        server.start(service.name)
    try:
        with connection.using(settings.client):
            return _run(
                service,
                settings,
                service_settings,
                codec,
                health=health,
                metrics=metrics,
                failures=failures,
                publisher=publisher,
                stop=stop,
                extension=extension,
                tracing=tracing,
                lanes=lanes or {},
            )
    except ConveyorError as error:
        structlog.get_logger("conveyor.runtime").error(
            logs.SERVICE_FAILED,
            service=service.name,
            error_type=type(error).__name__,
            reason=str(error),
            exc_info=True,
        )
        return 1
    finally:
        if server is not None:
            server.stop()


def _run(
    service: Service,
    settings: Settings,
    service_settings: ServiceSettings,
    codec: Codec,
    *,
    health: Health,
    metrics: RuntimeMetrics,
    failures: FailureHandler | None,
    publisher: FollowUpPublisher,
    stop: threading.Event | None,
    extension: RuntimeExtension,
    tracing: Tracing | None,
    lanes: Mapping[str, Lanes],
) -> int:
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        _stop_on_signals(stop)
    # The first contact: a broker must answer within the start timeout (a wrong address stops
    # the process with a clear message); later outages are waited out, reported not-ready.
    replays = replay_windows.for_service(
        settings.bootstrap_servers,
        service.name,
        service_settings.kafka_start_timeout,
        outage=Outage("replay windows", health, service=service.name),
    )
    exactly_once = None
    if service.transactional:
        exactly_once = open_exactly_once(
            service, settings.bootstrap_servers, service_settings, codec, extension, lanes=lanes
        )
        extension = exactly_once.extension
    extra_topics = extension.start(service, metrics, health)
    pauses = _watch_pauses(settings.bootstrap_servers, service, service_settings, metrics)
    declared = service.topics()
    laned = service_lanes(declared, lanes, service_settings.topic_map)
    serving = LaneServing(service.name, laned, metrics) if laned else None
    publisher_for: Callable[[WorkItem], FollowUpPublisher] | None = None
    if exactly_once is not None:
        publisher_for = exactly_once.follow_ups.publisher_for
    elif laned and publisher is not NO_PUBLISHER:  # follow-ups stay in their cause's lane
        publisher_for = LaneFollowing(publisher, lanes).publisher_for
    completions: queue.SimpleQueue[list[Completion]] = queue.SimpleQueue()
    dispatcher = Dispatcher(
        service.name,
        max_in_flight=service_settings.max_in_flight,
        sync_workers=service_settings.sync_workers,
        failures=failures or extension.failures or RetryInPlace(service_settings.retry_delay),
        publisher=publisher,
        extension=extension,
        metrics=metrics,
        completions=completions,
        publisher_for=publisher_for,
        tracing=tracing if tracing is not None else installed(),
        lane_ranks=serving.ranks if serving is not None else 1,
        lane_share_every=serving.share_every if serving is not None else 10,
    )
    assignments = Assignments(
        service.name,
        dispatcher,
        completions,
        metrics,
        max_pending=service_settings.max_pending_per_partition,
        max_uncommitted=service_settings.max_uncommitted_per_partition,
        drain_deadline=service_settings.shutdown_deadline,
        extension=extension,
        transactions=exactly_once.transactions if exactly_once else None,
        operator_paused=pauses.covers,
        lanes=serving,
    )
    config = consumer_config(service.name, settings.bootstrap_servers, service_settings)
    config["on_commit"] = assignments.on_commit
    if laned:
        config |= lane_fetching(service_settings.max_pending_per_partition)
    topics = sorted({*service.topics(service_settings.topic_map), *laned, *extra_topics})
    tune_for_streaming(service_settings.gc_young_threshold)
    registrations = service.registrations.values()
    set_switch_interval(interval_for(registrations, service_settings.switch_interval_ms))
    dispatcher.start()

    def connect() -> Consumer:
        """A consumer of `topics`, subscribed: the first one, and one for each rejoin."""
        consumer = Consumer(with_logs(config))
        consumer.subscribe(
            topics,
            on_assign=assignments.on_assign,
            on_revoke=assignments.on_revoke,
            on_lost=assignments.on_lost,
        )
        return consumer

    consumer = connect()
    membership = _watch_membership(settings, service_settings, service.name, connect)
    structlog.get_logger("conveyor.runtime").info(
        logs.SERVICE_STARTED,
        service=service.name,
        topics=topics,
        group_protocol=service_settings.group_protocol.value,
        max_in_flight=service_settings.max_in_flight,
    )
    loop = ConsumerLoop(
        service.name,
        consumer,
        router=router_for(service, codec, replays.contains if replays.windows else None),
        dispatcher=dispatcher,
        assignments=assignments,
        metrics=metrics,
        health=health,
        commit_interval=service_settings.commit_interval,
        batch=batch_for(service_settings.max_pending_per_partition),
        holds=None if extension is NO_EXTENSION else Holds(extension.admit),
        lanes=serving,
        membership=membership,
    )
    try:
        return loop.run(stop)
    finally:
        dispatcher.stop(timeout=1.0)
        pauses.stop()
        extension.close()
        if exactly_once is not None:
            exactly_once.transactions.close()


def _watch_membership(
    settings: Settings,
    service_settings: ServiceSettings,
    group: str,
    connect: Callable[[], Consumer],
) -> Membership | None:
    """The watch for a member stranded by a lost heartbeat answer (`conveyor.runtime.membership`):
    only under the consumer group protocol, where that happens, and unless turned off."""
    interval = service_settings.membership_check_interval
    if service_settings.group_protocol is not GroupProtocol.CONSUMER or interval <= 0:
        return None
    admin = admin_client({"bootstrap.servers": settings.bootstrap_servers})
    return Membership(MembershipWatch(group, describer(admin), interval=interval), connect)


def _watch_pauses(
    bootstrap_servers: str, service: Service, settings: ServiceSettings, metrics: RuntimeMetrics
) -> PauseWatcher:
    """Operators' pauses of this service (`conveyor pause`), read before it subscribes."""
    log = structlog.get_logger("conveyor.runtime").bind(service=service.name)

    def changed(paused: Paused) -> None:
        metrics.paused.set(1 if paused else 0)
        log.info(
            logs.SERVICE_PAUSED if paused else logs.SERVICE_RESUMED,
            everything=paused.everything,
            topics=sorted(paused.topics),
        )

    watcher = PauseWatcher(bootstrap_servers, service.name, settings.topic_map, changed)
    watcher.start()
    return watcher


def _stop_on_signals(stop: threading.Event) -> None:
    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
