"""Transactional outbox: events written with the domain data, relayed to Kafka after commit."""

from conveyor.outbox.dialect import POSTGRES, SQLITE, Dialect, SqlConnection
from conveyor.outbox.errors import OutboxError, RelayLockedError
from conveyor.outbox.relay import OutboxRelay, RelayConfig
from conveyor.outbox.table import DEFAULT_TABLE, Backlog, OutboxRow, OutboxTable
from conveyor.outbox.writer import Outbox

__all__ = [
    "DEFAULT_TABLE",
    "POSTGRES",
    "SQLITE",
    "Backlog",
    "Dialect",
    "Outbox",
    "OutboxError",
    "OutboxRelay",
    "OutboxRow",
    "OutboxTable",
    "RelayConfig",
    "RelayLockedError",
    "SqlConnection",
]
