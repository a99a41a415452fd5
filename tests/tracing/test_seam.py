"""Tracing without a broker: off, the runtime reads no header and makes no span; on, each
attempt is a consumer span in the trace its message names, and publishing carries the trace."""

from __future__ import annotations

import logging
import queue
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
import structlog
from confluent_kafka import Message
from opentelemetry.trace import SpanKind, StatusCode

from conveyor import naming
from conveyor.publish.message import MessageBuilder
from conveyor.runtime import Context, Service
from conveyor.runtime.context import NO_PUBLISHER
from conveyor.runtime.dispatcher import Dispatcher
from conveyor.runtime.failure_seam import Failure, Fatal, Outcome
from conveyor.runtime.metrics import RuntimeMetrics
from conveyor.runtime.router import Router
from conveyor.runtime.work import Completion, PartitionState, Status
from conveyor.tracing import NO_TRACING, SEND, Tracing, TracingSettings
from shop_events import UserSignedUp
from tests.project import repo_codec
from tests.samples import signup
from tests.tracing.support import Spans, parent_of, span_id, trace_of

CODEC = repo_codec()
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"


class CountingMessage(Message):
    """A fetched message that counts how often its headers are read."""

    header_reads: ClassVar[int] = 0

    def headers(self) -> Any:
        type(self).header_reads += 1
        return super().headers()


class StopOnFailure:
    def on_failure(self, failure: Failure) -> Outcome:
        return Fatal("test")


def _fetched(event: UserSignedUp, offset: int) -> CountingMessage:
    headers: list[tuple[str, str | bytes | None]] = [
        (naming.EVENT_TYPE, event.AVRO_NAME.encode()),
        (naming.EVENT_ID, str(event.event_id).encode()),
        (naming.TRACEPARENT, TRACEPARENT.encode()),
    ]
    return CountingMessage(
        topic="user.signup",
        partition=2,
        offset=offset,
        key=event.user_id.encode(),
        value=CODEC.encode(event),
        headers=headers,
    )


def _handle(tracing: Tracing, events: list[UserSignedUp], *, fail: bool = False) -> list[Status]:
    """Route and run `events` through the router and the dispatcher, as the poll loop does."""
    service = Service("tracing-test")

    @service.handler(UserSignedUp)
    async def handle(event: UserSignedUp, ctx: Context) -> None:
        if fail:
            raise ConnectionError("down")

    completions: queue.SimpleQueue[list[Completion]] = queue.SimpleQueue()
    dispatcher = Dispatcher(
        service.name,
        max_in_flight=4,
        sync_workers=1,
        failures=StopOnFailure(),
        publisher=NO_PUBLISHER,
        metrics=RuntimeMetrics(service.name),
        completions=completions,
        tracing=tracing,
    )
    router = Router(service, CODEC)
    state = PartitionState("user.signup", 2)
    items = []
    for offset, event in enumerate(events):
        item = router.route(_fetched(event, offset), state, offset)
        assert item is not None
        items.append(item)
    dispatcher.start()
    try:
        dispatcher.submit(items)
        statuses: list[Status] = []
        while len(statuses) < len(items):
            statuses += [status for _, _, status in completions.get(timeout=10)]
    finally:
        dispatcher.stop(1.0)
    return statuses


@pytest.fixture
def info_logs() -> Iterator[None]:
    """Logs at INFO, as services run: debug logs of each event read its metadata."""
    before = structlog.get_config()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
    try:
        yield
    finally:
        structlog.configure(**before)


@pytest.mark.usefixtures("info_logs")
def test_with_tracing_off_no_header_is_read_and_no_span_is_made() -> None:
    """The runtime's per-event path with tracing off never reads the headers (where the
    `traceparent` is), and the tracer provider the test holds sees no span."""
    spans = Spans()
    CountingMessage.header_reads = 0
    statuses = _handle(NO_TRACING, [signup("u-1"), signup("u-2")])
    assert statuses == [Status.DONE, Status.DONE]
    assert CountingMessage.header_reads == 0
    assert spans.finished == []


@pytest.mark.usefixtures("info_logs")
def test_with_tracing_on_each_event_is_a_consumer_span_child_of_its_traceparent() -> None:
    """On, the same path reads the headers and makes one `process` span per event, in the
    trace and under the span its `traceparent` names, with the messaging attributes."""
    spans = Spans()
    CountingMessage.header_reads = 0
    event = signup("u-3")
    assert _handle(spans.tracing, [event]) == [Status.DONE]
    assert CountingMessage.header_reads > 0
    (span,) = spans.finished
    assert span.name == "process user.signup"
    assert span.kind is SpanKind.CONSUMER
    assert f"{trace_of(span):032x}" == TRACE_ID
    assert f"{parent_of(span):016x}" == PARENT_ID
    assert dict(span.attributes or {}) == {
        "messaging.system": "kafka",
        "messaging.operation.name": "process",
        "messaging.operation.type": "process",
        "messaging.destination.name": "user.signup",
        "messaging.destination.partition.id": "2",
        "messaging.consumer.group.name": "tracing-test",
        "messaging.kafka.offset": 0,
        "messaging.kafka.message.key": "u-3",
        "messaging.message.id": str(event.event_id),
        "conveyor.service": "tracing-test",
        "conveyor.event_type": UserSignedUp.AVRO_NAME,
        "conveyor.attempt": 1,
    }


def test_a_failed_attempt_is_an_error_span_saying_what_became_of_the_event() -> None:
    spans = Spans()
    assert _handle(spans.tracing, [signup("u-4")], fail=True) == [Status.FATAL]
    (span,) = spans.finished
    assert span.status.status_code is StatusCode.ERROR
    assert (span.attributes or {})["conveyor.outcome"] == "fatal"
    assert (span.attributes or {})["error.type"] == "ConnectionError"
    assert [e.name for e in span.events] == ["exception"]


def test_a_published_message_carries_its_producer_spans_context_under_the_given_parent() -> None:
    """A `traceparent` passed to publish is the producer span's parent; the message carries
    the producer span's own context instead (one `traceparent` header, not two)."""
    spans = Spans()
    build = MessageBuilder(CODEC, lambda topic: topic).build
    message = spans.tracing.sending(build(signup("u-5"), None, TRACEPARENT), SEND)
    (span,) = spans.finished
    assert (span.name, span.kind) == ("send user.signup", SpanKind.PRODUCER)
    assert f"{parent_of(span):016x}" == PARENT_ID
    carried = [v for n, v in message.headers if n == naming.TRACEPARENT]
    assert carried == [f"00-{TRACE_ID}-{span_id(span):016x}-01"]


@pytest.mark.parametrize(
    ("env", "exporter"),
    [
        ({}, None),
        ({"OTEL_TRACES_EXPORTER": "console"}, "console"),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, "otlp"),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, "otlp"),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://x"}, None),
        ({"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"}, None),
    ],
)
def test_tracing_is_off_unless_the_otel_variables_ask_for_an_exporter(
    env: dict[str, str], exporter: str | None
) -> None:
    assert TracingSettings.from_env(env).exporter == exporter
