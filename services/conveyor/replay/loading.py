"""Reading a group's replay windows back from `conveyor.replays`.

The runtime makes one call when a service starts (a replay only happens while the service is
stopped), `windows = for_service(settings.bootstrap_servers, service.name)`, then answers
`ctx.in_replay` with `windows.contains(topic, partition, offset)`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from confluent_kafka import KafkaException

from conveyor import naming
from conveyor.clients import KafkaUnavailableError, Outage, TopicReadError, reader
from conveyor.clients.contact import QUIET, first_contact
from conveyor.errors import ConveyorError
from conveyor.replay.windows import ReplayWindows


class ReplayWindowsLoadError(ConveyorError):
    """The replay windows could not be read; keeps the last error (`last`, and as the cause)."""

    def __init__(self, last: BaseException) -> None:
        super().__init__(f"loading the replay windows failed: {last}")
        self.last = last


def load(
    config: Mapping[str, Any],
    group: str,
    timeout: float | None,
    outage: Outage | None = None,
) -> ReplayWindows:
    """The group's windows (none when it was never replayed). The topic is read to its end
    again while a transient error interrupts it, for up to `timeout` seconds (None: as long as
    it lasts), then `KafkaUnavailableError`; any other error is raised as it is."""
    outage = outage or Outage("replay windows", group=group)
    messages = reader.read_topic(
        {**QUIET, **config},
        naming.REPLAYS_TOPIC,
        naming.OPS_READER_GROUP,
        outage,
        timeout=timeout,
        missing_ok=True,
    )
    wanted = group.encode()
    latest = None
    for message in messages:
        if message.key() == wanted:
            latest = message.value()
    return ReplayWindows(group) if latest is None else ReplayWindows.from_json(latest)


def for_service(
    bootstrap_servers: str,
    service: str,
    timeout: float = 10.0,
    *,
    outage: Outage | None = None,
    settle: float | None = None,
) -> ReplayWindows:
    """The windows of `service`'s group, for the runtime to load once when it starts.

    A broker must answer within `timeout` (else `BrokerUnreachableError`: a wrong address, or no
    cluster at all; `BrokerRefusedError` at once on a refusal). A service often starts beside a
    broker that is still settling, or while a node restarts: transient errors are then waited out
    for up to `settle` seconds (None: as long as they last), through `outage` (its log lines and
    the process's readiness); then, or on any other error, `ReplayWindowsLoadError`."""
    first_contact(bootstrap_servers, timeout)
    outage = outage or Outage("replay windows", service=service)
    try:
        return load({"bootstrap.servers": bootstrap_servers}, service, settle, outage)
    except KafkaUnavailableError as error:
        raise ReplayWindowsLoadError(error.last) from error
    except (KafkaException, TopicReadError) as error:
        raise ReplayWindowsLoadError(error) from error
