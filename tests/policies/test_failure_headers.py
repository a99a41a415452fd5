"""The headers of retry-tier and dead-letter records: DESIGN.md's list, originals kept."""

from __future__ import annotations

from conveyor import naming
from conveyor.deadletter import (
    FailureDetails,
    SourceRecord,
    attempts_so_far,
    failure_headers,
    retry_due_at,
)
from conveyor.deadletter.headers import MAX_ERROR_MESSAGE_BYTES


def _record(
    headers: list[tuple[str, bytes]] | None = None, topic: str = "order.events"
) -> SourceRecord:
    return SourceRecord(
        topic=topic,
        partition=2,
        offset=41,
        timestamp_ms=1_700_000_000_000,
        key=b"order-1",
        value=b"\xc3\x01payload",
        headers=headers or [("event-type", b"conveyor.OrderPlaced"), ("event-id", b"e-1")],
    )


def test_dead_letter_headers_keep_the_originals_and_add_exactly_the_design_list() -> None:
    """A first failure adds every x-* header of DESIGN.md and keeps the event's own headers."""
    failure = FailureDetails(
        "app.PaymentDeclined", "declined", attempts=3, failed_at_ms=1_700_000_001_000
    )
    headers = dict(failure_headers(_record(), failure, "payments"))
    added = set(headers) - {"event-type", "event-id"}
    assert added == set(naming.DEAD_LETTER_HEADERS)
    assert headers["event-type"] == b"conveyor.OrderPlaced"
    assert headers[naming.ORIGINAL_TOPIC] == b"order.events"
    assert headers[naming.ORIGINAL_PARTITION] == b"2"
    assert headers[naming.ORIGINAL_OFFSET] == b"41"
    assert headers[naming.ORIGINAL_TIMESTAMP] == b"1700000000000"
    assert headers[naming.CONSUMER_GROUP] == b"payments"
    assert headers[naming.ATTEMPTS] == b"3"
    assert headers[naming.ERROR_TYPE] == b"app.PaymentDeclined"
    assert headers[naming.ERROR_MESSAGE] == b"declined"
    assert headers[naming.FIRST_FAILED_AT] == headers[naming.LAST_FAILED_AT] == b"1700000001000"


def test_moving_on_from_a_retry_tier_keeps_the_first_failure() -> None:
    """From a tier, the original topic/offset and first failure stay; attempts and error move."""
    first = failure_headers(
        _record(), FailureDetails("E1", "one", 1, 100), "crm-sync", retry_due_at_ms=200
    )
    on_tier = _record(headers=first, topic="crm-sync.retry.1")
    assert attempts_so_far(on_tier) == 1
    assert retry_due_at(on_tier) == 200
    second = failure_headers(on_tier, FailureDetails("E2", "two", 2, 300), "crm-sync")
    names = [name for name, _ in second]
    assert len(names) == len(set(names)), "no header appears twice"
    headers = dict(second)
    assert headers[naming.ORIGINAL_TOPIC] == b"order.events"
    assert headers[naming.ORIGINAL_OFFSET] == b"41"
    assert headers[naming.FIRST_FAILED_AT] == b"100"
    assert headers[naming.LAST_FAILED_AT] == b"300"
    assert headers[naming.ATTEMPTS] == b"2"
    assert headers[naming.ERROR_TYPE] == b"E2"
    assert naming.RETRY_DUE_AT not in headers


def test_parked_followers_say_whom_they_follow() -> None:
    """Events of a parked key carry x-parked-behind with the first dead letter's id."""
    headers = dict(
        failure_headers(_record(), FailureDetails("E", "m", 0, 1), "g", parked_behind="e-0")
    )
    assert headers[naming.PARKED_BEHIND] == b"e-0"


def test_long_error_messages_are_cut_on_a_character_boundary() -> None:
    """A huge message is bounded and still valid UTF-8."""
    failure = FailureDetails("E", "é" * 5000, 1, 1)
    message = dict(failure_headers(_record(), failure, "g"))[naming.ERROR_MESSAGE]
    assert len(message) <= MAX_ERROR_MESSAGE_BYTES
    assert message.decode() == "é" * (len(message) // 2)


def test_failure_names_the_exception_type_fully() -> None:
    """x-error-type is the exception's module and qualified name."""
    failure = FailureDetails.from_exception(KeyError("sku-9"), attempts=2, failed_at_ms=7)
    assert failure.error_type == "builtins.KeyError"
    assert failure.error_message == "'sku-9'"
