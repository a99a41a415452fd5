"""`python -m tests.chaos [--full]`: a chaos run on a 3-node cluster of its own (`make chaos`
runs the full mode). Prints each check and the run's figures; exits 1 when a check failed."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from conveyor.errors import LauncherError
from conveyor.localkafka import LocalKafka
from tests.chaos.plan import ChaosPlan
from tests.chaos.scenario import run_chaos
from tests.conftest import start_local_kafka


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.chaos", description=__doc__)
    parser.add_argument("--full", action="store_true", help="100,000 events, 10 process kills")
    parser.add_argument(
        "--keep", type=Path, help="write the services' and brokers' logs and the sinks here"
    )
    args = parser.parse_args(argv)
    plan = ChaosPlan.full() if args.full else ChaosPlan.small()
    started = time.monotonic()

    def say(line: str) -> None:
        print(f"[{time.monotonic() - started:6.1f} s] {line}", flush=True)

    with tempfile.TemporaryDirectory(prefix="chaos-") as scratch:
        workdir = args.keep or Path(scratch) / "run"
        workdir.mkdir(parents=True, exist_ok=True)
        cluster = _start_cluster(Path(scratch), say)
        try:
            report = run_chaos(cluster, plan, workdir, say)
        finally:
            cluster.down()
            if args.keep:
                for node_id in cluster.spec.node_ids():
                    shutil.copy(cluster.log_file(node_id), args.keep / f"broker-{node_id}.log")
            cluster.down(wipe=True)
    print(report.render())
    return 0 if report.passed else 1


def _start_cluster(scratch: Path, say: Callable[[str], None], tries: int = 3) -> LocalKafka:
    """A 3-node cluster on free ports; tried again when another program takes one of them
    between the look and the bind (a shared machine)."""
    for attempt in range(1, tries):
        say("starting a 3-node cluster")
        try:
            return start_local_kafka(scratch / f"kafka-{attempt}", nodes=3)
        except LauncherError as error:
            say(f"the cluster did not start ({str(error).splitlines()[0]}); again")
    say("starting a 3-node cluster, a last time")
    return start_local_kafka(scratch / f"kafka-{tries}", nodes=3)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
