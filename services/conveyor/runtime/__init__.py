"""The consumer-service runtime: handlers per event type, key-ordered concurrency,
at-least-once commits, rebalances and graceful shutdown.

How the pieces fit (one module each):

- `service`: a `Service` (its name is the consumer group) and its registrations, one handler per
  event type with a `HandlerPolicy` (`policy`); batch handlers take a `BatchPolicy` (`batching`).
- `loop`: the poll loop on the thread owning the `Consumer`: resume, poll, dispatch, collect,
  pause, commit. `router` turns messages into work items; `partitions` owns per-partition
  state, the rebalance callbacks and commits; `offsets` tracks each partition's completed prefix.
- `dispatcher`: runs handlers on the `executors` (async on an event-loop thread, sync on a
  thread pool, their results coming back through `threads`) in key order: the
  `key_scheduler` (one event per key at a time, up to `max_in_flight` keys), started items run
  on `workers` (long-lived coroutines, not a task per event). A failed attempt goes to
  `retry_and_divert`, which asks the `failure_seam` and carries out its outcome: retry after a
  delay, forwarded, or fatal; it also confirms events diverted before their first attempt
  (parked). Policies plug in through the `extension_seam`; `gc_tuning` sets CPython's garbage
  collector for streaming.
- `transactions`: exactly-once consume-transform-produce for `Service(name, transactional=True)`:
  follow-ups from `ctx.publish` are produced in one Kafka transaction with the offsets.
- `runner.run_service`: wires it all and handles SIGTERM/SIGINT; `health`, `metrics` (log
  event names: `conveyor.logs`).
- `testing.ServiceHarness`: the in-memory double for users' unit tests.

Offsets: never auto-stored, never auto-committed. The runtime commits explicit offsets (each
partition's completed prefix) every `commit_interval`, asynchronously, and synchronously when
partitions are revoked and at shutdown; lost partitions commit nothing.
"""

from conveyor.log_output import configure_json_logs
from conveyor.ordering import Ordering
from conveyor.runtime.context import BatchContext, Context, EventMeta, FollowUpPublisher
from conveyor.runtime.errors import RuntimeConfigError, ServiceNotFoundError
from conveyor.runtime.extension_seam import NO_EXTENSION, NoExtension, RuntimeExtension
from conveyor.runtime.failure_seam import (
    Failure,
    FailureHandler,
    Fatal,
    Forwarded,
    Outcome,
    RetryAfter,
    RetryInPlace,
)
from conveyor.runtime.policy import BatchPolicy, HandlerPolicy
from conveyor.runtime.runner import run_service
from conveyor.runtime.service import Registration, Service
from conveyor.runtime.settings import GroupProtocol, ServiceSettings

__all__ = [
    "NO_EXTENSION",
    "BatchContext",
    "BatchPolicy",
    "Context",
    "EventMeta",
    "Failure",
    "FailureHandler",
    "Fatal",
    "FollowUpPublisher",
    "Forwarded",
    "GroupProtocol",
    "HandlerPolicy",
    "NoExtension",
    "Ordering",
    "Outcome",
    "Registration",
    "RetryAfter",
    "RetryInPlace",
    "RuntimeConfigError",
    "RuntimeExtension",
    "Service",
    "ServiceNotFoundError",
    "ServiceSettings",
    "configure_json_logs",
    "run_service",
]
