"""`python -m smtp_sink --dir mail/ --port 8025`: run the sink until SIGTERM or Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path

import structlog

from conveyor.settings import Settings
from smtp_sink.sink import start_sink


def main(settings: Settings, argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="smtp_sink", description=__doc__)
    parser.add_argument("--dir", type=Path, default=settings.state_dir / "mail")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    args = parser.parse_args(argv)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    sink = start_sink(args.dir, args.host, args.port)
    structlog.get_logger("smtp_sink").info(
        "smtp_sink.started", host=sink.host, port=sink.port, directory=str(sink.directory)
    )
    stop.wait()
    sink.stop()
    return 0
