"""The secured broker after `conveyor acls apply`: an ordered service's topics, its user and the
operator's, and what each runs with (the `KAFKA_*` variables alone, its password in a file)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from confluent_kafka import (
    Consumer,
    ConsumerGroupTopicPartitions,
    KafkaError,
    Message,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic
from typer.testing import CliRunner

from conveyor.cli.main import cli
from conveyor.ops.names import REPLAYS_TOPIC
from tests.clients.processes import WorkerProcess
from tests.project import PROJECT, REPO
from tests.runtime.support import Ping, PingCodec
from tests.security.conftest import SecureKafka

CONVEYOR = Path(sys.executable).with_name("conveyor")
OPERATOR = "operator"


@dataclass(frozen=True)
class Principals:
    """The secured broker after `acls apply`, and the environment each principal runs with."""

    kafka: SecureKafka
    service: str
    password_files: dict[str, Path]

    @property
    def input(self) -> str:
        return PROJECT.topology().service(self.service).consumes[0]

    @property
    def dead_letters(self) -> str:
        return PROJECT.topology().service(self.service).dead_letter_topic

    def password(self, user: str) -> str:
        return self.password_files[user].read_text()

    def env(self, user: str, password_file: Path | None = None) -> dict[str, str]:
        return {
            **os.environ,
            **self.kafka.env,
            "KAFKA_SASL_USERNAME": user,
            "KAFKA_SASL_PASSWORD_FILE": str(password_file or self.password_files[user]),
        }

    def worker(
        self,
        workdir: Path,
        label: str,
        password_file: Path | None = None,
        mode: Mapping[str, str] | None = None,
    ) -> WorkerProcess:
        """The service, run as its own user, reading its input topic; its files in `workdir`;
        `mode`: `tests.clients.outage_worker`'s variables (`WORKER_*`)."""
        workdir.mkdir(parents=True, exist_ok=True)
        env = {**self.env(self.service, password_file), **(mode or {})}
        return WorkerProcess(workdir, label, self.kafka.bootstrap, self.input, self.service, env)

    def conveyor(self, *args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
        """`conveyor ARGS` as its own process, run by the operator in this repository; nothing
        it prints holds the operator's password."""
        done = subprocess.run(
            [str(CONVEYOR), *args],
            env=self.env(OPERATOR),
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert self.password(OPERATOR) not in done.stdout + done.stderr
        return done


def grant(kafka: SecureKafka, service: str, workdir: Path) -> Principals:
    """Create the topics the ordered `service` uses, then `acls apply` with passwords for it and
    the operator."""
    spec = PROJECT.topology().service(service)
    assert spec.redrive_topic is not None
    assert spec.parked_topic is not None
    plain = [*spec.consumes, spec.dead_letter_topic, spec.redrive_topic, "conveyor.control"]
    create_topics(kafka.admin_settings(), plain)
    create_topics(kafka.admin_settings(), [spec.parked_topic, REPLAYS_TOPIC], compacted=True)
    passwords = {user: secrets.token_urlsafe(16) for user in (service, OPERATOR)}
    files = {}
    for user, password in passwords.items():
        files[user] = workdir / user
        files[user].write_text(password)
    everyone = workdir / "passwords"
    everyone.write_text("".join(f"{u}={p}\n" for u, p in passwords.items()))
    result = CliRunner().invoke(
        cli, ["acls", "apply", "--password-file", str(everyone)], env=kafka.env
    )
    assert result.exit_code == 0, result.output
    return Principals(kafka, service, files)


def create_topics(
    settings: dict[str, Any], names: Iterable[str], *, compacted: bool = False
) -> None:
    """Create those of `names` the cluster lacks, one partition each."""
    admin = AdminClient(settings)
    existing = admin.list_topics(timeout=30).topics
    config = {"cleanup.policy": "compact"} if compacted else {}
    new = [NewTopic(n, 1, 1, config=config) for n in names if n not in existing]
    for future in admin.create_topics(new).values() if new else ():
        future.result(timeout=30)


def publish(settings: dict[str, Any], topic: str, *records: tuple[bytes, bytes]) -> list[int]:
    """Produce `(key, value)` records in order, confirmed; their offsets."""
    offsets: list[int] = []

    def delivered(error: KafkaError | None, message: Message) -> None:
        assert error is None, error
        offsets.append(message.offset() or 0)

    producer = Producer(settings)
    for key, value in records:
        producer.produce(topic, key=key, value=value, on_delivery=delivered)
    assert producer.flush(30) == 0
    assert len(offsets) == len(records)
    return offsets


def ping(prefix: str = "k") -> tuple[bytes, bytes]:
    """One decodable event, as a `(key, value)` record; its key starts with `prefix`."""
    event = Ping(entity=f"{prefix}-{uuid.uuid4()}")
    return event.entity.encode(), PingCodec().encode(event)


def poison() -> tuple[bytes, bytes]:
    """One record no codec decodes."""
    return f"poison-{uuid.uuid4()}".encode(), b"\xff not avro"


def committed(settings: dict[str, Any], group: str, topic: str) -> int:
    """`group`'s committed offset on partition 0 of `topic`, read without joining the group."""
    admin = AdminClient(settings)
    request = [ConsumerGroupTopicPartitions(group, [TopicPartition(topic, 0)])]
    offsets = admin.list_consumer_group_offsets(request)[group].result(timeout=30)
    return int(offsets.topic_partitions[0].offset)


def end_offset(settings: dict[str, Any], topic: str) -> int:
    consumer = Consumer({**settings, "group.id": "secured-test-reader"})
    try:
        return int(consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=30)[1])
    finally:
        consumer.close()


def keys(settings: dict[str, Any], topic: str) -> set[bytes]:
    """The keys of every record on partition 0 of `topic` (read assign-only, bounded)."""
    return set(record_keys(settings, topic))


def record_keys(settings: dict[str, Any], topic: str) -> list[bytes]:
    """The key of each record on partition 0 of `topic`, in order (read assign-only, bounded)."""
    consumer = Consumer(
        {**settings, "group.id": f"secured-test-{uuid.uuid4()}", "auto.offset.reset": "earliest"}
    )
    consumer.assign([TopicPartition(topic, 0, 0)])
    high = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=30)[1]
    found: list[bytes] = []
    try:
        for _ in range(60):
            if high == 0:
                break
            message = consumer.poll(1.0)
            if message is not None and message.error() is None:
                found.append(message.key() or b"")
                if (message.offset() or 0) + 1 >= high:
                    break
    finally:
        consumer.close()
    return found


def run_until_exit(worker: WorkerProcess, timeout: float = 60) -> tuple[int, str]:
    """Wait for the worker to exit by itself (stopped at the latest after `timeout` seconds, the
    wait then failing): its exit code and what it logged."""
    try:
        code = worker.process.wait(timeout)
    finally:
        worker.stop()
    return code, worker.stderr.read_text()


def start_at_end(settings: dict[str, Any], group: str, topic: str) -> None:
    """Commit `group` at the end of partition 0 of `topic`: it handles only what comes next."""
    admin = AdminClient(settings)
    at_end = [TopicPartition(topic, 0, end_offset(settings, topic))]
    request = [ConsumerGroupTopicPartitions(group, at_end)]
    admin.alter_consumer_group_offsets(request)[group].result(timeout=30)
