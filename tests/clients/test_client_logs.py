"""librdkafka's own log lines reach structlog as `kafka.log` events, from every kind of client."""

from __future__ import annotations

import gc
import logging
import socket
import time
from collections.abc import Callable
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer
from structlog.testing import capture_logs

from conveyor.clients import admin_client, with_logs
from conveyor.clients.logs import fields_of
from conveyor.logs import KAFKA_LOG


def _refusing_address() -> str:
    """A loopback port nobody listens on: every connection attempt is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"127.0.0.1:{port}"


def _fields(facility: str, client: str, text: str) -> dict[str, str] | None:
    """What one line, as confluent-kafka hands it to a `logging.Logger`, becomes."""
    record = logging.LogRecord(
        "k", logging.ERROR, "", 0, "%s [%s] %s", (facility, client, text), None
    )
    return fields_of(record)


def test_a_broker_line_keeps_its_facility_client_and_broker_as_fields() -> None:
    """A line from a broker's thread is split into facility, client, broker and message."""
    text = (
        "[thrd:127.0.0.1:1/bootstrap]: 127.0.0.1:1/bootstrap: Connect to ipv4#127.0.0.1:1 "
        "failed: Connection refused (after 0ms in state CONNECT)"
    )
    assert _fields("FAIL", "rdkafka#consumer-1", text) == {
        "client": "rdkafka#consumer-1",
        "facility": "FAIL",
        "broker": "127.0.0.1:1/bootstrap",
        "message": "Connect to ipv4#127.0.0.1:1 failed: Connection refused "
        "(after 0ms in state CONNECT)",
    }


def test_a_group_coordinator_line_names_its_broker() -> None:
    """The coordinator's thread is not a broker's, but its lines name the broker they are about."""
    text = (
        "[thrd:GroupCoordinator]: GroupCoordinator: 127.0.0.1:39469: Connect to "
        "ipv4#127.0.0.1:39469 failed: Connection refused (after 0ms in state CONNECT)"
    )
    fields = _fields("FAIL", "rdkafka#consumer-3", text)
    assert fields is not None
    assert fields["broker"] == "127.0.0.1:39469"
    assert fields["message"].startswith("Connect to ipv4#127.0.0.1:39469 failed")


def test_a_notice_about_a_setting_made_on_purpose_is_dropped() -> None:
    """The relay's gapless producers would repeat librdkafka's notice for each one: dropped."""
    text = "[thrd:app]: Configuration property enable.gapless.guarantee is experimental"
    assert _fields("CONFWARN", "rdkafka#producer-2", text) is None


def _serve(client: Any) -> None:
    """Let `client` hand over its queued log lines: a consumer or producer when polled, an admin
    client on the shared thread that polls it."""
    if isinstance(client, Consumer):
        client.consume(1, 0.2)
    elif isinstance(client, Producer):
        client.poll(0.2)
    else:
        time.sleep(0.2)


@pytest.mark.parametrize("kind", ["consumer", "producer", "admin"])
def test_connection_refused_arrives_as_a_structured_event(kind: str) -> None:
    """A client whose broker refuses connections logs each refusal as a `kafka.log` error with
    the broker named: no raw `%3|...|FAIL|` line on stderr. The admin client included, though
    nothing in conveyor polls it for its results."""
    config = {"bootstrap.servers": _refusing_address(), "reconnect.backoff.ms": 50}
    clients: dict[str, Callable[[], Any]] = {
        "consumer": lambda: Consumer(with_logs({**config, "group.id": "g"})),
        "producer": lambda: Producer(with_logs(config)),
        "admin": lambda: admin_client(config),
    }
    with capture_logs() as logs:
        client = clients[kind]()
        for _ in range(50):
            _serve(client)
            if any(entry["event"] == KAFKA_LOG for entry in logs):
                break
        if isinstance(client, Consumer):
            client.close()
        del client
        gc.collect()  # a dropped admin client stops: its refusals must not outlive the test
    refused = [entry for entry in logs if entry["event"] == KAFKA_LOG]
    assert refused, f"the {kind} logged nothing through structlog"
    first = refused[0]
    assert first["log_level"] == "error"
    assert first["facility"] == "FAIL"
    assert first["broker"].endswith("/bootstrap")
    assert "Connection refused" in first["message"]
