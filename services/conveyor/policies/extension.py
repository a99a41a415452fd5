"""`Policies`: the runtime extension that puts retries, dead letters, parking, the breaker,
rate limits and idempotency around a service's handlers.

    run_service(service, settings, service_settings, codec,
                extension=Policies(settings.bootstrap_servers))
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping

import structlog
from confluent_kafka import KafkaException

from conveyor import logs, naming
from conveyor.clients import KafkaUnavailableError, Outage
from conveyor.deadletter import ConfirmedWriter, FailureSink
from conveyor.deadletter.breaker import DeadLetterBreaker
from conveyor.deadletter.errors import FailureWriteError
from conveyor.deadletter.once import WrittenLetters
from conveyor.errors import ConveyorError
from conveyor.ordering import Ordering
from conveyor.parking import ParkedKeyStore
from conveyor.policies.failures import PolicyFailures
from conveyor.policies.idempotent import MarkExpiry, run_once
from conveyor.policies.letters import read_recent
from conveyor.policies.limits import Limiters
from conveyor.policies.metrics import PolicyMetrics
from conveyor.policies.redrive import RedriveOrder
from conveyor.policies.settings import PolicySettings
from conveyor.policies.topology import side_topics
from conveyor.retry import held_for, tier_of, tier_topics
from conveyor.runtime.failure_seam import FailureHandler, Forwarded
from conveyor.runtime.health import Health
from conveyor.runtime.metrics import RuntimeMetrics
from conveyor.runtime.service import Registration, Service
from conveyor.runtime.work import PartitionState, WorkItem

log = structlog.get_logger(__name__)

BREAKER = "dead-letter-breaker"
BREAKER_RECHECK = 1.0  # seconds between looks at held partitions while the breaker is open
RELEASE_RETRY = 1.0  # seconds before writing a redriven key's release again after a failure


class Policies:
    """One per running service (it keeps that service's state). `start` (called by the runtime)
    sets the attributes below; until then only `breaker` exists."""

    health: Health
    metrics: PolicyMetrics
    parking: ParkedKeyStore
    _redrive: RedriveOrder

    def __init__(
        self,
        bootstrap_servers: str,
        settings: PolicySettings | None = None,
        *,
        clock: Callable[[], float] = time.time,
        topic_map: Mapping[str, str] | None = None,
    ) -> None:
        self._bootstrap = bootstrap_servers
        self._topic_map = dict(topic_map or {})  # the runtime's renames: service-wide limits
        self._settings = settings or PolicySettings()
        self._clock = clock
        self._writer: ConfirmedWriter | None = None
        self._failures: PolicyFailures | None = None
        self._service = ""
        self._limiters: Limiters | None = None
        self._expiry: MarkExpiry | None = None
        self._ordered = False
        self.breaker = DeadLetterBreaker(self._settings.breaker)
        self.dead_letters = WrittenLetters()
        self._missing: frozenset[str] = frozenset()

    @property
    def failures(self) -> FailureHandler | None:
        return self._failures

    def start(self, service: Service, metrics: RuntimeMetrics, health: Health) -> list[str]:
        self._service = service.name
        self.health = health
        self.metrics = PolicyMetrics(metrics)
        self._writer = ConfirmedWriter(self._bootstrap)
        sink = FailureSink(self._writer, service.name, self._settings.group, self.dead_letters)
        self.parking = ParkedKeyStore(service.name, self._bootstrap, self._writer, health)

        def open_breaker(reason: str) -> None:
            health.block(BREAKER, reason)

        self._ordered = any(
            r.policy.ordering is Ordering.ORDERED for r in service.registrations.values()
        )
        self._redrive = RedriveOrder(service.name, self.parking, sink, self._clock)
        self._failures = PolicyFailures(
            service.name,
            sink,
            self.parking,
            self.breaker,
            self.metrics,
            default_retry=self._settings.default_retry,
            on_breaker_open=open_breaker,
            clock=self._clock,
            redrive=self._redrive,
        )
        tiers: set[str] = set()
        if self._ordered:
            self.parking.follow()
            tiers.add(self._redrive.topic)
        for registration in service.registrations.values():
            policy = registration.policy
            if policy.ordering is Ordering.UNORDERED:
                tiers.update(tier_topics(service.name, self._failures.retry_policy(policy)))
        stores = {
            id(r.policy.idempotency.store): r.policy.idempotency
            for r in service.registrations.values()
            if r.policy.idempotency is not None
        }
        self._expiry = MarkExpiry(list(stores.values()))
        self._expiry.start()
        missing = self._warn_of_missing_topics(service)
        self._missing = frozenset(missing)
        extra = sorted(tiers - set(missing))
        limits = {
            r: r.policy.rate_limit
            for r in service.registrations.values()
            if r.policy.rate_limit is not None
        }
        inputs = [*service.topics(self._topic_map), *extra]
        self._limiters = Limiters(
            service.name, limits, inputs, self._writer.partition_count, self._show_share
        )
        for registration, limit in limits.items():
            self._show_share(registration, limit.max / limit.duration)
        return extra

    def admit(self, item: WorkItem, now: float) -> float:
        if self.breaker.is_open:
            return BREAKER_RECHECK
        if tier_of(self._service, item.partition.topic) is not None:
            wait = held_for(_due_at(item), round(now * 1000))
            if wait > 0:
                return wait
        if self._ordered:
            wait = self._redrive.hold(item)
            if wait > 0:
                return wait
        limiter = self._limiters.get(item.registration) if self._limiters else None
        if limiter is None:
            return 0.0
        wait = limiter.acquire(now)
        if wait > 0:
            self.metrics.rate_limited.labels(self._service, item.type_name).inc()
        return wait

    def _show_share(self, registration: Registration, per_s: float) -> None:
        name = registration.event_type.AVRO_NAME
        self.metrics.rate_limit_share.labels(self._service, name).set(per_s)

    def on_assigned(self, partitions: list[PartitionState]) -> None:
        if self._limiters is not None:
            self._limiters.assigned((p.topic, p.partition) for p in partitions)
        if partitions:
            self._load_dead_letters()
        if not self._ordered:
            return  # only ordered handlers park keys
        sources = [
            (p.topic, p.partition)
            for p in partitions
            if not _is_tier(self._service, p) and p.topic != self._redrive.topic
        ]
        if sources:
            self.parking.load(sources)
            self.metrics.parked_keys.set(len(self.parking.keys))

    def _load_dead_letters(self, timeout: float = 30.0) -> None:
        """The recent dead letters, so redelivered events of the new partitions are not
        dead-lettered again. Without them the service still runs correctly (a duplicate dead
        letter at worst), so a failed read is logged rather than stopping it."""
        topic = naming.dead_letter_topic(self._service)
        if topic in self._missing:
            return  # said at start; nothing was dead-lettered there
        since_ms = max(0, round((time.time() - self._settings.dead_letter_lookback_s) * 1000))
        try:
            outage = Outage("recent dead letters", self.health, service=self._service)
            letters = read_recent(self._bootstrap, topic, since_ms, timeout, outage)
        except ConveyorError as error:
            log.warning(logs.DEAD_LETTERS_LOAD_FAILED, service=self._service, error=str(error))
            return
        self.dead_letters.loaded(letters, since_ms)
        log.info(logs.DEAD_LETTERS_LOADED, service=self._service, dead_letters=len(letters))

    def on_revoked(self, partitions: list[PartitionState]) -> None:
        if self._limiters is not None:
            self._limiters.revoked((p.topic, p.partition) for p in partitions)
        self.parking.forget((p.topic, p.partition) for p in partitions)
        self.metrics.parked_keys.set(len(self.parking.keys))

    def divert(self, item: WorkItem) -> Forwarded | None:
        return self._failures.divert(item) if self._failures else None

    def guard(self, item: WorkItem, invoke: Callable[[], Awaitable[None]]) -> Awaitable[None]:
        idempotency = item.policy.idempotency
        attempt = invoke
        if idempotency is not None:

            def attempt() -> Awaitable[None]:
                return run_once(idempotency, self._service, item, invoke, self.metrics)

        if self._ordered and self._redrive.is_redriven(item):
            return self._then_release(item, attempt)
        return attempt()

    async def _then_release(self, item: WorkItem, attempt: Callable[[], Awaitable[None]]) -> None:
        """A redriven event, then (its key's last) the release: its offset waits for both. A
        release refused for good fails the attempt, which stops the service (`PolicyFailures`);
        any other failed release is written again (the handler need not run again)."""
        await attempt()
        while (released := self._redrive.done(item)) is not None:
            try:
                await asyncio.wrap_future(released)
                return
            except FailureWriteError as error:  # logged by the writer
                if error.refused:
                    raise
                await asyncio.sleep(RELEASE_RETRY)

    def succeeded(self, items: list[WorkItem]) -> None:
        if self._failures is not None:
            self._failures.succeeded(len(items))

    def _warn_of_missing_topics(self, service: Service) -> list[str]:
        """Failures to a missing topic are never confirmed, so their events wait, uncommitted:
        say so at start, with the fix. Returns the missing ones (not to be subscribed to)."""
        if self._writer is None:
            return []
        try:
            missing = self._writer.missing_topics(
                list(side_topics(service, self._settings.default_retry))
            )
        except (KafkaException, KafkaUnavailableError) as error:
            log.warning(logs.SIDE_TOPICS_MISSING, service=self._service, error=str(error))
            return []
        if missing:
            log.warning(
                logs.SIDE_TOPICS_MISSING,
                service=self._service,
                topics=missing,
                fix="declare them in schemas/topics.yaml and run `conveyor topics apply`",
            )
        return missing

    def close(self) -> None:
        if self._expiry is not None:
            self._expiry.stop()
        if self._failures is not None:
            self.parking.close()
        if self._writer is not None:
            self._writer.close()


def _is_tier(service: str, partition: PartitionState) -> bool:
    return tier_of(service, partition.topic) is not None


def _due_at(item: WorkItem) -> int | None:
    raw = item.meta.header(naming.RETRY_DUE_AT)
    return int(raw) if raw is not None and raw.isdigit() else None
