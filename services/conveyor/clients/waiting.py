"""Waiting out transient Kafka errors, with one log line per change of state.

`wait_out(call, outage)` asks again after a growing pause while `call` fails with a transient
error (`conveyor.clients.transient`); it raises at once on any other error. With a `timeout` it
gives up with `KafkaUnavailableError`; without one it waits as long as the outage lasts, which is
what a service wants while a broker node restarts and the cluster keeps its quorum.

An `Outage` logs `kafka.unavailable` when its thing starts failing and `kafka.recovered` (with
how long it lasted) when it works again, never a line per retry, and tells the process's
readiness, so `/readyz` says not-ready while the process cannot make progress.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Final, Protocol, TypeVar

import structlog

from conveyor import logs
from conveyor.clients.errors import KafkaUnavailableError
from conveyor.clients.transient import describe, is_transient
from conveyor.retry.backoff import Backoff, compute_backoff

T = TypeVar("T")

# Quick first retries (a leader election takes a moment), then every 2 s at most.
PAUSES: Final = Backoff(delay=0.2, max_delay=2.0)

log = structlog.get_logger("conveyor.kafka")


class Readiness(Protocol):
    """What an outage tells: the process waits on `name` (not ready, but alive), or no longer."""

    def waiting(self, name: str, reason: str) -> None: ...

    def unblock(self, name: str) -> None: ...


class Outage:
    """The availability of one thing a process needs from Kafka (e.g. `parked keys`), as its
    logs and readiness report it. Used from one thread at a time."""

    def __init__(self, what: str, readiness: Readiness | None = None, **fields: Any) -> None:
        self.what = what
        self._readiness = readiness
        self._fields = fields
        self._since: float | None = None

    @property
    def failing(self) -> bool:
        return self._since is not None

    def failed(self, error: BaseException) -> None:
        """A try failed with a transient error: logged only if it worked before."""
        code, reason = describe(error)
        if self._since is None:
            self._since = time.monotonic()
            log.warning(
                logs.KAFKA_UNAVAILABLE, what=self.what, code=code, reason=reason, **self._fields
            )
        if self._readiness is not None:
            self._readiness.waiting(self.what, f"{code}: {reason}")

    def recovered(self) -> None:
        """A try succeeded: logged only if it failed before."""
        if self._since is None:
            return
        lasted = time.monotonic() - self._since
        self._since = None
        log.info(
            logs.KAFKA_RECOVERED, what=self.what, unavailable_s=round(lasted, 3), **self._fields
        )
        if self._readiness is not None:
            self._readiness.unblock(self.what)

    def given_up(self) -> None:
        """The caller stops waiting (it raises): no longer blocking readiness; the caller's
        error says what happened, so nothing is logged here."""
        self._since = None
        if self._readiness is not None:
            self._readiness.unblock(self.what)


def wait_out(
    call: Callable[[], T],
    outage: Outage,
    *,
    timeout: float | None = None,
    new_topic_grace: float = 0.0,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """`call()`, asked again while it fails with a transient error.

    Any other error is raised as it is. `timeout` (seconds, None: no limit) bounds the wait,
    then `KafkaUnavailableError`. A missing topic is waited for during the first
    `new_topic_grace` seconds only (a topic just created), then it is an error like any other.
    """
    started = time.monotonic()
    failures = 0
    while True:
        try:
            result = call()
        except Exception as error:
            elapsed = time.monotonic() - started
            if not is_transient(error, new_topic=elapsed < new_topic_grace):
                outage.given_up()
                raise
            failures += 1
            outage.failed(error)
            pause = compute_backoff(failures, PAUSES)
            if timeout is not None and elapsed + pause > timeout:
                outage.given_up()
                raise KafkaUnavailableError(outage.what, elapsed, error) from error
            sleep(pause)
        else:
            outage.recovered()
            return result
