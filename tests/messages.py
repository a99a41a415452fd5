"""What a consumed test message carries, typed: the client's stubs allow None for every part."""

from __future__ import annotations

from confluent_kafka import Message


def value_of(message: Message) -> bytes:
    value = message.value()
    assert value is not None, f"no value at offset {message.offset()}"
    return value


def key_of(message: Message) -> bytes:
    key = message.key()
    assert key is not None, f"no key at offset {message.offset()}"
    return key


def headers_of(message: Message) -> dict[str, bytes]:
    """The headers by name (the last one of a repeated name wins)."""
    headers = message.headers() or []
    assert isinstance(headers, list), "a consumed message's headers are a list of pairs"
    return {name: value for name, value in headers if isinstance(value, bytes)}
