"""Spans kept in memory, and how to find them again: what the tracing tests read."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from conveyor.tracing import install
from conveyor.tracing.otel import OtelTracing


class Spans:
    """The spans a test's tracing finished, exported as each ends."""

    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.provider = TracerProvider()
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.tracing = OtelTracing(self.provider)

    @property
    def finished(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def of_trace(self, trace_id: int) -> list[ReadableSpan]:
        return [
            s for s in self.finished if s.context is not None and s.context.trace_id == trace_id
        ]

    def named(self, name: str) -> list[ReadableSpan]:
        return [s for s in self.finished if s.name == name]


@contextmanager
def installed_spans() -> Iterator[Spans]:
    """In-memory tracing as the process's tracing, for what the test builds; then off again."""
    spans = Spans()
    previous = install(spans.tracing)
    try:
        yield spans
    finally:
        install(previous)
        spans.provider.shutdown()


def parent_of(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


def span_id(span: ReadableSpan) -> int:
    assert span.context is not None
    return int(span.context.span_id)


def trace_of(span: ReadableSpan) -> int:
    assert span.context is not None
    return int(span.context.trace_id)
