"""Every log event name conveyor emits: the one catalogue, grouped by concept.

Dashboards, alerts and operators' scripts match these strings, so a name changes only when it is
wrong. Code logs `logs.NAME`, never a name written inline; `tests/library/test_log_catalogue.py`
reads the source and fails on an inline name or on a name here that nothing logs. Where lines
go and how they look: `conveyor.log_output`.
"""

from __future__ import annotations

from typing import Final

# -- a service's life ------------------------------------------------------------------------
SERVICE_STARTED: Final = "service.started"  # subscribed: topics, group protocol, bounds
SERVICE_STOPPING: Final = "service.stopping"  # stop asked: draining in-flight work
SERVICE_STOPPED: Final = "service.stopped"  # drained, committed, left the group
SERVICE_FAILED: Final = "service.failed"  # an error no waiting cures; the process exits 1
SERVICE_PAUSED: Final = "service.paused"  # an operator paused it (`conveyor pause`)
SERVICE_RESUMED: Final = "service.resumed"  # an operator's pause was lifted
HEALTH_LISTENING: Final = "health.listening"  # /livez, /readyz and /metrics are served
CONSUMER_ERROR: Final = "consumer.error"  # a consumer error; repeats: one per 10 s, `held_back`

# -- partitions and offsets ------------------------------------------------------------------
PARTITION_ASSIGNED: Final = "partition.assigned"  # this member owns the partition now
PARTITION_REVOKED: Final = "partition.revoked"  # handed back in a rebalance, after a drain
PARTITION_LOST: Final = "partition.lost"  # taken away without a drain; nothing committed
PARTITION_PAUSED: Final = "partition.paused"  # full (pending bound), held, or paused by operator
PARTITION_RESUMED: Final = "partition.resumed"  # fetching again
PARTITION_REWOUND: Final = "partition.rewound"  # back to its committed offset (aborted txn)
LANES_HELD: Final = "lanes.held"  # the lower lanes held back changed (debug level)
OFFSETS_COMMITTED: Final = "offsets.committed"  # the completed prefix, per partition
OFFSETS_COMMIT_FAILED: Final = "offsets.commit_failed"  # retried at the next commit
DRAIN_TIMED_OUT: Final = "drain.timed_out"  # in-flight work abandoned at the drain deadline
GROUP_MEMBER_STRANDED: Final = "group.member_stranded"  # at odds with its coordinator: rejoins

# -- one event's handling --------------------------------------------------------------------
EVENT_PROCESSED: Final = "event.processed"  # its handler succeeded (debug level)
EVENT_FAILED: Final = "event.failed"  # its handler raised; the failure policy decides
EVENT_FORWARD_FAILED: Final = "event.forward_failed"  # writing it to a retry/dead-letter failed
EVENT_UNDECODABLE: Final = "event.undecodable"  # its bytes do not decode (poison)
EVENT_SKIPPED: Final = "event.skipped"  # no handler for its type (debug level, a count)
EVENT_FATAL: Final = "event.fatal"  # the failure policy stops the service
EVENT_RETRY_SCHEDULED: Final = "event.retry_scheduled"  # written to a retry tier
EVENT_DEAD_LETTERED: Final = "event.dead_lettered"  # written to the dead-letter topic
EVENT_ALREADY_DEAD_LETTERED: Final = "event.already_dead_lettered"  # redelivered; not rewritten
EVENT_ALREADY_PROCESSED: Final = "event.already_processed"  # its idempotency mark exists
TRANSACTION_COMMITTED: Final = "transaction.committed"  # exactly-once: outputs and offsets
TRANSACTION_ABORTED: Final = "transaction.aborted"  # exactly-once: its events run again
TRANSACTION_RETRIED: Final = "transaction.retried"  # a transactional call failed retriably: again
TRANSACTION_STUCK: Final = "transaction.stuck"  # a transactional call outlived its deadline

# -- failure policies: dead letters, parking, breaker, idempotency, rate limits --------------
FAILURE_WRITE_FAILED: Final = "failure_write.failed"  # a retry/dead-letter write failed
DEAD_LETTERS_LOADED: Final = "dead_letters.loaded"  # the written dead letters, read at start
DEAD_LETTERS_LOAD_FAILED: Final = "dead_letters.load_failed"  # read failed; may write twice
SIDE_TOPICS_MISSING: Final = "policies.topics_missing"  # a retry/dead-letter/parked topic absent
KEY_PARKED: Final = "key.parked"  # an ordered key's later events follow it to the dead letters
KEY_RELEASED: Final = "key.released"  # a parked key was redriven or released
PARKED_KEYS_LOADED: Final = "parked_keys.loaded"  # the parked keys, read at assignment
BREAKER_OPENED: Final = "breaker.opened"  # too many failures in a row: the service stops
IDEMPOTENCY_RECLAIMED: Final = "idempotency.reclaimed"  # a stale in-progress mark taken over
MARKS_EXPIRY_FAILED: Final = "idempotency.expiry_failed"  # old marks not deleted this time
RATE_LIMIT_RESHARED: Final = "rate_limit.reshared"  # this member's share of a service's limit
RATE_LIMIT_RESHARE_FAILED: Final = "rate_limit.reshare_failed"  # kept the previous share

# -- delayed events (`publish(..., delay=...)`, the scheduler) -------------------------------
DELAYED_DELIVERED: Final = "delayed.delivered"  # a due event written to its topic
DELAYED_CANCELLED: Final = "delayed.cancelled"  # a cancelled event dropped

# -- publishing and the outbox relay ---------------------------------------------------------
PUBLISHER_QUEUE_FULL: Final = "publisher.queue_full"  # no room within the backpressure timeout
PUBLISHER_CLOSED_WITH_PENDING: Final = "publisher.closed_with_pending"  # failed at close
PUBLISHER_KAFKA_ERROR: Final = "publisher.kafka_error"  # librdkafka reported an error
PUBLISHER_FATAL: Final = "publisher.fatal"  # the producer cannot go on; publishes fail
OUTBOX_RELAY_STARTED: Final = "outbox.relay_started"  # holds the table's lock, relaying
OUTBOX_RELAY_STOPPED: Final = "outbox.relay_stopped"  # stopped, deliveries settled
OUTBOX_RELAYED: Final = "outbox.relayed"  # a batch confirmed and marked sent (debug level)
OUTBOX_BATCH_FAILED: Final = "outbox.batch_failed"  # a batch failed; resent with a new producer
OUTBOX_DATABASE_ERROR: Final = "outbox.database_error"  # reading or marking rows failed
OUTBOX_DELIVERY_STALLED: Final = "outbox.delivery_stalled"  # the broker takes no rows for long
OUTBOX_PRUNED: Final = "outbox.pruned"  # sent rows past their keep time deleted

# -- Kafka clients ---------------------------------------------------------------------------
KAFKA_LOG: Final = "kafka.log"  # one librdkafka log line
KAFKA_UNAVAILABLE: Final = "kafka.unavailable"  # a thing the process needs started failing
KAFKA_RECOVERED: Final = "kafka.recovered"  # ... and works again, with how long it lasted

# -- tracing ---------------------------------------------------------------------------------
TRACING_ENABLED: Final = "tracing.enabled"  # spans are exported
TRACING_UNAVAILABLE: Final = "tracing.unavailable"  # asked for, but `conveyor[otel]` is missing

# -- operations: an audit trail of what changed a group or a topic ---------------------------
REPLAY_APPLIED: Final = "replay.applied"  # a group's committed offsets moved
REDRIVE_STARTED: Final = "redrive.started"  # dead letters go back to their service
REDRIVE_BATCH_COMMITTED: Final = "redrive.batch_committed"  # a batch written, ledger updated
REDRIVE_FINISHED: Final = "redrive.finished"  # every chosen dead letter redriven
REDRIVE_INTERRUPTED: Final = "redrive.interrupted"  # stopped part way; rerun to finish
CONSOLE_STARTED: Final = "console.started"  # `conveyor console` serves its pages
CONSOLE_ACTION: Final = "console.action"  # an operator's action, accepted: who, what, when
CONSOLE_ACTION_REFUSED: Final = "console.action_refused"  # wrong token or another origin
CONSOLE_ACTION_FAILED: Final = "console.action_failed"  # an accepted action raised
CONSOLE_SAMPLE_FAILED: Final = "console.sample_failed"  # a status sample failed; shown stale
