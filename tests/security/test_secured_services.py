"""A service, `conveyor status` and `conveyor tail` on the SASL_SSL broker with `acls apply`'s
grants: each connects as its own principal from the `KAFKA_*` variables alone."""

from __future__ import annotations

import os
import secrets
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic
from typer.testing import CliRunner

from conveyor.cli.main import cli
from conveyor.ops.names import REPLAYS_TOPIC
from tests.clients.processes import WorkerProcess
from tests.project import PROJECT
from tests.runtime.support import Ping, PingCodec
from tests.security.conftest import SecureKafka

# ordered, no follow-ups: it reads its input and parked keys and writes its dead letters
SERVICE = "inventory"
INPUT = "order.events"
FORBIDDEN = "user.signup"  # another services' input: no grant lets the service read it


@dataclass(frozen=True)
class Principals:
    """The secured broker after `acls apply`, and the environment each principal runs with."""

    kafka: SecureKafka
    password_files: dict[str, Path]

    def env(self, user: str, password_file: Path | None = None) -> dict[str, str]:
        return {
            **os.environ,
            **self.kafka.env,
            "KAFKA_SASL_USERNAME": user,
            "KAFKA_SASL_PASSWORD_FILE": str(password_file or self.password_files[user]),
        }


@pytest.fixture(scope="module")
def principals(secure_kafka: SecureKafka, tmp_path_factory: pytest.TempPathFactory) -> Principals:
    service = PROJECT.topology().service(SERVICE)
    admin = AdminClient(secure_kafka.admin_settings())
    assert service.redrive_topic is not None
    assert service.parked_topic is not None
    names = [INPUT, FORBIDDEN, service.dead_letter_topic, service.redrive_topic, "conveyor.control"]
    topics = [NewTopic(n, 1, 1) for n in names]
    compacted = {"cleanup.policy": "compact"}
    topics += [NewTopic(n, 1, 1, config=compacted) for n in (service.parked_topic, REPLAYS_TOPIC)]
    existing = admin.list_topics(timeout=30).topics
    new = [topic for topic in topics if topic.topic not in existing]
    for future in admin.create_topics(new).values():
        future.result(timeout=30)
    workdir = tmp_path_factory.mktemp("principals")
    passwords = {user: secrets.token_urlsafe(16) for user in (SERVICE, "operator")}
    files = {}
    for user, password in passwords.items():
        files[user] = workdir / user
        files[user].write_text(password)
    everyone = workdir / "passwords"
    everyone.write_text("".join(f"{u}={p}\n" for u, p in passwords.items()))
    result = CliRunner().invoke(
        cli, ["acls", "apply", "--password-file", str(everyone)], env=secure_kafka.env
    )
    assert result.exit_code == 0, result.output
    return Principals(secure_kafka, files)


@pytest.fixture
def worker(principals: Principals, tmp_path: Path) -> Iterator[WorkerProcess]:
    process = WorkerProcess(
        tmp_path, SERVICE, principals.kafka.bootstrap, INPUT, SERVICE, principals.env(SERVICE)
    )
    try:
        yield process
    finally:
        process.stop()


def test_a_service_handles_commits_and_dead_letters_as_its_own_principal(
    principals: Principals, worker: WorkerProcess
) -> None:
    """The service, given only its own user's `KAFKA_*` settings, handles an event, commits past
    it, and sends an undecodable one to its own dead-letter topic."""
    ping = Ping(entity=f"k-{uuid.uuid4()}")
    poison = f"poison-{uuid.uuid4()}".encode()
    admin = principals.kafka.admin_settings()
    producer = Producer(admin)
    producer.produce(INPUT, key=ping.entity.encode(), value=PingCodec().encode(ping))
    producer.produce(INPUT, key=poison, value=b"\xff not avro")
    assert producer.flush(30) == 0
    end = _end_offset(admin)
    while str(ping.event_id) not in worker.handled_ids() or _committed(admin) < end:
        assert worker.process.poll() is None, worker.stderr.read_text()
        time.sleep(0.5)
    dead_letters = PROJECT.topology().service(SERVICE).dead_letter_topic
    assert poison in _keys(admin, dead_letters)


def test_status_and_tail_work_as_the_operator(
    principals: Principals, worker: WorkerProcess
) -> None:
    """`conveyor status` and `conveyor tail`, given the operator's settings, read the service's
    group and its input topic."""
    key = f"tail-{uuid.uuid4()}"
    producer = Producer(principals.kafka.admin_settings())
    producer.produce(INPUT, key=key.encode(), value=PingCodec().encode(Ping(entity=key)))
    assert producer.flush(30) == 0
    env = principals.env("operator")
    status = CliRunner().invoke(cli, ["status", SERVICE, "--json", "--sample", "0"], env=env)
    assert status.exit_code == 0, status.output
    assert SERVICE in status.stdout
    tail = CliRunner().invoke(
        cli, ["tail", INPUT, "--from-beginning", "--until-end", "--key", key], env=env
    )
    assert tail.exit_code == 0, tail.output
    assert key in tail.stdout


def test_a_wrong_password_stops_the_service_with_an_authentication_error(
    principals: Principals, tmp_path: Path
) -> None:
    """A service whose password is wrong exits non-zero within 30 s, says authentication
    failed, and never prints the password it was given."""
    wrong = "wrong-" + secrets.token_urlsafe(12)
    password_file = tmp_path / "wrong"
    password_file.write_text(wrong)
    env = principals.env(SERVICE, password_file)
    process = WorkerProcess(tmp_path, "wrong", principals.kafka.bootstrap, INPUT, SERVICE, env)
    try:
        code = process.process.wait(30)
    finally:
        process.stop()
    output = process.stderr.read_text()
    assert code != 0, output
    assert "authentication" in output.lower(), output
    assert wrong not in output


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


def _end_offset(settings: dict[str, Any]) -> int:
    consumer = Consumer({**settings, "group.id": "secured-test-reader"})
    try:
        return int(consumer.get_watermark_offsets(TopicPartition(INPUT, 0), timeout=30)[1])
    finally:
        consumer.close()


def _committed(settings: dict[str, Any]) -> int:
    admin = AdminClient(settings)
    request = [ConsumerGroupTopicPartitions(SERVICE, [TopicPartition(INPUT, 0)])]
    offsets = admin.list_consumer_group_offsets(request)[SERVICE].result(timeout=30)
    return int(offsets.topic_partitions[0].offset)


def _keys(settings: dict[str, Any], topic: str) -> set[bytes]:
    consumer = Consumer(
        {**settings, "group.id": f"secured-test-{uuid.uuid4()}", "auto.offset.reset": "earliest"}
    )
    consumer.assign([TopicPartition(topic, 0, 0)])
    high = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=30)[1]
    keys: set[bytes] = set()
    try:
        for _ in range(60):
            message = consumer.poll(1.0)
            if message is not None and message.error() is None:
                keys.add(message.key() or b"")
                if (message.offset() or 0) + 1 >= high:
                    break
    finally:
        consumer.close()
    return keys
