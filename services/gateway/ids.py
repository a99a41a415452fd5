"""Random (version 4) UUIDs from the operating system's generator, read 256 at a time.

`uuid.uuid4()` asks the kernel for 16 bytes per id, a system call each; the gateway makes two ids
per request (the entity's and the event's), a few percent of its CPU. The bytes are as random as
`uuid4`'s. Make one `IdSource` per process, after any fork (a forked copy of a filled buffer
would hand both processes the same ids), and use it from one thread.
"""

from __future__ import annotations

import os
import uuid

_BATCH = 256


class IdSource:
    """`source()` is a new `uuid.UUID`, version 4."""

    __slots__ = ("_buffer", "_next")

    def __init__(self) -> None:
        self._buffer = b""
        self._next = 0

    def __call__(self) -> uuid.UUID:
        start = self._next
        if start >= len(self._buffer):
            self._buffer, start = os.urandom(16 * _BATCH), 0
        self._next = start + 16
        return uuid.UUID(bytes=self._buffer[start : start + 16], version=4)
