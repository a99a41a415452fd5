"""Sends a service's failed events on: into a retry tier or its dead letters, with the headers."""

from __future__ import annotations

import time
from concurrent.futures import Future

import structlog

from conveyor import logs, naming
from conveyor.deadletter.headers import failure_headers
from conveyor.deadletter.once import LetterId, WrittenLetters
from conveyor.deadletter.record import FailureDetails, SourceRecord
from conveyor.deadletter.writer import ConfirmedWriter, Written
from conveyor.tracing.seam import DEAD_LETTER, RETRY, Tracing, installed

log = structlog.get_logger(__name__)


class FailureSink:
    """One per service: `<service>.dlq` and `<service>.retry.<n>`, written for consumer `group`."""

    def __init__(
        self,
        writer: ConfirmedWriter,
        service: str,
        group: str | None = None,
        written: WrittenLetters | None = None,
        tracing: Tracing | None = None,
    ) -> None:
        self._writer = writer
        self._tracing = tracing if tracing is not None else installed()
        self.service = service
        self.group = group or service
        self.dead_letter_topic = naming.dead_letter_topic(service)
        self.written = written if written is not None else WrittenLetters()

    def dead_letter(
        self, record: SourceRecord, failure: FailureDetails, *, parked_behind: str | None = None
    ) -> Future[Written]:
        """Write the event to `<service>.dlq`, its original key, value and headers kept; once
        per event: a redelivered one gets the first write back (`conveyor.deadletter.once`)."""
        letter = LetterId.of_record(record)
        earlier = self.written.find(letter)
        if earlier is not None:
            log.info(logs.EVENT_ALREADY_DEAD_LETTERED, **self._log_fields(record, failure))
            return earlier
        headers = failure_headers(record, failure, self.group, parked_behind=parked_behind)
        # An event that failed is a warning; one that only follows its parked key there (it was
        # never tried, to keep the key's order) is routine: a parked key sends every later one.
        (log.warning if parked_behind is None else log.info)(
            logs.EVENT_DEAD_LETTERED,
            **self._log_fields(record, failure),
            error_type=failure.error_type,
            parked_behind=parked_behind,
        )
        if self._tracing.enabled:
            self._tracing.forwarding(self.dead_letter_topic, headers, DEAD_LETTER)
        write = self._writer.write(self.dead_letter_topic, record.key, record.value, headers)
        self.written.writing(letter, write, round(time.time() * 1000))
        return write

    def retry_later(
        self, record: SourceRecord, failure: FailureDetails, topic: str, due_at_ms: int
    ) -> Future[Written]:
        """Write the event to a retry tier, to be handled again from `due_at_ms` on."""
        headers = failure_headers(record, failure, self.group, retry_due_at_ms=due_at_ms)
        log.info(
            logs.EVENT_RETRY_SCHEDULED,
            **self._log_fields(record, failure),
            retry_topic=topic,
            due_at_ms=due_at_ms,
        )
        if self._tracing.enabled:
            self._tracing.forwarding(topic, headers, RETRY)
        return self._writer.write(topic, record.key, record.value, headers)

    def poison(self, record: SourceRecord, error: BaseException, now_ms: int) -> Future[Written]:
        """Undecodable bytes go to the dead letters at once, raw bytes and decode error kept."""
        return self.dead_letter(
            record, FailureDetails.from_exception(error, attempts=1, failed_at_ms=now_ms)
        )

    def _log_fields(self, record: SourceRecord, failure: FailureDetails) -> dict[str, object]:
        """What every failure log line says: whose event, where it was read, how often tried."""
        return {
            "service": self.service,
            "topic": record.topic,
            "partition": record.partition,
            "offset": record.offset,
            "attempts": failure.attempts,
        }
