"""A service process for the SIGKILL-after-parking test: an ordered service whose key A fails for
good at seq 3 (so A parks there); with `slow`, key B's events never finish, so B's first event
holds the partition's commit position while A runs on. Every handled event is appended to a log.

    python -m tests.failures.parking_worker BOOTSTRAP TOPIC LOG slow|fast
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from conveyor.policies import Policies
from conveyor.retry import Backoff, PermanentError, RetryPolicy
from conveyor.runtime import Context, HandlerPolicy, Ordering, Service, run_service
from conveyor.settings import Settings
from tests.failures.support import fast_policy_settings
from tests.runtime.support import Ping, PingCodec

FAILS_AT = 3


def main(bootstrap: str, topic: str, log_path: str, mode: str) -> int:
    service = Service(f"pay-{topic}")
    log = Path(log_path).open("a", buffering=1)  # noqa: SIM115 - lives as long as the process
    never = threading.Event()
    retry = RetryPolicy(attempts=2, backoff=Backoff(delay=0.1, max_delay=0.5))

    @service.handler(Ping, policy=HandlerPolicy(ordering=Ordering.ORDERED, retry=retry))
    def charge(event: Ping, ctx: Context) -> None:
        if event.entity == "B" and mode == "slow":
            never.wait()  # until the process is killed
        if event.entity == "A" and event.seq == FAILS_AT:
            raise PermanentError("card declined")
        log.write(f"{event.entity}{event.seq}\n")

    settings = Settings.from_env({"KAFKA_BOOTSTRAP_SERVERS": bootstrap})
    policies = Policies(bootstrap)
    return run_service(
        service, settings, fast_policy_settings(topic), PingCodec(), extension=policies
    )


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
