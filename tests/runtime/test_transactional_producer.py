"""How a failed transaction ends, for transactional services and the delayed-event scheduler
alike (`TransactionalProducer.recover`): aborted, or its producer replaced within a budget. The
broker cases (fencing, a killed node) are in tests/failures and tests/delay; here the decisions,
on stand-in producers that record what was asked of them."""

from __future__ import annotations

import pytest
import structlog
from confluent_kafka import KafkaError, KafkaException

from conveyor.errors import ConveyorError
from conveyor.runtime.transactional_producer import TransactionalProducer, TransactionStuckError


class ExhaustedError(ConveyorError):
    pass


class UnavailableError(ConveyorError):
    pass


class StandIn:
    """What a transactional producer was asked: purges and aborts; `abort_fails` with it."""

    def __init__(self, abort_fails: KafkaError | None = None) -> None:
        self.purged = 0
        self.aborted = 0
        self._abort_fails = abort_fails

    def purge(self) -> None:
        self.purged += 1

    def abort_transaction(self, timeout: float) -> None:
        self.aborted += 1
        if self._abort_fails is not None:
            raise KafkaException(self._abort_fails)


def _producers(*made: StandIn) -> tuple[TransactionalProducer, list[StandIn]]:
    started: list[StandIn] = []
    queue = list(made)

    def start() -> StandIn:
        started.append(queue.pop(0) if queue else StandIn())
        return started[-1]

    log = structlog.get_logger("test")
    producer = TransactionalProducer(
        start, log, exhausted=ExhaustedError, unavailable=UnavailableError
    )
    return producer, started


FATAL = KafkaException(KafkaError(KafkaError._FENCED, "fenced", fatal=True))
PLAIN = KafkaException(KafkaError(KafkaError._MSG_TIMED_OUT, "timed out"))


def test_a_plain_failure_aborts_and_keeps_the_producer() -> None:
    producer, started = _producers()
    producer.recover(PLAIN)
    assert started[0].aborted == 1
    assert producer.current is started[0]


def test_a_fatal_failure_purges_and_replaces_the_producer() -> None:
    producer, started = _producers()
    producer.recover(FATAL)
    assert started[0].purged == 1
    assert started[0].aborted == 0
    assert producer.current is started[1]


def test_a_stuck_call_abandons_the_producer_untouched() -> None:
    producer, started = _producers()
    producer.recover(TransactionStuckError("commit_transaction did not return within 40 s"))
    assert (started[0].purged, started[0].aborted) == (0, 0)
    assert producer.current is started[1]


def test_an_abort_that_fails_fatally_replaces_the_producer() -> None:
    producer, started = _producers(StandIn(abort_fails=KafkaError(KafkaError._FENCED, fatal=True)))
    producer.recover(PLAIN)
    assert producer.current is started[1]


def test_an_abort_that_fails_otherwise_makes_transactions_unavailable() -> None:
    producer, _ = _producers(StandIn(abort_fails=KafkaError(KafkaError._TRANSPORT)))
    with pytest.raises(UnavailableError, match="could not abort"):
        producer.recover(PLAIN)


def test_five_replacements_a_minute_then_the_owner_stops() -> None:
    producer, started = _producers()
    for _ in range(5):
        producer.recover(FATAL)
    with pytest.raises(ExhaustedError, match="keeps failing"):
        producer.recover(TransactionStuckError("send_offsets_to_transaction"))
    assert len(started) == 6
