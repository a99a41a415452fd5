"""The rows a relay has sent on its current producer and not yet marked sent."""

from __future__ import annotations

from conveyor.outbox.table import OutboxRow
from conveyor.publish.delivery import DeliveryHandle
from conveyor.publish.errors import PublishError


class Flight:
    """Rows sent, in the order sent, each with its delivery handle; those the broker confirmed
    move to `confirmed` (`settle`) until they are marked sent (`marked`)."""

    def __init__(self) -> None:
        self._sent: list[tuple[OutboxRow, DeliveryHandle]] = []
        self.confirmed: list[OutboxRow] = []

    def __len__(self) -> int:
        """Rows not marked sent yet: awaiting the broker, or confirmed."""
        return len(self._sent) + len(self.confirmed)

    @property
    def waiting(self) -> bool:
        """Whether some row awaits the broker's answer."""
        return bool(self._sent)

    def add(self, row: OutboxRow, handle: DeliveryHandle) -> None:
        self._sent.append((row, handle))

    def ids(self) -> list[int]:
        """The ids of every row not marked sent: a read must not return them again."""
        return [row.id for row in self.confirmed] + [row.id for row, _ in self._sent]

    def settle(self) -> PublishError | None:
        """Move the rows the broker confirmed to `confirmed`, whatever their place: a row it
        has not answered (a topic it cannot take now) holds back no other. Returns the first
        failure in the order sent; failed rows stay, unconfirmed (sent again after the
        producer is replaced). Idempotence and `enable.gapless.guarantee` mean no row of a
        failed row's partition is confirmed after it."""
        failure: PublishError | None = None
        unanswered: list[tuple[OutboxRow, DeliveryHandle]] = []
        for row, handle in self._sent:
            done = handle.done()  # before `succeeded`: a report may land between the two
            if done and handle.succeeded():
                self.confirmed.append(row)
                continue
            unanswered.append((row, handle))
            if failure is None and done:
                failure = _error(handle)
        self._sent = unanswered
        return failure

    def head_waiting(self) -> DeliveryHandle | None:
        """The handle of the oldest row still awaiting the broker."""
        return self._sent[0][1] if self._sent else None

    def marked(self) -> None:
        """The confirmed rows are marked sent now."""
        self.confirmed = []

    def clear(self) -> None:
        """Forget everything (after the producer was closed): rows not marked are read again."""
        self._sent.clear()
        self.confirmed = []


def _error(handle: DeliveryHandle) -> PublishError:
    """The failure a settled, unsuccessful handle reports."""
    try:
        handle.wait(0)
    except PublishError as exc:
        return exc
    raise AssertionError("a failed delivery raised nothing")
