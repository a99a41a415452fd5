"""The publisher of a service that emits follow-up events, opened in `main` and closed on exit."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from conveyor.codec import default_codec
from conveyor.publish import Publisher, PublisherConfig
from conveyor.settings import Settings
from integrations.followup import ConfirmedEmitter


@contextmanager
def confirmed_emitter(settings: Settings, service: str) -> Iterator[ConfirmedEmitter]:
    """An emitter on this process's one idempotent producer; flushed and closed at the end."""
    config = PublisherConfig(bootstrap_servers=settings.bootstrap_servers, client_id=service)
    with Publisher(config, default_codec()) as publisher:
        yield ConfirmedEmitter(publisher)
