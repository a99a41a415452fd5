"""`conveyor dlq redrive`: selected dead letters go back through one service only, in each
key's original order, once each, even across an interrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conveyor import naming
from conveyor.cli.main import cli
from conveyor.ops import ledger, redrive, status
from conveyor.ops.broker import Broker
from conveyor.ops.deadletters import DeadLetterFilter
from conveyor.ops.names import redrive_topic
from conveyor.ops.redrive import RedriveOptions
from conveyor.ops.topology import resolve
from tests.conftest import create_topic
from tests.ops.conftest import Svc, dead_letter_headers, read_topic

pytestmark = pytest.mark.kafka


def _letters(svc: Svc, letters: list[tuple[str, int, str]], partitions: int = 2) -> str:
    """Dead letters (key, original offset, error type) in this order; value = `key@offset`."""
    dlq = svc.topic("dlq", partitions=partitions)
    for key, offset, error in letters:
        headers = dead_letter_headers(f"{svc.name}-input", offset, error)
        svc.produce(dlq, key, f"{key}@{offset}".encode(), headers=headers)
    svc.flush()
    return dlq


def _values(broker: Broker, topic: str) -> list[str]:
    return [(r.value or b"").decode() for r in read_topic(broker, topic)]


def _per_key(values: list[str]) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for value in values:
        key, _, offset = value.partition("@")
        found.setdefault(key, []).append(int(offset))
    return found


def test_redrive_of_a_filtered_subset_reaches_only_the_target_service(
    broker: Broker, svc: Svc
) -> None:
    """Only the TimeoutError letters go, into this service's first retry tier, each key's in
    original order, once; no other service's topic and not the original topic get a record."""
    source = svc.topic("input")
    retry1, retry2 = svc.topic("retry.1", partitions=3), svc.topic("retry.2")
    other = create_topic(svc.bootstrap, f"other-{svc.name}.retry.1", 1)
    _letters(
        svc,
        [
            ("A", 5, "TimeoutError"),
            ("B", 3, "httpx.TimeoutError"),
            ("A", 2, "TimeoutError"),
            ("C", 1, "ValueError"),
            ("B", 4, "ValueError"),
            ("A", 8, "TimeoutError"),
        ],
    )
    untouched = {t: broker.watermarks(broker.partitions(t)) for t in (source, retry2, other)}
    topology = resolve(broker, svc.name)

    plan = redrive.plan(broker, topology, DeadLetterFilter(error_type="TimeoutError"))
    written = redrive.execute(broker, plan)
    again = redrive.plan(broker, topology, DeadLetterFilter(error_type="TimeoutError"))

    assert written == 4
    assert plan.target == retry1
    redriven = read_topic(broker, retry1)
    assert _per_key([(r.value or b"").decode() for r in redriven]) == {"A": [2, 5, 8], "B": [3]}
    for record in redriven:
        assert record.header(naming.REDRIVE_COUNT) == "1"
        assert record.int_header(naming.RETRY_DUE_AT) is not None
        assert record.header(naming.ERROR_TYPE) is None
        assert record.header(naming.ORIGINAL_TOPIC) == f"{svc.name}-input"
    assert {t: broker.watermarks(broker.partitions(t)) for t in untouched} == untouched
    assert again.letters == ()
    assert again.already_redriven == 4
    left = CliRunner().invoke(
        cli,
        ["dlq", "list", svc.name, "--pending", "--json"],
        env={"KAFKA_BOOTSTRAP_SERVERS": svc.bootstrap},
    )
    assert sorted(x["error_type"] for x in json.loads(left.stdout)) == ["ValueError"] * 2
    assert status.collect(broker, topology).dead_lettered == 2


def test_an_interrupted_redrive_resumes_without_duplicates(
    kafka_bootstrap: str, broker: Broker, svc: Svc
) -> None:
    """A redrive killed (SIGKILL) mid-run and run again writes every letter exactly once, and
    each key's letters in order."""
    svc.topic("retry.1", partitions=3)
    letters = [(f"k{i % 10}", i, "TimeoutError") for i in range(60)]
    _letters(svc, letters, partitions=3)
    command = Path(sys.executable).parent / "conveyor"
    run = subprocess.Popen(
        [command, "dlq", "redrive", svc.name, "--all", "--rate", "10", "--yes"],
        env={**os.environ, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while not ledger.load(broker, svc.name, settle=0):
            assert run.poll() is None, "the redrive ended before it could be interrupted"
            time.sleep(0.2)
    finally:
        run.send_signal(signal.SIGKILL)
        run.wait()
    done_before = len(ledger.load(broker, svc.name))
    topology = resolve(broker, svc.name)

    resumed = redrive.plan(broker, topology, DeadLetterFilter())
    redrive.execute(broker, resumed)

    assert 0 < done_before < len(letters)
    assert len(resumed.letters) == len(letters) - done_before
    values = _values(broker, f"{svc.name}.retry.1")
    assert sorted(values) == sorted(f"{k}@{o}" for k, o, _ in letters)
    assert all(offsets == sorted(offsets) for offsets in _per_key(values).values())


def test_redriving_a_parked_key_releases_it(broker: Broker, svc: Svc) -> None:
    """An ordered service (no retry tier) gets its parked key's letters on `<service>.redrive`
    and the key's tombstone; redriving only part of a parked key is held back."""
    target = create_topic(svc.bootstrap, redrive_topic(svc.name), 1)
    parked = svc.topic("parked", config={"cleanup.policy": "compact"})
    svc.produce(parked, f"{svc.name}-input\x00P", b'{"behind": "first"}')
    svc.flush()
    _letters(svc, [("P", 10, "PaymentDeclined"), ("P", 11, "Parked"), ("Q", 3, "Boom")], 1)
    topology = resolve(broker, svc.name)
    second_only = frozenset({(0, 1)})

    partial = redrive.plan(broker, topology, DeadLetterFilter(), ids=second_only)
    whole = redrive.plan(broker, topology, DeadLetterFilter(key="P"))
    redrive.execute(broker, whole)

    assert partial.letters == ()
    assert "parked" in partial.skipped[0].reason
    assert whole.releases == {f"{svc.name}-input\x00P".encode()}
    assert _values(broker, target) == ["P@10", "P@11"]
    assert status.collect(broker, topology).parked == 0


def test_letters_redriven_too_often_are_held_back(broker: Broker, svc: Svc) -> None:
    """A letter already redriven `max_redrives` times stays, until the limit is raised."""
    retry1 = svc.topic("retry.1")
    dlq = svc.topic("dlq")
    headers = dead_letter_headers(f"{svc.name}-input", 1, "Boom", redrive_count=3)
    svc.produce(dlq, "L", b"L@1", headers=headers)
    svc.flush()
    topology = resolve(broker, svc.name)

    held = redrive.plan(broker, topology, DeadLetterFilter(), options=RedriveOptions())
    raised = RedriveOptions(max_redrives=5)
    allowed = redrive.plan(broker, topology, DeadLetterFilter(), options=raised)
    redrive.execute(broker, allowed, raised)

    assert held.letters == ()
    assert "redriven 3 times" in held.skipped[0].reason
    assert [r.header(naming.REDRIVE_COUNT) for r in read_topic(broker, retry1)] == ["4"]


def test_redrive_dry_run_changes_nothing(kafka_bootstrap: str, broker: Broker, svc: Svc) -> None:
    """A dry run prints what would go where and writes nothing, not even the ledger."""
    retry1 = svc.topic("retry.1")
    _letters(svc, [("A", 1, "TimeoutError"), ("B", 2, "ValueError")], partitions=1)

    result = CliRunner().invoke(
        cli,
        ["dlq", "redrive", svc.name, "--error-type", "TimeoutError", "--dry-run", "--json"],
        env={"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap},
    )

    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert plan["events"] == ["0:0"]
    assert plan["target"] == retry1
    assert read_topic(broker, retry1) == []
    assert ledger.load(broker, svc.name, settle=0) == {}
