"""A service whose principal may not write its dead-letter topic: the broker's refusal is told
plainly, and the event it could not dead-letter is never committed past, so none is lost."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from conveyor.acls import AclAdmin, Grant
from conveyor.acls.rules import Operation, Pattern, Resource, user
from tests.clients.processes import WorkerProcess
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

SERVICE = "fulfillment"  # ordered: a poison event's key is parked, the other keys flow


@pytest.fixture(scope="module")
def principals(secure_kafka: SecureKafka, tmp_path_factory: pytest.TempPathFactory) -> Principals:
    return grant(secure_kafka, SERVICE, tmp_path_factory.mktemp("denied"))


def test_a_denied_dead_letter_write_stops_the_service_uncommitted(
    principals: Principals, tmp_path: Path
) -> None:
    """An undecodable event whose dead letter the broker refuses: the service says the write was
    not authorized and exits non-zero; its committed offset stays at that event (the one before
    it is committed), and once the grant is back a restart dead-letters it and moves on."""
    admin = principals.kafka.admin_settings()
    start_at_end(admin, SERVICE, principals.input)
    first, bad, after = ping(), poison(), ping()
    write = Grant(
        user(SERVICE), Resource.TOPIC, principals.dead_letters, Pattern.LITERAL, Operation.WRITE
    )
    acls = AclAdmin(admin)
    acls.delete([write])
    try:
        offsets = publish(admin, principals.input, first, bad, after)
        code, output = _run_until_exit(principals.worker(tmp_path / "denied", "denied"))
    finally:
        acls.create([write])
    assert code != 0, output
    assert "TOPIC_AUTHORIZATION_FAILED" in output, output
    assert principals.dead_letters in output, output
    assert committed(admin, SERVICE, principals.input) == offsets[1]
    assert bad[0] not in keys(admin, principals.dead_letters)

    worker = principals.worker(tmp_path / "granted", "granted")
    try:
        while committed(admin, SERVICE, principals.input) < offsets[2] + 1:
            assert worker.process.poll() is None, worker.stderr.read_text()
            time.sleep(0.5)
    finally:
        worker.stop()
    assert bad[0] in keys(admin, principals.dead_letters)


def _run_until_exit(worker: WorkerProcess, timeout: float = 60) -> tuple[int, str]:
    try:
        code = worker.process.wait(timeout)
    finally:
        worker.stop()
    return code, worker.stderr.read_text()
