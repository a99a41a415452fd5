"""Redrive: send selected dead letters back through one service's own retry path.

The events go to the service's first retry tier (`<service>.retry.1`, due now) or, for an
ordered service (no tiers), to `<service>.redrive`: only that service's group reads either, so no
other consumer of the original topic runs again. One key's events keep their original order.
Each redriven event carries `x-redrive-count` (one more than before), and letters already
redriven `max_redrives` times are held back, so a handler that keeps failing cannot loop.

Every event, its ledger mark and (after a parked key's last event) the tombstone that releases
the key are written in one Kafka transaction; the key's events and the tombstone carry
`x-redrive-releases`, so the runtime keeps the key parked until its last event is done
(`conveyor.policies.redrive`). So a run killed at any point resumes, when run again, exactly
where its last committed transaction ended: no duplicates, nothing skipped.

With tracing on, a redrive is a span of its own, and each event's write a producer span in the
event's own trace (its `traceparent` header is kept), linked to the redrive's span: the redriven
event's handling joins the trace of the request that made it.
"""

from __future__ import annotations

import contextlib
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from confluent_kafka import KafkaException, Producer

from conveyor import logs, naming
from conveyor.log_output import ops_log as log
from conveyor.ops import ledger, parked
from conveyor.ops.broker import Broker
from conveyor.ops.compacted import read_table
from conveyor.ops.deadletters import DeadLetter, DeadLetterFilter, Position, read_all
from conveyor.ops.errors import KafkaOperationError, RedrivePathError
from conveyor.ops.names import redrive_topic, redrive_transactional_id
from conveyor.ops.topology import ServiceTopology
from conveyor.tracing.seam import REDRIVE, Tracing, installed

# Headers describing the last failure; a redriven event starts its attempts afresh.
FAILURE_HEADERS = frozenset(
    {
        naming.ATTEMPTS,
        naming.ERROR_TYPE,
        naming.ERROR_MESSAGE,
        naming.LAST_FAILED_AT,
        naming.RETRY_DUE_AT,
        naming.REDRIVE_COUNT,
        naming.PARKED_BEHIND,
        naming.REDRIVE_RELEASES,
        naming.REDRIVE_LAST,
    }
)


@dataclass(frozen=True)
class RedriveOptions:
    rate: float | None = None  # events per second; None: as fast as the broker takes them
    max_redrives: int = 3  # letters redriven this often already are held back
    batch: int = 200  # events per transaction at most


@dataclass(frozen=True)
class Skipped:
    letter: DeadLetter
    reason: str


@dataclass(frozen=True)
class RedrivePlan:
    service: str
    target: str
    letters: tuple[DeadLetter, ...]  # in the order they will be written
    releases: frozenset[bytes]  # parked-topic keys released once their last event is written
    skipped: tuple[Skipped, ...] = ()
    already_redriven: int = 0  # matching letters a previous run already redrove

    @property
    def keys(self) -> int:
        return len({letter.key for letter in self.letters})


def plan_as_dict(redrive_plan: RedrivePlan) -> dict[str, Any]:
    """The JSON form of a plan, as `conveyor dlq redrive --json` prints it."""
    return {
        "service": redrive_plan.service,
        "target": redrive_plan.target,
        "events": [x.id for x in redrive_plan.letters],
        "keys": redrive_plan.keys,
        "releases_parked_keys": sorted(parked.readable(k) for k in redrive_plan.releases),
        "skipped": [{"id": s.letter.id, "reason": s.reason} for s in redrive_plan.skipped],
        "already_redriven": redrive_plan.already_redriven,
    }


def target_topic(topology: ServiceTopology) -> str:
    """The service's first retry tier, or `<service>.redrive` for a service without tiers."""
    if topology.retry_topics:
        return topology.retry_topics[0]
    own = redrive_topic(topology.service)
    raise RedrivePathError(
        f"service {topology.service!r} has no retry tier and no {own} topic to redrive into; "
        f"`conveyor topics apply` creates {own} for the ordered services schemas/topics.yaml "
        "declares (elsewhere, create it with the partitions of the service's input)"
    )


def plan(
    broker: Broker,
    topology: ServiceTopology,
    selection: DeadLetterFilter,
    *,
    ids: frozenset[Position] | None = None,
    options: RedriveOptions | None = None,
    letters: Iterable[DeadLetter] | None = None,
) -> RedrivePlan:
    """What a redrive of the selected letters would do; reads only, changes nothing."""
    options = options or RedriveOptions()
    target = target_topic(topology)
    done = ledger.load(broker, topology.service)
    everything = list(letters if letters is not None else read_all(broker, topology))
    pending = [x for x in everything if x.position not in done]
    chosen = [x for x in pending if selection.matches(x) and _in(ids, x)]
    already = sum(
        1 for x in everything if x.position in done and selection.matches(x) and _in(ids, x)
    )
    skipped = [
        Skipped(x, f"redriven {x.redrive_count} times already (max {options.max_redrives})")
        for x in chosen
        if x.redrive_count >= options.max_redrives
    ]
    held = {s.letter.position for s in skipped}
    go = [x for x in chosen if x.position not in held]
    releases, partial = _releasable(_parked_keys(broker, topology), pending, go)
    for x in go:
        if parked.of_letter(x) in partial:
            skipped.append(Skipped(x, f"key {x.key} is parked: redrive all its dead letters"))
    go = [x for x in go if parked.of_letter(x) not in partial]
    return RedrivePlan(
        service=topology.service,
        target=target,
        letters=tuple(in_key_order(go)),
        releases=frozenset(releases),
        skipped=tuple(skipped),
        already_redriven=already,
    )


def execute(
    broker: Broker,
    redrive_plan: RedrivePlan,
    options: RedriveOptions | None = None,
    on_progress: Callable[[DeadLetter], None] | None = None,
    tracing: Tracing | None = None,
) -> int:
    """Write the plan's events, transaction by transaction; returns how many were committed."""
    tracing = tracing if tracing is not None else installed()
    attributes = {
        "conveyor.service": redrive_plan.service,
        "conveyor.redrive_target": redrive_plan.target,
    }
    with tracing.operation(REDRIVE, attributes):
        return _execute(broker, redrive_plan, options or RedriveOptions(), on_progress, tracing)


def _execute(
    broker: Broker,
    redrive_plan: RedrivePlan,
    options: RedriveOptions,
    on_progress: Callable[[DeadLetter], None] | None,
    tracing: Tracing,
) -> int:
    producer = _transactional_producer(broker, redrive_plan.service)
    p = _still_pending(broker, redrive_plan)
    last_of_key = {parked.of_letter(x): x.position for x in p.letters}
    per_transaction = max(1, min(options.batch, int(options.rate or options.batch)))
    pace = _Pace(options.rate)
    written = 0
    log.info(logs.REDRIVE_STARTED, service=p.service, target=p.target, events=len(p.letters))
    try:
        for chunk in _chunks(p.letters, per_transaction):
            producer.begin_transaction()
            for letter in chunk:
                pace.wait()
                _write(producer, p, letter, last_of_key, tracing)
                if on_progress is not None:
                    on_progress(letter)
            _call(producer.commit_transaction, broker.timeout)
            written += len(chunk)
            log.info(logs.REDRIVE_BATCH_COMMITTED, service=p.service, written=written)
    except BaseException:
        log.warning(logs.REDRIVE_INTERRUPTED, service=p.service, written=written)
        # The open transaction's events are discarded, the next run redoes them. If this abort
        # fails too, the broker aborts the transaction when the next run starts.
        with contextlib.suppress(KafkaException):
            producer.abort_transaction(broker.timeout)
        raise
    log.info(logs.REDRIVE_FINISHED, service=p.service, target=p.target, written=written)
    return written


def _transactional_producer(broker: Broker, service: str) -> Producer:
    """The service's redrive producer, with any earlier run's open transaction fenced off."""
    ledger.ensure(broker, service)
    producer = Producer(
        broker.client_config(
            **{
                "transactional.id": redrive_transactional_id(service),
                "enable.idempotence": True,
                "acks": "all",
                "partitioner": "murmur2_random",
                "linger.ms": 5,
                "transaction.timeout.ms": 60_000,
            }
        )
    )
    _call(producer.init_transactions, broker.timeout)
    return producer


def _still_pending(broker: Broker, redrive_plan: RedrivePlan) -> RedrivePlan:
    """The plan without letters the ledger (settled after fencing) says are done."""
    done = ledger.load(broker, redrive_plan.service, settle=broker.timeout)
    pending = tuple(x for x in redrive_plan.letters if x.position not in done)
    return replace(redrive_plan, letters=pending)


def _write(
    producer: Producer,
    p: RedrivePlan,
    letter: DeadLetter,
    last_of_key: dict[bytes, Position],
    tracing: Tracing,
) -> None:
    now_ms = int(time.time() * 1000)
    record = letter.record
    headers: list[tuple[str, str | bytes | None]] = [
        (n, v) for n, v in record.headers if n not in FAILURE_HEADERS
    ]
    headers += [
        (naming.REDRIVE_COUNT, str(letter.redrive_count + 1).encode()),
        (naming.RETRY_DUE_AT, str(now_ms).encode()),
    ]
    parked_key = parked.of_letter(letter)
    # Events of a key this redrive releases, and its tombstone, name the key's source partition:
    # the runtime keeps the key parked (releasing) until the last of them is done.
    partition = letter.record.int_header(naming.ORIGINAL_PARTITION, -1)
    release = [(naming.REDRIVE_RELEASES, str(partition).encode())]
    last = parked_key in p.releases and last_of_key[parked_key] == letter.position
    if parked_key in p.releases:
        headers += release
    if last:
        headers.append((naming.REDRIVE_LAST, b"1"))
    if tracing.enabled:
        tracing.forwarding(p.target, headers, REDRIVE)
    producer.produce(p.target, key=record.key, value=record.value, headers=headers)
    ledger.mark(producer, p.service, letter.position, now_ms)
    if last:
        producer.produce(
            naming.parked_topic(p.service), key=parked_key, value=None, headers=list(release)
        )
    producer.poll(0)


def _parked_keys(broker: Broker, topology: ServiceTopology) -> set[bytes]:
    if topology.parked_topic is None:
        return set()
    return set(read_table(broker, topology.parked_topic))


def _releasable(
    parked_keys: set[bytes], pending: list[DeadLetter], go: list[DeadLetter]
) -> tuple[set[bytes], set[bytes]]:
    """Parked keys all of whose pending letters are selected (released), and the others."""
    selected = {x.position for x in go}
    touched = {parked.of_letter(x) for x in go} & parked_keys
    partial = {
        parked.of_letter(x)
        for x in pending
        if x.position not in selected and parked.of_letter(x) in touched
    }
    return touched - partial, partial


def in_key_order(letters: list[DeadLetter]) -> list[DeadLetter]:
    """Letters in dead-letter order, except that each key's own letters are put back in the
    order their events first had (retry tiers can dead-letter them out of order)."""
    by_key: dict[str | None, list[DeadLetter]] = defaultdict(list)
    for letter in letters:
        by_key[letter.key].append(letter)
    queues = {
        key: iter(sorted(group, key=DeadLetter.origin_order)) for key, group in by_key.items()
    }
    return [next(queues[letter.key]) for letter in letters]


def _in(ids: frozenset[Position] | None, letter: DeadLetter) -> bool:
    return ids is None or letter.position in ids


def _chunks(letters: tuple[DeadLetter, ...], size: int) -> Iterator[tuple[DeadLetter, ...]]:
    for start in range(0, len(letters), size):
        yield letters[start : start + size]


def _call(method: Callable[[float], None], timeout: float) -> None:
    try:
        method(timeout)
    except KafkaException as exc:
        raise KafkaOperationError("the redrive transaction", exc.args[0]) from exc


class _Pace:
    """Spaces calls to `rate` per second on average: time lost in a transaction commit is made
    up (at most one second's worth at once), so the average holds without long bursts."""

    def __init__(self, rate: float | None) -> None:
        self._interval = 1 / rate if rate else 0.0
        self._next = time.monotonic()

    def wait(self) -> None:
        if not self._interval:
            return
        now = time.monotonic()
        if self._next > now:
            time.sleep(self._next - now)
        self._next = max(self._next, now - 1.0) + self._interval
