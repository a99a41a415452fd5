"""`gateway.protocol.JoinedWrites`: a response's start and body reach the socket in one write, at
once; a write nothing follows goes out at the end of the loop's turn, and before a close."""

from __future__ import annotations

import asyncio

from gateway.protocol import JoinedWrites


class _Recorded(asyncio.Transport):
    """What a transport was asked to do, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[object] = []
        self.closing = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.calls.append(bytes(data))

    def close(self) -> None:
        self.calls.append("close")
        self.closing = True

    def is_closing(self) -> bool:
        return self.closing


def test_a_start_and_its_body_are_written_together_at_once() -> None:
    async def run() -> list[object]:
        recorded = _Recorded()
        joined = JoinedWrites(recorded, asyncio.get_running_loop())
        joined.write(b"HTTP/1.1 202 Accepted\r\n\r\n")
        assert recorded.calls == []
        joined.write(b"{}")
        assert recorded.calls == [b"HTTP/1.1 202 Accepted\r\n\r\n{}"]
        await asyncio.sleep(0)
        return recorded.calls

    assert asyncio.run(run()) == [b"HTTP/1.1 202 Accepted\r\n\r\n{}"]


def test_a_lone_write_goes_out_at_the_end_of_the_turn_or_before_a_close() -> None:
    async def run() -> tuple[list[object], list[object]]:
        loop = asyncio.get_running_loop()
        alone, closed = _Recorded(), _Recorded()
        JoinedWrites(alone, loop).write(b"HTTP/1.1 100 Continue\r\n\r\n")
        closing = JoinedWrites(closed, loop)
        closing.write(b"last")
        closing.close()
        await asyncio.sleep(0)
        return alone.calls, closed.calls

    alone, closed = asyncio.run(run())
    assert alone == [b"HTTP/1.1 100 Continue\r\n\r\n"]
    assert closed == [b"last", "close"]
