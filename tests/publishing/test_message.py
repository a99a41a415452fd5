"""What `MessageBuilder` makes of an event, without a broker: headers, key, topic, refusals."""

from __future__ import annotations

import pytest

from conveyor import naming
from conveyor.codec import InvalidEventError
from conveyor.events import Event
from conveyor.publish import MessageBuilder, OutgoingMessage, build_message
from conveyor.typing import Encoder
from shop_events import OrderPaid, UserSignedUp
from tests.project import repo_codec
from tests.samples import signup


def _builder() -> MessageBuilder:
    return MessageBuilder(repo_codec(), {UserSignedUp.TOPIC: "renamed.signup"}.__getitem__)


class EncodeOnly:
    """A codec with `encode` alone (no `encoder_for`), as the `Codec` protocol allows."""

    content_type = naming.AVRO_CONTENT_TYPE

    def encode(self, event: Event) -> bytes:
        return repo_codec().encode(event)

    def decode(self, data: bytes, reader: type[Event] | None = None) -> Event:
        return repo_codec().decode(data, reader)


def test_event_id_header_is_the_encoded_event_id() -> None:
    """The `event-id` header and the id in the value are the same string, for every event."""
    builder = _builder()
    for event in [signup("u-1"), signup("u-2"), signup("u-1")]:
        message = builder.build(event)

        headers = dict(message.headers)
        assert headers[naming.EVENT_ID] == message.event_id == str(event.event_id)
        assert str(repo_codec().decode(message.value).event_id) == message.event_id


def test_message_carries_topic_key_and_contract_headers() -> None:
    """Topic (renamed), key, value and headers are those of the event; the repeated event type
    gets the same ones as the first."""
    builder = _builder()
    first, second = builder.build(signup("u-1")), builder.build(signup("u-2"), "corr-7", "tp")

    for message, key in [(first, b"u-1"), (second, b"u-2")]:
        assert isinstance(message, OutgoingMessage)
        assert message.topic == "renamed.signup"
        assert message.key == key
        assert message.event_type == UserSignedUp.AVRO_NAME
        assert message.headers[:3] == [
            (naming.EVENT_TYPE, UserSignedUp.AVRO_NAME),
            (naming.EVENT_ID, message.event_id),
            (naming.CONTENT_TYPE, naming.AVRO_CONTENT_TYPE),
        ]
    assert first.headers[3:] == []
    assert second.headers[3:] == [(naming.CORRELATION_ID, "corr-7"), (naming.TRACEPARENT, "tp")]


def test_codec_without_encoder_for_gives_the_same_message() -> None:
    """A codec that only encodes still gets the event id header, from the event itself."""
    event = signup("u-1")

    plain = build_message(event, EncodeOnly(), lambda topic: topic)
    fast = build_message(event, repo_codec(), lambda topic: topic)

    assert plain == fast


class CountingEncoders(EncodeOnly):
    """A codec that is an `EncoderSource`, counting the encoders it hands out."""

    def __init__(self) -> None:
        self.encoders = 0

    def encoder_for(self, event_type: type[Event]) -> Encoder:
        self.encoders += 1
        return repo_codec().encoder_for(event_type)


def test_a_codecs_own_encoder_is_asked_for_once_per_event_type() -> None:
    """A builder takes one encoder per event type from a codec that offers them, and uses it."""
    codec = CountingEncoders()
    builder = MessageBuilder(codec, lambda topic: topic)

    messages = [builder.build(signup(user)) for user in ("u-1", "u-2", "u-3")]

    assert codec.encoders == 1
    assert [m.event_id for m in messages] == [
        str(repo_codec().decode(m.value).event_id) for m in messages
    ]


def test_constructed_invalid_event_is_refused_after_valid_ones_of_its_type() -> None:
    """Events made with `model_construct` or an unvalidated copy are validated on build and
    refused, even once valid events of the same type went through the same builder."""
    builder = MessageBuilder(repo_codec(), lambda topic: topic)
    valid = OrderPaid(order_id="o-1", payment_id="p", amount=1, currency="EUR")
    builder.build(valid)

    for invalid in [
        OrderPaid.model_construct(order_id="o-1", payment_id="p", amount=-1, currency="EUR"),
        valid.model_copy(update={"currency": "euro"}),
    ]:
        with pytest.raises(InvalidEventError, match="invalid OrderPaid, not encoded"):
            builder.build(invalid)
    assert builder.build(valid).event_id == str(valid.event_id)


def test_constructed_valid_event_is_validated_and_sent() -> None:
    """A `model_construct`ed event whose values are valid is validated on build, then sent."""
    made = UserSignedUp.model_construct(user_id="u-1", email="a@example.org", name="Ada")

    message = _builder().build(made)

    assert not made.is_validated
    assert repo_codec().decode(message.value) == UserSignedUp.model_validate(made)


class ShoutedKey(UserSignedUp):
    """A model that overrides `key` rather than naming a field."""

    @property
    def key(self) -> str:
        return self.user_id.upper()


def test_model_overriding_key_gets_its_own_key() -> None:
    """The key comes from an overridden `key` property, not from `KEY_FIELD` directly."""
    builder = _builder()
    plain = builder.build(signup("u-1"))
    shouted = builder.build(ShoutedKey(user_id="u-1", email="a@example.org", name="Ada"))

    assert (plain.key, shouted.key) == (b"u-1", b"U-1")
