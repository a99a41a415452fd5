"""One replica of a service whose handler is rate-limited for the service as a whole: each
handled event becomes a JSON line (pid, partition, handling time) in a file the replicas share.

    python -m tests.failures.limited_worker BOOTSTRAP TOPIC MAX_PER_S OUTPUT
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from conveyor.policies import Policies
from conveyor.ratelimit import RateLimit
from conveyor.runtime import Context, HandlerPolicy, Ordering, Service, run_service
from conveyor.settings import Settings
from echo_sink import JsonLinesSink
from tests.runtime.support import Ping, PingCodec, fast_settings


def main(bootstrap: str, topic: str, max_per_s: str, output: str) -> int:
    sink = JsonLinesSink(Path(output))
    service = Service(f"s-{topic}")
    limit = RateLimit(max=int(max_per_s), duration=1.0)

    @service.handler(Ping, policy=HandlerPolicy(ordering=Ordering.UNORDERED, rate_limit=limit))
    def call_crm(event: Ping, ctx: Context) -> None:
        sink.record({"pid": os.getpid(), "partition": ctx.meta.partition, "at": time.time()})

    service_settings = fast_settings(topic_map={Ping.TOPIC: topic}, shutdown_deadline=5.0)
    return run_service(
        service,
        Settings.from_env({"KAFKA_BOOTSTRAP_SERVERS": bootstrap}),
        service_settings,
        PingCodec(),
        extension=Policies(bootstrap, topic_map=service_settings.topic_map),
    )


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
