"""The operator's commands on the SASL_SSL broker with `acls apply`'s grants: `conveyor status`,
`tail`, `dlq list|show|redrive` and `replay`, each its own process given only the operator's
`KAFKA_*` settings, on a service that dead-lettered an event as its own principal. None of
them prints the operator's password (`Principals.conveyor` checks each run)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import pytest

from tests.security.conftest import SecureKafka
from tests.security.principals import (
    Principals,
    committed,
    grant,
    keys,
    ping,
    poison,
    publish,
    start_at_end,
)

SERVICE = "payments"  # ordered: its dead letters are redriven through payments.redrive


@dataclass(frozen=True)
class Handled:
    """The service after it handled one event and dead-lettered another, then stopped."""

    principals: Principals
    good: bytes
    good_offset: int
    bad: bytes


@pytest.fixture(scope="module")
def handled(secure_kafka: SecureKafka, tmp_path_factory: pytest.TempPathFactory) -> Handled:
    principals = grant(secure_kafka, SERVICE, tmp_path_factory.mktemp("operator"))
    admin = secure_kafka.admin_settings()
    start_at_end(admin, SERVICE, principals.input)
    good, bad = ping(), poison()
    offsets = publish(admin, principals.input, good, bad)
    worker = principals.worker(tmp_path_factory.mktemp("worker"), SERVICE)
    try:
        while committed(admin, SERVICE, principals.input) <= offsets[-1]:
            assert worker.process.poll() is None, worker.stderr.read_text()
            time.sleep(0.5)
    finally:
        worker.stop()
    return Handled(principals, good[0], offsets[0], bad[0])


def test_status_counts_the_dead_letter(handled: Handled) -> None:
    """`conveyor status` reads the group, its lag and its dead letters."""
    status = handled.principals.conveyor("status", SERVICE, "--json", "--sample", "0")
    assert status.returncode == 0, status.stderr
    (doc,) = json.loads(status.stdout)
    assert doc["service"] == SERVICE
    assert doc["waiting"] == 0
    assert doc["dead_lettered"] >= 1


def test_tail_decodes_the_input_topic(handled: Handled) -> None:
    """`conveyor tail` reads the input topic and prints the event with the key asked for."""
    key = handled.good.decode()
    principals = handled.principals
    tail = principals.conveyor(
        "tail", principals.input, "--from-beginning", "--until-end", "--key", key
    )
    assert tail.returncode == 0, tail.stderr
    assert key in tail.stdout


def test_dlq_list_and_show_the_dead_letter(handled: Handled) -> None:
    """`conveyor dlq list` finds the dead letter by its key and `dlq show` prints it."""
    listed = handled.principals.conveyor(
        "dlq", "list", SERVICE, "--key", handled.bad.decode(), "--json"
    )
    assert listed.returncode == 0, listed.stderr
    (letter,) = json.loads(listed.stdout)
    assert letter["original_topic"] == handled.principals.input
    shown = handled.principals.conveyor("dlq", "show", SERVICE, letter["id"], "--json")
    assert shown.returncode == 0, shown.stderr
    assert handled.bad.decode() in shown.stdout


def test_dlq_redrive_sends_the_dead_letter_back_to_the_service(handled: Handled) -> None:
    """`conveyor dlq redrive` writes the dead letter to the service's redrive topic and records
    it in its ledger, so a second run finds nothing left to redrive."""
    key = handled.bad.decode()
    redrive = handled.principals.conveyor("dlq", "redrive", SERVICE, "--key", key, "--yes")
    assert redrive.returncode == 0, redrive.stderr
    assert f"redrove 1 event(s) into {SERVICE}.redrive" in redrive.stderr
    admin = handled.principals.kafka.admin_settings()
    assert handled.bad in keys(admin, f"{SERVICE}.redrive")
    again = handled.principals.conveyor("dlq", "redrive", SERVICE, "--key", key, "--yes")
    assert again.returncode == 0, again.stderr
    assert "nothing to redrive" in again.stderr


def test_replay_moves_the_stopped_services_offsets(handled: Handled) -> None:
    """`conveyor replay` moves the group's committed offset back to the handled event."""
    principals = handled.principals
    target = f"0:{handled.good_offset}"
    replay = principals.conveyor(
        "replay", SERVICE, "--to-offset", target, "--topic", principals.input, "--yes"
    )
    assert replay.returncode == 0, replay.stderr
    admin = principals.kafka.admin_settings()
    assert committed(admin, SERVICE, principals.input) == handled.good_offset
