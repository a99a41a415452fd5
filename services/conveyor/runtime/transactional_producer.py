"""A transactional producer's calls, and its replacement when it fails: for transactional
services (`conveyor.runtime.transactions`) and the delayed-event scheduler alike.

Each call has a deadline (`within`) and is made again while librdkafka calls its error retriable
(`transactional_call`). A failed transaction ends in `TransactionalProducer.recover`: aborted, or,
after a fatal error or a call stuck past its deadline, its producer is replaced (the new one
fences it and aborts its open transaction), within a budget (`Renewals`). Either way nothing of
that transaction was committed, so its owner reads again from the committed offsets.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from confluent_kafka import KafkaException

from conveyor import logs
from conveyor.clients.transient import kafka_error_of
from conveyor.errors import ConveyorError

TIMEOUT = 30.0  # seconds for each transactional call; a stuck broker surfaces as an abort
DEADLINE = TIMEOUT + 10.0  # past its own timeout, a call is stuck (see TransactionStuckError)
_QUEUE_FULL_WAIT = 0.05


class TransactionStuckError(ConveyorError):
    """A transactional call outlived its deadline. librdkafka can wait past a call's own timeout
    for a group coordinator that left the cluster with a lost node; the call goes on waiting, so
    its producer is abandoned (never used again, never destroyed) and replaced, which fences it."""


class Renewals:
    """How often a transactional producer that failed fatally may be replaced: a transaction
    coordinator that moved with a lost broker node can answer a live producer with a stale epoch,
    which librdkafka reports as fatal. More than `limit` replacements within `window` seconds
    means another live instance shares the `transactional.id` (a misconfiguration): stop then."""

    def __init__(self, limit: int = 5, window: float = 60.0) -> None:
        self._window = window
        self._times: deque[float] = deque(maxlen=limit)

    def allow(self) -> bool:
        """Count one replacement now; False once the budget of the window is spent."""
        now = time.monotonic()
        if len(self._times) == self._times.maxlen and now - self._times[0] < self._window:
            return False
        self._times.append(now)
        return True


def within(call: Callable[[], None], deadline: float, what: str) -> None:
    """`call` on a daemon thread: its exception re-raised here, or `TransactionStuckError` once
    `deadline` seconds passed without it returning."""
    done = threading.Event()
    failures: list[BaseException] = []

    def run() -> None:
        try:
            call()
        except BaseException as exc:
            failures.append(exc)
        finally:
            done.set()

    threading.Thread(target=run, name=f"conveyor-{what}", daemon=True).start()
    if not done.wait(deadline):
        raise TransactionStuckError(f"{what} did not return within {deadline:.0f} s")
    if failures:
        raise failures[0]


def transactional_call(
    call: Callable[[], None],
    what: str,
    log: Any,
    *,
    attempts: int = 1,
    pause: float = 0.0,
    deadline: float | None = DEADLINE,
) -> None:
    """A transactional producer's `call`, within `deadline` (`within`), made again (up to
    `attempts` times in all, `pause` seconds apart, each retry logged) while it fails with an
    error librdkafka calls retriable: a coordinator moving, a previous transaction still
    completing. A timed-out commit may have committed on the broker, and only the same call
    tells, so it is retried, never aborted."""

    def once() -> None:
        if deadline is None:
            call()
        else:
            within(call, deadline, what)

    for attempt in range(1, attempts):
        try:
            once()
            return
        except KafkaException as exc:
            error = kafka_error_of(exc)
            if error is None or not error.retriable():
                raise
            log.warning(logs.TRANSACTION_RETRIED, call=what, attempt=attempt, error=str(error))
            time.sleep(pause)
    once()


def is_fatal(exc: KafkaException) -> bool:
    error = kafka_error_of(exc)
    return error is not None and bool(error.fatal())


def reason(exc: Exception) -> str:
    """What a failed call says: librdkafka's error, not the exception's wrapping."""
    return str(exc.args[0]) if isinstance(exc, KafkaException) and exc.args else str(exc)


class TransactionalProducer:
    """The transactional producer in use (`current`), and the ones it replaced.

    `start` makes a new one with its transactions initialised (fencing any earlier producer of
    the same `transactional.id` and aborting the transaction it left open). `exhausted` is raised
    once replacements exceed their budget, `unavailable` when a failed transaction cannot be
    aborted; an abort is made up to `abort_attempts` times, `abort_pause` seconds apart, while it
    fails retriably."""

    def __init__(
        self,
        start: Callable[[], Any],
        log: Any,
        *,
        exhausted: type[ConveyorError],
        unavailable: type[ConveyorError],
        abort_attempts: int = 1,
        abort_pause: float = 0.0,
    ) -> None:
        self._start = start
        self._log = log
        self._exhausted = exhausted
        self._unavailable = unavailable
        self._abort_attempts = abort_attempts
        self._abort_pause = abort_pause
        self._renewals = Renewals()
        self._abandoned: list[Any] = []  # stuck in a call: destroying one would wait on it
        self.current: Any = start()

    def recover(self, exc: KafkaException | TransactionStuckError) -> None:
        """End the failed transaction so that none of it is ever committed: abort it, or replace
        the producer after a fatal error (also one met aborting) or a call stuck past its
        deadline. The caller then reads its partitions again from the committed offsets."""
        if isinstance(exc, TransactionStuckError):
            self._log.warning(logs.TRANSACTION_STUCK, error=str(exc))
            self._replace(exc, abandon=True)
            return
        fatal = is_fatal(exc)
        self._log.warning(logs.TRANSACTION_ABORTED, error=reason(exc), fatal=fatal)
        if not fatal:
            fatal = self._abort(exc)
        if fatal:
            self._replace(exc, abandon=False)

    def flush(self, timeout: float = TIMEOUT) -> int:
        remaining: int = self.current.flush(timeout)
        return remaining

    def _abort(self, exc: KafkaException) -> bool:
        """Abort the open transaction; True if the abort failed fatally (replace the producer)."""
        abort = self.current.abort_transaction
        try:
            transactional_call(
                lambda: abort(TIMEOUT),
                "abort_transaction",
                self._log,
                attempts=self._abort_attempts,
                pause=self._abort_pause,
                deadline=None,
            )
        except KafkaException as abort_failed:
            if not is_fatal(abort_failed):
                message = f"could not abort a failed transaction: {reason(abort_failed)}"
                raise self._unavailable(message) from exc
            return True
        return False

    def _replace(self, exc: Exception, *, abandon: bool) -> None:
        """A new producer in place of the failed one: a stuck one is kept referenced (`abandon`),
        a failed one purged of what it still queued."""
        if not self._renewals.allow():
            message = f"the transactional producer keeps failing: {reason(exc)}"
            raise self._exhausted(message) from exc
        if abandon:
            self._abandoned.append(self.current)
        else:
            self.current.purge()
        self.current = self._start()


def produce_in_transaction(
    producer: Any, topic: str, key: bytes | None, value: bytes | None, headers: Any
) -> None:
    """Queue one record of the open transaction, waiting for room while the queue is full
    (nothing is lost from a transaction by a full queue)."""
    while True:
        try:
            producer.produce(topic, value, key, headers=headers)
            return
        except BufferError:
            producer.poll(_QUEUE_FULL_WAIT)
