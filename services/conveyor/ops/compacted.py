"""A compacted topic read as a table: each key's latest value, tombstones removing keys."""

from __future__ import annotations

from conveyor.ops.broker import Broker
from conveyor.ops.reader import scan
from conveyor.ops.records import Record


def read_table(broker: Broker, topic: str) -> dict[bytes, Record]:
    """Every live key of `topic` (all partitions, up to now) and the record that set it."""
    if topic not in broker.topics():
        return {}
    ranges = broker.watermarks(broker.partitions(topic))
    table: dict[bytes, Record] = {}
    for record in scan(broker, ranges):
        if record.key is None:
            continue
        if record.value is None:
            table.pop(record.key, None)
        else:
            table[record.key] = record
    return table
