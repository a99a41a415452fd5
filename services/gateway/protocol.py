"""uvicorn's httptools protocol, writing each response to the socket once.

uvicorn writes a response's status line and headers as soon as the app starts the response, and
its body in a second write: two `send` system calls per response, and on a client waiting for
it, two wake-ups. Here a response's start is held until its body comes and both are handed to the
socket in one write, at once (so the request histogram still ends with the response's last byte
handed to the socket); a start no body follows in the same turn of the event loop goes out at
the end of that turn. The bytes, their order and the connection's handling are uvicorn's.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class JoinedWrites:
    """A transport that holds a write until the next one and writes both together, at once; a
    write nothing follows goes out at the end of the loop's turn. Everything else is the wrapped
    transport's (closing, or ending the stream, writes what is held first)."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None

    def write(self, data: bytes) -> None:
        held, self._held = self._held, None
        if held is not None:
            self._transport.write(held + data)
            return
        self._held = bytes(data)
        self._loop.call_soon(self.flush)

    def flush(self) -> None:
        held, self._held = self._held, None
        if held is not None and not self._transport.is_closing():  # (a lost connection's)
            self._transport.write(held)

    def writelines(self, data: list[bytes]) -> None:
        self.write(b"".join(data))

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class OneWritePerResponse(HttpToolsProtocol):
    """`HttpToolsProtocol` on a `JoinedWrites` transport."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(JoinedWrites(transport, self.loop))  # type: ignore[arg-type]
