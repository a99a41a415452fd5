"""The analytics service: one batch handler per event type, all loading into one store."""

from __future__ import annotations

import os

from analytics.store import ANALYSED, AnalyticsStore, fact_of
from conveyor.events import Event
from conveyor.policies import unordered
from conveyor.runtime import BatchContext, BatchPolicy, Service
from conveyor.serve import serve
from conveyor.settings import Settings
from integrations.config import ANALYTICS_DB

NAME = "analytics"
BATCH = BatchPolicy(max_size=500, max_wait=0.5)


def build_service(store: AnalyticsStore) -> Service:
    service = Service(NAME)

    def load(events: list[Event], ctx: BatchContext) -> None:
        new = store.load(fact_of(event) for event in events)
        ctx.log.debug("analytics.loaded", new=new)

    for event_type in ANALYSED:
        service.batch_handler(event_type, BATCH, policy=unordered())(load)
    return service


def main(settings: Settings, argv: list[str]) -> int:
    """`conveyor run analytics`; ANALYTICS_DB names the SQLite file."""
    del argv
    env = os.environ
    store = AnalyticsStore(ANALYTICS_DB.from_env(env).file(settings.state_dir, NAME))
    try:
        return serve(build_service(store), settings, env)
    finally:
        store.close()
