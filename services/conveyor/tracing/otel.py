"""The OpenTelemetry implementation of the tracing seam (needs `conveyor[otel]`).

Spans follow OpenTelemetry's messaging conventions (`messaging.*` attributes, span names
`<operation> <destination>`), plus `conveyor.*` attributes for what they do not cover.

How spans hang together (see README, "Tracing"):
- a publish is a producer span, child of whatever span is current (an HTTP request, the
  handling of the event that caused it); the message carries its context in `traceparent`;
- every attempt at handling an event is a consumer span, child of the context its message
  carries, on whatever path the message came (its topic, a retry tier, a redrive): retry tiers,
  dead letters and redrives keep the message's headers, so a redrive days later joins the trace
  of the request that made the event;
- writes to a retry tier or the dead letters are producer spans, children of the failed attempt;
- a redrive is a span of its own (its own trace); each redriven event's write is a producer span
  in the event's trace, linked to the redrive's span.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context as OtelContext
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from conveyor import naming
from conveyor.publish.message import Headers, OutgoingMessage
from conveyor.runtime.context import EventMeta
from conveyor.tracing.seam import REDRIVE, WireHeaders

SYSTEM = "kafka"
_FIELDS = frozenset({"traceparent", "tracestate"})
_propagator = TraceContextTextMapPropagator()


def _carrier(headers: WireHeaders) -> dict[str, str]:
    """The W3C trace headers among Kafka headers, as text."""
    found: dict[str, str] = {}
    for name, value in headers:
        if name in _FIELDS and value is not None:
            found[name] = value.decode("latin-1") if isinstance(value, bytes) else value
    return found


def context_of(headers: WireHeaders) -> OtelContext | None:
    """The trace context a message carries, or None when it carries none (or a broken one)."""
    carrier = _carrier(headers)
    if not carrier:
        return None
    extracted = _propagator.extract(carrier)
    return extracted if trace.get_current_span(extracted).get_span_context().is_valid else None


def _current_or(headers: WireHeaders) -> OtelContext | None:
    """The current span's context when there is one, else the message's own."""
    if trace.get_current_span().get_span_context().is_valid:
        return None  # start_span's default: the current context
    return context_of(headers)


class _Attempt:
    """One attempt's span, current (attached) on the loop thread from start to `end`."""

    __slots__ = ("_context", "_span", "_token")

    def __init__(self, span: Span) -> None:
        self._span = span
        self._context = trace.set_span_in_context(span)
        self._token: object | None = otel_context.attach(self._context)

    def run_sync(self, function: Callable[..., Any], *arguments: object) -> Any:
        token = otel_context.attach(self._context)
        try:
            return function(*arguments)
        finally:
            otel_context.detach(token)

    def failed(self, error: BaseException, outcome: str) -> None:
        self._span.record_exception(error)
        self._span.set_status(Status(StatusCode.ERROR, type(error).__name__))
        self._span.set_attribute("error.type", type(error).__qualname__)
        self._span.set_attribute("conveyor.outcome", outcome)

    def end(self) -> None:
        token, self._token = self._token, None
        if token is not None:  # idempotent: a failed attempt ends before its backoff
            otel_context.detach(token)  # type: ignore[arg-type]
            self._span.end()


class _ServerSpan:
    __slots__ = ("_method", "_span")

    def __init__(self, span: Span, method: str) -> None:
        self._span = span
        self._method = method

    def answered(self, route: str | None, status: int) -> None:
        if route is not None:
            self._span.set_attribute("http.route", route)
            self._span.update_name(f"{self._method} {route}")
        self._span.set_attribute("http.response.status_code", status)
        if status >= 500:
            self._span.set_status(Status(StatusCode.ERROR))


class OtelTracing:
    """Tracing through an OpenTelemetry tracer provider (the SDK's, or a test's)."""

    def __init__(self, provider: trace.TracerProvider, *, owns_provider: bool = False) -> None:
        self._provider = provider
        self._owns = owns_provider
        self._tracer = provider.get_tracer("conveyor")

    @property
    def enabled(self) -> bool:
        return True

    def sending(self, message: OutgoingMessage, operation: str) -> OutgoingMessage:
        kept: Headers = [h for h in message.headers if h[0] not in _FIELDS]
        span = self._tracer.start_span(
            f"{operation} {message.topic}",
            context=_current_or(message.headers),
            kind=SpanKind.PRODUCER,
            attributes={
                "messaging.system": SYSTEM,
                "messaging.operation.name": operation,
                "messaging.operation.type": operation,
                "messaging.destination.name": message.topic,
                "messaging.message.id": message.event_id,
                "messaging.kafka.message.key": message.key.decode("utf-8", "replace"),
                "conveyor.event_type": message.event_type,
            },
        )
        carrier: dict[str, str] = {}
        _propagator.inject(carrier, context=trace.set_span_in_context(span))
        span.end()
        kept.extend(carrier.items())
        return message._replace(headers=kept)

    def forwarding(self, topic: str, headers: WireHeaders, reason: str) -> None:
        links: list[Link] = []
        parent = _current_or(headers)
        if reason == REDRIVE:
            current = trace.get_current_span().get_span_context()
            if current.is_valid:
                links.append(Link(current))
            parent = context_of(headers) or OtelContext()
        self._tracer.start_span(
            f"send {topic}",
            context=parent,
            kind=SpanKind.PRODUCER,
            links=links,
            attributes={
                "messaging.system": SYSTEM,
                "messaging.operation.name": "send",
                "messaging.operation.type": "send",
                "messaging.destination.name": topic,
                "conveyor.forward": reason,
                **_event_id_of(headers),
            },
        ).end()

    def handling(
        self, service: str, event_type: str, metas: Sequence[EventMeta], attempt: int
    ) -> _Attempt:
        first = metas[0]
        attributes: dict[str, str | int] = {
            "messaging.system": SYSTEM,
            "messaging.operation.name": "process",
            "messaging.operation.type": "process",
            "messaging.destination.name": first.topic,
            "messaging.destination.partition.id": str(first.partition),
            "messaging.consumer.group.name": service,
            "conveyor.service": service,
            "conveyor.event_type": event_type,
            "conveyor.attempt": attempt,
        }
        links: list[Link] = []
        parent: OtelContext | None = OtelContext()  # a root unless the message says otherwise
        if len(metas) == 1:
            attributes["messaging.kafka.offset"] = first.offset
            if first.event_id is not None:
                attributes["messaging.message.id"] = first.event_id
            if first.key is not None:
                attributes["messaging.kafka.message.key"] = first.key
            redrives = first.header(naming.REDRIVE_COUNT)
            if redrives is not None:
                attributes["conveyor.redrive_count"] = int(redrives or b"0")
            parent = context_of(first.headers) or parent
        else:
            attributes["messaging.batch.message_count"] = len(metas)
            for meta in metas:
                carried = context_of(meta.headers)
                if carried is not None:
                    links.append(Link(trace.get_current_span(carried).get_span_context()))
        span = self._tracer.start_span(
            f"process {first.topic}",
            context=parent,
            kind=SpanKind.CONSUMER,
            attributes=attributes,
            links=links,
        )
        return _Attempt(span)

    @contextlib.contextmanager
    def serving(
        self, method: str, path: str, headers: Sequence[tuple[bytes, bytes]]
    ) -> Iterator[_ServerSpan]:
        carrier = {
            name.decode("latin-1").lower(): value.decode("latin-1")
            for name, value in headers
            if name.decode("latin-1").lower() in _FIELDS
        }
        parent = _propagator.extract(carrier) if carrier else OtelContext()
        span = self._tracer.start_span(
            method,
            context=parent,
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "url.path": path},
        )
        token = otel_context.attach(trace.set_span_in_context(span))
        try:
            yield _ServerSpan(span, method)
        except BaseException as error:
            span.record_exception(error)
            span.set_status(Status(StatusCode.ERROR, type(error).__name__))
            raise
        finally:
            otel_context.detach(token)
            span.end()

    @contextlib.contextmanager
    def operation(self, name: str, attributes: dict[str, str]) -> Iterator[None]:
        with self._tracer.start_as_current_span(
            name, context=OtelContext(), kind=SpanKind.INTERNAL, attributes=attributes
        ):
            yield

    def close(self) -> None:
        if self._owns:
            shutdown = getattr(self._provider, "shutdown", None)
            if callable(shutdown):
                shutdown()


def _event_id_of(headers: WireHeaders) -> dict[str, str]:
    for name, value in headers:
        if name == naming.EVENT_ID and value is not None:
            text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
            return {"messaging.message.id": text}
    return {}


def _exporter(name: str) -> SpanExporter:
    """The exporter `OTEL_TRACES_EXPORTER` names; it reads its own `OTEL_EXPORTER_*` settings."""
    if name == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    if name == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    raise ValueError(f"unsupported OTEL_TRACES_EXPORTER {name!r}: use otlp, console or none")


def exporting_tracing(exporter: str, service_name: str) -> OtelTracing:
    """Tracing that batches spans to `exporter`, as `service_name` unless `OTEL_SERVICE_NAME`
    or `OTEL_RESOURCE_ATTRIBUTES` say otherwise (the SDK merges them in)."""
    resource = Resource.create()
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: service_name}))
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(_exporter(exporter)))
    return OtelTracing(provider, owns_provider=True)
