"""A service whose principal may not write its parked-keys topic when a redrive releases a key:
the release is refused for good, so the service stops, says why, and commits nothing past the
redriven event instead of writing the release again every second forever."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from conveyor import naming
from conveyor.acls import AclAdmin, Grant
from conveyor.acls.rules import Operation, Pattern, Resource, user
from tests.security.conftest import SecureKafka
from tests.security.principals import (
    Principals,
    committed,
    end_offset,
    grant,
    keys,
    ping,
    publish,
    run_until_exit,
    start_at_end,
)

SERVICE = "inventory"  # ordered: a key whose event failed for good is parked until redriven
FAILING = "fail"  # the worker's handler fails for good on keys starting with it


@pytest.fixture(scope="module")
def principals(secure_kafka: SecureKafka, tmp_path_factory: pytest.TempPathFactory) -> Principals:
    return grant(secure_kafka, SERVICE, tmp_path_factory.mktemp("release"))


def test_a_denied_release_of_a_redriven_key_stops_the_service_uncommitted(
    principals: Principals, tmp_path: Path
) -> None:
    """A key parked behind a failed event is redriven; the service handles the redriven event
    but may not write the release: it logs `event.fatal` naming the parked-keys topic and the
    refusal, exits non-zero and leaves the redriven event uncommitted. With the grant back, a
    restart handles it again and releases the key."""
    admin = principals.kafka.admin_settings()
    parked_topic = naming.parked_topic(SERVICE)
    redrive_topic = naming.redrive_topic(SERVICE)
    start_at_end(admin, SERVICE, principals.input)
    start_at_end(admin, SERVICE, redrive_topic)
    failed = ping(FAILING)
    offsets = publish(admin, principals.input, failed)
    _until_committed(principals, {"WORKER_FAILING": FAILING}, tmp_path / "parks", offsets[0] + 1)
    assert naming.parked_record_key(principals.input, failed[0]) in keys(admin, parked_topic)

    redriven_at = end_offset(admin, redrive_topic)
    redrive = principals.conveyor("dlq", "redrive", SERVICE, "--key", failed[0].decode(), "--yes")
    assert redrive.returncode == 0, redrive.stderr
    release = Grant(user(SERVICE), Resource.TOPIC, parked_topic, Pattern.LITERAL, Operation.WRITE)
    acls = AclAdmin(admin)
    acls.delete([release])
    try:
        code, output = run_until_exit(principals.worker(tmp_path / "denied", "denied"))
    finally:
        acls.create([release])
    assert code != 0, output
    fatal = [line for line in output.splitlines() if '"event.fatal"' in line]
    assert fatal, output
    assert parked_topic in fatal[0], fatal[0]
    assert "TOPIC_AUTHORIZATION_FAILED" in fatal[0], fatal[0]
    assert committed(admin, SERVICE, redrive_topic) <= redriven_at  # never past it

    _until_committed(principals, {}, tmp_path / "granted", redriven_at + 1, topic=redrive_topic)


def _until_committed(
    principals: Principals,
    mode: dict[str, str],
    workdir: Path,
    offset: int,
    topic: str | None = None,
) -> None:
    """Run the service until its committed offset on `topic` (its input) reaches `offset`."""
    admin = principals.kafka.admin_settings()
    worker = principals.worker(workdir, workdir.name, mode=mode)
    try:
        while committed(admin, SERVICE, topic or principals.input) < offset:
            assert worker.process.poll() is None, worker.stderr.read_text()
            time.sleep(0.5)
    finally:
        worker.stop()
