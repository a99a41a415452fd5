"""`conveyor run scheduler`: the process that delivers every delayed event of the deployment."""

from __future__ import annotations

import os
import signal
import threading
from types import FrameType

from conveyor.clients import connection
from conveyor.delay.scheduler import Scheduler, SchedulerSettings
from conveyor.log_output import configure_json_logs
from conveyor.settings import Settings


def main(settings: Settings, argv: list[str]) -> int:
    """Run one scheduler member until SIGTERM/SIGINT (settings: `SchedulerSettings`)."""
    scheduler_settings = SchedulerSettings.from_env(settings.bootstrap_servers, os.environ)
    configure_json_logs(scheduler_settings.consumer.log_level)
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    with connection.using(settings.client):
        Scheduler(scheduler_settings).run(stop)
    return 0
