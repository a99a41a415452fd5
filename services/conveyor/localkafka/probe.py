"""Cheap checks of whether a broker answers."""

from __future__ import annotations

import socket
from collections.abc import Mapping

from confluent_kafka import KafkaException

from conveyor.clients import admin_client


def tcp_answers(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def broker_ids(
    bootstrap_servers: str, timeout: float, client_settings: Mapping[str, str] | None = None
) -> set[int]:
    """The broker ids a metadata request reports, or an empty set when none answers in time.
    `client_settings`: librdkafka security settings, for a secured listener."""
    admin = admin_client(
        {**(client_settings or {}), "bootstrap.servers": bootstrap_servers, "log_level": 0}
    )
    try:
        metadata = admin.list_topics(timeout=timeout)
    except KafkaException:
        return set()
    return set(metadata.brokers)
