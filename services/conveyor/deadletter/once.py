"""A dead letter is written once per event: which events this service has dead-lettered already.

An event is known by where it was first read and how often it was redriven: its dead letter's
`x-original-topic`/`-partition`/`-offset` and `x-redrive-count` (0 before any redrive). A
redelivery (a partition re-read from below work its previous owner had done) sends the same event
to the same fate again; finding it here, the sink returns the first write instead of a second. A
redriven event that fails again has a higher redrive count, so it is a new dead letter.

The entries come from the dead-letter topic's recent records, read when partitions are assigned
(`conveyor.policies.letters`), and from this process's own writes; entries older than the
window that load reads are dropped at each load, so the memory held stays that window's.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from concurrent.futures import Future
from dataclasses import dataclass

from conveyor import naming
from conveyor.deadletter.record import Headers, SourceRecord
from conveyor.deadletter.writer import Written
from conveyor.records import last_header


@dataclass(frozen=True)
class LetterId:
    """One event's dead letter: its first position, and its redrive count."""

    topic: str
    partition: int
    offset: int
    redrives: int = 0

    @classmethod
    def of_headers(cls, headers: Headers) -> LetterId | None:
        """From a dead letter's headers; None for a record without the `x-original-*` ones."""
        topic = last_header(headers, naming.ORIGINAL_TOPIC)
        partition = _number(last_header(headers, naming.ORIGINAL_PARTITION))
        offset = _number(last_header(headers, naming.ORIGINAL_OFFSET))
        if topic is None or partition is None or offset is None:
            return None
        redrives = _number(last_header(headers, naming.REDRIVE_COUNT)) or 0
        return cls(topic.decode(errors="replace"), partition, offset, redrives)

    @classmethod
    def of_record(cls, record: SourceRecord) -> LetterId:
        """The id a dead letter of `record` gets: a record read on a retry tier or the redrive
        topic carries its first position (`conveyor.deadletter.headers` keeps it), one read on
        its own topic is at it."""
        known = cls.of_headers(record.headers)
        if known is not None:
            return known
        redrives = _number(record.header(naming.REDRIVE_COUNT)) or 0
        return cls(record.topic, record.partition, record.offset, redrives)


class WrittenLetters:
    """The dead letters of one service known to be written (or being written); thread-safe."""

    def __init__(self) -> None:
        self._letters: dict[LetterId, tuple[Future[Written], int]] = {}
        self._lock = threading.Lock()

    def find(self, letter: LetterId) -> Future[Written] | None:
        """The write of `letter`'s dead letter, done or under way, if there was one."""
        with self._lock:
            entry = self._letters.get(letter)
        return entry[0] if entry is not None else None

    def writing(self, letter: LetterId, write: Future[Written], now_ms: int) -> None:
        """`letter` is being written; a failed write is forgotten, so a redelivery writes it."""
        with self._lock:
            self._letters[letter] = (write, now_ms)

        def forget_failed(done: Future[Written]) -> None:
            if done.exception() is not None:
                with self._lock:
                    if self._letters.get(letter, (None, 0))[0] is done:
                        del self._letters[letter]

        write.add_done_callback(forget_failed)

    def loaded(self, letters: Iterable[tuple[LetterId, Written, int]], since_ms: int) -> None:
        """Take in the letters read back from the topic (id, where, written at), and drop the
        entries older than `since_ms`, where that read started."""
        with self._lock:
            self._letters = {
                letter: entry for letter, entry in self._letters.items() if entry[1] >= since_ms
            }
            for letter, where, written_at_ms in letters:
                if letter not in self._letters:
                    self._letters[letter] = (_done(where), written_at_ms)

    def __len__(self) -> int:
        with self._lock:
            return len(self._letters)


def _done(where: Written) -> Future[Written]:
    future: Future[Written] = Future()
    future.set_result(where)
    return future


def _number(raw: bytes | None) -> int | None:
    return int(raw) if raw is not None and raw.isdigit() else None
