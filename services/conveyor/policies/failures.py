"""The failure seam filled in: retry in place or through a tier, dead letters, parking, poison.

- poison (undecodable): dead letters at once.
- ordered handlers: retry in place after the backoff while only the key waits; when attempts run
  out, dead letters and the key is parked (its later events follow, see `divert`).
- unordered handlers: the next retry tier `<service>.retry.<n>`, then the dead letters.
- while the dead-letter breaker is open, nothing is forwarded: failures retry in place.
- a write of the policies' own that the cluster refused for good (a redriven key's release
  denied) is fatal: the service stops without committing the event.
Each forward resolves only once the broker confirmed every record it wrote, and only then does
the runtime complete the offset.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from concurrent.futures import Future

import structlog

from conveyor import logs
from conveyor.deadletter import FailureDetails, FailureSink, SourceRecord, attempts_so_far
from conveyor.deadletter.breaker import DeadLetterBreaker
from conveyor.deadletter.errors import FailureWriteError
from conveyor.deadletter.once import LetterId
from conveyor.deadletter.writer import Written
from conveyor.ordering import Ordering
from conveyor.parking import ParkedKey, ParkedKeyStore
from conveyor.parking.errors import KeyParkedError
from conveyor.policies.forwards import confirmed, source_record
from conveyor.policies.metrics import PolicyMetrics
from conveyor.policies.redrive import RedriveOrder
from conveyor.retry import RetryPolicy, compute_backoff, plan_unordered, tier_of
from conveyor.runtime.context import EventMeta
from conveyor.runtime.failure_seam import Failure, Fatal, Forwarded, Outcome, RetryAfter, refusal
from conveyor.runtime.policy import HandlerPolicy
from conveyor.runtime.work import WorkItem

log = structlog.get_logger(__name__)

BREAKER_RETRY = 5.0  # seconds between in-place retries of a failed event while the breaker is open


class PolicyFailures:
    """Decides what happens to failed events of one service; runs on the dispatcher's loop."""

    def __init__(
        self,
        service: str,
        sink: FailureSink,
        parking: ParkedKeyStore,
        breaker: DeadLetterBreaker,
        metrics: PolicyMetrics,
        *,
        default_retry: RetryPolicy,
        on_breaker_open: Callable[[str], None],
        clock: Callable[[], float] = time.time,
        redrive: RedriveOrder | None = None,
    ) -> None:
        self._service = service
        self._sink = sink
        self._parking = parking
        self._breaker = breaker
        self._metrics = metrics
        self._default_retry = default_retry
        self._on_breaker_open = on_breaker_open
        self._clock = clock
        self._redrive = redrive

    def retry_policy(self, policy: HandlerPolicy) -> RetryPolicy:
        return policy.retry if policy.retry is not None else self._default_retry

    def on_failure(self, failure: Failure) -> Outcome:
        unforwarded = self._unforwarded(failure)
        if unforwarded is not None:
            return unforwarded
        now_ms = round(self._clock() * 1000)
        record = source_record(failure.meta, failure.raw_value)
        if failure.undecodable:
            self._count_dead_letter("poison", record)
            return confirmed(self._sink.poison(record, failure.error, now_ms))
        retry = self.retry_policy(failure.policy)
        if failure.batch_size > 1:
            # One failure stands for many events, which cannot be forwarded one by one through
            # this seam: a failed batch is retried in place, with the policy's capped backoff.
            attempt = min(failure.meta.attempt, 64)
            return RetryAfter(compute_backoff(attempt, retry.backoff, random.random()))
        on_tier = tier_of(self._service, record.topic) is not None
        attempt = (attempts_so_far(record) if on_tier else 0) + failure.meta.attempt
        decision = retry.decide(attempt, failure.error, random.random)
        ordered = failure.policy.ordering is Ordering.ORDERED
        details = FailureDetails.from_exception(failure.error, attempt, now_ms)
        event_type = failure.event.AVRO_NAME if failure.event is not None else "undecodable"
        if decision.retry:
            mode = "in_place" if ordered else "tier"
            self._metrics.retried.labels(self._service, event_type, mode).inc()
            if ordered:
                return RetryAfter(decision.delay)
            destination = plan_unordered(self._service, attempt, decision, now_ms)
            due = destination.due_at_ms or now_ms
            return confirmed(self._sink.retry_later(record, details, destination.topic, due))
        self._count_dead_letter(decision.reason.replace(" ", "_"), record)
        written: list[Future[Written]] = [self._sink.dead_letter(record, details)]
        if ordered:
            topic, partition, offset = self._park_at(failure.meta)
            parked = ParkedKey(
                topic,
                partition,
                record.key or b"",
                behind=failure.meta.event_id
                or f"{record.topic}:{record.partition}:{record.offset}",
                parked_at_ms=now_ms,
                offset=offset,
            )
            written.append(self._parking.park(parked))
            self._metrics.parked_keys.set(len(self._parking.keys))
        return confirmed(*written)

    def _unforwarded(self, failure: Failure) -> Fatal | RetryAfter | None:
        """The outcome of a failure that forwards nothing, if it is one: a write of the policies'
        own (a redriven key's release) that the cluster refused for good stops the service, as a
        refused dead letter does; while the breaker is open the event waits in place,
        uncommitted, until an operator has fixed the cause and restarted the service."""
        if isinstance(failure.error, FailureWriteError):
            refused = refusal(failure.error)
            if refused is not None:
                return refused
        return RetryAfter(BREAKER_RETRY) if self._breaker.is_open else None

    def divert(self, item: WorkItem) -> Forwarded | None:
        """A later event of a parked key follows it into the dead letters, marked behind it."""
        if item.policy.ordering is not Ordering.ORDERED:
            return None
        if self._redrive is not None and self._redrive.is_redriven(item):
            return self._redrive.divert(item)
        parked = self._parking.keys.get(
            item.partition.topic, item.partition.partition, item.raw_key
        )
        if parked is None or not parked.parks(item.meta.offset):
            return None
        self._parking.keys.note_diverted(parked, item.meta.offset)
        now_ms = round(self._clock() * 1000)
        record = source_record(item.meta, item.raw_value)
        details = FailureDetails.from_exception(
            KeyParkedError(f"key parked behind {parked.behind}"), attempts=0, failed_at_ms=now_ms
        )
        if not self._written_before(record):
            self._metrics.dead_lettered.labels(self._service, "parked_behind").inc()
        return confirmed(self._sink.dead_letter(record, details, parked_behind=parked.behind))

    def _park_at(self, meta: EventMeta) -> tuple[str, int, int]:
        if self._redrive is None:
            return meta.topic, meta.partition, meta.offset
        return self._redrive.park_at(meta)

    def succeeded(self, count: int) -> None:
        for _ in range(count):
            self._breaker.record(dead_lettered=False)

    def _written_before(self, record: SourceRecord) -> bool:
        """Whether `record`'s dead letter was written before (this is a redelivery of it): it
        was counted, and judged by the breaker, then."""
        return self._sink.written.find(LetterId.of_record(record)) is not None

    def _count_dead_letter(self, reason: str, record: SourceRecord) -> None:
        if self._written_before(record):
            return
        self._metrics.dead_lettered.labels(self._service, reason).inc()
        if self._breaker.record(dead_lettered=True):
            self._metrics.breaker_open.set(1)
            log.error(logs.BREAKER_OPENED, service=self._service, reason=self._breaker.reason)
            self._on_breaker_open(self._breaker.reason or "dead letters")
