"""`conveyor acls apply` on the secured broker: each principal may do what its role needs only."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from confluent_kafka import (
    Consumer,
    ConsumerGroupTopicPartitions,
    KafkaError,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient
from typer.testing import CliRunner

from conveyor.acls import AclAdmin, Grant
from conveyor.acls.rules import Operation, Pattern, Resource, user
from conveyor.cli.main import cli
from tests.project import PROJECT
from tests.security.conftest import SecureKafka
from tests.security.principals import create_topics

SERVICE, OTHER = "welcome-email", "crm-sync"
INPUT = "user.signup"
READ_INPUT = Grant(user(SERVICE), Resource.TOPIC, INPUT, Pattern.LITERAL, Operation.READ)


@dataclass(frozen=True)
class Applied:
    """The cluster after `acls apply`, with the passwords it set and what it printed."""

    kafka: SecureKafka
    passwords: dict[str, str]
    output: str

    def as_user(self, user: str, **settings: Any) -> dict[str, Any]:
        return {
            **self.kafka.admin_settings(),
            "sasl.username": user,
            "sasl.password": self.passwords[user],
            "log_level": 0,
            **settings,
        }


@pytest.fixture(scope="module")
def applied(secure_kafka: SecureKafka, tmp_path_factory: pytest.TempPathFactory) -> Applied:
    topology = PROJECT.topology()
    names = [
        INPUT,
        topology.service(SERVICE).dead_letter_topic,
        topology.service(OTHER).dead_letter_topic,
    ]
    create_topics(secure_kafka.admin_settings(), names)
    passwords = {user: secrets.token_urlsafe(16) for user in (SERVICE, OTHER, "operator")}
    password_file = tmp_path_factory.mktemp("acls") / "passwords"
    password_file.write_text("".join(f"{u}={p}\n" for u, p in passwords.items()))
    # whatever applied the grants before (another module's `acls apply`), this apply adds one
    AclAdmin(secure_kafka.admin_settings()).delete([READ_INPUT])
    result = CliRunner().invoke(
        cli, ["acls", "apply", "--password-file", str(password_file)], env=secure_kafka.env
    )
    assert result.exit_code == 0, result.output
    return Applied(secure_kafka, passwords, result.output)


def test_apply_prints_no_password_and_a_second_run_changes_nothing(
    applied: Applied, secure_kafka: SecureKafka
) -> None:
    """The grants are applied once: a dry run afterwards finds nothing to add; no password of
    the users it set appears in either output."""
    again = CliRunner().invoke(cli, ["acls", "apply", "--dry-run"], env=secure_kafka.env)
    assert again.exit_code == 0, again.output
    assert f"+ {READ_INPUT}" in applied.output
    assert not [line for line in again.output.splitlines() if line.startswith("+")]
    for password in applied.passwords.values():
        assert password not in applied.output + again.output


def test_a_service_consumes_its_input_and_writes_its_dead_letters(applied: Applied) -> None:
    """The service's principal reads its input topic in its own group, commits, and writes its
    own dead-letter topic."""
    key = _consume_one_as_the_service(applied)
    dlq = PROJECT.topology().service(SERVICE).dead_letter_topic
    assert _produce(applied.as_user(SERVICE), dlq, key) is None


def test_a_service_may_not_write_another_services_dead_letters(applied: Applied) -> None:
    """Writing the dead-letter topic of another service is refused as a topic authorization
    failure."""
    other = PROJECT.topology().service(OTHER).dead_letter_topic
    error = _produce(applied.as_user(SERVICE), other, b"k")
    assert error is not None
    assert error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED


def test_the_operator_lists_groups_and_reads_their_offsets(applied: Applied) -> None:
    """The operator principal sees the service's group and its committed offsets."""
    _consume_one_as_the_service(applied)
    operator = AdminClient(applied.as_user("operator"))
    groups = operator.list_consumer_groups(request_timeout=15).result(timeout=20)
    assert SERVICE in {g.group_id for g in groups.valid}
    request = [ConsumerGroupTopicPartitions(SERVICE, [TopicPartition(INPUT, 0)])]
    offsets = operator.list_consumer_group_offsets(request)[SERVICE].result(timeout=20)
    assert offsets.topic_partitions[0].error is None
    assert offsets.topic_partitions[0].offset >= 1


def _produce(settings: dict[str, Any], topic: str, key: bytes) -> KafkaError | None:
    """Produce one record; the delivery error, or None once it is acknowledged."""
    outcome: list[KafkaError | None] = []
    producer = Producer({**settings, "message.timeout.ms": 20000})
    producer.produce(topic, key=key, value=b"v", on_delivery=lambda err, _msg: outcome.append(err))
    producer.flush(30)
    assert outcome, "no delivery report within 30 s"
    return outcome[0]


def _next_message(consumer: Consumer, key: bytes) -> Any:
    for _ in range(60):
        message = consumer.poll(1.0)
        if message is None:
            continue
        assert message.error() is None, message.error()
        if message.key() == key:
            return message
    raise AssertionError("the event did not arrive within 60 polls")


def test_prune_removes_a_grant_no_longer_derived(
    applied: Applied, secure_kafka: SecureKafka
) -> None:
    """A grant of a managed principal that the topology does not derive is listed by a dry run
    and deleted by `--prune`; a plain apply leaves it."""
    stray = Grant(user("gateway"), Resource.TOPIC, "stray-topic", Pattern.LITERAL, Operation.WRITE)
    admin = AclAdmin(secure_kafka.admin_settings())
    admin.create([stray])
    listed = CliRunner().invoke(cli, ["acls", "apply", "--dry-run"], env=secure_kafka.env)
    assert f"- {stray}" in listed.output
    pruned = CliRunner().invoke(cli, ["acls", "apply", "--prune"], env=secure_kafka.env)
    assert pruned.exit_code == 0, pruned.output
    assert stray not in admin.current([user("gateway")])


def _consume_one_as_the_service(applied: Applied) -> bytes:
    """An event produced by the admin, read and committed by the service's principal in its
    own group; returns its key."""
    key = uuid.uuid4().bytes
    _produce(applied.kafka.admin_settings(), INPUT, key)
    consumer = Consumer(
        applied.as_user(SERVICE, **{"group.id": SERVICE, "auto.offset.reset": "earliest"})
    )
    consumer.subscribe([INPUT])
    try:
        consumer.commit(message=_next_message(consumer, key), asynchronous=False)
    finally:
        consumer.close()
    return key
