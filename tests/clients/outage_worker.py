"""A service process for the broker-outage tests: an ordered handler with conveyor's policies
(so it parks keys and reads `<service>.parked` on every assignment), recording each event it
handles, with `/readyz` on a given port.

    python -m tests.clients.outage_worker BOOTSTRAP TOPIC SERVICE HANDLED_LOG HTTP_PORT

With `WORKER_FAILING=<prefix>` in its environment, the handler fails for good (one attempt) on
events whose entity starts with the prefix; with `WORKER_TRANSACTIONAL=1` the service is
transactional (its offsets are committed in transactions).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from conveyor.policies import Policies
from conveyor.retry import RetryPolicy
from conveyor.runtime import Context, HandlerPolicy, Ordering, Service, ServiceSettings, run_service
from conveyor.settings import Settings
from tests.runtime.support import Ping, PingCodec


def main(bootstrap: str, topic: str, name: str, handled_log: str, port: str) -> int:
    service = Service(name, transactional=os.environ.get("WORKER_TRANSACTIONAL") == "1")
    handled = Path(handled_log).open("a", buffering=1)  # noqa: SIM115 - lives as the process
    failing = os.environ.get("WORKER_FAILING")
    once = RetryPolicy(attempts=1) if failing else None

    @service.handler(Ping, policy=HandlerPolicy(ordering=Ordering.ORDERED, retry=once))
    def record(event: Ping, ctx: Context) -> None:
        if failing and event.entity.startswith(failing):
            raise RuntimeError("this worker fails such events")
        handled.write(f"{event.event_id}\n")

    settings = ServiceSettings.from_env(
        {
            **os.environ,
            "CONVEYOR_HTTP_PORT": port,
            "CONVEYOR_COMMIT_INTERVAL_MS": "200",
            "CONVEYOR_TOPIC_MAP": f"{Ping.TOPIC}={topic}",
        }
    )
    return run_service(
        service,
        # the `KAFKA_*` client settings of the environment: the secured tests run it as a principal
        Settings.from_env({**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap}),
        settings,
        PingCodec(),
        extension=Policies(bootstrap),
    )


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
