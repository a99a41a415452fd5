"""Which Kafka errors pass by themselves, and which no amount of waiting cures.

librdkafka marks some errors `retriable()`, but not all of those that clear once a broker node is
back or a leader has moved: a torn-down connection (`_DESTROY_BROKER`, `_TRANSPORT`), a request
that timed out, no leader or coordinator yet, too few in-sync replicas for a moment. Every place
that talks to Kafka outside the poll loop asks `is_transient` instead of keeping a list of its own.

A missing topic is transient only while a topic just created is still spreading through the
cluster's metadata (`new_topic=True`); one that stays missing is a configuration error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from confluent_kafka import KafkaError, KafkaException

# Errors a cluster with a quorum clears by itself: connections to a node that died or restarts,
# leadership and coordinators moving to another node, replicas catching up.
TRANSIENT_CODES: Final = frozenset(
    {
        KafkaError._DESTROY_BROKER,
        KafkaError._TRANSPORT,
        KafkaError._TIMED_OUT,
        KafkaError._MSG_TIMED_OUT,
        KafkaError._ALL_BROKERS_DOWN,
        KafkaError._RESOLVE,
        KafkaError._WAIT_COORD,
        KafkaError._IN_PROGRESS,
        KafkaError._PREV_IN_PROGRESS,
        KafkaError._RETRY,
        KafkaError.REQUEST_TIMED_OUT,
        KafkaError.NETWORK_EXCEPTION,
        KafkaError.LEADER_NOT_AVAILABLE,
        KafkaError.NOT_LEADER_FOR_PARTITION,
        KafkaError.UNKNOWN_LEADER_EPOCH,
        KafkaError.FENCED_LEADER_EPOCH,
        KafkaError.NOT_CONTROLLER,
        KafkaError.NOT_COORDINATOR,
        KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
        KafkaError.COORDINATOR_NOT_AVAILABLE,
        KafkaError.REBALANCE_IN_PROGRESS,
        KafkaError.NOT_ENOUGH_REPLICAS,
        KafkaError.NOT_ENOUGH_REPLICAS_AFTER_APPEND,
        KafkaError.KAFKA_STORAGE_ERROR,
        KafkaError.THROTTLING_QUOTA_EXCEEDED,
    }
)

# Errors of a topic or partition the cluster does not (yet) know.
MISSING_TOPIC_CODES: Final = frozenset(
    {
        KafkaError.UNKNOWN_TOPIC_OR_PART,
        KafkaError.UNKNOWN_TOPIC_ID,
        KafkaError._UNKNOWN_TOPIC,
        KafkaError._UNKNOWN_PARTITION,
    }
)

# Never transient, even where librdkafka would call them retriable: credentials, permissions,
# a producer another instance fenced off, a client set up wrongly.
FATAL_CODES: Final = frozenset(
    {
        KafkaError._AUTHENTICATION,
        KafkaError.SASL_AUTHENTICATION_FAILED,
        KafkaError._SSL,
        KafkaError.TOPIC_AUTHORIZATION_FAILED,
        KafkaError.GROUP_AUTHORIZATION_FAILED,
        KafkaError.CLUSTER_AUTHORIZATION_FAILED,
        KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
        KafkaError._FENCED,
        KafkaError.PRODUCER_FENCED,
        KafkaError.INVALID_PRODUCER_EPOCH,
        KafkaError._INVALID_ARG,
        KafkaError._DESTROY,  # our own client was closed: nothing to wait for
    }
)


def kafka_error_of(error: BaseException | KafkaError) -> KafkaError | None:
    """The client's error inside `error` (a `KafkaException` carries it as its first argument)."""
    if isinstance(error, KafkaError):
        return error
    if isinstance(error, KafkaException) and error.args and isinstance(error.args[0], KafkaError):
        return error.args[0]
    return None


def is_transient(error: BaseException | KafkaError, *, new_topic: bool = False) -> bool:
    """Whether asking again, after a pause, may succeed: the error passes without anyone acting.

    `new_topic`: a missing topic or partition counts as transient (the caller waits for a topic
    just created). A `TimeoutError` (a future not resolved in time) is transient; any other
    exception is judged by its `transient` attribute when it has one, else by its cause
    (`raise ... from error`), and is not transient without one.
    """
    if isinstance(error, TimeoutError):
        return True
    kafka_error = kafka_error_of(error)
    if kafka_error is None:
        return _said(error, "transient", lambda cause: is_transient(cause, new_topic=new_topic))
    code = kafka_error.code()
    if kafka_error.fatal() or code in FATAL_CODES:
        return False
    if code in MISSING_TOPIC_CODES:
        return new_topic
    return bool(kafka_error.retriable()) or code in TRANSIENT_CODES


def is_refused(error: BaseException | KafkaError) -> bool:
    """Whether the cluster refused for good (credentials, a permission, a producer fenced off, a
    client set up wrongly): it refuses again, however often asked, until someone acts. Judged
    like `is_transient`: conveyor's own errors by their `refused` attribute, else by their cause.
    """
    kafka_error = kafka_error_of(error)
    if kafka_error is None:
        return _said(error, "refused", is_refused)
    code = kafka_error.code()
    return bool(kafka_error.fatal()) or (code in FATAL_CODES and code != KafkaError._DESTROY)


def _said(
    error: BaseException | KafkaError, attribute: str, judge: Callable[[BaseException], bool]
) -> bool:
    """conveyor's own errors say so themselves (`attribute`), or keep the client's error as their
    cause, which `judge` then judges."""
    said = getattr(error, attribute, None)
    if isinstance(said, bool):
        return said
    cause = error.__cause__ if isinstance(error, BaseException) else None
    return cause is not None and judge(cause)


def describe(error: BaseException | KafkaError) -> tuple[str, str]:
    """`(code name, reason)` of an error, for a log line or a message."""
    kafka_error = kafka_error_of(error)
    if kafka_error is None:
        return type(error).__name__, str(error)
    return kafka_error.name(), kafka_error.str()
