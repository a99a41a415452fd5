"""A service on the SASL_SSL broker with `acls apply`'s grants, connecting as its own principal
from the `KAFKA_*` variables alone; and how it stops when the broker refuses it."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.clients.processes import WorkerProcess, probe
from tests.runtime.support import PingCodec
from tests.security.conftest import SecureKafka
from tests.security.principals import (
    Principals,
    committed,
    create_topics,
    end_offset,
    grant,
    keys,
    ping,
    poison,
    publish,
)

# ordered, no follow-ups: it reads its input and parked keys and writes its dead letters
SERVICE = "inventory"
FORBIDDEN = "user.signup"  # another services' input: no grant lets the service read it


@pytest.fixture(scope="module")
def principals(secure_kafka: SecureKafka, tmp_path_factory: pytest.TempPathFactory) -> Principals:
    create_topics(secure_kafka.admin_settings(), [FORBIDDEN])
    return grant(secure_kafka, SERVICE, tmp_path_factory.mktemp("principals"))


@pytest.fixture
def worker(principals: Principals, tmp_path: Path) -> Iterator[WorkerProcess]:
    process = principals.worker(tmp_path, SERVICE)
    try:
        yield process
    finally:
        process.stop()


def test_a_service_handles_commits_and_dead_letters_as_its_own_principal(
    principals: Principals, worker: WorkerProcess
) -> None:
    """The service, given only its own user's `KAFKA_*` settings, handles an event, commits past
    it, and sends an undecodable one to its own dead-letter topic; neither its log nor its
    `/metrics` and `/readyz` show its password."""
    admin = principals.kafka.admin_settings()
    good, bad = ping(), poison()
    publish(admin, principals.input, good, bad)
    end = end_offset(admin, principals.input)
    event_id = PingCodec().decode(good[1]).event_id
    while str(event_id) not in worker.handled_ids() or _committed(principals) < end:
        assert worker.process.poll() is None, worker.stderr.read_text()
        time.sleep(0.5)
    assert bad[0] in keys(admin, principals.dead_letters)
    shown = [probe(worker.port, path)[1] for path in ("metrics", "readyz")]
    assert principals.password(SERVICE) not in "".join(shown) + worker.stderr.read_text()


def test_a_wrong_password_stops_the_service_with_an_authentication_error(
    principals: Principals, tmp_path: Path
) -> None:
    """A service whose password is wrong exits non-zero within 30 s, says authentication
    failed, never prints the password it was given, and commits nothing."""
    admin = principals.kafka.admin_settings()
    publish(admin, principals.input, ping())
    before = _committed(principals)
    wrong = "wrong-" + secrets.token_urlsafe(12)
    password_file = tmp_path / "wrong"
    password_file.write_text(wrong)
    process = principals.worker(tmp_path, "wrong", password_file)
    try:
        code = process.process.wait(30)
    finally:
        process.stop()
    output = process.stderr.read_text()
    assert code != 0, output
    assert "authentication" in output.lower(), output
    assert wrong not in output
    assert _committed(principals) == before < end_offset(admin, principals.input)


def test_a_service_reading_a_topic_it_may_not_stops_with_an_authorization_error(
    principals: Principals, tmp_path: Path
) -> None:
    """A service subscribed to a topic its principal may not read exits non-zero with the
    broker's authorization error instead of polling on without events."""
    env = principals.env(SERVICE)
    process = WorkerProcess(tmp_path, "denied", principals.kafka.bootstrap, FORBIDDEN, SERVICE, env)
    try:
        code = process.process.wait(60)
    finally:
        process.stop()
    output = process.stderr.read_text()
    assert code != 0, output
    assert "TOPIC_AUTHORIZATION_FAILED" in output, output


def _committed(principals: Principals) -> int:
    return committed(principals.kafka.admin_settings(), SERVICE, principals.input)
