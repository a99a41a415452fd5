"""A service whose principal may not write its dead-letter topic: the broker's refusal is told
plainly, and the event it could not dead-letter is never committed past, so none is lost."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path

import pytest

from conveyor.acls import AclAdmin, Grant
from conveyor.acls.rules import Operation, Pattern, Resource, user
from tests.security.conftest import SecureKafka
from tests.security.principals import (
    Principals,
    committed,
    grant,
    ping,
    poison,
    publish,
    record_keys,
    run_until_exit,
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
    _denied_then_granted(principals, tmp_path, {})


def test_a_denied_dead_letter_write_stops_a_transactional_service_uncommitted(
    principals: Principals, tmp_path: Path
) -> None:
    """The same in a transactional service, whose offsets are committed in transactions (its
    dead letters by the policies' own producer): the refusal stops it with no transaction
    committed past the undecodable event, and after the grant a restart dead-letters it once."""
    _denied_then_granted(principals, tmp_path, {"WORKER_TRANSACTIONAL": "1"})


def _denied_then_granted(principals: Principals, workdir: Path, mode: Mapping[str, str]) -> None:
    """A handled event, an undecodable one and another handled one, published while the service
    may not write its dead letters; then the same service, granted again."""
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
        code, output = run_until_exit(principals.worker(workdir / "denied", "denied", mode=mode))
    finally:
        acls.create([write])
    assert code != 0, output
    assert "TOPIC_AUTHORIZATION_FAILED" in output, output
    assert principals.dead_letters in output, output
    assert committed(admin, SERVICE, principals.input) == offsets[1]
    assert bad[0] not in record_keys(admin, principals.dead_letters)

    worker = principals.worker(workdir / "granted", "granted", mode=mode)
    try:
        while committed(admin, SERVICE, principals.input) < offsets[2] + 1:
            assert worker.process.poll() is None, worker.stderr.read_text()
            time.sleep(0.5)
    finally:
        worker.stop()
    assert record_keys(admin, principals.dead_letters).count(bad[0]) == 1
