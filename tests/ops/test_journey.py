"""An entity's journey read from the broker: one key's events, and per service whether it
handled, is retrying, dead-lettered or parked each one (records written as the runtime writes
them, so every state is set up exactly)."""

from __future__ import annotations

import pytest

from conveyor import naming
from conveyor.ops.broker import Broker
from conveyor.ops.journey import trace
from conveyor.ops.topology import resolve
from conveyor.parking import PARKED_TOPIC_CONFIG
from tests.ops.conftest import Svc, dead_letter_headers

pytestmark = pytest.mark.kafka


def test_journey_shows_each_services_fate_for_each_event_of_the_key(
    svc: Svc, broker: Broker, kafka_bootstrap: str
) -> None:
    """Key K's three events, in order: the ordered service dead-lettered the first, parked the
    second behind it and has the third waiting behind its parked key; the unordered service
    handled the first and second and is retrying the third on its first tier."""
    source = svc.topic("input", partitions=1)
    ordered = Svc(f"{svc.name}-ordered", kafka_bootstrap)
    unordered = Svc(f"{svc.name}-unordered", kafka_bootstrap)
    dlq = ordered.topic("dlq")
    parked = ordered.topic("parked", config=PARKED_TOPIC_CONFIG)
    tier = unordered.topic("retry.1")
    for offset, key in enumerate(["K", "other", "K", "K"]):
        svc.produce(source, key, f"event {offset}".encode(), partition=0)
    svc.produce(dlq, "K", b"event 0", headers=dead_letter_headers(source, 0, "app.BoomError"))
    behind = [*dead_letter_headers(source, 2, "app.BoomError"), (naming.PARKED_BEHIND, b"0:0")]
    svc.produce(dlq, "K", b"event 2", headers=behind)
    retrying = [*dead_letter_headers(source, 3, "app.Timeout"), (naming.ATTEMPTS, b"1")]
    svc.produce(tier, "K", b"event 3", headers=retrying)
    svc.flush()
    svc.producer.produce(parked, key=naming.parked_record_key(source, b"K"), value=b"0")
    svc.flush()
    ordered.commit({(source, 0): 3})
    unordered.commit({(source, 0): 4})

    topologies = [resolve(broker, ordered.name), resolve(broker, unordered.name)]
    found = trace(broker, topologies, "K")

    fates = [
        [(f.service, f.state, f.detail.get("tier")) for f in stop.fates] for stop in found.stops
    ]
    assert [stop.record.offset for stop in found.stops] == [0, 2, 3]
    assert fates == [
        [(ordered.name, "dead-lettered", None), (unordered.name, "handled", None)],
        [(ordered.name, "parked", None), (unordered.name, "handled", None)],
        [(ordered.name, "parked", None), (unordered.name, "retrying", tier)],
    ]
    assert found.stops[2].fates[1].detail["attempts"] == 1
