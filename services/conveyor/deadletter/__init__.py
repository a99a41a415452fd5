"""Dead letters and retry-tier records: DESIGN.md's headers, confirmed writes, poison handling."""

from conveyor.deadletter.errors import FailureWriteError
from conveyor.deadletter.headers import attempts_so_far, failure_headers, retry_due_at
from conveyor.deadletter.record import FailureDetails, Headers, SourceRecord
from conveyor.deadletter.sink import FailureSink
from conveyor.deadletter.writer import ConfirmedWriter, Written

__all__ = [
    "ConfirmedWriter",
    "FailureDetails",
    "FailureSink",
    "FailureWriteError",
    "Headers",
    "SourceRecord",
    "Written",
    "attempts_so_far",
    "failure_headers",
    "retry_due_at",
]
