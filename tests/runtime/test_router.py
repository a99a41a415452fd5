"""Routing a fetched message: which handler it goes to, told from the value's framing when the
codec can tell, else from the `event-type` header; unhandled types are never decoded."""

from __future__ import annotations

from typing import Any

from confluent_kafka import Message

from conveyor import naming
from conveyor.codec.errors import CorruptBodyError, UnknownFingerprintError
from conveyor.events import Event
from conveyor.runtime import Context, Service
from conveyor.runtime.router import Router
from conveyor.runtime.work import PartitionState
from shop_events import OrderPlaced, UserSignedUp
from tests.project import repo_codec
from tests.samples import order_placed, signup

CODEC = repo_codec()


class CountingCodec:
    """The default codec, counting decodes; `typed=False` hides `event_type_of`, as a codec
    without it (the protocol makes it optional) would."""

    content_type = CODEC.content_type

    def __init__(self, *, typed: bool = True) -> None:
        self.decodes = 0
        if typed:
            self.event_type_of = CODEC.event_type_of

    def encode(self, event: Event) -> bytes:
        return CODEC.encode(event)

    def decode(self, data: bytes, reader: type[Event] | None = None) -> Event:
        self.decodes += 1
        return CODEC.decode(data, reader)


def signups_only() -> Service:
    service = Service("router-test")

    @service.handler(UserSignedUp)
    async def handle(event: UserSignedUp, ctx: Context) -> None:
        return None

    return service


def message(value: bytes, type_header: str | None = None) -> Any:
    headers: list[tuple[str, str | bytes | None]] | None = (
        [(naming.EVENT_TYPE, type_header.encode())] if type_header else None
    )
    return Message(topic="t", partition=0, offset=7, key=b"k-1", value=value, headers=headers)


def route(codec: CountingCodec, value: bytes, type_header: str | None = None) -> Any:
    return Router(signups_only(), codec).route(
        message(value, type_header), PartitionState("t", 0), 7
    )


def test_a_handled_type_is_routed_by_its_value_without_any_header() -> None:
    event = signup("u-1")
    codec = CountingCodec()
    item = route(codec, CODEC.encode(event))
    assert item.event == event
    assert item.registration.event_type is UserSignedUp
    assert (item.key, item.offset, item.error) == (b"k-1", 7, None)


def test_an_unhandled_type_is_skipped_without_decoding_by_value_or_by_header() -> None:
    placed = CODEC.encode(order_placed())
    by_value = CountingCodec()
    assert route(by_value, placed) is None
    by_header = CountingCodec(typed=False)
    assert route(by_header, placed, OrderPlaced.AVRO_NAME) is None
    assert by_value.decodes == by_header.decodes == 0


def test_the_value_decides_over_a_header_naming_another_type() -> None:
    """The value is what gets decoded: a sign-up mislabelled as an order is handled as the
    sign-up it is, and an order labelled as a sign-up is skipped."""
    codec = CountingCodec()
    item = route(codec, CODEC.encode(signup("u-2")), OrderPlaced.AVRO_NAME)
    assert isinstance(item.event, UserSignedUp)
    assert route(codec, CODEC.encode(order_placed()), UserSignedUp.AVRO_NAME) is None


def test_without_event_type_of_the_header_routes_and_a_missing_header_means_decoding() -> None:
    value = CODEC.encode(signup("u-3"))
    codec = CountingCodec(typed=False)
    assert route(codec, value, UserSignedUp.AVRO_NAME).event.user_id == "u-3"
    assert route(codec, value).event.user_id == "u-3"
    assert codec.decodes == 2


def test_undecodable_values_become_work_items_carrying_the_error() -> None:
    """An unknown writer schema falls back to the header, then fails to decode; a known one
    with a truncated body fails too: both reach the failure seam rather than being skipped."""
    codec = CountingCodec()
    unknown = b"\xc3\x01" + b"\x00" * 8 + b"body"
    item = route(codec, unknown, UserSignedUp.AVRO_NAME)
    assert isinstance(item.error, UnknownFingerprintError)
    assert item.registration.event_type is UserSignedUp
    truncated = CODEC.encode(signup("u-4"))[:-3]
    item = route(codec, truncated)
    assert isinstance(item.error, CorruptBodyError)
    assert (item.event, item.raw_value) == (None, truncated)
