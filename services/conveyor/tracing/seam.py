"""The tracing seam: what the runtime, the publishers and the operations ask of tracing.

Two implementations: `NO_TRACING` (the default), whose `enabled` is False so callers skip the
seam entirely and do no per-event work (no header read, no allocation), and the OpenTelemetry
one (`conveyor.tracing.otel`, loaded only when `OTEL_*` settings turn tracing on). Callers read
`enabled` once, at construction, and keep it as a bool.

The process's tracing is installed once by `main` (`configure_tracing`) and read by the
library's classes when they are built, as OpenTelemetry's own global tracer provider is.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Final, Protocol

if TYPE_CHECKING:
    from conveyor.publish.message import OutgoingMessage
    from conveyor.runtime.context import EventMeta

# What a produced message is to its trace (the messaging conventions' operation types).
SEND: Final = "send"  # written to Kafka now (`Publisher.publish`)
CREATE: Final = "create"  # created now, written later (outbox rows, transactional follow-ups)

# Why a record is written again to another topic (`conveyor.outcome` / forward reasons).
RETRY: Final = "retry"
DEAD_LETTER: Final = "dead_letter"
REDRIVE: Final = "redrive"

WireHeaders = Sequence[tuple[str, "str | bytes | None"]]


class Handling(Protocol):
    """One attempt at handling an event (or a batch): its span is current until `end`."""

    def run_sync(self, function: Callable[..., Any], *arguments: object) -> Any:
        """Call a sync handler on a pool thread with this attempt's span current there."""
        ...

    def failed(self, error: BaseException, outcome: str) -> None:
        """The attempt raised; `outcome` says what the failure seam made of it."""
        ...

    def end(self) -> None:
        """End the span and make the previous one current again (same thread or task)."""
        ...


class ServerSpan(Protocol):
    """An HTTP request's span, told the route and status when they are known."""

    def answered(self, route: str | None, status: int) -> None: ...


class Tracing(Protocol):
    """Spans for conveyor's messaging, linked by W3C `traceparent`/`tracestate` headers."""

    @property
    def enabled(self) -> bool:
        """False: callers skip every other method (and so every per-event cost)."""
        ...

    def sending(self, message: OutgoingMessage, operation: str) -> OutgoingMessage:
        """A producer span for `message`, child of the current span, else of the
        `traceparent` the message carries; returns it carrying that span's trace headers."""
        ...

    def forwarding(self, topic: str, headers: WireHeaders, reason: str) -> None:
        """A producer span for a record written on unchanged (retry tier, dead letters,
        redrive): child of the current span, else of the record's own `traceparent`, linked to
        the current span when `reason` is a redrive. The record's headers are not changed."""
        ...

    def handling(
        self, service: str, event_type: str, metas: Sequence[EventMeta], attempt: int
    ) -> Handling:
        """Start a consumer span for one attempt and make it current; one event's span is a
        child of its `traceparent`, a batch's links to each of its events'."""
        ...

    def serving(
        self, method: str, path: str, headers: Sequence[tuple[bytes, bytes]]
    ) -> AbstractContextManager[ServerSpan]:
        """A server span for one HTTP request, current while the request runs."""
        ...

    def operation(self, name: str, attributes: dict[str, str]) -> AbstractContextManager[None]:
        """An internal span for an operator's command (a redrive), current while it runs."""
        ...

    def close(self) -> None:
        """Export what is buffered and stop (at the end of `main`)."""
        ...


class _NoServerSpan:
    def answered(self, route: str | None, status: int) -> None:
        return


class NoTracing:
    """Tracing off. Callers check `enabled` and never call the rest; it works anyway."""

    @property
    def enabled(self) -> bool:
        return False

    def sending(self, message: OutgoingMessage, operation: str) -> OutgoingMessage:
        return message

    def forwarding(self, topic: str, headers: WireHeaders, reason: str) -> None:
        return

    def handling(
        self, service: str, event_type: str, metas: Sequence[EventMeta], attempt: int
    ) -> Handling:
        return _NO_HANDLING

    @contextlib.contextmanager
    def serving(
        self, method: str, path: str, headers: Sequence[tuple[bytes, bytes]]
    ) -> Iterator[ServerSpan]:
        yield _NoServerSpan()

    def operation(self, name: str, attributes: dict[str, str]) -> AbstractContextManager[None]:
        return contextlib.nullcontext()

    def close(self) -> None:
        return


class _NoHandling:
    def run_sync(self, function: Callable[..., Any], *arguments: object) -> Any:
        return function(*arguments)

    def failed(self, error: BaseException, outcome: str) -> None:
        return

    def end(self) -> None:
        return


_NO_HANDLING = _NoHandling()
NO_TRACING: Tracing = NoTracing()

_installed: list[Tracing] = [NO_TRACING]


def install(tracing: Tracing) -> Tracing:
    """Make `tracing` the process's tracing (for what is built from now on); returns the one
    it replaces."""
    previous = _installed[0]
    _installed[0] = tracing
    return previous


def installed() -> Tracing:
    """The process's tracing: `NO_TRACING` unless `main` configured it."""
    return _installed[0]
