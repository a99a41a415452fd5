"""The aiosmtpd handler that writes each message to its own file, and a reader for those files."""

from __future__ import annotations

import email.policy
import itertools
import os
import socket
import threading
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class DirectoryHandler:
    """aiosmtpd handler: one `.eml` per message, written to a temp name then renamed, so a
    reader never sees half a message."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._directory.mkdir(parents=True, exist_ok=True)
        self._sequence = itertools.count(1)
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self._lock:
            number = next(self._sequence)
        name = f"{number:08d}-{uuid.uuid4().hex[:8]}.eml"
        temp = self._directory / f".{name}.tmp"
        temp.write_bytes(envelope.original_content or envelope.content)
        os.replace(temp, self._directory / name)
        return "250 Message accepted for delivery"


@dataclass
class SmtpSink:
    """A running sink; `stop()` shuts it down."""

    directory: Path
    host: str
    port: int
    _controller: Controller

    def stop(self) -> None:
        self._controller.stop()


def start_sink(directory: Path, host: str = "127.0.0.1", port: int = 0) -> SmtpSink:
    """Start the sink in a background thread; port 0 picks a free one."""
    port = port or _free_port(host)  # aiosmtpd's start-up self-check cannot connect to port 0
    controller = Controller(DirectoryHandler(directory), hostname=host, port=port)
    controller.start()
    return SmtpSink(directory=directory, host=host, port=port, _controller=controller)


def _free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def read_messages(directory: Path) -> list[EmailMessage]:
    """Every message the sink kept, oldest first."""
    parser = BytesParser(policy=email.policy.default)
    return [parser.parsebytes(path.read_bytes()) for path in sorted(directory.glob("*.eml"))]
