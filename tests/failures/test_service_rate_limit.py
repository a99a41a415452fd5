"""Three replicas of a rate-limited service stay together within the limit, and the share
follows a member leaving. Each replica is a real process; events are counted by the handling
times the replicas wrote, over windows taken from those times."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TopicFactory
from tests.runtime.support import produce_pings, wait_until

pytestmark = pytest.mark.kafka

REPO = Path(__file__).resolve().parents[2]
LIMIT = 50  # events per second, for the service as a whole
WINDOW = 60.0  # seconds measured with three replicas, as the issue asks
AFTER_LEAVE = 10.0  # seconds measured with two
SETTLE = 1.0  # seconds after the last move of a partition before a window opens


def _records(output: Path) -> list[dict[str, Any]]:
    text = output.read_text()
    complete = text[: text.rfind("\n") + 1]  # a replica may be mid-write
    return [json.loads(line) for line in complete.splitlines() if line.strip()]


def _handled_in(records: list[dict[str, Any]], start: float, seconds: float) -> int:
    return sum(1 for r in records if start <= r["at"] < start + seconds)


@pytest.fixture
def replicas(tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def test_three_replicas_stay_together_within_the_limit_and_two_take_over_its_share(
    kafka_bootstrap: str,
    new_topic: TopicFactory,
    tmp_path: Path,
    replicas: list[subprocess.Popen[bytes]],
) -> None:
    """RateLimit(50, 1 s) on three replicas with a backlog on each of three partitions: 60 s
    after all three handle see 3000 +- 10% handled between them (not three times that); after
    one replica stops, 10 s see 500 +- 10% handled by the other two."""
    topic = new_topic(partitions=3)
    produce_pings(
        kafka_bootstrap,
        topic,
        [f"k{i}" for i in range(300)],
        per_key=30,
        partition_of=lambda key: int(key[1:]) % 3,
    )
    output = tmp_path / "handled.jsonl"
    output.touch()
    for _ in range(3):
        replicas.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.failures.limited_worker",
                    kafka_bootstrap,
                    topic,
                    str(LIMIT),
                    str(output),
                ],
                cwd=REPO,
                env={**os.environ, "PYTHONPATH": str(REPO)},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )

    def all_handling() -> bool:
        return len({r["pid"] for r in _records(output)}) == 3

    wait_until(all_handling, timeout=90, what="all three replicas handling")
    records = _records(output)
    start = max(min(r["at"] for r in records if r["pid"] == p.pid) for p in replicas) + SETTLE
    wait_until(
        lambda: max(r["at"] for r in _records(output)) >= start + WINDOW + 1,
        timeout=WINDOW + 60,
        what="the window with three replicas",
    )
    records = _records(output)
    three = _handled_in(records, start, WINDOW)
    per_replica = {
        p.pid: _handled_in([r for r in records if r["pid"] == p.pid], start, WINDOW)
        for p in replicas
    }

    leaving = replicas[0]
    freed = {r["partition"] for r in records if r["pid"] == leaving.pid and r["at"] >= start}
    leaving.send_signal(signal.SIGTERM)
    assert leaving.wait(30) == 0

    def taken_over() -> bool:
        return any(
            r["partition"] in freed and r["pid"] != leaving.pid and r["at"] >= start + WINDOW
            for r in _records(output)
        )

    wait_until(taken_over, timeout=60, what="the stopped replica's partition taken over")
    moved_at = min(
        r["at"]
        for r in _records(output)
        if r["partition"] in freed and r["pid"] != leaving.pid and r["at"] >= start + WINDOW
    )
    second = moved_at + SETTLE
    wait_until(
        lambda: max(r["at"] for r in _records(output)) >= second + AFTER_LEAVE + 1,
        timeout=AFTER_LEAVE + 60,
        what="the window with two replicas",
    )
    records = _records(output)
    two = _handled_in(records, second, AFTER_LEAVE)
    assert _handled_in([r for r in records if r["pid"] == leaving.pid], second, AFTER_LEAVE) == 0

    assert 0.9 * LIMIT * WINDOW <= three <= 1.1 * LIMIT * WINDOW, per_replica
    assert all(count > 0 for count in per_replica.values()), per_replica
    assert 0.9 * LIMIT * AFTER_LEAVE <= two <= 1.1 * LIMIT * AFTER_LEAVE
