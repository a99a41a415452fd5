"""`conveyor tail` decodes every event type; `conveyor dlq list|show` filter and decode."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from conveyor import naming
from conveyor.cli.main import cli
from conveyor.events import Event
from conveyor.ops.errors import TopicNotFoundError
from shop_events import (
    OrderCancelled,
    OrderItem,
    OrderPaid,
    OrderPaymentFailed,
    OrderPlaced,
    OrderShipped,
    UserSignedUp,
)
from tests.ops.conftest import Svc, dead_letter_headers
from tests.project import repo_codec

pytestmark = pytest.mark.kafka

EVENTS: list[Event] = [
    UserSignedUp(user_id="u-1", email="ada@example.test", name="Ada", referral_code="FRIEND"),
    OrderPlaced(
        order_id="o-1",
        user_id="u-1",
        items=(OrderItem(sku="SKU-1", quantity=2, unit_price=1250),),
        currency="EUR",
        total=2500,
    ),
    OrderPaid(order_id="o-1", payment_id="p-1", amount=2500, currency="EUR"),
    OrderPaymentFailed(order_id="o-2", reason="card declined"),
    OrderShipped(order_id="o-1", shipment_id="s-1", carrier="DHL", tracking_number="T1"),
    OrderCancelled(order_id="o-3", reason="changed my mind"),
]


def _headers(event: Event) -> list[tuple[str, bytes]]:
    return [
        (naming.EVENT_TYPE, event.AVRO_NAME.encode()),
        (naming.EVENT_ID, str(event.event_id).encode()),
        (naming.CONTENT_TYPE, naming.AVRO_CONTENT_TYPE.encode()),
    ]


def _invoke(bootstrap: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env={"KAFKA_BOOTSTRAP_SERVERS": bootstrap})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout


def test_tail_decodes_every_event_type(kafka_bootstrap: str, svc: Svc) -> None:
    """Each event type comes out with its key, headers and every field; bad bytes come out
    as an error with the raw bytes, and the tail goes on."""
    topic = svc.topic("input", partitions=1)
    codec = repo_codec()
    for event in EVENTS:
        svc.produce(topic, event.key, codec.encode(event), headers=_headers(event))
    svc.produce(topic, "bad", b"\x00not avro")
    svc.flush()

    code, out = _invoke(kafka_bootstrap, "tail", topic, "--from-beginning", "--until-end", "--json")

    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert [line["type"] for line in lines[:-1]] == [e.AVRO_NAME for e in EVENTS]
    for line, event in zip(lines, EVENTS, strict=False):
        assert line["event"] == event.model_dump(mode="json")
        assert line["key"] == event.key
        assert line["headers"][naming.EVENT_ID] == str(event.event_id)
    assert lines[-1]["error"]
    assert lines[-1]["raw_base64"]


def test_tail_filters_by_key_and_stops_after_max(kafka_bootstrap: str, svc: Svc) -> None:
    """--key keeps one entity's events, --max stops after that many."""
    topic = svc.topic("input", partitions=3)
    codec = repo_codec()
    for event in EVENTS:
        svc.produce(topic, event.key, codec.encode(event), headers=_headers(event))
    svc.flush()

    _, out = _invoke(
        kafka_bootstrap, "tail", topic, "--from-beginning", "--key", "o-1", "-e", "--json"
    )
    _, first = _invoke(kafka_bootstrap, "tail", topic, "--from-beginning", "--max", "2", "--json")

    assert [json.loads(line)["type"] for line in out.splitlines()] == [
        "conveyor.events.OrderPlaced",
        "conveyor.events.OrderPaid",
        "conveyor.events.OrderShipped",
    ]
    assert len(first.splitlines()) == 2


def test_tail_of_an_unknown_topic_is_a_clear_error(kafka_bootstrap: str) -> None:
    """Tailing a topic that does not exist fails at once, naming it."""
    with pytest.raises(TopicNotFoundError, match="no-such-topic-x1"):
        _invoke(kafka_bootstrap, "tail", "no-such-topic-x1")


def test_dlq_list_filters_and_show_decodes(kafka_bootstrap: str, svc: Svc) -> None:
    """list keeps only the letters matching every filter; show prints all headers and the
    decoded event."""
    dlq = svc.topic("dlq", partitions=1)
    codec = repo_codec()
    source = f"{svc.name}-input"
    for i, event in enumerate(EVENTS):
        error = "TimeoutError" if i % 2 else "ValueError"
        headers = _headers(event) + dead_letter_headers(source, i, error)
        svc.produce(dlq, event.key, codec.encode(event), headers=headers)
    svc.flush()

    _, listed = _invoke(kafka_bootstrap, "dlq", "list", svc.name, "--error-type", "TimeoutError",
                        "--key", "o-1", "--json")  # fmt: skip
    _, shown = _invoke(kafka_bootstrap, "dlq", "show", svc.name, "0:2", "--json")

    assert [x["id"] for x in json.loads(listed)] == ["0:1"]
    letter = json.loads(shown)
    assert letter["type"] == "conveyor.events.OrderPaid"
    assert letter["event"] == EVENTS[2].model_dump(mode="json")
    assert letter["headers"][naming.ERROR_TYPE] == "ValueError"
    assert set(naming.DEAD_LETTER_HEADERS) <= set(letter["headers"])
