"""Dead letters and retry-tier records: DESIGN.md's headers, confirmed writes, poison handling."""

from conveyor.deadletter.errors import FailureWriteError
from conveyor.deadletter.headers import attempts_so_far, failure_headers, retry_due_at
from conveyor.deadletter.record import Failure, Headers, SourceRecord
from conveyor.deadletter.sink import FailureSink
from conveyor.deadletter.writer import RecordWriter, Written

__all__ = [
    "Failure",
    "FailureSink",
    "FailureWriteError",
    "Headers",
    "RecordWriter",
    "SourceRecord",
    "Written",
    "attempts_so_far",
    "failure_headers",
    "retry_due_at",
]
