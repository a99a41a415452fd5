"""The gateway's own log event names; the library's (`outbox.relayed`, `kafka.unavailable` ...)
are in `conveyor.logs`. Code logs `logs.NAME`; `tests/library/test_log_catalogue.py` enforces it."""

from __future__ import annotations

from typing import Final

# -- the process -----------------------------------------------------------------------------
GATEWAY_STARTING: Final = "gateway.starting"  # listening addresses and the database kind
GATEWAY_STOPPED: Final = "gateway.stopped"  # the servers and the relay stopped
WORKER_EXITED: Final = "gateway.worker_exited"  # a worker process ended; the others stop
WORKER_FAILED: Final = "gateway.worker_failed"  # a worker raised (with the traceback)

# -- requests accepted: their event is in the outbox ----------------------------------------
USER_SIGNED_UP: Final = "user.signed_up"  # POST /signup
ORDER_PLACED: Final = "order.placed"  # POST /orders
ORDER_CANCELLED: Final = "order.cancelled"  # POST /orders/{id}/cancel

# -- the database and the outbox relay it runs ----------------------------------------------
COMMIT_FAILED: Final = "gateway.commit_failed"  # a grouped commit failed; its requests fail
CHECKPOINT_FAILED: Final = "gateway.checkpoint_failed"  # SQLite's WAL checkpoint; tried again
RELAY_STANDBY: Final = "outbox.relay_standby"  # another gateway holds the relay's lock
RELAY_CRASHED: Final = "outbox.relay_crashed"  # the relay thread died (readiness says so)
LISTEN_FAILED: Final = "outbox.listen_failed"  # PostgreSQL LISTEN for commits; tried again
