"""The log event names of the failure policies (retries, dead letters, parking, breaker,
idempotency), beside the runtime's catalogue in `conveyor.runtime.logs`."""

from __future__ import annotations

from typing import Final

EVENT_DEAD_LETTERED: Final = "event.dead_lettered"
# A redelivered event whose dead letter is written already: not written again.
EVENT_ALREADY_DEAD_LETTERED: Final = "event.already_dead_lettered"
DEAD_LETTERS_LOADED: Final = "dead_letters.loaded"
DEAD_LETTERS_LOAD_FAILED: Final = "dead_letters.load_failed"
EVENT_RETRY_SCHEDULED: Final = "event.retry_scheduled"
EVENT_ALREADY_PROCESSED: Final = "event.already_processed"
FAILURE_WRITE_FAILED: Final = "failure_write.failed"
KEY_PARKED: Final = "key.parked"
KEY_RELEASED: Final = "key.released"
PARKED_KEYS_LOADED: Final = "parked_keys.loaded"
BREAKER_OPENED: Final = "breaker.opened"
IDEMPOTENCY_RECLAIMED: Final = "idempotency.reclaimed"
MARKS_EXPIRY_FAILED: Final = "idempotency.expiry_failed"
SIDE_TOPICS_MISSING: Final = "policies.topics_missing"
# A member's share of a service-wide rate limit after its partitions changed.
RATE_LIMIT_RESHARED: Final = "rate_limit.reshared"
RATE_LIMIT_RESHARE_FAILED: Final = "rate_limit.reshare_failed"

CATALOGUE: Final = frozenset(
    {
        EVENT_DEAD_LETTERED,
        EVENT_ALREADY_DEAD_LETTERED,
        DEAD_LETTERS_LOADED,
        DEAD_LETTERS_LOAD_FAILED,
        EVENT_RETRY_SCHEDULED,
        EVENT_ALREADY_PROCESSED,
        FAILURE_WRITE_FAILED,
        KEY_PARKED,
        KEY_RELEASED,
        PARKED_KEYS_LOADED,
        BREAKER_OPENED,
        IDEMPOTENCY_RECLAIMED,
        MARKS_EXPIRY_FAILED,
        SIDE_TOPICS_MISSING,
        RATE_LIMIT_RESHARED,
        RATE_LIMIT_RESHARE_FAILED,
    }
)
