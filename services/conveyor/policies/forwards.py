"""What a forward of a failed event is made of: its source record, and the confirmed writes."""

from __future__ import annotations

import asyncio
from concurrent.futures import Future

from conveyor.deadletter import SourceRecord
from conveyor.deadletter.writer import Written
from conveyor.runtime.context import EventMeta
from conveyor.runtime.failure_seam import Forwarded


def source_record(meta: EventMeta, raw_value: bytes | None) -> SourceRecord:
    """The consumed event as the retry tiers and dead letters write it on, unchanged."""
    timestamp = round(meta.timestamp.timestamp() * 1000) if meta.timestamp else -1
    return SourceRecord(
        topic=meta.topic,
        partition=meta.partition,
        offset=meta.offset,
        timestamp_ms=timestamp,
        key=meta.key.encode() if meta.key is not None else None,
        value=raw_value,
        headers=list(meta.headers),
    )


def confirmed(*futures: Future[Written]) -> Forwarded:
    """A forward that completes once every write was acknowledged (on the runtime's loop)."""

    async def all_written() -> None:
        for future in futures:
            await asyncio.wrap_future(future)

    return Forwarded(all_written())
